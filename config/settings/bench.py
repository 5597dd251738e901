"""The benchmark's server (`make bench`): production settings plus the benchmark's own tweaks.

bench/run.py passes SECRET_KEY (generated per run), DATABASE_URL and STATIC_ROOT through
the environment. Nothing here may make a page cheaper than it is in production.
"""

import os

# A benchmark with DEBUG on would measure the debug machinery (and keep every query).
os.environ["DEBUG"] = "false"
# Plain HTTP on the loopback; production's HTTPS redirect would answer every request with 301.
os.environ["SECURE_SSL_REDIRECT"] = "false"
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")

from .production import *  # noqa: E402,F403

# The project's URLs plus __bench__/bare/, the reference every page is compared with.
ROOT_URLCONF = "config.bench_urls"
# The submission run posts thousands of needs as one worker; the daily limit would turn
# all but the first ten into 429s.
NEED_SUBMISSIONS_PER_DAY = 0

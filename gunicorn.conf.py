"""Gunicorn settings for `make serve` and `make bench`; the environment overrides each one.

GUNICORN_BIND        address to listen on (default 127.0.0.1:8000; behind a reverse proxy)
WEB_CONCURRENCY      worker processes (default 2 × CPU cores + 1)
GUNICORN_TIMEOUT     seconds a silent worker may take before it is killed (default 120)
GUNICORN_MAX_REQUESTS  requests after which a worker is replaced (default 1000; 0 = never)
GUNICORN_ACCESS_LOG  "-" for stdout or a file path; off by default (the proxy logs requests)
GUNICORN_LOG_LEVEL   default info
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers: every request holds one process, so the pool is sized to the machine, the
# usual 2 × cores + 1 (waiting on the database leaves a core free for another worker).
worker_class = "sync"
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
# Load Django once in the master and fork: workers start fast and share the code pages.
# Nothing queries the database while the app loads, so no connection is shared by forks.
preload_app = True

# Replace each worker after a while so a slow leak cannot grow without bound; the jitter
# keeps the workers from restarting all at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max(max_requests // 10, 0)

# The slowest legitimate request is a district-wide report over a custom period that
# refresh_reports has not computed ahead: some 20 s over a million needs (docs/performance.md).
# Anything silent for much longer is stuck. Sync workers behind a proxy need only a short
# keep-alive.
timeout = _int("GUNICORN_TIMEOUT", 120)
graceful_timeout = 30
keepalive = 2
# The heartbeat file on a RAM disk: on a disk-backed /tmp it can stall a worker.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Gunicorn 25.1+ otherwise opens a runtime control socket in the home directory, shared by
# every instance of the same user; this server is managed by its process supervisor.
control_socket_disable = True

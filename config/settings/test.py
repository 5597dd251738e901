"""Test settings: fast hashing, in-memory mail, static files without a manifest."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-" + "x" * 60)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from .base import *  # noqa: E402,F403
from .base import BASE_DIR, STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
# Fixtures raise many needs for one worker at once; tests/needs/test_rate_limit.py turns
# the daily limit on where it is the subject.
NEED_SUBMISSIONS_PER_DAY = 0

# A second alias standing in for a read replica (tests/core/test_scale_out.py). It mirrors
# default, and nothing reads from it unless REPORTS_DATABASE names it.
from .base import DATABASES  # noqa: E402

DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}

"""Settings shared by every environment; behaviour is switched by environment variables."""

import importlib.util
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from import_export.formats.base_formats import CSV, XLSX

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = env_bool("DEBUG", False)

# A key that is only ever acceptable on a developer's machine.
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = DEV_SECRET_KEY
elif not DEBUG and (SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("SECRET_KEY is too weak for production (50+ random characters).")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "import_export",
    "csp",
    "axes",
    "auditlog",
    "apps.core",
    "apps.members",
    "apps.workstations",
    "apps.needs",
    "apps.notifications",
    "apps.projects",
    "apps.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "apps.core.middleware.RefuseNulMiddleware",  # 400 for a NUL in the URL (PostgreSQL refuses it)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Records who made each change in the audit history (after authentication).
    "apps.core.audit.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.site",
                "apps.notifications.context_processors.unread_notifications",
                "apps.projects.context_processors.review_nav",
                "apps.reports.context_processors.report_nav",
            ],
        },
    },
]

# SQLite with zero configuration; DATABASE_URL selects PostgreSQL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several server processes writing one SQLite file: a transaction takes the write lock
    # when it begins (a read that later writes would otherwise fail at once with "database
    # is locked"), waits up to 20 s for it, and readers do not block the writer (WAL).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# Reports (read-only aggregation) may go to a PostgreSQL read replica; everything else,
# and every write, uses "default". apps/core/routers.py decides.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
REPORTS_DATABASE = "replica" if DATABASE_REPLICA_URL else "default"
DATABASE_ROUTERS = ["apps.core.routers.ReportsReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "members.User"
# django-axes' backend goes first: it refuses a locked-out username + address before any
# password is checked. The login form turns a mobile number into the username beforehand,
# so both ways of logging in count against the same account.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "members:login"
LOGIN_REDIRECT_URL = "members:profile"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True


def _package_dir(name: str) -> Path:
    """The folder of an installed (possibly namespace) package shipping static assets."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImproperlyConfigured(f"The package {name!r} is not installed.")
    return Path(next(iter(spec.submodule_search_locations)))


STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Bootstrap's compiled CSS/JS come from the bootstrap-wrapper package, never a CDN.
    ("vendor/bootstrap", _package_dir("bootstrap")),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(BASE_DIR / "var" / "backups")))  # manage.py backup

# Attachments: photos and PDFs, checked by content on the server.
NEED_ATTACHMENT_MAX_BYTES = env_int("NEED_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024)
NEED_ATTACHMENT_MAX_FILES = 5
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# An import with any bad row is rolled back as a whole.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_FORMATS = [CSV, XLSX]
# Text typed by workers must never run as a spreadsheet formula in a cadre's Excel.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = True
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "职工之家 <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security: strict by default whenever DEBUG is off.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Only the site's own files: no inline <script>, <style> or style="" anywhere (templates
# load static files instead), nothing from another host, and no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Bootstrap draws its form controls with data: SVG images.
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    },
}
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS")

# Throttling (apps/core/throttle.py). Behind a reverse proxy every request arrives from the
# proxy: TRUSTED_PROXY_COUNT proxies in front of the site make the client's own address
# come from X-Forwarded-For instead.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Counts, lockouts, cached report figures and (with Redis) sessions live in the default
# cache. One process may keep it in memory; several app servers must share one, so none of
# them keeps state of its own: set REDIS_URL (Django's Redis backend), or CACHE_BACKEND and
# CACHE_LOCATION for another shared backend.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "zhigong"),
            "TIMEOUT": 3600,
        }
    }
    # Sessions are read from Redis and written through to the database, so a Redis restart
    # logs nobody out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {
        "default": {
            "BACKEND": env_str("CACHE_BACKEND", "django.core.cache.backends.locmem.LocMemCache"),
            "LOCATION": env_str("CACHE_LOCATION"),
        }
    }
# Logins (django-axes): LOGIN_FAILURE_LIMIT wrong passwords for one username from one
# address lock that pair out for LOGIN_LOCKOUT_MINUTES; a try during the lockout starts
# the wait again. Covers the portal's and the admin's login. A superuser can lift a lockout
# in the admin (Axes › Access attempts) or with `manage.py axes_reset_username <username>`.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "apps.core.throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "apps.members.views.locked_out"
# Failed attempts are kept (they are the lockout); successful logins are not logged.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False  # no banner on every start; lockouts are still logged as warnings
# New accounts per client address per hour. Mobile networks put many people behind one
# address, so this is not lower; a workstation can register workers itself.
REGISTRATIONS_PER_HOUR = env_int("REGISTRATIONS_PER_HOUR", 10)
# Needs one worker may raise online in 24 hours; offline needs recorded by cadres are not
# counted (apps/needs/services.py).
NEED_SUBMISSIONS_PER_DAY = env_int("NEED_SUBMISSIONS_PER_DAY", 10)
# Computed reports are kept in the cache (apps/reports/cache.py). After records change, kept
# figures are still shown — saying when they were computed — for up to REPORT_STALE_SECONDS;
# a reviewer may ask for new ones at most every REPORT_REFRESH_SECONDS; none are kept longer
# than REPORT_MAX_AGE_SECONDS.
REPORT_STALE_SECONDS = env_int("REPORT_STALE_SECONDS", 300)
REPORT_REFRESH_SECONDS = env_int("REPORT_REFRESH_SECONDS", 30)
REPORT_MAX_AGE_SECONDS = env_int("REPORT_MAX_AGE_SECONDS", 3600)
# Requests for figures another process is computing wait up to this long for them.
REPORT_COMPUTE_WAIT_SECONDS = env_int("REPORT_COMPUTE_WAIT_SECONDS", 90)

# The district this installation serves (its name appears in page titles).
SITE_NAME = env_str("SITE_NAME", "职工之家")
# Absolute address of the portal, for links in e-mails.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

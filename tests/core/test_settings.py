"""Production settings come from the environment and refuse insecure defaults."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k" * 20 + "Zq8-" * 10


def run_manage(*args, **env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DJANGO_SETTINGS_MODULE",
            "SECURE_SSL_REDIRECT",
            # Set for the browser tests' event loop; never in a deployment.
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.production", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_secret_key():
    result = run_manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_production_refuses_the_development_key():
    result = run_manage("check", SECRET_KEY="dev-only-insecure-key-do-not-use-in-production")
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="zgzj.example.cn",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_language_and_time_zone(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"


def test_production_cookies_are_secure():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, "
        "s.SECURE_SSL_REDIRECT, s.DEBUG)",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="zgzj.example.cn",
    )
    assert result.stdout.strip().splitlines()[-1].split() == [
        "True",
        "True",
        "True",
        "True",
        "False",
    ], result.stderr


def test_collectstatic_writes_compressed_hashed_files(tmp_path):
    result = run_manage(
        "collectstatic",
        "--noinput",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="zgzj.example.cn",
        STATIC_ROOT=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    css = list((tmp_path / "vendor" / "bootstrap" / "css").glob("bootstrap.min.*.css"))
    assert css, "Bootstrap is collected from its package with a hashed name"
    assert list((tmp_path / "css").glob("site.*.css.gz"))
    assert (tmp_path / "staticfiles.json").exists()


def test_production_responses_carry_the_security_headers():
    """A request answered under the production settings, as a browser would see it."""
    # /healthz/ renders no template, so no collected static files are needed.
    script = (
        "import json; from django.test import Client; "
        "r = Client().get('/healthz/', secure=True); "
        "print(json.dumps({'status': r.status_code, 'headers': {k: r.get(k) for k in ["
        "'Content-Security-Policy', 'X-Content-Type-Options', 'Referrer-Policy', "
        "'X-Frame-Options', 'Cross-Origin-Opener-Policy', 'Strict-Transport-Security']}}))"
    )
    result = run_manage(
        "shell",
        "-c",
        script,
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="testserver",
        DATABASE_URL="sqlite://:memory:",
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["status"] == 200
    policy = seen["headers"].pop("Content-Security-Policy")
    assert sorted(part.strip() for part in policy.split(";")) == [
        "base-uri 'self'",
        "default-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "img-src 'self' data:",
        "object-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
    ]
    assert seen["headers"] == {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
    }


def test_production_session_cookie_and_login_throttling():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SAMESITE, "
        "s.AUTHENTICATION_BACKENDS[0], s.AXES_FAILURE_LIMIT, "
        "int(s.AXES_COOLOFF_TIME.total_seconds() // 60), s.MIDDLEWARE[-1])",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="zgzj.example.cn",
    )
    assert result.stdout.strip().splitlines()[-1].split() == [
        "True",
        "Lax",
        "Lax",
        "axes.backends.AxesStandaloneBackend",
        "5",
        "30",
        "axes.middleware.AxesMiddleware",
    ], result.stderr

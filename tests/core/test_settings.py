"""Production settings come from the environment and refuse insecure defaults."""

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

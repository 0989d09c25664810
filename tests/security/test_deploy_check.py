"""`manage.py check --deploy` passes with the production settings the README lists, and fails
when one of them is missing. Run in a fresh process: settings are read from the environment
once, at start-up."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def production_environment(**overrides: str) -> dict[str, str]:
    env = {
        # Only what a process needs to run, nothing from the test run's own settings.
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108
        "LANG": "C.UTF-8",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "app.glamiti.example",
        "CSRF_TRUSTED_ORIGINS": "https://app.glamiti.example",
        "SECURE_SSL_REDIRECT": "1",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_PRELOAD": "1",
        "BEHIND_TLS_PROXY": "1",
        "TRUSTED_PROXY_COUNT": "1",
        "LOG_LEVEL": "ERROR",
    }
    env.update(overrides)
    return env


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = deploy_check(production_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "warning"),
    [
        ({"SECURE_HSTS_SECONDS": "0"}, "security.W004"),
        ({"SECURE_HSTS_INCLUDE_SUBDOMAINS": "0"}, "security.W005"),
        ({"SECURE_SSL_REDIRECT": "0"}, "security.W008"),
        ({"SECRET_KEY": "too-short"}, "security.W009"),
        ({"DEBUG": "1"}, "security.W018"),
        ({"ALLOWED_HOSTS": ""}, "security.W020"),
    ],
    ids=lambda value: value if isinstance(value, str) else next(iter(value)),
)
def test_deploy_check_fails_without_a_production_setting(overrides, warning):
    result = deploy_check(production_environment(**overrides))
    assert result.returncode != 0
    assert warning in result.stderr + result.stdout

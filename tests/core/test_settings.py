"""Settings come from the environment and refuse bad values at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PRODUCTION = {
    "TELCODESK_DEBUG": "0",
    "SECRET_KEY": "k3y-" + "x7Qz9" * 12,
    "ALLOWED_HOSTS": "desk.example.com",
}


def _run(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELCODESK_", "SECRET"))}
    clean.pop("DATABASE_URL", None)
    clean.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests; never in production
    clean.update({"TELCODESK_VAR_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-m", "telcodesk.cli", *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_values(tmp_path: Path) -> None:
    result = _run(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_without_a_secret_key_refuses_to_start(tmp_path: Path) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = _run(["check"], env, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is required when TELCODESK_DEBUG is off" in result.stderr


def test_a_weak_secret_key_is_refused(tmp_path: Path) -> None:
    result = _run(["check"], {**PRODUCTION, "SECRET_KEY": "short"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


def test_a_bad_database_url_is_refused(tmp_path: Path) -> None:
    result = _run(["check"], {"DATABASE_URL": "mysql://root@localhost/x"}, tmp_path)
    assert result.returncode != 0
    assert "DATABASE_URL must start with one of sqlite://" in result.stderr


def test_a_bad_boolean_is_refused(tmp_path: Path) -> None:
    result = _run(["check"], {"TELCODESK_DEBUG": "sometimes"}, tmp_path)
    assert result.returncode != 0
    assert "TELCODESK_DEBUG='sometimes' is not a boolean" in result.stderr


def test_the_embedded_mode_generates_and_keeps_a_secret_key(tmp_path: Path) -> None:
    assert _run(["check"], {}, tmp_path).returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    assert _run(["check"], {}, tmp_path).returncode == 0
    assert (tmp_path / "secret_key").read_text() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600

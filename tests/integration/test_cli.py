"""The station-portal command, run as a newcomer would, as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(args: list[str], env: dict[str, str], input_text: str | None = None):
    return subprocess.run(
        [sys.executable, "-m", "station_portal.cli", *args], env=env, input=input_text,
        capture_output=True, text=True, timeout=180, check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
            "PORTAL_INSTANCE_DIR": str(tmp_path), "PORTAL_ENV": "demo"}


@pytest.mark.slow
def test_upgrade_seed_and_create_user_from_the_command_line(env):
    upgraded = run(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "-> " in upgraded.stdout
    current = run(["db", "current"], env)
    lines = current.stdout.splitlines()
    assert lines[0].split()[-1] == lines[1].split()[-1]

    seeded = run(["seed-demo", "--seed", "3"], env)
    assert seeded.returncode == 0, seeded.stderr
    assert "300 staff" in seeded.stdout and "admin" in seeded.stdout
    again = run(["seed-demo"], env)
    assert again.returncode != 0 and "not empty" in again.stderr
    skipped = run(["seed-demo", "--if-empty"], env)
    assert skipped.returncode == 0 and "skipped" in skipped.stdout

    created = run(["create-user", "ops.admin", "--role", "station_head", "--unit", "JL-CY-S",
                   "--password", "a long enough password"], env)
    assert created.returncode == 0, created.stderr
    refused = run(["create-user", "ops2", "--role", "station_head",
                   "--password", "a long enough password"], env)
    assert refused.returncode != 0 and "scope_unit_id" in refused.stderr

    reset = run(["reset-password", "ops.admin"], env)
    assert reset.returncode == 0 and "one-time password" in reset.stdout


@pytest.mark.parametrize("command", [["seed-demo"], ["scheduler"],
                                     ["create-user", "x", "--role", "admin", "--password",
                                      "a long enough password"]])
def test_commands_refuse_an_unmigrated_database_in_one_line(env, command):
    result = run(command, env)
    assert result.returncode == 1, result
    assert "Run: station-portal db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_that_does_not_answer_is_one_line(env):
    away = {**env, "DATABASE_URL": "postgresql://portal@127.0.0.1:1/portal"}
    result = run(["seed-demo", "--if-empty"], away)
    assert result.returncode == 1, result
    assert "the database does not answer" in result.stderr and "Connection refused" in \
        result.stderr
    assert "Traceback" not in result.stderr

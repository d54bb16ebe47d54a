"""The production web server for real: gunicorn with ``gunicorn.conf.py`` over HTTP.

Two workers on a free port, a temporary SQLite file, demo mode (production refuses
SQLite). The probes answer over HTTP; the log lines are JSON; a worker killed after the
schema moved past this code (``db upgrade`` run from a newer release) comes back, and
``/readyz`` says why the host is not ready.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from station_portal.db import utcnow
from station_portal.jobs.runner import take_lease
from tests.helpers import TEST_SECRET, free_port, fresh_database

ROOT = Path(__file__).resolve().parents[2]
NEWER_REVISION = "ffffffff0001"  # what a newer release's `db upgrade` would leave


def children(pid: int) -> set[int]:
    """The live processes whose parent is ``pid`` (gunicorn's workers)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.add(int(stat.parent.name))
    return out


def wait_until(predicate, what: str, log: Path, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except requests.RequestException:
            value = None
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}\n{log.read_text()[-4000:]}")


@pytest.mark.slow
def test_gunicorn_serves_probes_and_a_killed_worker_comes_back_after_an_upgrade(tmp_path):
    database = fresh_database("sqlite", tmp_path)
    take_lease(database, "scheduler-test:1", now=utcnow() - timedelta(seconds=1))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "DATABASE_URL": database.url, "PORTAL_ENV": "demo",
           "SECRET_KEY": TEST_SECRET, "PORTAL_INSTANCE_DIR": str(tmp_path),
           "PORTAL_UPLOAD_DIR": str(tmp_path / "uploads"), "PORTAL_LOG_FORMAT": "json",
           "PORTAL_WEB_WORKERS": "2", "PORTAL_WEB_THREADS": "2",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "PYTHONUNBUFFERED": "1"}
    env.pop("PORTAL_DATABASE_URL", None)
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
             "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: requests.get(f"{base}/healthz", timeout=5).status_code == 200,
                   "/healthz", log)
        workers = wait_until(lambda: len(children(server.pid)) == 2 and children(server.pid),
                             "two workers", log)
        live = requests.get(f"{base}/healthz", timeout=5,
                            headers={"X-Request-ID": "probe-from-test-1"})
        assert live.text == "ok" and live.headers["X-Request-ID"] == "probe-from-test-1"
        ready = requests.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}
        # Every worker answers the metrics with the sum over both (multiprocess mode).
        for _ in range(6):
            requests.get(f"{base}/healthz", timeout=5)
        scrape = requests.get(f"{base}/metrics", timeout=5).text
        counted = next(float(line.rsplit(" ", 1)[1]) for line in scrape.splitlines()
                       if line.startswith("portal_http_request_duration_seconds_count")
                       and 'route="/healthz"' in line)
        assert counted >= 8
        files = {p.name.rsplit("_", 1)[-1] for p in (tmp_path / "metrics").glob("*.db")}
        assert files and files <= {f"{pid}.db" for pid in workers}  # one file per worker

        # A newer release ran `db upgrade`; this host still runs the older code.
        with database.write() as s:
            s.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": NEWER_REVISION})
        victim = min(workers)
        os.kill(victim, signal.SIGTERM)
        replaced = wait_until(
            lambda: (now := children(server.pid)) and len(now) == 2 and victim not in now and now,
            "a new worker", log)
        assert server.poll() is None, "the server stopped when a worker restarted"
        assert replaced - workers
        for _ in range(4):  # whichever worker answers
            assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
        not_ready = requests.get(f"{base}/readyz", timeout=5)
        assert not_ready.status_code == 503
        assert [f["check"] for f in not_ready.json()["failed"]] == ["schema"]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        database.dispose()
    lines = log.read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert records, lines[-20:]
    requests_logged = [r for r in records if r.get("logger") == "station_portal.request"]
    assert any(r["request_id"] == "probe-from-test-1" and r["route"] == "/healthz"
               for r in requests_logged)
    assert any(r.get("logger") == "gunicorn.error" and "Booting worker" in r["message"]
               for r in records)
    assert not [line for line in lines if "Traceback" in line], log.read_text()[-4000:]

"""The scheduler outlives a database that stops answering (a PostgreSQL restart, a
failover): found by the load test's PostgreSQL restart, where the standing-by scheduler
died on the first failed lease check and never came back."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from station_portal.config import Config
from station_portal.db import utcnow
from station_portal.jobs.models import SchedulerLease
from station_portal.jobs.runner import runner_name, serve
from tests.helpers import fresh_database

CONFIG = Config.from_env({"env": "demo"}, environ={})


@pytest.fixture
def empty(engine_name, tmp_path):
    database = fresh_database(engine_name, tmp_path)
    yield database
    database.dispose()


def lease_table(database, present: bool) -> None:
    """The lease's table taken away and put back: every lease query fails meanwhile, with
    the database's own error, as it does while the server restarts."""
    old, new = ("scheduler_lease_away", "scheduler_lease") if present else \
        ("scheduler_lease", "scheduler_lease_away")
    with database.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))
    database.dispose()  # no pooled connection keeps a cached plan of the old table


def test_a_standby_scheduler_waits_through_a_database_outage_and_then_takes_over(empty):
    with empty.write() as s:  # another scheduler's lease, running out in 2 s
        now = utcnow()
        s.add(SchedulerLease(name="main", holder="elsewhere:1", acquired_at=now, renewed_at=now,
                             expires_at=now + timedelta(seconds=2)))
    lease_table(empty, present=False)  # the database "away" before this one even starts
    said: list[str] = []
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(
        serve(empty, CONFIG, [], stop=stop, echo=said.append, lease_seconds=1)), daemon=True)
    thread.start()
    try:
        stop.wait(3.0)  # several failed lease checks (every 0.5 s)
        assert thread.is_alive(), f"the scheduler ended during the outage: {said} {result}"
        assert said == ["the database does not answer; standing by until it does"]
        lease_table(empty, present=True)
        for _ in range(100):
            if any("takes over" in line for line in said):
                break
            stop.wait(0.1)
        assert any("takes over" in line for line in said), said
        with empty.read() as s:
            assert s.get(SchedulerLease, "main").holder == runner_name()
    finally:
        stop.set()
        thread.join(timeout=20)
    assert result == [0]
    assert said[-1] == f"scheduler {runner_name()} stopped"

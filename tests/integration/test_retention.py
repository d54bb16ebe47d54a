"""Retention: the nightly prune job removes records older than their settings, in short
batches, never anything open and never a work order's history; on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from station_portal.audit import AuditEvent
from station_portal.auth.models import ApiToken, AuthSession, User
from station_portal.config import Config
from station_portal.demo.city import build_demo_city
from station_portal.demo.orders import seed_history
from station_portal.hall.models import HallTicket, ServiceHall
from station_portal.jobs import retention
from station_portal.jobs.models import JobRun
from station_portal.jobs.registry import jobs as job_table
from station_portal.jobs.runner import run_slot
from station_portal.notify.models import Notification
from station_portal.org.models import Crew, CrewPing, Unit
from station_portal.ratelimit import RateCounter
from station_portal.workorders.models import WorkOrder, WorkOrderEvent
from tests.helpers import ENGINES, fresh_database

NOW = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)  # 02:30 in Shanghai, the job's slot
TODAY = date(2026, 11, 28)  # the local day at NOW


def settings(**overrides) -> Config:
    return Config.from_env({"env": "demo", **overrides}, environ={})


@pytest.fixture(params=ENGINES)
def city(request, tmp_path):
    db = fresh_database(request.param, tmp_path)
    with db.write() as s:
        build_demo_city(s, seed=3)
        seed_history(s, n_orders=40, seed=3)
    yield db
    db.dispose()


def ages(days: list[float]) -> list[datetime]:
    return [NOW - timedelta(days=d) for d in days]


def seed_records(db, *, pings=(40, 29), audit=(400, 300), notes=(200, 100)) -> dict[str, int]:
    """Rows of every pruned table at the given ages in days; the ids of a few to follow."""
    ids: dict[str, int] = {}
    with db.write() as s:
        crew = s.scalars(select(Crew).order_by(Crew.id)).first()
        user = s.scalars(select(User).order_by(User.id)).first()
        unit = s.scalars(select(Unit).order_by(Unit.id)).first()
        for at in ages(list(pings)):
            s.add(CrewPing(crew_id=crew.id, lat=43.8, lon=126.5, at=at, received_at=at))
        for at in ages(list(audit)):
            s.add(AuditEvent(action="sign_in", subject="someone", ip="10.0.0.1", at=at))
        for at in ages(list(notes)):
            s.add(Notification(user_id=user.id, event="briefing_ready", params={},
                               created_at=at, read_at=at, email_state="sent"))
        # An email still waiting for its server, and one being sent, however old: they stay.
        for state in ("pending", "sending"):
            s.add(Notification(user_id=user.id, event="briefing_ready", params={},
                               created_at=NOW - timedelta(days=400), email_state=state))
        # Sessions: ended long ago (goes), ended yesterday (stays), never ended but idle
        # for months (dead: goes), live now (stays); tokens expired long ago or still valid.
        for key, (created, seen, ended) in {
                "ended_old": (90, 89, 89), "ended_recent": (2, 1, 1),
                "dead": (120, 120, None), "live": (0.1, 0.01, None)}.items():
            row = AuthSession(token_hash=secrets.token_hex(32), user_id=user.id,
                              created_at=NOW - timedelta(days=created),
                              last_seen_at=NOW - timedelta(days=seen),
                              ended_at=None if ended is None else NOW - timedelta(days=ended))
            s.add(row)
            s.flush()
            ids[f"session_{key}"] = row.id
        for key, (created, expires) in {"expired": (100, 99), "valid": (1, -10)}.items():
            token = ApiToken(token_hash=secrets.token_hex(32), user_id=user.id,
                             created_at=NOW - timedelta(days=created),
                             expires_at=NOW - timedelta(days=expires))
            s.add(token)
            s.flush()
            ids[f"token_{key}"] = token.id
        for i, (days, status) in enumerate(((40, "ok"), (10, "ok"), (40, "failed"),
                                            (200, "failed"))):
            at = NOW - timedelta(days=days, minutes=i)
            s.add(JobRun(job="test_job", scheduled_for=at, started_at=at, status=status))
        # A job that last ran a year ago (off since): its last run stays, the scheduler
        # counts missed runs from it.
        for days in (400, 365):
            at = NOW - timedelta(days=days)
            s.add(JobRun(job="retired_job", scheduled_for=at, started_at=at, status="ok"))
        for expires in (NOW - timedelta(minutes=1), NOW + timedelta(minutes=5)):
            s.add(RateCounter(bucket="test", key=f"k{expires.minute}", slot=expires.minute,
                              hits=3, expires_at=expires))
        hall = ServiceHall(code="RET-TEST", name_zh="测试厅", name_en="Test hall", level="C",
                           unit_id=unit.id, lat=43.8, lon=126.5, opens_at=time(8, 30),
                           closes_at=time(17, 0))
        s.add(hall)
        s.flush()
        for n, (day, status) in enumerate(((TODAY - timedelta(days=500), "done"),
                                           (TODAY - timedelta(days=500), "no_show"),
                                           (TODAY - timedelta(days=30), "done"),
                                           (TODAY, "waiting")), start=1):
            taken = datetime.combine(day, time(1, 0), tzinfo=UTC)
            s.add(HallTicket(hall_id=hall.id, day=day, seq=n, label=f"A{n:03d}", group="A",
                             business="payment", hour=9, taken_at=taken, status=status))
        # A closed order's history from three years ago: the timeline is never pruned.
        order = s.scalars(select(WorkOrder).where(WorkOrder.closed_at.is_not(None))
                          .order_by(WorkOrder.id)).first()
        event = WorkOrderEvent(work_order_id=order.id, at=NOW - timedelta(days=1100),
                               action="note", reason="three years ago")
        s.add(event)
        s.flush()
        ids["order"], ids["event"] = order.id, event.id
    return ids


def count(db, model, *where) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def run_prune(db, config: Config):
    prune = next(job for job in job_table(config) if job.name == "prune")
    return run_slot(db, config, prune, prune.schedule.latest(NOW), now=NOW)


def test_old_records_go_newer_ones_and_open_ones_stay(city):
    ids = seed_records(city)
    events = count(city, WorkOrderEvent)
    config = settings(retention_hall_tickets_days=400)
    run = run_prune(city, config)
    assert run.status == "ok", run.error
    removed = {k: v for k, v in run.summary.items() if k in retention.NAMES}
    assert removed == {"crew_pings": 1, "audit_events": 1, "notifications": 1, "job_runs": 3,
                       "auth_sessions": 2, "api_tokens": 1, "hall_tickets_removed": 2,
                       "rate_counters": 1}
    assert run.summary["unfinished"] == []
    # What is left: the newer rows of each table and everything open.
    assert count(city, CrewPing) == 1
    assert count(city, AuditEvent, AuditEvent.subject == "someone") == 1
    assert sorted(s for (s,) in _rows(city, Notification.email_state)) == [
        "pending", "sending", "sent"]
    with city.read() as s:
        sessions = set(s.scalars(select(AuthSession.id)))
        tokens = set(s.scalars(select(ApiToken.id)))
        runs = sorted((r.job, r.status, (NOW - r.started_at).days) for r in s.scalars(
            select(JobRun).where(JobRun.job.in_(["test_job", "retired_job"]))))
        tickets = sorted((t.day, t.status) for t in s.scalars(select(HallTicket)))
    assert sessions == {ids["session_ended_recent"], ids["session_live"]}
    assert tokens == {ids["token_valid"]}
    assert runs == [("retired_job", "ok", 365), ("test_job", "failed", 40),
                    ("test_job", "ok", 10)]
    assert tickets == [(TODAY - timedelta(days=30), "done"), (TODAY, "waiting")]
    assert count(city, RateCounter, RateCounter.bucket == "test") == 1
    # The work orders and their timelines are untouched, the three-year-old event too.
    assert count(city, WorkOrderEvent) == events
    assert count(city, WorkOrderEvent, WorkOrderEvent.id == ids["event"]) == 1
    assert count(city, WorkOrder) == 40


def _rows(db, *columns):
    with db.read() as s:
        return s.execute(select(*columns)).all()


def test_a_second_run_removes_nothing_more(city):
    seed_records(city)
    config = settings()
    first = retention.prune(city, config, NOW)
    again = retention.prune(city, config, NOW)
    assert sum(first.removed.values()) > 0
    assert set(again.removed.values()) == {0}


def test_tables_kept_for_ever_are_not_touched(city):
    seed_records(city, audit=(4000, 300))
    config = settings(retention_audit_days=0, retention_pings_days=0,
                      retention_notifications_days=0, retention_job_runs_days=0,
                      retention_failed_job_runs_days=0, retention_sessions_days=0)
    report = retention.prune(city, config, NOW)
    assert set(report.removed) == {"rate_counters"}  # a closed window counts nothing
    assert count(city, AuditEvent, AuditEvent.subject == "someone") == 2
    assert count(city, CrewPing) == 2


def test_the_audit_trail_keeps_six_months_at_the_shortest_setting(city):
    seed_records(city, audit=(185, 183, 30))
    report = retention.prune(city, settings(retention_audit_days=184), NOW)
    assert report.removed["audit_events"] == 1
    with city.read() as s:
        left = sorted((NOW - at).days for at in s.scalars(
            select(AuditEvent.at).where(AuditEvent.subject == "someone")))
    assert left == [30, 183]


def test_a_backlog_goes_in_bounded_batches_and_a_run_out_of_time_leaves_the_rest(city):
    """Many old pings: removed batch by batch; a run whose time is up stops between
    batches, says which tables it did not finish, and the next run goes on."""
    seed_records(city, pings=[31 + i / 100 for i in range(250)] + [1])
    config = settings()
    stopped = retention.prune(city, config, NOW, budget_seconds=0)
    assert stopped.unfinished == [n for n in retention.NAMES if n != "hall_tickets_removed"]
    assert set(stopped.removed.values()) == {0} and count(city, CrewPing) == 251
    done = retention.prune(city, config, NOW, batch_size=100)
    assert done.removed["crew_pings"] == 250 and done.unfinished == []
    # Three batches for the pings (100, 100, 50), one for each other table.
    assert done.batches == 3 + len(done.removed) - 1
    assert count(city, CrewPing) == 1


def test_failed_runs_kept_for_ever_while_successful_ones_go(city):
    seed_records(city)
    retention.prune(city, settings(retention_failed_job_runs_days=0), NOW)
    with city.read() as s:
        runs = sorted((r.status, (NOW - r.started_at).days) for r in s.scalars(
            select(JobRun).where(JobRun.job == "test_job")))
    assert runs == [("failed", 40), ("failed", 200), ("ok", 10)]

"""The scheduler: slots, one run per (job, slot), failures recorded, the lease; and the real
process started, killed, restarted after a gap and started twice at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from station_portal.auth.models import User
from station_portal.config import Config
from station_portal.db import Database
from station_portal.jobs.models import JobRun
from station_portal.jobs.runner import Job, release_lease, run_slot, take_lease
from station_portal.jobs.schedule import DAY, WEEK, Schedule
from station_portal.timefmt import SHANGHAI
from tests.helpers import fresh_database

CONFIG = Config.from_env({"env": "demo"}, environ={})


# -- slots -----------------------------------------------------------------------------------

def test_slots_are_local_times_and_missed_runs_are_counted():
    daily = Schedule.daily(1, 30)
    now = datetime(2026, 11, 27, 0, 10, tzinfo=SHANGHAI)  # before today's 01:30
    assert daily.latest(now) == datetime(2026, 11, 26, 1, 30, tzinfo=SHANGHAI)
    assert daily.next_after(daily.latest(now)) == datetime(2026, 11, 27, 1, 30, tzinfo=SHANGHAI)
    weekly = Schedule.weekly(0, 6)
    assert weekly.latest(now) == datetime(2026, 11, 23, 6, tzinfo=SHANGHAI)  # a Monday
    assert weekly.period == WEEK and daily.period == DAY
    minute = Schedule.every(60)
    last = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert minute.missed_between(None, last) == 0
    assert minute.missed_between(last, last + timedelta(minutes=1)) == 0
    assert minute.missed_between(last, last + timedelta(minutes=10)) == 9
    assert minute.latest(last + timedelta(seconds=59.9)) == last
    with pytest.raises(ValueError):
        Schedule(60, 60)


def test_the_trigger_fires_exactly_at_the_slots():
    schedule = Schedule.daily(6, 30)
    trigger = schedule.trigger()
    now = datetime(2026, 11, 27, 12, tzinfo=SHANGHAI)
    fire = trigger.get_next_fire_time(None, now)
    assert fire == datetime(2026, 11, 28, 6, 30, tzinfo=SHANGHAI)
    assert schedule.latest(fire) == fire


# -- runs ------------------------------------------------------------------------------------

@pytest.fixture
def empty(engine_name, tmp_path):
    database = fresh_database(engine_name, tmp_path)
    yield database
    database.dispose()


def counting_job(calls: list, schedule: Schedule | None = None, fail: bool = False) -> Job:
    def run(session, context):
        calls.append(context.slot)
        if fail:
            raise RuntimeError("the job broke")
        return {"slot": context.slot.isoformat()}

    return Job("test_job", schedule or Schedule.every(60), run)


def test_a_slot_runs_once_and_a_gap_is_folded_into_one_catch_up(empty):
    calls: list = []
    job = counting_job(calls)
    slot = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    first = run_slot(empty, CONFIG, job, slot)
    assert first.status == "ok" and first.coalesced == 0
    assert run_slot(empty, CONFIG, job, slot) is None  # the same slot again
    assert run_slot(empty, CONFIG, job, slot - timedelta(minutes=1)) is None  # an older one
    later = run_slot(empty, CONFIG, job, slot + timedelta(minutes=10))
    assert later.coalesced == 9 and len(calls) == 2


def test_two_schedulers_racing_for_the_same_slot_run_it_once(empty):
    calls: list = []
    job = counting_job(calls)
    slot = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    barrier = threading.Barrier(4)
    results = []

    def race(name: str) -> None:
        barrier.wait()
        results.append(run_slot(empty, CONFIG, job, slot, runner=name))

    threads = [threading.Thread(target=race, args=(f"r{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and sum(r is not None for r in results) == 1
    with empty.read() as s:
        assert s.scalar(select(func.count()).select_from(JobRun)) == 1


def test_a_failing_job_is_recorded_and_its_changes_rolled_back(empty):
    calls: list = []
    job = counting_job(calls, fail=True)
    slot = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    run = run_slot(empty, CONFIG, job, slot)
    assert run.status == "failed" and "the job broke" in run.error
    with empty.read() as s:
        rows = list(s.scalars(select(JobRun)))
    assert [(r.status, r.scheduled_for) for r in rows] == [("failed", slot)]


def test_the_lease_is_held_by_one_until_it_lapses_or_is_released(empty):
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert take_lease(empty, "a", now=now, seconds=30).held
    other = take_lease(empty, "b", now=now + timedelta(seconds=5), seconds=30)
    assert not other.held and other.holder == "a"
    assert take_lease(empty, "a", now=now + timedelta(seconds=20), seconds=30).held  # renewed
    assert not take_lease(empty, "b", now=now + timedelta(seconds=45), seconds=30).held
    assert take_lease(empty, "b", now=now + timedelta(seconds=51), seconds=30).held  # lapsed
    release_lease(empty, "b")
    assert take_lease(empty, "a").held


# -- the process -----------------------------------------------------------------------------

LONG_LEASE = ("--lease-seconds", "12")


def start(database_url: str, log, *extra: str, env: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "PORTAL_ENV": "demo",
           "PYTHONUNBUFFERED": "1", "PORTAL_DEFAULT_LOCALE": "en", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "station_portal.cli", "scheduler", "--only", "sla_watch",
         "--interval", "sla_watch=1", "--lease-seconds", "3", *extra],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def runs(database) -> list[JobRun]:
    with database.read() as s:
        return list(s.scalars(select(JobRun).where(JobRun.job == "sla_watch")
                              .order_by(JobRun.scheduled_for)))


def wait_for(predicate, timeout: float = 60.0, logs: tuple = ()) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    texts = "\n".join(f"--- {path}\n{path.read_text()[-3000:]}" for path in logs)
    raise AssertionError(f"timed out waiting\n{texts}")


def mail_runs_done(database) -> int:
    with database.read() as s:
        return s.scalar(select(func.count(JobRun.id)).where(
            JobRun.job == "mail", JobRun.finished_at.is_not(None)))


def assert_every_slot_once(rows: list[JobRun]) -> None:
    """No run twice, and every slot from the first to the last either ran or was folded
    into the next run (its ``coalesced`` count)."""
    slots = [r.scheduled_for for r in rows]
    assert len(slots) == len(set(slots))
    span = int((slots[-1] - slots[0]).total_seconds()) + 1
    assert sum(1 + r.coalesced for r in rows[1:]) + 1 == span
    assert all(r.status == "ok" for r in rows)


@pytest.mark.slow
def test_the_process_killed_and_restarted_loses_and_repeats_nothing(empty, tmp_path):
    log = open(tmp_path / "scheduler.log", "w")  # noqa: SIM115 (closed at the end)
    # A lease long enough that the second process, however slowly it starts on a busy
    # machine, still finds the dead one's lease running (and says it stands by).
    first = start(empty.url, log, *LONG_LEASE)
    try:
        wait_for(lambda: len(runs(empty)) >= 3, logs=(tmp_path / "scheduler.log",))
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # no goodbye: the lease stays until it lapses
        first.wait()
    before = runs(empty)
    # Downtime (the dead process's lease still runs): until a slot has passed unrun.
    missed = before[-1].scheduled_for.replace(tzinfo=None) + timedelta(seconds=2)
    wait_for(lambda: datetime.now(UTC).replace(tzinfo=None) >= missed)
    second = start(empty.url, log, *LONG_LEASE)
    try:
        wait_for(lambda: len(runs(empty)) >= len(before) + 3,
                 logs=(tmp_path / "scheduler.log",))
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=20) == 0
        log.close()
    rows = runs(empty)
    assert_every_slot_once(rows)
    catch_up = rows[len(before)]
    assert catch_up.coalesced >= 1, "the downtime is folded into one catch-up run"
    assert {r.runner for r in rows[:len(before)]} != {r.runner for r in rows[len(before):]}
    text = (tmp_path / "scheduler.log").read_text()
    assert "standing by" in text and "takes over" in text


@pytest.mark.slow
def test_two_processes_at_once_one_runs_the_other_stands_by(empty, tmp_path):
    logs = [open(tmp_path / f"s{i}.log", "w") for i in range(2)]  # noqa: SIM115
    procs = [start(empty.url, logs[i]) for i in range(2)]
    try:
        wait_for(lambda: len(runs(empty)) >= 5,
                 logs=tuple(tmp_path / f"s{i}.log" for i in range(2)))
        texts = [(tmp_path / f"s{i}.log").read_text() for i in range(2)]
        standing = [i for i, t in enumerate(texts) if "standing by" in t]
        assert len(standing) == 1, texts
        active = 1 - standing[0]
        assert {r.runner.split(":")[1] for r in runs(empty)} == {str(procs[active].pid)}
        # the active one stops cleanly: the other takes over at once, nothing lost
        procs[active].send_signal(signal.SIGTERM)
        assert procs[active].wait(timeout=20) == 0
        count = len(runs(empty))
        wait_for(lambda: len(runs(empty)) >= count + 3)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=20)
        for log in logs:
            log.close()
    rows = runs(empty)
    assert_every_slot_once(rows)
    assert {r.runner.split(":")[1] for r in rows} == {str(p.pid) for p in procs}


@pytest.mark.slow
def test_an_untouched_repair_reaches_inboxes_and_bells_once_per_level(engine_name, tmp_path):
    """The whole chain: the real scheduler process watches, escalates and mails to a real
    SMTP server; restarted, it sends nothing twice."""
    from aiosmtpd.controller import Controller

    from station_portal.demo.city import build_demo_city
    from station_portal.notify.models import Notification
    from station_portal.services import repairs
    from tests.helpers import Inbox, free_port

    database = fresh_database(engine_name, tmp_path)
    with database.write() as s:
        build_demo_city(s, seed=7)
        users = {u.username: u for u in s.scalars(select(User))}
        for user in users.values():
            user.email = f"{user.username}@example.cn"
        reported = datetime.now(UTC) - timedelta(hours=3)  # past every level of its arrival
        order = repairs.create_repair(s, users["head"], repairs.RepairInput(
            source="hotline_95598", category="low_voltage", urgency=2, lat=43.8817,
            lon=126.5744, address="昌邑区通江路12号", reported_at=reported), now=reported)
        code = order.code
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    env = {"PORTAL_SMTP_HOST": "127.0.0.1", "PORTAL_SMTP_PORT": str(port)}
    log = open(tmp_path / "scheduler.log", "w")  # noqa: SIM115
    try:
        for _round in range(2):  # the second start must add nothing
            proc = start(database.url, log, "--only", "mail", "--interval", "mail=1", env=env)
            try:
                wait_for(lambda: len([m for m in inbox.messages if code in m["Subject"]]) >= 2)
                # Two more mail runs end (the second begun after the mails arrived): a
                # duplicate would be in the inbox by then.
                done = mail_runs_done(database)
                wait_for(lambda done=done: mail_runs_done(database) >= done + 2)
            finally:
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(timeout=20) == 0
    finally:
        controller.stop()
        log.close()
        database.dispose()
    mine = sorted((m["To"].split("<")[-1].rstrip(">"), m["Subject"]) for m in inbox.messages
                  if code in m["Subject"])
    assert mine == [("head@example.cn", f"{code}: Arrival on site is overdue"),
                    ("manager@example.cn", f"Escalated: {code}, Arrival on site overdue")]
    database = Database(database.url)
    with database.read() as s:
        bells = {u: s.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == users[u].id, Notification.read_at.is_(None)))
            for u in ("head", "manager")}
    database.dispose()
    assert bells == {"head": 1, "manager": 1}


def test_prune_keeps_recent_runs_and_failures_longer(empty):
    from station_portal.jobs.registry import jobs as job_table

    now = datetime(2026, 11, 27, 2, 30, tzinfo=UTC)
    with empty.write() as s:
        for i, (days, status) in enumerate(((40, "ok"), (10, "ok"), (40, "failed"),
                                            (200, "failed"))):
            at = now - timedelta(days=days, minutes=i)
            s.add(JobRun(job="test_job", scheduled_for=at, started_at=at, status=status))
    prune = next(j for j in job_table(CONFIG) if j.name == "prune")
    run = run_slot(empty, CONFIG, prune, prune.schedule.latest(now), now=now)
    assert run.summary["job_runs"] == 2
    with empty.read() as s:
        left = sorted((r.status, (now - r.started_at).days) for r in s.scalars(
            select(JobRun).where(JobRun.job == "test_job")))
    assert left == [("failed", 40), ("ok", 10)]


def test_prune_removes_documents_kept_for_refused_applications_after_their_hour(empty, tmp_path):
    from station_portal.jobs.registry import jobs as job_table
    from station_portal.services import customer as svc

    pdf = b"%PDF-1.4\n%%EOF\n"
    config = Config.from_env({"env": "demo", "upload_dir": str(tmp_path)}, environ={})
    old, fresh = svc.new_pending_token(), svc.new_pending_token()
    now = datetime.now(UTC)
    two_hours_ago = now.timestamp() - 7200
    svc.keep_uploads(tmp_path, fresh, [svc.Upload("identity", "b.pdf", pdf)], now=now.timestamp())
    svc.keep_uploads(tmp_path, old, [svc.Upload("identity", "a.pdf", pdf)], now=two_hours_ago)
    os.utime(tmp_path / svc.PENDING_FOLDER / old, (two_hours_ago, two_hours_ago))
    prune = next(j for j in job_table(config) if j.name == "prune")
    run = run_slot(empty, config, prune, prune.schedule.latest(now), now=now)
    assert run.summary["kept_uploads"] == 1
    assert not (tmp_path / svc.PENDING_FOLDER / old).exists()
    assert [k.filename for k, _u in svc.kept_uploads(tmp_path, fresh, now=now.timestamp())] \
        == ["b.pdf"]


def test_jobs_that_are_off_cannot_be_run_by_hand(tmp_path):
    from click.testing import CliRunner

    from station_portal.cli import main
    from station_portal.jobs.registry import jobs as job_table

    production = Config.from_env({"env": "production", "secret_key": "x" * 40}, environ={})
    assert not next(j for j in job_table(production) if j.name == "simulate").enabled(production)
    database = f"sqlite:///{tmp_path / 'off.sqlite3'}"
    env = {"DATABASE_URL": database, "PORTAL_ENV": "production", "SECRET_KEY": "y" * 40}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(main, ["jobs", "run", "simulate"], env=env)
    assert result.exit_code != 0 and "off" in result.output

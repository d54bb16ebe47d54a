"""Probes, metrics and logs, through the app: /healthz, /readyz, /metrics, the request id
and the one JSON line per request."""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from station_portal import create_app, migrate
from station_portal.db import Database, utcnow
from station_portal.jobs.models import SchedulerLease
from station_portal.jobs.runner import LEASE, Job, run_slot, take_lease
from station_portal.jobs.schedule import Schedule
from station_portal.pages import counter as counter_page
from station_portal.web.health import EXTENSION as READINESS
from station_portal.web.observe import REQUEST_LOG, JsonFormatter
from tests.dash_calls import call, callback_id_for
from tests.helpers import TEST_SECRET, app_config, fresh_database, unique

METRICS_TOKEN = "m" * 40
HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """An empty migrated database (no users, no scheduler yet), on SQLite."""
    database = fresh_database("sqlite", tmp_path_factory.mktemp("observe"))
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def production_app(bare, tmp_path_factory):
    """A production-mode app whose metrics need a token or the 10.20.0.0/16 network."""
    flask_app = create_app(app_config(
        bare, env="production", secret_key=TEST_SECRET, metrics_token=METRICS_TOKEN,
        metrics_networks="10.20.0.0/16", upload_dir=str(tmp_path_factory.mktemp("uploads"))))
    flask_app.config["TESTING"] = True
    return flask_app


def sample(scrape: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 if absent)."""
    for line in scrape.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def heartbeat(database: Database, age: timedelta) -> None:
    """The scheduler's lease as a scheduler would leave it, renewed ``age`` ago."""
    at = utcnow() - age
    take_lease(database, "scheduler-test:1", now=at)
    with database.write() as s:
        s.execute(update(SchedulerLease).where(SchedulerLease.name == LEASE)
                  .values(renewed_at=at, expires_at=at + timedelta(seconds=30)))


# -- /healthz and /readyz ------------------------------------------------------------------

def test_liveness_says_ok_and_nothing_about_the_installation(production_app, client):
    for app_client in (production_app.test_client(), client):
        response = app_client.get("/healthz")
        assert response.status_code == 200
        assert response.text == "ok" and response.mimetype == "text/plain"
    assert "production" not in production_app.test_client().get("/healthz").text


def test_ready_when_database_schema_storage_and_scheduler_are_fine(production_app, bare):
    heartbeat(bare, timedelta(seconds=5))
    response = production_app.test_client().get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json == {"status": "ready"}


def test_a_silent_scheduler_makes_the_host_not_ready(production_app, bare):
    heartbeat(bare, timedelta(minutes=10))
    response = production_app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "not ready"
    assert [f["check"] for f in response.json["failed"]] == ["scheduler"]
    assert "silent for 6" in response.json["failed"][0]["reason"]
    heartbeat(bare, timedelta(seconds=1))
    assert production_app.test_client().get("/readyz").status_code == 200


def test_a_schema_behind_the_code_makes_the_host_not_ready(production_app, bare):
    heartbeat(bare, timedelta(seconds=1))
    head = migrate.head_revision(bare)
    migrate.downgrade(bare, "-1")  # the code was deployed, the migration not run yet
    try:
        response = production_app.test_client().get("/readyz")
        assert response.status_code == 503
        assert response.json["failed"] == [
            {"check": "schema", "reason": "database schema differs from this code's (behind it, "
                                          "or newer)"}]
    finally:
        migrate.upgrade(bare)
    assert migrate.current_revision(bare) == head
    assert production_app.test_client().get("/readyz").status_code == 200


def test_unwritable_storage_and_an_unreachable_database_are_named(production_app, bare, tmp_path):
    readiness = production_app.extensions[READINESS]
    heartbeat(bare, timedelta(seconds=1))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the upload folder should be")
    no_storage = replace(readiness, config=replace(readiness.config,
                                                   upload_dir=str(blocker / "uploads")))
    assert [(f.check, f.reason) for f in no_storage.failures()] == [
        ("storage", "upload folder not writable")]
    gone = Database(f"sqlite:///{tmp_path / 'missing' / 'portal.sqlite3'}")
    try:
        no_database = replace(readiness, db=gone)
        assert [f.check for f in no_database.failures()] == ["database"]
    finally:
        gone.dispose()


def test_the_scheduler_check_can_be_turned_off(production_app, bare):
    readiness = production_app.extensions[READINESS]
    with bare.write() as s:
        s.execute(text("DELETE FROM scheduler_lease"))
    assert [f.check for f in readiness.failures()] == ["scheduler"]
    assert replace(readiness, config=replace(readiness.config,
                                             ready_scheduler_seconds=0)).failures() == []


# -- /metrics --------------------------------------------------------------------------------

def test_metrics_refuse_strangers_and_answer_the_token_or_the_network(production_app):
    client = production_app.test_client()
    stranger = {"REMOTE_ADDR": "203.0.113.7"}
    assert client.get("/metrics", environ_base=stranger).status_code == 403
    assert client.get("/metrics").status_code == 403  # this host is not among the networks
    wrong = client.get("/metrics", environ_base=stranger,
                       headers={"Authorization": "Bearer " + "x" * 40})
    assert wrong.status_code == 403 and "portal_" not in wrong.text
    right = client.get("/metrics", environ_base=stranger,
                       headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert right.status_code == 200 and right.mimetype == "text/plain"
    assert "portal_http_request_duration_seconds" in right.text
    inside = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.5.6"})
    assert inside.status_code == 200


def test_a_request_is_counted_by_its_route_template_not_its_path(client):
    status = str(client.get(f"/service/case/{unique('N')}").status_code)
    labels = {"route": "/service/case/<number>", "method": "GET", "status": status}
    name = "portal_http_request_duration_seconds_count"
    before = sample(client.get("/metrics").text, name, **labels)
    number = unique("N")
    assert str(client.get(f"/service/case/{number}").status_code) == status
    scrape = client.get("/metrics").text
    assert number not in scrape  # the raw path is no label
    assert sample(scrape, name, **labels) == before + 1


def test_callbacks_are_timed_by_output_id_and_polls_told_apart(app, as_user, client):
    head = as_user("head")
    key = callback_id_for(app, counter_page.CURRENT, "children")
    labels = {"output": key, "status": "200"}
    before = client.get("/metrics").text
    assert call(head, app, counter_page.CURRENT, "children", [None, None, 1, None],
                changed=2).status_code == 200  # the poll
    assert call(head, app, counter_page.CURRENT, "children", [None, None, 1, None],
                changed=0).status_code == 200  # the user chose a hall
    after = client.get("/metrics").text
    for trigger in ("poll", "user"):
        name = "portal_dash_callback_duration_seconds_count"
        assert sample(after, name, trigger=trigger, **labels) == \
            sample(before, name, trigger=trigger, **labels) + 1


def test_metrics_read_job_runs_the_mail_backlog_and_the_scheduler_lease(production_app, bare):
    config = production_app.extensions["station_portal"].config
    slot = Schedule.every(60).latest(utcnow())

    def broken(_session, _context):
        raise RuntimeError("the mail server is away")

    run_slot(bare, config, Job("probe", Schedule.every(60), lambda _s, _c: {"done": 1}), slot)
    run_slot(bare, config, Job("probe_fail", Schedule.every(60), broken), slot)
    heartbeat(bare, timedelta(seconds=42))
    scrape = production_app.test_client().get(
        "/metrics", environ_base={"REMOTE_ADDR": "10.20.0.1"}).text
    assert sample(scrape, "portal_database_up") == 1
    assert sample(scrape, "portal_job_runs_last_day", job="probe", status="ok") == 1
    assert sample(scrape, "portal_job_runs_last_day", job="probe_fail", status="failed") == 1
    assert sample(scrape, "portal_job_last_run_timestamp_seconds", job="probe", status="ok") \
        == slot.timestamp()
    assert 40 <= sample(scrape, "portal_scheduler_lease_age_seconds") < 100
    assert sample(scrape, "portal_scheduler_lease_held") == 0  # its 30 s term ran out
    assert sample(scrape, "portal_mail_backlog", state="pending") == 0


# -- request ids and the log line ------------------------------------------------------------

def test_a_sane_request_id_is_kept_and_anything_else_replaced(client):
    assert client.get("/healthz", headers={"X-Request-ID": "edge-7f3a.1:2"}) \
        .headers["X-Request-ID"] == "edge-7f3a.1:2"
    for insane in ("two words", "x" * 200, "<script>", "-leading-dash", "换行"):
        given = client.get("/healthz", headers={"X-Request-ID": insane}).headers["X-Request-ID"]
        assert HEX_ID.fullmatch(given), insane
    first, second = (client.get("/login").headers["X-Request-ID"] for _ in range(2))
    assert HEX_ID.fullmatch(first) and first != second


def test_each_request_logs_one_json_line_with_its_id_user_and_unit(app, as_user, db, caplog):
    from tests.helpers import account

    head = as_user("head")
    with db.read() as s:
        unit = account(s, "head").scope_unit_id
    with caplog.at_level(logging.INFO, logger=REQUEST_LOG):
        response = head.get("/api/v1/me", headers={"X-Request-ID": "trace-4242"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "trace-4242"
    lines = [r for r in caplog.records if r.name == REQUEST_LOG]
    assert len(lines) == 1
    line = json.loads(JsonFormatter().format(lines[0]))
    assert line["request_id"] == "trace-4242"
    assert line["user"] == "head" and line["unit"] == unit and unit is not None
    assert line["route"] == "/api/v1/me" and line["status"] == 200 and line["method"] == "GET"
    assert line["level"] == "INFO" and line["logger"] == REQUEST_LOG and "time" in line
    assert isinstance(line["ms"], float)


def test_an_anonymous_probe_logs_no_user(client, caplog):
    with caplog.at_level(logging.INFO, logger=REQUEST_LOG):
        client.get("/healthz")
    line = json.loads(JsonFormatter().format(caplog.records[-1]))
    assert line["route"] == "/healthz" and "user" not in line and HEX_ID.fullmatch(line["request_id"])


def test_production_cookies_are_secure_http_only_and_same_site(production_app):
    response = production_app.test_client().get("/login")
    cookie = next(v for k, v in response.headers.items()
                  if k == "Set-Cookie" and v.startswith("portal_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")
def test_pgbouncer_mode_prepares_no_statement_on_the_server():
    """psycopg prepares a query on the server after 5 runs; behind PgBouncer in transaction
    mode the next transaction may land on a server connection without it."""
    url = os.environ["TEST_DATABASE_URL"]
    query = text("SELECT count(*) FROM pg_prepared_statements")
    for pgbouncer, expect_prepared in ((False, True), (True, False)):
        database = Database(url, pgbouncer=pgbouncer)
        try:
            with database.engine.connect() as conn:
                for _ in range(8):
                    conn.execute(text("SELECT 1 + :n"), {"n": 1})
                assert (conn.execute(query).scalar() > 0) is expect_prepared, pgbouncer
        finally:
            database.dispose()

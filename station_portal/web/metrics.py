"""Prometheus metrics at ``/metrics`` (prometheus_client), for the operators' Prometheus only.

Measured in each web process:

- ``portal_http_request_duration_seconds{route,method,status}``: every request, by its
  route template (``/service/case/<number>``), never by its raw path;
- ``portal_dash_callback_duration_seconds{output,trigger,status}``: each Dash callback by
  its declared output id, ``trigger`` = ``poll`` (an interval or another passive input)
  or ``user``.

Read from the database at each scrape (the scheduler is another process, and several
web hosts share one database, so these are the same on every host: aggregate with
``max``): job runs of the last 24 hours and the last run by job and status, the mail
backlog, the scheduler lease's age. A database that does not answer gives
``portal_database_up 0``, never a failed scrape.

Under gunicorn every worker writes its samples to ``PROMETHEUS_MULTIPROC_DIR``
(``gunicorn.conf.py`` sets and empties it) and a scrape sums them over the workers
(prometheus_client's multiprocess mode); without that variable the process's own
registry is read.

Who may read: a caller with ``Authorization: Bearer <PORTAL_METRICS_TOKEN>``, or from
``PORTAL_METRICS_NETWORKS``; with neither set, this host only in demo mode and nobody in
production. Anyone else gets 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select

from station_portal.config import Config
from station_portal.db import Database, utcnow
from station_portal.i18n import _
from station_portal.jobs.models import JobRun, SchedulerLease
from station_portal.jobs.runner import LEASE
from station_portal.notify.models import Notification
from station_portal.web.context import portal
from station_portal.web.guard import DASH_UPDATE, bearer_token, is_user_activity, json_error
from station_portal.web.observe import route_template

log = logging.getLogger(__name__)

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
JOB_WINDOW = timedelta(hours=24)
MAIL_STATES = ("pending", "sending", "failed")

REQUEST_SECONDS = Histogram(
    "portal_http_request_duration_seconds", "Time to answer a request, by route template.",
    ["route", "method", "status"], buckets=BUCKETS)
CALLBACK_SECONDS = Histogram(
    "portal_dash_callback_duration_seconds", "Time to answer a Dash callback, by output id.",
    ["output", "trigger", "status"], buckets=BUCKETS)

bp = Blueprint("metrics", __name__)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


# -- measuring requests ----------------------------------------------------------------------

def callback_labels() -> tuple[str, str]:
    """(output id, trigger) of a Dash callback request; unknown outputs share one label."""
    body = request.get_json(silent=True)
    output = body.get("output") if isinstance(body, dict) else None
    policy = portal().callback_policies.get(output) if isinstance(output, str) else None
    if policy is None or policy.clientside:
        return "<unknown>", "user"
    return output, "user" if is_user_activity() else "poll"


def _observe(response: Response) -> Response:
    started = g.get("request_started")
    if started is None:
        return response
    seconds = time.perf_counter() - started
    status = str(response.status_code)
    REQUEST_SECONDS.labels(route_template(), request.method, status).observe(seconds)
    if request.path == DASH_UPDATE and request.method == "POST":
        output, trigger = callback_labels()
        CALLBACK_SECONDS.labels(output, trigger, status).observe(seconds)
    return response


# -- the database's figures, read at each scrape ---------------------------------------------

class DatabaseCollector:
    """Job runs, mail backlog and scheduler lease, read when Prometheus scrapes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("portal_database_up", "1 if the database answered this scrape.")
        try:
            families = self._read()
        except Exception:
            log.warning("metrics: the database did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> list[Metric]:
        now = utcnow()
        runs = GaugeMetricFamily(
            "portal_job_runs_last_day", "Job runs scheduled in the last 24 hours, by status.",
            labels=["job", "status"])
        last = GaugeMetricFamily(
            "portal_job_last_run_timestamp_seconds",
            "When the latest recorded run of a job was scheduled (Unix time), by status.",
            labels=["job", "status"])
        backlog = GaugeMetricFamily(
            "portal_mail_backlog", "Notifications waiting to be mailed (pending, sending) or "
            "given up (failed).", labels=["state"])
        oldest = GaugeMetricFamily(
            "portal_mail_oldest_pending_age_seconds",
            "Age of the oldest notification still waiting to be mailed (0: none).")
        lease_age = GaugeMetricFamily(
            "portal_scheduler_lease_age_seconds",
            "Seconds since the active scheduler last renewed its lease (absent: never).")
        lease_held = GaugeMetricFamily(
            "portal_scheduler_lease_held", "1 while a scheduler's lease runs, else 0.")
        with self.db.read() as session:
            for job, status, count in session.execute(
                    select(JobRun.job, JobRun.status, func.count())
                    .where(JobRun.scheduled_for >= now - JOB_WINDOW)
                    .group_by(JobRun.job, JobRun.status)):
                runs.add_metric([job, status], count)
            for job, status, at in session.execute(
                    select(JobRun.job, JobRun.status, func.max(JobRun.scheduled_for))
                    .group_by(JobRun.job, JobRun.status)):
                last.add_metric([job, status], at.timestamp())
            counts = dict(session.execute(
                select(Notification.email_state, func.count())
                .where(Notification.email_state.in_(MAIL_STATES))
                .group_by(Notification.email_state)).all())
            for state in MAIL_STATES:
                backlog.add_metric([state], counts.get(state, 0))
            first = session.scalar(select(func.min(Notification.created_at))
                                   .where(Notification.email_state == "pending"))
            oldest.add_metric([], (now - first).total_seconds() if first else 0)
            lease = session.get(SchedulerLease, LEASE)
            if lease is not None:
                lease_age.add_metric([], max((now - lease.renewed_at).total_seconds(), 0))
            lease_held.add_metric([], 1 if lease is not None and lease.expires_at > now else 0)
        return [runs, last, backlog, oldest, lease_age, lease_held]


class _Existing:
    """Another registry's metrics, added to a scrape's registry (single-process mode)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        return self.registry.collect()


def scrape(db: Database) -> bytes:
    """The text exposition of every metric: the workers' (summed in multiprocess mode) or
    this process's, plus the database's."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory:
        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_Existing(REGISTRY))
    registry.register(DatabaseCollector(db))
    return generate_latest(registry)


# -- who may read ----------------------------------------------------------------------------

def metrics_allowed(config: Config, remote_addr: str | None, bearer: str | None) -> bool:
    """The right bearer token, or an address in the allowed networks (this host in demo
    mode when neither is configured; nobody in production)."""
    token = config.metrics_token
    if token and bearer and hmac.compare_digest(bearer.encode(), token.encode()):
        return True
    networks = config.metrics_network_list()
    if not networks and not token and config.is_demo:
        networks = list(LOOPBACK)
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in networks)


@bp.get("/metrics")
def metrics() -> Any:
    if not metrics_allowed(portal().config, request.remote_addr, bearer_token()):
        return json_error(403, "forbidden", _("You may not do this."))
    return Response(scrape(portal().db), content_type=CONTENT_TYPE_LATEST)


def init_app(server: Flask) -> None:
    server.after_request(_observe)
    server.register_blueprint(bp)

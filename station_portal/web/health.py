"""Probes for the load balancer and the orchestrator: ``/healthz`` and ``/readyz``.

Both public, both cheap, neither names the environment or the version.

- ``/healthz`` (liveness): the process answers. ``200 ok``, nothing else is touched, so
  a database outage never makes a supervisor restart healthy web processes.
- ``/readyz`` (readiness): this process can serve. Checks, each with a short reason when
  it fails: ``database`` (answers a query), ``schema`` (at the revision this code was
  built for, or newer by revisions declared compatible with it: ``migrate.assess``; this
  code's revisions are read once at start), ``storage`` (a file can be written to and
  removed from the upload folder; with S3, the bucket answers a lookup), ``scheduler``
  (the active scheduler renewed its lease within ``PORTAL_READY_SCHEDULER_SECONDS``; 0
  turns the check off). ``200`` with the checks, or ``503`` with the list of what failed.
  Details of a failure go to the log, not to the caller.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import text

from station_portal import migrate, storage
from station_portal.config import Config
from station_portal.db import Database, utcnow
from station_portal.jobs.models import SchedulerLease
from station_portal.jobs.runner import LEASE

log = logging.getLogger(__name__)

EXTENSION = "station_portal.health"

bp = Blueprint("health", __name__)


@dataclass(frozen=True)
class Failure:
    check: str
    reason: str


@dataclass(frozen=True)
class Readiness:
    """What ``/readyz`` checks, with the schema revisions this code was built for."""

    db: Database
    config: Config
    code: migrate.CodeRevisions

    def failures(self, now: datetime | None = None) -> list[Failure]:
        now = now or utcnow()
        failed = []
        try:
            schema, renewed = self._read_database()
        except Exception:
            log.warning("readyz: the database did not answer", exc_info=True)
            failed.append(Failure("database", "unreachable"))
        else:
            if schema.problem:
                log.warning("readyz: schema: %s", schema.detail)
                failed.append(Failure("schema", schema.problem))
            problem = scheduler_problem(renewed, now, self.config.ready_scheduler_seconds)
            if problem:
                failed.append(Failure("scheduler", problem))
        if not store_answers(storage.for_config(self.config)):
            failed.append(Failure("storage", "object store unreachable"
                                  if self.config.storage == storage.S3
                                  else "upload folder not writable"))
        return failed

    def _read_database(self) -> tuple[migrate.SchemaVerdict, datetime | None]:
        with self.db.read() as session:  # one connection for all the reads
            session.execute(text("SELECT 1"))
            schema = migrate.assess(session.connection(), self.code)
            lease = session.get(SchedulerLease, LEASE) \
                if self.config.ready_scheduler_seconds else None
            return schema, lease.renewed_at if lease is not None else None


def scheduler_problem(renewed: datetime | None, now: datetime, limit: int) -> str | None:
    if not limit:
        return None
    if renewed is None:
        return "no scheduler has run"
    age = now - renewed
    if age > timedelta(seconds=limit):
        return f"scheduler silent for {int(age.total_seconds())} s (limit {limit} s)"
    return None


def store_answers(store: storage.Storage) -> bool:
    """The store can take files: the local folder is writable, or the bucket answers a
    listing of one key (bucket, credentials and network all work)."""
    try:
        store.check()
    except storage.StorageError:
        log.warning("readyz: the file store did not answer (%r)", store, exc_info=True)
        return False
    return True


@bp.get("/healthz")
def healthz() -> Response:
    return Response("ok", mimetype="text/plain")


@bp.get("/readyz")
def readyz() -> Any:
    readiness: Readiness = current_app.extensions[EXTENSION]
    failed = readiness.failures()
    if failed:
        return jsonify({"status": "not ready",
                        "failed": [{"check": f.check, "reason": f.reason} for f in failed]}), 503
    return jsonify({"status": "ready"})


def init_app(server: Flask, db: Database, config: Config, code: migrate.CodeRevisions) -> None:
    """``code``: the schema revisions this code has (read once at start)."""
    server.extensions[EXTENSION] = Readiness(db, config, code)
    server.register_blueprint(bp)

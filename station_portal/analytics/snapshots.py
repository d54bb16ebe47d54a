"""Daily aggregates of the work: computed in SQL, kept in snapshot tables.

Each figure is keyed by the local (Asia/Shanghai) day of its event: an order
received (``created_at``), closed (``closed_at``), a clock ended
(``ended_at``; its ``used`` time and ``late_by`` are stored on the clock when
it ends, see ``workorders.clocks.settle_clock``). :func:`aggregates` groups
the events of a time window by day in SQL, on SQLite and PostgreSQL alike;
:func:`refresh` writes them for every finished day the tables do not hold
yet, and ``analytics.daily`` uses the same function for the days after the
snapshot's horizon (normally today), so both paths give the same figures.

``seed-demo``, ``make run`` and ``station-portal snapshots refresh`` (run it
nightly, e.g. from cron, until the scheduler does) call :func:`refresh`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import (
    Date,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from station_portal.analytics.models import CrewDay, OrderDay, SnapshotState, StageDay
from station_portal.db import serialize_on
from station_portal.org.models import Crew
from station_portal.sla.calendar import WorkCalendar, local_midnight
from station_portal.timefmt import SHANGHAI
from station_portal.workorders.clocks import CANCELLED, UNPAUSED_STAGES, outcomes
from station_portal.workorders.models import Kind, StageClock, WorkOrder

STATE = "daily"
REWRITE_DAYS = 2
CHUNK_DAYS = 31
SETTLE_BATCH = 50_000
ORDER_KEYS = ["day", "unit_id", "kind", "category"]
STAGE_KEYS = ["day", "unit_id", "holder_unit_id", "kind", "stage", "category", "area_type"]
CREW_KEYS = ["day", "crew_id", "unit_id"]
ORDER_COLUMNS = [*ORDER_KEYS, "received", "closed", "counter_visits"]
STAGE_COLUMNS = [*STAGE_KEYS, "done", "timed", "late", "used", "late_by"]
CREW_COLUMNS = [*CREW_KEYS, "jobs", "site_hours"]


def local_day(column, dialect: str):
    """The Asia/Shanghai calendar day of a UTC instant, in SQL (China keeps no summer time)."""
    if dialect == "sqlite":  # instants are stored as UTC text
        return type_coerce(func.date(column, "+8 hours"), Date())
    return func.date(func.timezone(SHANGHAI.key, column))


def _category():
    """The category column of the snapshots: a repair's category, an application's class."""
    # a literal, not a bound parameter: PostgreSQL must see the same expression in GROUP BY
    return func.coalesce(WorkOrder.category, WorkOrder.customer_class, literal_column("''"))


@dataclass(frozen=True)
class Aggregates:
    orders: pd.DataFrame  # ORDER_COLUMNS
    stages: pd.DataFrame  # STAGE_COLUMNS
    crews: pd.DataFrame  # CREW_COLUMNS


def _finished():
    """Clocks that ended because the work was done, not because the order was cancelled."""
    return or_(StageClock.status.is_(None), StageClock.status != CANCELLED)


def in_units(column, unit_ids: frozenset[int] | None):
    """A WHERE clause keeping rows whose unit ``column`` is one of ``unit_ids`` (None: all)."""
    return column.in_(sorted(unit_ids)) if unit_ids is not None else literal(True)


def _frame(session: Session, stmt, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(session.execute(stmt).all(), columns=columns)


def order_aggregates(session: Session, start: datetime, end: datetime,
                     unit_ids: frozenset[int] | None = None) -> pd.DataFrame:
    """Orders received and closed in [start, end), per local day and key."""
    dialect = session.get_bind().dialect.name
    day = local_day(WorkOrder.created_at, dialect).label("day")
    received = _frame(session, (
        select(day, WorkOrder.unit_id, WorkOrder.kind, _category(), func.count(WorkOrder.id),
               func.sum(WorkOrder.counter_visits))
        .where(WorkOrder.created_at >= start, WorkOrder.created_at < end,
               WorkOrder.kind.in_(list(Kind)), in_units(WorkOrder.unit_id, unit_ids))
        .group_by(day, WorkOrder.unit_id, WorkOrder.kind, _category())),
        ["day", "unit_id", "kind", "category", "received", "counter_visits"])
    day = local_day(WorkOrder.closed_at, dialect).label("day")
    closed = _frame(session, (
        select(day, WorkOrder.unit_id, WorkOrder.kind, _category(), func.count(WorkOrder.id))
        .where(WorkOrder.closed_at >= start, WorkOrder.closed_at < end,
               in_units(WorkOrder.unit_id, unit_ids))
        .group_by(day, WorkOrder.unit_id, WorkOrder.kind, _category())),
        ["day", "unit_id", "kind", "category", "closed"])
    orders = received.merge(closed, on=ORDER_KEYS, how="outer")
    return orders.reindex(columns=ORDER_COLUMNS).fillna(
        {"received": 0, "closed": 0, "counter_visits": 0}).astype(
        {"received": int, "closed": int, "counter_visits": int})


def stage_aggregates(session: Session, start: datetime, end: datetime,
                     unit_ids: frozenset[int] | None = None) -> pd.DataFrame:
    """Clocks (application stages, repair arrival and restoration) ended in [start, end)."""
    day = local_day(StageClock.ended_at, session.get_bind().dialect.name).label("day")
    late = case((StageClock.ended_at > StageClock.due_at, 1), else_=0)
    keys = (day, WorkOrder.unit_id, StageClock.holder_unit_id, WorkOrder.kind, StageClock.stage,
            _category(), WorkOrder.area_type)
    return _frame(session, (
        select(*keys, func.count(StageClock.id), func.count(StageClock.due_at), func.sum(late),
               func.sum(func.coalesce(StageClock.used, 0.0)),
               func.sum(func.coalesce(StageClock.late_by, 0.0)))
        .join(WorkOrder, WorkOrder.id == StageClock.work_order_id)
        .where(StageClock.ended_at >= start, StageClock.ended_at < end,
               StageClock.started_at.is_not(None), WorkOrder.kind != Kind.PARK_CASE,
               _finished(), in_units(WorkOrder.unit_id, unit_ids))
        .group_by(*keys)), STAGE_COLUMNS)


def crew_aggregates(session: Session, start: datetime, end: datetime,
                    unit_ids: frozenset[int] | None = None) -> pd.DataFrame:
    """Repairs each crew restored in [start, end) and its hours on site for them, for the
    crews of ``unit_ids`` (a crew's work counts for its own unit, whoever's order it was)."""
    day = local_day(StageClock.ended_at, session.get_bind().dialect.name).label("day")
    return _frame(session, (
        select(day, WorkOrder.crew_id, Crew.unit_id, func.count(StageClock.id),
               func.sum(func.coalesce(StageClock.used, 0.0)) / 60.0)
        .join(WorkOrder, WorkOrder.id == StageClock.work_order_id)
        .join(Crew, Crew.id == WorkOrder.crew_id)
        .where(StageClock.ended_at >= start, StageClock.ended_at < end,
               StageClock.stage == "restoration", StageClock.started_at.is_not(None),
               _finished(), in_units(Crew.unit_id, unit_ids))
        .group_by(day, WorkOrder.crew_id, Crew.unit_id)), CREW_COLUMNS)


def aggregates(session: Session, start: datetime, end: datetime,
               unit_ids: frozenset[int] | None = None) -> Aggregates:
    """Every event in [start, end), grouped by local day and key, in SQL."""
    return Aggregates(order_aggregates(session, start, end, unit_ids),
                      stage_aggregates(session, start, end, unit_ids),
                      crew_aggregates(session, start, end, unit_ids))


# -- settling finished clocks ------------------------------------------------------------
def settle(session: Session, calendar: WorkCalendar | None = None, progress=None) -> int:
    """Record ``used`` and ``late_by`` on finished clocks that lack them (older data, bulk
    imports, the demo seed). Vectorised; returns how many clocks it settled."""
    calendar = calendar or WorkCalendar.default()
    total, after = 0, 0
    while True:
        rows = session.execute(
            select(StageClock.id, StageClock.started_at, StageClock.ended_at, StageClock.due_at,
                   StageClock.paused_amount, StageClock.stage)
            .join(WorkOrder, WorkOrder.id == StageClock.work_order_id)
            .where(StageClock.id > after, StageClock.ended_at.is_not(None),
                   StageClock.started_at.is_not(None), StageClock.used.is_(None),
                   WorkOrder.kind != Kind.PARK_CASE)
            .order_by(StageClock.id).limit(SETTLE_BATCH)).all()
        if not rows:
            return total
        after = rows[-1][0]
        ids, started, ended, due, paused, stage = zip(*rows, strict=True)
        used, late = outcomes(
            np.array([t.timestamp() for t in started]), np.array([t.timestamp() for t in ended]),
            np.array([t.timestamp() if t else np.nan for t in due]),
            np.array([p or 0.0 for p in paused]),
            np.array([s in UNPAUSED_STAGES for s in stage]), calendar)
        session.execute(update(StageClock), [
            {"id": i, "used": float(u), "late_by": float(v)}
            for i, u, v in zip(ids, used, late, strict=True)])
        total += len(rows)
        if progress:
            progress(total)


# -- the snapshot tables -----------------------------------------------------------------
@dataclass(frozen=True)
class RefreshReport:
    first: date | None
    through: date | None
    order_rows: int
    stage_rows: int
    crew_rows: int
    settled: int
    seconds: float


def horizon(session: Session) -> date | None:
    """The last day the snapshot tables hold (None: nothing yet)."""
    return session.scalar(select(SnapshotState.through).where(SnapshotState.name == STATE))


def _first_day(session: Session) -> date | None:
    first = session.scalar(select(func.min(WorkOrder.created_at)))
    return first.astimezone(SHANGHAI).date() if first else None


def _records(frame: pd.DataFrame) -> list[dict]:
    rows = frame.to_dict("records")
    for row in rows:
        for key, value in row.items():
            if isinstance(value, np.generic):
                row[key] = value.item()
            elif value is not None and not isinstance(value, (str, date)) and pd.isna(value):
                row[key] = None
    return rows


def refresh(session: Session, now: datetime, *, rebuild: bool = False,
            progress=None) -> RefreshReport:
    """Write the aggregates of every finished day (before ``now``'s local day) not yet held.

    Idempotent: the days it writes are deleted first, and a day already held is
    written again only with ``rebuild``. Runs in the caller's transaction.
    """
    began = time.perf_counter()
    # One refresh at a time: two overlapping runs (cron and a hand-run one) would both insert.
    serialize_on(session, "snapshots:refresh")
    settled = settle(session)
    today = now.astimezone(SHANGHAI).date()
    last = today - timedelta(days=1)
    held = None if rebuild else horizon(session)
    # Field steps may be reported up to a day late (a phone offline): the last finished
    # days are written again each time, so such a step lands in its day by the next run.
    first = min(held + timedelta(days=1), last - timedelta(days=REWRITE_DAYS - 1)) if held \
        else _first_day(session)
    counts = [0, 0, 0]
    if first is not None and first <= last:
        for model in (OrderDay, StageDay, CrewDay):
            session.execute(delete(model).where(model.day >= first))
        day = first
        while day <= last:
            until = min(day + timedelta(days=CHUNK_DAYS), last + timedelta(days=1))
            found = aggregates(session, local_midnight(day).astimezone(UTC),
                               local_midnight(until).astimezone(UTC))
            for i, (model, frame) in enumerate(((OrderDay, found.orders),
                                                (StageDay, found.stages),
                                                (CrewDay, found.crews))):
                if len(frame):
                    session.execute(insert(model), _records(frame))
                    counts[i] += len(frame)
            if progress:
                progress((until - first).days, (last - first).days + 1)
            day = until
    through = last if first is None or first <= last else held
    seconds = time.perf_counter() - began
    state = session.get(SnapshotState, STATE)
    if state is None:
        state = SnapshotState(name=STATE)
        session.add(state)
    state.through, state.refreshed_at, state.seconds = through, now, seconds
    return RefreshReport(first, through, *counts, settled, seconds)

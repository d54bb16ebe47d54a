"""When a client's next visit is due, and when it is overdue (走访逾期).

One definition for every view: the recurring-visit job, the visits page and the
clients dashboard all read :func:`next_visits`; a caller's scope only chooses
which clients it asks about, never what "overdue" means.

- A client with a visit frequency (``Client.visit_every_days``) is next due its
  frequency after the last visit made; never visited, its frequency after the
  relationship started (its first park case was opened).
- A visit planned since the last one made (by a person or by the job) is due on
  its planned day, if that comes first.
- The next visit is overdue once its due day (local, Asia/Shanghai) is over with
  no visit made: overdue by the whole days since that day.

Plain Python and SQLAlchemy: no Flask, no Dash, nothing from services or pages.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from station_portal.auth.scope import Scope
from station_portal.org.models import Client
from station_portal.timefmt import SHANGHAI, local
from station_portal.workorders.models import Kind, ParkVisit, WorkOrder

# Visits are planned at this local time on their day.
VISIT_TIME = time(10, 0)


@dataclass(frozen=True)
class NextVisit:
    """A client's next visit: the day it is due and the open visit standing for it."""

    client_id: int
    every_days: int | None
    last_done: datetime | None  # the last visit made
    started: datetime | None  # the relationship's start (the first park case opened)
    due: date | None  # the local day the next visit is due; None: nothing is due
    today: date  # the local day the status was read
    visit_id: int | None = None  # the earliest visit still open, planned since the last made
    planned_for: datetime | None = None
    work_order_id: int | None = None

    @property
    def overdue_days(self) -> int:
        return overdue_days(self.due, self.today)

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0

    @property
    def due_at(self) -> datetime | None:
        return visit_time(self.due) if self.due else None

    @property
    def frequency_due(self) -> date | None:
        return frequency_due(self.every_days, self.last_done, self.started)


def frequency_due(every_days: int | None, last_done: datetime | None,
                  started: datetime | None) -> date | None:
    """The local day the client's frequency asks for the next visit: ``every_days`` after
    the last visit made, or after the relationship started if never visited."""
    base = last_done or started
    if not every_days or base is None:
        return None
    return local(base).date() + timedelta(days=every_days)


def due_day(every_days: int | None, last_done: datetime | None, started: datetime | None,
            planned_for: datetime | None) -> date | None:
    """The local day the next visit is due: by the frequency, or the day of a visit
    planned since the last one made (``planned_for``), whichever comes first."""
    days = [d for d in (frequency_due(every_days, last_done, started),
                        local(planned_for).date() if planned_for else None) if d is not None]
    return min(days, default=None)


def overdue_days(due: date | None, today: date) -> int:
    """Whole days since the due day ended (0: not overdue, also on the due day itself)."""
    return max((today - due).days, 0) if due is not None else 0


def visit_time(day: date) -> datetime:
    """A visit's planned instant on ``day`` (10:00 local), in UTC."""
    return datetime.combine(day, VISIT_TIME, tzinfo=SHANGHAI).astimezone(UTC)


def next_visits(session: Session, client_ids: Collection[int] | None,
                now: datetime) -> dict[int, NextVisit]:
    """Each client's next visit (the given clients, every client for None): four grouped
    queries, whatever the number of visits."""
    if client_ids is not None and not client_ids:
        return {}
    ids = sorted(client_ids) if client_ids is not None else None

    def only(column):
        return column.in_(ids) if ids is not None else column.is_not(None)

    every = dict(session.execute(select(Client.id, Client.visit_every_days)
                                 .where(only(Client.id))).all())
    last_done = dict(session.execute(
        select(ParkVisit.client_id, func.max(ParkVisit.done_at))
        .where(only(ParkVisit.client_id), ParkVisit.done_at.is_not(None))
        .group_by(ParkVisit.client_id)).all())
    started = dict(session.execute(
        select(WorkOrder.client_id, func.min(WorkOrder.created_at))
        .where(only(WorkOrder.client_id), WorkOrder.kind == Kind.PARK_CASE)
        .group_by(WorkOrder.client_id)).all())
    open_visit: dict[int, tuple[int, datetime, int | None]] = {}
    for vid, cid, planned, order_id in session.execute(
            select(ParkVisit.id, ParkVisit.client_id, ParkVisit.planned_for,
                   ParkVisit.work_order_id)
            .where(only(ParkVisit.client_id), ParkVisit.done_at.is_(None))
            .order_by(ParkVisit.planned_for, ParkVisit.id)):
        last = last_done.get(cid)
        if cid not in open_visit and (last is None or planned > last):
            open_visit[cid] = (vid, planned, order_id)
    today = local(now).date()
    out = {}
    for cid, days in every.items():
        vid, planned, order_id = open_visit.get(cid, (None, None, None))
        out[cid] = NextVisit(
            client_id=cid, every_days=days, last_done=last_done.get(cid),
            started=started.get(cid),
            due=due_day(days, last_done.get(cid), started.get(cid), planned), today=today,
            visit_id=vid, planned_for=planned, work_order_id=order_id)
    return out


def visit_state(visit_id: int, planned_for: datetime, done_at: datetime | None,
                nxt: NextVisit | None, today: date) -> tuple[str, int]:
    """A listed visit's state and its days late, by the same definition:

    - ("done", 0): made;
    - ("overdue", days): it stands for the client's next visit and that is overdue
      (the days counted from the day the next visit was due);
    - ("missed", days): its planned day is over, but it is not the client's next visit
      (a visit was made since, or an earlier plan stands for it);
    - ("upcoming", 0): its day has not ended.
    """
    if done_at is not None:
        return "done", 0
    if nxt is not None and nxt.visit_id == visit_id and nxt.overdue:
        return "overdue", nxt.overdue_days
    late = overdue_days(local(planned_for).date(), today)
    return ("missed", late) if late else ("upcoming", 0)


@dataclass(frozen=True)
class OpenVisit:
    """A visit not made yet, with its state by :func:`visit_state`."""

    id: int
    client_id: int
    planned_for: datetime
    due: date | None  # the day the client's next visit was due, if this visit stands for it
    case_code: str | None  # the park case it belongs to
    work_order_id: int | None
    state: str
    days: int


@dataclass(frozen=True)
class ClientVisits:
    """The visits page's world: the clients a scope sees (by id), each one's next visit,
    and the open visits by planned day."""

    clients: list[Client]
    next: dict[int, NextVisit]
    open: list[OpenVisit]


def client_visits(session: Session, scope: Scope, now: datetime) -> ClientVisits:
    """The clients in ``scope`` (their own list and their units), their next visits and
    the visits still open."""
    clients = list(session.scalars(
        select(Client).where(scope.client_filter(Client.id), scope.unit_filter(Client.unit_id))
        .order_by(Client.id)))
    ids = [c.id for c in clients]
    status = next_visits(session, ids, now)
    today = local(now).date()
    rows = session.execute(
        select(ParkVisit, WorkOrder.code)
        .outerjoin(WorkOrder, WorkOrder.id == ParkVisit.work_order_id)
        .where(ParkVisit.client_id.in_(ids), ParkVisit.done_at.is_(None))
        .order_by(ParkVisit.planned_for)).all() if ids else []
    opened = []
    for visit, code in rows:
        nxt = status.get(visit.client_id)
        state, days = visit_state(visit.id, visit.planned_for, None, nxt, today)
        opened.append(OpenVisit(
            visit.id, visit.client_id, visit.planned_for,
            nxt.due if nxt is not None and nxt.visit_id == visit.id else None, code,
            visit.work_order_id, state, days))
    return ClientVisits(clients, status, opened)

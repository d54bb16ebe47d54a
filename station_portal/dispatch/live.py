"""The dispatch board's fingerprint: changes whenever what the board shows may have changed.

The board's poll compares it before loading the board (``load_board`` reads every open
order, crew, member and held job of the scope, and builds every feature). It covers:

- the orders in the scope's units: the latest ``updated_at`` per unit (every timeline event
  bumps it; an order that closes or moves away changes the open count), from the
  ``(unit_id, updated_at)`` index;
- the repairs the scope's crews hold elsewhere, as lead or support, and their assignments;
- the crews: on duty, active, their last position and when it was reported, their members;
- time: the next moment a time limit of an open order in scope warns or falls due, and the
  next moment a crew's position turns stale or unknown (so a state that time changes
  shows on the next poll, as when the board was computed every time), and the minute.

Must not import dash, flask or pages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Integer, func, select, true
from sqlalchemy.orm import Session

from station_portal.auth.scope import Scope
from station_portal.dispatch.board import CREW_WORK, default_settings
from station_portal.dispatch.travel import DispatchSettings
from station_portal.org.models import Crew, CrewMember, Staff, Unit
from station_portal.workorders.access import order_filter
from station_portal.workorders.models import OrderAssignment, WorkOrder


def _utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands an aggregate's timestamp back as text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _text(value: datetime | str | None) -> str:
    stamp = _utc(value)
    return f"{stamp.timestamp():.3f}" if stamp else "-"


def board_stamp(session: Session, scope: Scope, now: datetime,
                settings: DispatchSettings | None = None) -> str:
    """A short text that differs whenever ``load_board(session, scope, now)`` may differ
    from the last time it was the same. Two statements, index lookups and a few rows."""
    settings = settings or default_settings()
    crews = session.execute(
        select(Crew.id, Crew.on_duty, Crew.last_lat, Crew.last_lon, Crew.last_seen_at)
        .where(Crew.active.is_(True), scope.unit_filter(Crew.unit_id)).order_by(Crew.id)).all()
    crew_ids = [c.id for c in crews]
    # when a crew's position turns from live to stale, and from stale to unknown
    turns = []
    for crew in crews:
        seen = _utc(crew.last_seen_at)
        if seen is not None:
            turns += [seen + timedelta(minutes=settings.position.live_min),
                      seen + timedelta(minutes=settings.position.usable_min)]
    next_turn = min((t for t in turns if t > now), default=None)

    if scope.unit_ids is not None and scope.role.value not in ("crew", "account_manager"):
        # one index probe per unit (ix_work_orders_unit_updated), as the dashboards do
        per_unit = (select(func.max(WorkOrder.updated_at))
                    .where(WorkOrder.unit_id == Unit.id).correlate(Unit).scalar_subquery())
        latest = (select(func.max(per_unit)).where(Unit.id.in_(sorted(scope.unit_ids)))
                  .scalar_subquery())
    else:
        latest = select(func.max(WorkOrder.updated_at)).where(order_filter(scope)) \
            .scalar_subquery()
    # each an aggregate of one row; one statement reads them all
    open_orders = select(
        func.count(WorkOrder.id).label("n"),
        func.min(WorkOrder.warn_at).filter(WorkOrder.warn_at > now).label("warn"),
        func.min(WorkOrder.due_at).filter(WorkOrder.due_at > now).label("due"),
    ).where(WorkOrder.closed_at.is_(None), order_filter(scope)).subquery()
    held = select(func.max(WorkOrder.updated_at).label("latest"),
                  func.count(WorkOrder.id).label("n")).where(
        WorkOrder.crew_id.in_(crew_ids), WorkOrder.status.in_([s.value for s in CREW_WORK])
    ).subquery()
    support = (select(func.max(WorkOrder.updated_at).label("latest"),
                      func.count(OrderAssignment.id).label("n"),
                      func.max(OrderAssignment.id).label("last"))
               .join(WorkOrder, WorkOrder.id == OrderAssignment.work_order_id)
               .where(OrderAssignment.crew_id.in_(crew_ids),
                      OrderAssignment.released_at.is_(None))).subquery()
    members = (select(func.count(CrewMember.id).label("n"),
                      func.sum(CrewMember.staff_id).label("staff"),
                      func.sum(CrewMember.is_leader.cast(Integer)).label("leaders"),
                      func.max(CrewMember.id).label("last"))
               .join(Staff, Staff.id == CrewMember.staff_id)
               .where(CrewMember.crew_id.in_(crew_ids), Staff.active.is_(True))).subquery()
    row = session.execute(select(
        latest, open_orders.c.n, open_orders.c.warn, open_orders.c.due,
        held.c.latest, held.c.n, support.c.latest, support.c.n, support.c.last,
        members.c.n, members.c.staff, members.c.leaders, members.c.last)
        .select_from(open_orders).join(held, true()).join(support, true())
        .join(members, true())).one()
    orders = f"{_text(row[0])}:{row[1]}:{_text(row[2])}:{_text(row[3])}"
    jobs = f"{_text(row[4])}:{row[5]}:{_text(row[6])}:{row[7]}:{row[8]}"
    staff = ":".join(str(v) for v in row[9:])
    positions = ";".join(f"{c.id},{int(c.on_duty)},{c.last_lat},{c.last_lon},{_text(c.last_seen_at)}"
                         for c in crews)
    return (f"{orders}|{jobs}|{staff}|{_text(next_turn)}|{int(now.timestamp() // 60)}|"
            f"{_digest(positions)}")


def _digest(text: str) -> str:
    import hashlib

    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()

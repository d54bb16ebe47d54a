"""What every dashboard shares: the filters (period, unit) checked against the caller's scope,
the names of units, crews and clients, and the live change fingerprint."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from station_portal.analytics.snapshots import in_units
from station_portal.auth.scope import Scope
from station_portal.org.models import (
    Crew,
    CrewMember,
    Staff,
    Unit,
    UnitKind,
)
from station_portal.org.tree import subtree_ids
from station_portal.sla.classes import CUSTOMER_CLASSES
from station_portal.timefmt import SHANGHAI
from station_portal.validate import as_id, day
from station_portal.workorders.models import (
    WorkOrder,
)

MAX_RANGE_DAYS = 731


AREA_TYPES = ("urban", "rural", "remote")


CLASSES = CUSTOMER_CLASSES


REPAIR_CLOCKS = ("arrival", "restoration")


LEAGUE_KINDS = (UnitKind.SERVICE_STATION, UnitKind.SUPPLY_OFFICE)


class FilterError(ValueError):
    """A filter value the server cannot use (the message is shown to the user)."""


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    unit_ids: frozenset[int] | None  # already inside the caller's scope; None: all
    unit_id: int | None = None  # the unit the user picked, if any


def default_range(now: datetime, days: int = 30, ahead: int = 0) -> tuple[date, date]:
    """The last ``days`` days up to today, and ``ahead`` days after it (visits to come)."""
    today = now.astimezone(SHANGHAI).date()
    return today - timedelta(days=days - 1), today + timedelta(days=ahead)


def make_filters(session: Session, scope: Scope, start: object, end: object, unit: object,
                 now: datetime, default_days: int = 30, ahead: int = 0) -> Filters:
    """Check what the browser sent: dates as ISO strings (days of the working-day calendar's
    range, ``validate.day``), a unit inside the scope.

    Raises :class:`FilterError` with a message for the user; never trusts the unit.
    """
    first, last = default_range(now, default_days, ahead)
    start_day = day(start) if start else first
    end_day = day(end) if end else last
    if start_day is None or end_day is None:  # not a day of the calendar's range
        raise FilterError("dates")
    if end_day < start_day:
        raise FilterError("order")
    if (end_day - start_day).days >= MAX_RANGE_DAYS:
        raise FilterError("long")
    if unit in (None, "", "all"):
        return Filters(start_day, end_day, scope.unit_ids, None)
    unit_id = as_id(unit)
    if unit_id is None or not scope.sees_unit(unit_id):
        raise FilterError("unit")
    units = frozenset(subtree_ids(session, unit_id))
    if scope.unit_ids is not None:
        units &= scope.unit_ids
    return Filters(start_day, end_day, units, unit_id)


def unit_options(session: Session, scope: Scope, kinds: tuple[str, ...]) -> list[tuple[int, str, str]]:
    """Units of the given kinds the caller may pick: (id, name_zh, name_en), tree order."""
    rows = session.execute(select(Unit.id, Unit.name_zh, Unit.name_en)
                           .where(Unit.kind.in_(kinds), scope.unit_filter(Unit.id))
                           .order_by(Unit.path, Unit.sort_order, Unit.id)).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


@dataclass(frozen=True)
class Names:
    """Unit and crew names for labels, loaded once per call (a few hundred rows)."""

    units: dict[int, tuple[str, str, str, int | None]] = field(default_factory=dict)
    crews: dict[int, tuple[str, int]] = field(default_factory=dict)
    members: dict[int, list[tuple[str, str, bool]]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, members: bool = False) -> Names:
        units = {r.id: (r.name_zh, r.name_en, r.kind, r.parent_id) for r in session.execute(
            select(Unit.id, Unit.name_zh, Unit.name_en, Unit.kind, Unit.parent_id))}
        crews = {r.id: (r.code, r.unit_id) for r in session.execute(
            select(Crew.id, Crew.code, Crew.unit_id))}
        people: dict[int, list[tuple[str, str, bool]]] = {}
        if members:  # the crews' members (the workload's crew table)
            for crew_id, name_zh, name_latin, leader in session.execute(
                    select(CrewMember.crew_id, Staff.name_zh, Staff.name_latin,
                           CrewMember.is_leader)
                    .join(Staff, Staff.id == CrewMember.staff_id).order_by(CrewMember.id)):
                people.setdefault(crew_id, []).append((name_zh, name_latin, leader))
        return cls(units, crews, people)

    def people(self, crew_id: int, locale: str) -> str:
        """The crew's members, the leader marked with a star."""
        zh = locale.startswith("zh")
        return ("、" if zh else ", ").join(
            (m[0] if zh else m[1]) + (" ★" if m[2] else "") for m in self.members.get(crew_id, []))

    def unit(self, unit_id: object, locale: str) -> str:
        row = self.units.get(unit_id) if isinstance(unit_id, int) else None
        if row is None:
            return ""
        return row[0] if locale.startswith("zh") else row[1]

    def league_unit(self, unit_id: int) -> int | None:
        """The station or supply office a unit belongs to (itself, or an ancestor)."""
        seen = 0
        current: int | None = unit_id
        while current is not None and seen < 10:
            row = self.units.get(current)
            if row is None:
                return None
            if row[2] in LEAGUE_KINDS:
                return current
            current, seen = row[3], seen + 1
        return None


def _open_orders(units: frozenset[int] | None):
    return (WorkOrder.closed_at.is_(None), in_units(WorkOrder.unit_id, units))


def latest_change_by_units(unit_ids: frozenset[int] | None):
    """A scalar subquery: the latest ``updated_at`` of the orders in ``unit_ids`` (None: all),
    read from ``ix_work_orders_unit_updated`` one unit at a time (a correlated ``max`` per
    unit is one index probe each; ``max`` over ``unit_id IN (…)`` would read every order of
    those units)."""
    if unit_ids is None:
        return select(func.max(WorkOrder.updated_at)).scalar_subquery()
    per_unit = (select(func.max(WorkOrder.updated_at))
                .where(WorkOrder.unit_id == Unit.id).correlate(Unit).scalar_subquery())
    return select(func.max(per_unit)).where(Unit.id.in_(sorted(unit_ids))).scalar_subquery()


def _stamp(latest) -> float:
    if latest is None:
        return 0.0
    if isinstance(latest, str):  # SQLite hands a subquery's timestamp back as text
        latest = datetime.fromisoformat(latest)
    return latest.timestamp() if latest.tzinfo else latest.replace(tzinfo=UTC).timestamp()


def fingerprint(session: Session, filters: Filters, now: datetime,
                client_ids: frozenset[int] | None = None) -> str:
    """Changes whenever an order in the filter's units (or clients) changes, and once a
    minute (time limits move on by themselves). One statement of index lookups: the latest
    change per unit (``ix_work_orders_unit_updated``) and the open ones from the open-orders
    index."""
    if client_ids is not None:  # the clients' board: their orders, whatever their unit
        # "+ 0": look the clients' few orders up by client; the units only filter them (an
        # index on the unit would walk every order of the stations these clients are in)
        mine = (WorkOrder.client_id.in_(sorted(client_ids)),
                in_units(WorkOrder.unit_id + 0, filters.unit_ids))
        latest, open_count = session.execute(
            select(func.max(WorkOrder.updated_at),
                   func.count(WorkOrder.id).filter(WorkOrder.closed_at.is_(None)))
            .where(*mine)).one()
        return f"{latest.timestamp() if latest else 0:.3f}:{open_count}:" \
               f"{int(now.timestamp() // 60)}"
    open_count = (select(func.count(WorkOrder.id)).where(*_open_orders(filters.unit_ids))
                  .scalar_subquery())
    latest, open_count = session.execute(
        select(latest_change_by_units(filters.unit_ids), open_count)).one()
    return f"{_stamp(latest):.3f}:{open_count}:{int(now.timestamp() // 60)}"

"""The SLA watch: warnings and escalation levels for running clocks, each level once.

Run every minute by the scheduler (:func:`watch`). A clock's thresholds come
from its stored warning and due times, which already hold the rule set's
warning share and every finished pause; the level delays come from
``data/escalation.toml``. A level fires when its threshold has passed, the
clock still runs, and its order is not paused; the ``sla_alerts`` row (unique
per clock and level) makes sure it fires once. After downtime every level
passed in the meantime fires at the next watch, each still once.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.auth.roles import Role
from station_portal.notify.models import SlaAlert
from station_portal.notify.service import notify
from station_portal.org.models import CrewMember, Unit
from station_portal.org.tree import ancestor_ids
from station_portal.resources import resource_dir
from station_portal.sla.calendar import WorkCalendar
from station_portal.sla.clock import WORKDAY
from station_portal.workorders.clocks import CANCELLED, UNPAUSED_STAGES
from station_portal.workorders.models import Kind, StageClock, WorkOrder

WARNING, OVERDUE, UNIT_HEAD, COMPANY = 0, 1, 2, 3
HEADS = (Role.STATION_HEAD, Role.GRID_MANAGER)


@dataclass(frozen=True)
class Delays:
    unit_head_after: float
    company_after: float


@dataclass(frozen=True)
class EscalationSettings:
    workday: Delays  # working days after the due time
    minute: Delays  # minutes after the due time

    @classmethod
    def load(cls, path: Path | None = None) -> EscalationSettings:
        path = path or resource_dir("data") / "escalation.toml"
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        parts = {}
        for unit in ("workday", "minute"):
            section = raw.get(unit, {})
            head, company = float(section["unit_head_after"]), float(section["company_after"])
            if not 0 <= head <= company:
                raise ValueError(f"{path}: [{unit}] needs 0 <= unit_head_after <= company_after")
            parts[unit] = Delays(head, company)
        return cls(**parts)


@cache
def default_settings() -> EscalationSettings:
    return EscalationSettings.load()


def thresholds(clock: StageClock, settings: EscalationSettings,
               calendar: WorkCalendar) -> dict[int, datetime]:
    """When each level of ``clock`` is due (working-day delays on the working calendar)."""
    if clock.due_at is None:
        return {}
    out = {OVERDUE: clock.due_at}
    if clock.warn_at is not None and clock.warn_at < clock.due_at:
        out[WARNING] = clock.warn_at
    if clock.limit_unit == WORKDAY:
        due = calendar.ordinal(clock.due_at)
        out[UNIT_HEAD] = calendar.instant(due + settings.workday.unit_head_after)
        out[COMPANY] = calendar.instant(due + settings.workday.company_after)
    else:
        out[UNIT_HEAD] = clock.due_at + timedelta(minutes=settings.minute.unit_head_after)
        out[COMPANY] = clock.due_at + timedelta(minutes=settings.minute.company_after)
    return out


# -- who hears it ----------------------------------------------------------------------------

class Recipients:
    """Finds the people for each level; caches the organisation for one watch run."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.units = {u.id: u for u in session.scalars(select(Unit))}
        self.users = list(session.scalars(select(User).where(User.active.is_(True))))
        self.crew_staff: dict[int, set[int]] = {}
        for crew_id, staff_id in session.execute(select(CrewMember.crew_id, CrewMember.staff_id)):
            self.crew_staff.setdefault(crew_id, set()).add(staff_id)

    def _chain(self, unit_id: int | None) -> list[int]:
        """The unit and its ancestors, nearest first."""
        unit = self.units.get(unit_id) if unit_id is not None else None
        return list(reversed(ancestor_ids(unit.path))) if unit is not None else []

    def _nearest(self, unit_id: int | None, roles: Iterable[Role]) -> list[User]:
        roles = set(roles)
        for uid in self._chain(unit_id):
            found = [u for u in self.users if u.role in roles and u.scope_unit_id == uid]
            if found:
                return found
        return []

    def holder(self, order: WorkOrder, clock: StageClock) -> list[User]:
        if order.kind == Kind.REPAIR and order.crew_id is not None:
            staff = self.crew_staff.get(order.crew_id, set())
            crew = [u for u in self.users if u.staff_id in staff and u.role == Role.CREW]
            if crew:
                return crew
        if order.kind == Kind.PARK_CASE and order.owner_user_id is not None:
            owner = [u for u in self.users if u.id == order.owner_user_id]
            if owner:
                return owner
        unit_id = clock.holder_unit_id or order.holder_unit_id or order.unit_id
        at_unit = [u for u in self.users if u.scope_unit_id == unit_id
                   and u.role not in (Role.CREW, Role.ADMIN)]
        return at_unit or self.unit_head(order, clock)

    def unit_head(self, order: WorkOrder, clock: StageClock) -> list[User]:
        unit_id = clock.holder_unit_id or order.holder_unit_id or order.unit_id
        return (self._nearest(unit_id, HEADS) or self._nearest(order.unit_id, HEADS)
                or self.company(order, clock))

    def company(self, order: WorkOrder, clock: StageClock) -> list[User]:
        unit_id = clock.holder_unit_id or order.holder_unit_id or order.unit_id
        chain = set(self._chain(unit_id))
        return [u for u in self.users if u.role == Role.COMPANY_MANAGER
                and (u.scope_unit_id is None or u.scope_unit_id in chain)]

    def for_level(self, level: int, order: WorkOrder, clock: StageClock) -> list[User]:
        if level in (WARNING, OVERDUE):
            return self.holder(order, clock)
        if level == UNIT_HEAD:
            return self.unit_head(order, clock)
        return self.company(order, clock)


def _holder_names(recipients: Recipients, order: WorkOrder, clock: StageClock) -> dict[str, str]:
    unit = recipients.units.get(clock.holder_unit_id or order.holder_unit_id or order.unit_id)
    return {"zh": unit.name_zh, "en": unit.name_en} if unit else {"zh": "", "en": ""}


# -- the watch -------------------------------------------------------------------------------

@dataclass
class WatchReport:
    checked: int = 0
    fired: dict[int, int] | None = None
    notifications: int = 0

    def as_dict(self) -> dict[str, int]:
        fired = self.fired or {}
        return {"clocks": self.checked, "warnings": fired.get(WARNING, 0),
                "overdue": fired.get(OVERDUE, 0), "unit_head": fired.get(UNIT_HEAD, 0),
                "company": fired.get(COMPANY, 0), "notifications": self.notifications}


def _running_clocks(session: Session, now: datetime) -> list[StageClock]:
    fired_all = select(SlaAlert.id).where(SlaAlert.clock_id == StageClock.id,
                                          SlaAlert.level == COMPANY)
    return list(session.scalars(
        select(StageClock).join(WorkOrder, WorkOrder.id == StageClock.work_order_id)
        .where(StageClock.ended_at.is_(None), StageClock.started_at.is_not(None),
               StageClock.due_at.is_not(None), StageClock.limit_unit.is_not(None),
               StageClock.holder == "unit",
               or_(StageClock.status.is_(None), StageClock.status != CANCELLED),
               WorkOrder.closed_at.is_(None), WorkOrder.paused.is_(False),
               or_(and_(StageClock.warn_at.is_not(None), StageClock.warn_at <= now),
                   StageClock.due_at <= now),
               ~exists(fired_all))
        .order_by(StageClock.due_at, StageClock.id)))


def watch(session: Session, now: datetime, *, settings: EscalationSettings | None = None,
          calendar: WorkCalendar | None = None) -> WatchReport:
    """Fire every warning and escalation level that is due at ``now`` and not fired yet."""
    settings = settings or default_settings()
    calendar = calendar or WorkCalendar.default()
    report = WatchReport(fired={})
    clocks = _running_clocks(session, now)
    if not clocks:
        return report
    fired = {(a.clock_id, a.level) for a in session.scalars(
        select(SlaAlert).where(SlaAlert.clock_id.in_([c.id for c in clocks])))}
    recipients = Recipients(session)
    for clock in clocks:
        order = clock.work_order
        if clock.stage == "total" and any(
                c.holder == "customer" and c.entered_at is not None and c.ended_at is None
                for c in order.clocks):
            continue  # the customer holds the case: the whole-process clock stands still
        if clock.stage not in UNPAUSED_STAGES and order.paused:
            continue
        report.checked += 1
        due = [(level, at) for level, at in sorted(thresholds(clock, settings, calendar).items())
               if at <= now and (clock.id, level) not in fired]
        levels = {level for level, _at in due}
        for level, at in due:
            # Found already overdue (a late start, downtime): the warning is moot, so it
            # is recorded without a message; the overdue notice says it all.
            superseded = level == WARNING and OVERDUE in levels
            people = [] if superseded else recipients.for_level(level, order, clock)
            session.add(SlaAlert(clock_id=clock.id, work_order_id=order.id, level=level,
                                 fired_at=now, threshold=at, recipients=len(people)))
            event = ("sla_warning" if level == WARNING else
                     "sla_overdue" if level == OVERDUE else "sla_escalated")
            params = {"code": order.code, "stage": clock.stage, "level": level,
                      "due_at": clock.due_at.isoformat(),
                      "holder": _holder_names(recipients, order, clock)}
            for person in people:
                if notify(session, person, event, order_id=order.id, params=params, now=now):
                    report.notifications += 1
            if not superseded:
                report.fired[level] = report.fired.get(level, 0) + 1
    session.flush()
    return report

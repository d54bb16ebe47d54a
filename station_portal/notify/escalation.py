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

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from station_portal.auth.models import User
from station_portal.auth.roles import Role
from station_portal.datafiles import DataFile, read_toml
from station_portal.notify.models import SlaAlert
from station_portal.notify.service import notify
from station_portal.org.models import CrewMember, Staff, Unit, UnitKind
from station_portal.org.tree import ancestor_ids
from station_portal.sla.calendar import WorkCalendar
from station_portal.sla.clock import WORKDAY
from station_portal.workorders.clocks import CANCELLED, UNPAUSED_STAGES
from station_portal.workorders.models import Kind, StageClock, WorkOrder

WARNING, OVERDUE, UNIT_HEAD, COMPANY = 0, 1, 2, 3
# A level whose time passed longer ago than this when the watch first sees it is
# recorded without a message.
ESCALATION_SILENT_AFTER = timedelta(days=3)
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
        """The delays of ``data/escalation.toml`` (re-read when it changes), or of ``path``."""
        if path is None:
            return ESCALATION_FILE.get()
        raw = read_toml(path)
        parts = {}
        for unit in ("workday", "minute"):
            section = raw.get(unit, {})
            for key in ("unit_head_after", "company_after"):
                if key not in section:
                    raise ValueError(f"{path}: [{unit}] needs '{key}'")
            head, company = float(section["unit_head_after"]), float(section["company_after"])
            if not 0 <= head <= company:
                raise ValueError(f"{path}: [{unit}] needs 0 <= unit_head_after <= company_after")
            parts[unit] = Delays(head, company)
        return cls(**parts)


ESCALATION_FILE = DataFile("escalation.toml", EscalationSettings.load)


def default_settings() -> EscalationSettings:
    return EscalationSettings.load()


def thresholds(clock: StageClock, settings: EscalationSettings,
               calendar: WorkCalendar) -> dict[int, datetime]:
    """When each level of ``clock`` is due (working-day delays on the working calendar)."""
    if clock.due_at is None:
        return {}
    out = {OVERDUE: clock.due_at}
    if clock.limit_unit is None:  # a park milestone's planned date: its account manager only
        return out
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
    """Finds the people for each level; caches the organisation for one watch run.

    Level 0 and 1 go to the holder: the crew on a repair, the account manager of a
    park case, else the accounts of the holding unit; a unit without accounts of its
    own (a station's group, a grid) is answered for by its nearest head. Level 2 goes
    to the next heads up the holding unit's chain (station heads, supply-office and
    grid managers, a county company's managers) who did not hear level 1; level 3 to
    the company managers over the unit who heard neither. Nobody hears two levels of
    one clock, and the walk never goes down or sideways from the holding unit.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.units = {u.id: u for u in session.scalars(select(Unit))}
        self.users = list(session.scalars(select(User).where(User.active.is_(True))))
        self.staff_unit = dict(session.execute(select(Staff.id, Staff.unit_id)).all())
        self.crew_staff: dict[int, set[int]] = {}
        for crew_id, staff_id in session.execute(select(CrewMember.crew_id, CrewMember.staff_id)):
            self.crew_staff.setdefault(crew_id, set()).add(staff_id)

    def _chain(self, unit_id: int | None) -> list[int]:
        """The unit and its ancestors, nearest first."""
        unit = self.units.get(unit_id) if unit_id is not None else None
        return list(reversed(ancestor_ids(unit.path))) if unit is not None else []

    def _heads_at(self, unit_id: int) -> list[User]:
        kind = self.units[unit_id].kind if unit_id in self.units else None
        roles = {Role.COMPANY_MANAGER} if kind == UnitKind.COUNTY_COMPANY else set(HEADS)
        return [u for u in self.users if u.role in roles and u.scope_unit_id == unit_id]

    @staticmethod
    def holding_unit(order: WorkOrder, clock: StageClock) -> int:
        return clock.holder_unit_id or order.holder_unit_id or order.unit_id

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
        unit_id = self.holding_unit(order, clock)
        at_unit = [u for u in self.users if u.role not in (Role.CREW, Role.ADMIN, Role.CLERK) and (
            u.scope_unit_id == unit_id or self.staff_unit.get(u.staff_id) == unit_id)]
        if at_unit:
            return at_unit
        for uid in self._chain(unit_id):  # a unit without accounts: its nearest head
            heads = self._heads_at(uid)
            if heads:
                return heads
        return []

    def unit_head(self, order: WorkOrder, clock: StageClock) -> list[User]:
        heard = {u.id for u in self.holder(order, clock)}
        for uid in self._chain(self.holding_unit(order, clock)):
            heads = [u for u in self._heads_at(uid) if u.id not in heard]
            if heads:
                return heads
        return []

    def company(self, order: WorkOrder, clock: StageClock) -> list[User]:
        heard = {u.id for u in self.holder(order, clock) + self.unit_head(order, clock)}
        chain = set(self._chain(self.holding_unit(order, clock)))
        return [u for u in self.users if u.role == Role.COMPANY_MANAGER and u.id not in heard
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
    def fired(level: int):
        return exists().where(SlaAlert.clock_id == StageClock.id, SlaAlert.level == level)

    planned = StageClock.limit_unit.is_(None)
    return list(session.scalars(
        select(StageClock).join(WorkOrder, WorkOrder.id == StageClock.work_order_id)
        .options(selectinload(StageClock.work_order).selectinload(WorkOrder.clocks))
        .where(StageClock.ended_at.is_(None), StageClock.started_at.is_not(None),
               StageClock.due_at.is_not(None),
               or_(~planned, StageClock.planned_at.is_not(None)),
               StageClock.holder == "unit",
               or_(StageClock.status.is_(None), StageClock.status != CANCELLED),
               WorkOrder.closed_at.is_(None), WorkOrder.paused.is_(False),
               or_(and_(StageClock.warn_at.is_not(None), StageClock.warn_at <= now),
                   StageClock.due_at <= now),
               # a clock whose last level fired is done with
               ~fired(COMPANY), or_(~planned, ~fired(OVERDUE)))
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
            # is recorded without a message; the overdue notice says it all. A level
            # passed long before the watch saw it (the first start on an existing
            # database, a long outage) is recorded silently too: old news for the
            # dashboards, not a flood of messages.
            superseded = (level == WARNING and OVERDUE in levels) or at < now - ESCALATION_SILENT_AFTER
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

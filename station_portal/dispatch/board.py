"""The dispatch board's picture of the world, read from the database for one user's scope.

Builds the plain records the pure dispatch functions take (``CrewState``,
``OrderState``) together with what the board shows about them: each crew's
status, members, skills, position and when it was reported; each open work
order's place, kind and live SLA status. Everything is filtered by the
caller's :class:`Scope` on the server.

A crew's position has a provenance (``[position]`` of ``data/dispatch.toml``,
one meaning for the map, the crew list, the suggestions and the API): *live*
(a phone ping at most ``live_min`` old), *stale* (an older ping, at most
``usable_min`` old: the crew is placed there but may have moved) or *unknown*
(no ping, or an older one: the crew is placed at its station's or grid's
office). A crew on site at a job is where the job is, whatever its phone says.
Its planning position is where it will be when its current jobs are done, and
``free_in_min`` how long that takes: the rest of the job it is on, then travel
and the standard time on site for each job it already holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from station_portal.auth.scope import Scope
from station_portal.dispatch.model import CrewState, OrderState, repair_order
from station_portal.dispatch.optimise import Plan, optimise
from station_portal.dispatch.suggest import Suggestion, rank_crews
from station_portal.dispatch.travel import LIVE, STALE, UNKNOWN, DispatchSettings
from station_portal.network.models import Outage, TransformerArea
from station_portal.org.models import ROUTABLE_KINDS, STATION_GROUP_KINDS, Crew, CrewMember, Staff, Unit
from station_portal.workorders.access import order_filter
from station_portal.workorders.models import (
    ApplicationStatus,
    Kind,
    OrderAssignment,
    ParkStatus,
    RepairStatus,
    WorkOrder,
)
from station_portal.workorders.queries import live_sla

RS = RepairStatus
UNASSIGNED = (RS.REPORTED, RS.TRANSFERRED)
# Repairs a crew holds, in the order it works them: the one it is on, the one it drives to, then the rest.
CREW_WORK = (RS.ON_SITE, RS.EN_ROUTE, RS.ACCEPTED, RS.DISPATCHED)
OPEN_STATUSES = {
    Kind.REPAIR: (*UNASSIGNED, *CREW_WORK, RS.RESTORED),
    Kind.APPLICATION: (ApplicationStatus.PENDING, ApplicationStatus.IN_PROGRESS),
    Kind.PARK_CASE: (ParkStatus.OPEN, ParkStatus.APPLIED),
}


# Crew statuses on the board.
FREE, ASSIGNED, EN_ROUTE, ON_SITE, OFF_DUTY = "free", "assigned", "en_route", "on_site", "off_duty"
CREW_STATUSES = (FREE, ASSIGNED, EN_ROUTE, ON_SITE, OFF_DUTY)


@dataclass(frozen=True)
class BoardOrder:
    id: int
    code: str
    kind: str
    status: str
    sla: str | None
    lat: float
    lon: float
    unit_id: int
    area_type: str
    address: str
    due_at: datetime | None
    version: int
    crew_id: int | None
    urgency: int | None
    category: str | None
    current_stage: str | None
    paused: bool
    outage_id: int | None = None  # reported inside an announced outage: not a fault
    support_crew_ids: tuple[int, ...] = ()

    @property
    def unassigned(self) -> bool:
        return self.kind == Kind.REPAIR and self.status in UNASSIGNED


@dataclass(frozen=True)
class BoardCrew:
    id: int
    code: str
    unit_id: int
    status: str
    on_duty: bool
    members: tuple[str, ...]  # display names, leader first
    skills: frozenset[str]
    lat: float
    lon: float
    reported: bool  # the position came from a phone, at most usable_min ago (else: the office)
    last_seen_at: datetime | None  # the last report, however old
    fresh: bool  # reported at most live_min ago
    order_ids: tuple[int, ...]  # open repairs it works on, in working order
    state: CrewState  # the planning record (position when free, minutes until free)

    @property
    def position(self) -> str:
        """Where the drawn position comes from: LIVE, STALE or UNKNOWN (the office)."""
        return UNKNOWN if not self.reported else LIVE if self.fresh else STALE


@dataclass(frozen=True)
class Board:
    now: datetime
    orders: tuple[BoardOrder, ...]
    crews: tuple[BoardCrew, ...]
    settings: DispatchSettings = field(repr=False)

    def order(self, order_id: int) -> BoardOrder | None:
        return next((o for o in self.orders if o.id == order_id), None)

    def queue(self) -> list[BoardOrder]:
        """Unassigned repairs, the least time left first."""
        far = datetime.max.replace(tzinfo=self.now.tzinfo)
        return sorted((o for o in self.orders if o.unassigned),
                      key=lambda o: (o.due_at or far, o.urgency or 9, o.id))

    def order_state(self, order: BoardOrder) -> OrderState:
        due_in = (order.due_at - self.now).total_seconds() / 60 if order.due_at else 24 * 60.0
        return repair_order(order_id=order.id, code=order.code, lat=order.lat, lon=order.lon,
                            area_type=order.area_type, unit_id=order.unit_id,
                            urgency=order.urgency or 2, due_in_min=due_in,
                            category=order.category or "low_voltage", settings=self.settings)

    def crew_states(self) -> list[CrewState]:
        return [c.state for c in self.crews]

    def suggestions(self, order: BoardOrder) -> list[Suggestion]:
        """Every crew of the board for a repair, best first (crews already on it left out)."""
        busy = {order.crew_id, *order.support_crew_ids}
        return rank_crews(self.order_state(order), [c.state for c in self.crews if c.id not in busy],
                          self.settings)

    def proposal(self) -> Plan:
        """"Dispatch all": the unassigned repairs over the crews, after the work they already
        hold; a repair reported inside an announced outage is left out (power is off by plan:
        the head dispatches it by hand if it is a fault after all)."""
        return optimise([self.order_state(o) for o in self.queue() if o.outage_id is None],
                        self.crew_states(), self.settings)


def default_settings() -> DispatchSettings:
    """``data/dispatch.toml``, checked (re-read when it changes)."""
    return DispatchSettings.load()


def __getattr__(name: str) -> timedelta:
    """``FRESH_POSITION`` and ``PLANNING_POSITION`` for modules that import them (the API's
    "fresh", the simulator): the ``[position]`` settings, so that there is one meaning."""
    if name == "FRESH_POSITION":
        return timedelta(minutes=default_settings().position.live_min)
    if name == "PLANNING_POSITION":
        return timedelta(minutes=default_settings().position.usable_min)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _territories(units: dict[int, Unit]) -> dict[int, frozenset[int]]:
    """Unit id → the routable units (stations, grids) a crew of that unit serves.

    A crew of a station's group serves the station; a grid's crew its grid; a
    team outside any station (a county metering team) every station and grid
    under its parent.
    """
    out: dict[int, frozenset[int]] = {}
    for unit in units.values():
        current: Unit | None = unit
        while current is not None and current.kind in STATION_GROUP_KINDS:
            current = units.get(current.parent_id) if current.parent_id else None
        if current is not None and current.kind in ROUTABLE_KINDS:
            out[unit.id] = frozenset({current.id})
            continue
        base = units.get(unit.parent_id) if unit.parent_id else unit
        base = base or unit
        out[unit.id] = frozenset(u.id for u in units.values()
                                 if u.kind in ROUTABLE_KINDS and u.path.startswith(base.path))
    return out


def _office(units: dict[int, Unit], unit_id: int) -> tuple[float, float] | None:
    """The position of the nearest unit up the tree that has an office."""
    unit = units.get(unit_id)
    while unit is not None:
        if unit.lat is not None and unit.lon is not None:
            return unit.lat, unit.lon
        unit = units.get(unit.parent_id) if unit.parent_id else None
    return None


def _orders(session: Session, scope: Scope, now: datetime,
            kinds: Iterable[Kind]) -> list[BoardOrder]:
    wanted = [and_(WorkOrder.kind == k.value, WorkOrder.status.in_([s.value for s in OPEN_STATUSES[k]]))
              for k in kinds]
    rows = session.execute(
        select(WorkOrder.id, WorkOrder.code, WorkOrder.kind, WorkOrder.status, live_sla(now),
               WorkOrder.lat, WorkOrder.lon, WorkOrder.unit_id, WorkOrder.area_type, WorkOrder.address,
               WorkOrder.due_at, WorkOrder.version, WorkOrder.crew_id, WorkOrder.urgency,
               WorkOrder.category, WorkOrder.current_stage, WorkOrder.paused, WorkOrder.outage_id)
        .where(or_(*wanted), WorkOrder.closed_at.is_(None), order_filter(scope))
        .order_by(WorkOrder.id)).all()
    repair_ids = [r.id for r in rows if r.kind == Kind.REPAIR]
    support: dict[int, list[int]] = defaultdict(list)
    for chunk in range(0, len(repair_ids), 500):
        for order_id, crew_id in session.execute(
                select(OrderAssignment.work_order_id, OrderAssignment.crew_id)
                .where(OrderAssignment.work_order_id.in_(repair_ids[chunk:chunk + 500]),
                       OrderAssignment.role == "support", OrderAssignment.released_at.is_(None))):
            support[order_id].append(crew_id)
    return [BoardOrder(*r, support_crew_ids=tuple(support.get(r.id, ()))) for r in rows]


def load_board(session: Session, scope: Scope, now: datetime, settings: DispatchSettings | None = None,
               *, kinds: Sequence[Kind] = tuple(Kind)) -> Board:
    """The open work orders and the active crews the caller may see, as of ``now``."""
    settings = settings or default_settings()
    units = {u.id: u for u in session.scalars(select(Unit))}
    territories = _territories(units)
    orders = _orders(session, scope, now, kinds)
    crews = session.scalars(select(Crew).where(Crew.active.is_(True), scope.unit_filter(Crew.unit_id))
                            .order_by(Crew.code)).all()
    crew_ids = [c.id for c in crews]
    members: dict[int, list[tuple[bool, Staff]]] = defaultdict(list)
    if crew_ids:
        for member, staff in session.execute(
                select(CrewMember, Staff).join(Staff, Staff.id == CrewMember.staff_id)
                .where(CrewMember.crew_id.in_(crew_ids), Staff.active.is_(True))):
            members[member.crew_id].append((member.is_leader, staff))
    # Work a crew holds, also repairs outside the caller's scope (a crew may help a neighbour).
    work = _crew_work(session, crew_ids)
    board_crews = []
    for crew in crews:
        staff = sorted(members.get(crew.id, []), key=lambda m: (not m[0], m[1].id))
        skills = frozenset(s for _leader, person in staff for s in (person.skills or []))
        office = _office(units, crew.unit_id) or (43.84, 126.55)
        seen = crew.last_seen_at if crew.last_lat is not None and crew.last_lon is not None else None
        # A position of hours ago says little about where the crew is now: plan from its office.
        age = max(0.0, (now - seen).total_seconds() / 60) if seen is not None else None
        position = settings.position.provenance(age)
        reported = position != UNKNOWN
        lat, lon = (crew.last_lat, crew.last_lon) if reported else office
        jobs = work.get(crew.id, [])
        free_in, plan_lat, plan_lon = _free_in(jobs, lat, lon, now, settings)
        statuses = {j.status for j in jobs}
        status = (OFF_DUTY if not crew.on_duty else ON_SITE if RS.ON_SITE in statuses
                  else EN_ROUTE if RS.EN_ROUTE in statuses else ASSIGNED if statuses else FREE)
        # On site at a job, the crew is where the job is: its first leg starts from a known place.
        planned_from = LIVE if jobs and jobs[0].status == RS.ON_SITE else position
        state = CrewState(crew_id=crew.id, code=crew.code, lat=plan_lat, lon=plan_lon, skills=skills,
                          on_duty=crew.on_duty, free_in_min=free_in, load=len(jobs),
                          territory_unit_ids=territories.get(crew.unit_id, frozenset()),
                          position=planned_from,
                          seen_min_ago=age)
        board_crews.append(BoardCrew(
            id=crew.id, code=crew.code, unit_id=crew.unit_id, status=status, on_duty=crew.on_duty,
            members=tuple(person.name() for _leader, person in staff), skills=skills, lat=lat, lon=lon,
            reported=reported, last_seen_at=seen, fresh=position == LIVE,
            order_ids=tuple(j.id for j in jobs), state=state))
    return Board(now=now, orders=tuple(orders), crews=tuple(board_crews), settings=settings)


@dataclass(frozen=True)
class _Job:
    id: int
    status: str
    lat: float
    lon: float
    area_type: str
    category: str | None
    urgency: int | None
    on_site_at: datetime | None
    due_at: datetime | None


def working_order(status: str, urgency: int | None, due_at: datetime | None, order_id: int) -> tuple:
    """The order a crew works its repairs in, everywhere (board planning, phone, API): the job
    it is on, the one it drives to, then the most urgent, then the earliest deadline;
    restored ones (waiting to be closed) last."""
    step = {RS.ON_SITE.value: 0, RS.EN_ROUTE.value: 1}.get(status, 2)
    deadline = due_at.timestamp() if due_at is not None else float("inf")
    return (status == RS.RESTORED.value, step, urgency or 9, deadline, order_id)


def _crew_work(session: Session, crew_ids: list[int]) -> dict[int, list[_Job]]:
    """Crew id → the open repairs it works on (as lead or support), in working order."""
    if not crew_ids:
        return {}
    columns = (WorkOrder.id, WorkOrder.status, WorkOrder.lat, WorkOrder.lon, WorkOrder.area_type,
               WorkOrder.category, WorkOrder.urgency, WorkOrder.on_site_at, WorkOrder.due_at)
    open_work = [s.value for s in CREW_WORK]
    rows = [(r[0], _Job(*r[1:])) for r in session.execute(
        select(WorkOrder.crew_id, *columns).where(
            WorkOrder.crew_id.in_(crew_ids), WorkOrder.kind == Kind.REPAIR,
            WorkOrder.status.in_(open_work)))]
    rows += [(r[0], _Job(*r[1:])) for r in session.execute(
        select(OrderAssignment.crew_id, *columns)
        .join(WorkOrder, WorkOrder.id == OrderAssignment.work_order_id)
        .where(OrderAssignment.crew_id.in_(crew_ids), OrderAssignment.role == "support",
               OrderAssignment.released_at.is_(None), WorkOrder.status.in_(open_work)))]
    out: dict[int, list[_Job]] = defaultdict(list)
    seen: set[tuple[int, int]] = set()
    for crew_id, job in rows:
        if (crew_id, job.id) not in seen:
            seen.add((crew_id, job.id))
            out[crew_id].append(job)
    for jobs in out.values():
        jobs.sort(key=lambda j: working_order(j.status, j.urgency, j.due_at, j.id))
    return out


def _free_in(jobs: Sequence[_Job], lat: float, lon: float, now: datetime,
             settings: DispatchSettings) -> tuple[float, float, float]:
    """Minutes until the crew has done the jobs it holds, and where it is then."""
    minutes = 0.0
    for job in jobs:
        on_site = settings.job_minutes(job.category or "low_voltage")
        if job.status == RS.ON_SITE and job.on_site_at is not None:
            spent = (now - job.on_site_at).total_seconds() / 60
            # Past its standard time a job still needs a little while: a quarter of it.
            minutes += max(on_site - spent, on_site / 4)
        else:
            minutes += settings.travel.minutes(lat, lon, job.lat, job.lon, job.area_type) + on_site
        lat, lon = job.lat, job.lon
    return minutes, lat, lon


@dataclass(frozen=True)
class CrewJob:
    """A repair on a crew member's phone."""

    id: int
    code: str
    status: str
    lead: bool  # the crew leads it (else it supports another crew)
    urgency: int | None
    category: str | None
    lat: float
    lon: float
    address: str
    customer_name: str
    customer_phone: str
    description: str
    due_at: datetime | None  # the running clock's deadline (arrival, then restoration)
    sla: str | None
    version: int
    area: str | None = None  # the transformer area (台区) of the site
    outage: str | None = None  # the code of the outage the repair was reported inside


def crew_jobs(session: Session, scope: Scope, now: datetime) -> list[CrewJob]:
    """The caller's crew's open repairs, in :func:`working_order`."""
    if scope.crew_id is None:
        return []
    open_work = [s.value for s in (*CREW_WORK, RS.RESTORED)]
    rows = session.execute(
        select(WorkOrder.id, WorkOrder.code, WorkOrder.status, WorkOrder.crew_id == scope.crew_id,
               WorkOrder.urgency, WorkOrder.category, WorkOrder.lat, WorkOrder.lon, WorkOrder.address,
               WorkOrder.customer_name, WorkOrder.customer_phone, WorkOrder.description,
               WorkOrder.due_at, live_sla(now), WorkOrder.version, TransformerArea.name, Outage.code)
        .outerjoin(TransformerArea, TransformerArea.id == WorkOrder.area_id)
        .outerjoin(Outage, Outage.id == WorkOrder.outage_id)
        .where(WorkOrder.kind == Kind.REPAIR, WorkOrder.status.in_(open_work), order_filter(scope))).all()
    jobs = [CrewJob(*r) for r in rows]
    return sorted(jobs, key=lambda j: working_order(j.status, j.urgency, j.due_at, j.id))


@dataclass(frozen=True)
class CrewPhone:
    """What a crew member's phone shows: the crew, its members (leader first), where its
    phones last reported it (None: never) and its open repairs."""

    id: int
    code: str
    on_duty: bool
    position: tuple[float, float] | None  # (lat, lon)
    members: list[Staff]
    jobs: list[CrewJob]


def crew_phone(session: Session, scope: Scope, now: datetime) -> CrewPhone | None:
    """The caller's own crew (``scope.crew_id``) and its jobs; None without a crew."""
    crew = session.get(Crew, scope.crew_id) if scope.crew_id else None
    if crew is None:
        return None
    members = list(session.scalars(
        select(Staff).join(CrewMember, CrewMember.staff_id == Staff.id)
        .where(CrewMember.crew_id == crew.id).order_by(CrewMember.is_leader.desc(), Staff.id)))
    position = (crew.last_lat, crew.last_lon) \
        if crew.last_lat is not None and crew.last_lon is not None else None
    return CrewPhone(crew.id, crew.code, crew.on_duty, position, members,
                     crew_jobs(session, scope, now))

"""Demo simulation: the demo city lives, one step at a time (demo mode only).

``simulate(session, now, seconds=60, rng=...)`` advances the city over the
``seconds`` before ``now``:

- repair calls (95598 抢修) arrive as a Poisson process whose rate follows the
  hour of day (night low, evening peak), the week and the seasons (summer and
  winter peaks, the rhythm of ``demo.orders``), at random places inside the
  stations' and grids' territories; connection applications (业扩报装) arrive
  at a lower rate, in office hours of working days only;
- open repairs move on as crews move: a repair is dispatched to the best crew
  of ``dispatch.suggest.rank_crews`` after a short delay, the crew accepts,
  sets off when it is free, reports its position along the straight line to the
  site, arrives after the travel time of the ``TravelModel``, restores after a
  plausible time on site, and the station closes the repair later;
- applications advance a stage (or pause for the customer, or resume) now and
  then in office hours of working days, so their clocks move; a high-voltage
  supply plan sometimes decides dual supply; a connection that waits on grid
  works is not connected before the works end (waiting on them is no pause).

Every change goes through the services (``services.repairs``, ``services.applications``,
``services.dispatch``) with ``actor=None``, the system, so each writes its
timeline event in the caller's transaction like a user's change would.
Positions go through ``services.dispatch.record_ping`` on its system path
(no account, the crew named by id), as a vehicle tracker would report.

The durations of a repair's story are drawn from a generator keyed by the
order (its report time and place), so a repair's steps fall at the same times
whatever the step length; arrivals and application steps use ``rng``. The same
database and the same ``rng`` give the same result (without ``rng``, fresh
entropy each call). Work per call is capped; a call never reaches back more
than ``MAX_WINDOW`` and never changes anything before that.

Domain code: imports no Flask or Dash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cache

import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from station_portal.auth.scope import SYSTEM_SCOPE
from station_portal.demo.orders import (
    APPLICANTS,
    FIRM_BUSINESSES,
    LOAD_KW,
    RESIDENT_BUSINESSES,
    TRANSFORMER_KVA,
    day_weights,
    mix_shares,
)
from station_portal.dispatch.board import (
    PLANNING_POSITION,
    Board,
    default_settings,
    load_board,
    working_order,
)
from station_portal.dispatch.model import CrewState
from station_portal.dispatch.suggest import Suggestion, rank_crews
from station_portal.dispatch.travel import DispatchSettings
from station_portal.errors import Conflict, Forbidden, NotFound, ValidationFailed
from station_portal.hall import demo as hall_demo
from station_portal.hall.models import ServiceHall
from station_portal.hall.queue import is_open, local_day
from station_portal.network.models import Outage, OutageStatus, TransformerArea
from station_portal.org.models import Crew, Unit, UnitKind
from station_portal.org.territory import TerritoryIndex
from station_portal.services import applications as application_service
from station_portal.services import dispatch as dispatch_service
from station_portal.services import hall as hall_service
from station_portal.services import outages as outage_service
from station_portal.services import repairs as repair_service
from station_portal.sla.calendar import WorkCalendar
from station_portal.sla.classes import is_high_voltage
from station_portal.timefmt import local
from station_portal.workorders.models import ApplicationStatus, Kind, PauseReason, WorkOrder
from station_portal.workorders.models import RepairStatus as RS

# -- rates (whole city) ------------------------------------------------------------------
# The demo history of 20,000 orders holds about 16,000 repairs and 4,000 applications
# a year: some 44 repair calls a day and 16 applications a working day.
REPAIRS_PER_DAY = 44.0
APPLICATIONS_PER_WORKDAY = 16.0
# Stage steps (done, paused, resumed) of open applications per working day.
STAGE_STEPS_PER_WORKDAY = 60.0
PAUSE_SHARE = 0.05  # of stage steps: the clock stops for the customer
# Why: the customer's documents or the customer's request. Waiting on grid works stops no
# clock and is no pause: it comes from linking a grid-works project (the demo history's).
PAUSE_REASONS = [PauseReason.CUSTOMER_DOCUMENTS.value, PauseReason.CUSTOMER_REQUEST.value]
DUAL_SHARE = 0.25  # of high-voltage supply plans: the utility decides dual supply
OFFICE_HOURS = (8, 17)  # local hours [from, to) in which applications are taken and worked
# Calls by local hour (0–23), relative: low at night, the peak in the evening (as demo.orders).
REPAIR_HOUR_WEIGHTS = (2, 1.5, 1, 1, 1, 1.5, 3, 5, 6, 6, 5, 5, 5, 4.5, 4.5, 5, 5, 6, 7,
                       7.5, 7, 5.5, 4, 3)
CANCEL_SHARE = 0.015  # repairs the customer calls off before a crew is sent

# -- a repair's story (minutes; the same figures as demo.orders) ---------------------------
# to dispatch: 1 + Exp(4); to accept: 0.5 + Exp(2); to set off: 1 + Exp(3);
# on site: the category's standard time × LogNormal(0, 0.45), 1.3× outside the city;
# to close: 5 + Exp(40).
STORY_SEED = 20_240_601
OVERRIDE_AFTER = timedelta(minutes=20)  # then a crew lacking skills or territory is sent anyway

# -- caps per call ------------------------------------------------------------------------
MAX_WINDOW = timedelta(hours=1)  # a longer gap (the scheduler was down) is not replayed
MAX_NEW_REPAIRS = 40
MAX_NEW_APPLICATIONS = 10
MAX_REPAIR_STEPS = 150
MAX_STAGE_STEPS = 20
MAX_PINGS = 200
MAX_OUTAGE_STEPS = 20
# A transformer fails somewhere in the city about every two days (a fault outage).
FAULT_OUTAGES_PER_HOUR = 1 / 48
FAULT_REASONS = ("配电变压器低压侧故障抢修", "低压线路断线抢修", "台区总开关更换")
MAX_HALL_TICKETS = 120  # new queue tickets in all halls
WALK_TO_COUNTER = timedelta(minutes=1)  # a called customer starts being served after this
ON_SITE_PING_EVERY = timedelta(minutes=5)
PING_ACCURACY_M = 12.0

OPEN_REPAIR = (RS.REPORTED, RS.TRANSFERRED, RS.DISPATCHED, RS.ACCEPTED, RS.EN_ROUTE, RS.ON_SITE,
               RS.RESTORED)
# Within a step, crews finish what they are on before they set off for the next job.
PHASE = {RS.ON_SITE: 0, RS.EN_ROUTE: 1, RS.RESTORED: 2, RS.DISPATCHED: 3, RS.ACCEPTED: 4,
         RS.REPORTED: 5, RS.TRANSFERRED: 5}
SERVICE_ERRORS = (ValidationFailed, Conflict, NotFound, Forbidden)


# -- rhythms ------------------------------------------------------------------------------

@cache
def _mean_day_weight(year: int, kind: str) -> float:
    first = date(year, 1, 1)
    days = np.array([first + timedelta(days=i) for i in range(365)])
    weights = day_weights(days, kind)
    if kind == "application":  # applications come on working days only: the weekday mean
        weights = weights[[d.weekday() < 5 for d in days]]
    return float(weights.mean())


def repair_rate(at: datetime) -> float:
    """Expected repair calls per hour in the whole city at ``at``."""
    t = local(at)
    season = day_weights(np.array([t.date()]), "repair")[0] / _mean_day_weight(t.year, "repair")
    return REPAIRS_PER_DAY * float(season) * REPAIR_HOUR_WEIGHTS[t.hour] / sum(REPAIR_HOUR_WEIGHTS)


def _office_hours(at: datetime, calendar: WorkCalendar) -> float:
    """Seasonal share of a working day's volume per office hour at ``at`` (0 outside)."""
    t = local(at)
    if not calendar.is_workday(t.date()) or not OFFICE_HOURS[0] <= t.hour < OFFICE_HOURS[1]:
        return 0.0
    # A make-up working day on a weekend weighs like the Friday before it.
    d = t.date() - timedelta(days=max(0, t.weekday() - 4))
    season = day_weights(np.array([d]), "application")[0] / _mean_day_weight(d.year, "application")
    return float(season) / (OFFICE_HOURS[1] - OFFICE_HOURS[0])


def application_rate(at: datetime, calendar: WorkCalendar) -> float:
    """Expected new applications per hour at ``at``: office hours of working days only."""
    return APPLICATIONS_PER_WORKDAY * _office_hours(at, calendar)


def stage_step_rate(at: datetime, calendar: WorkCalendar) -> float:
    return STAGE_STEPS_PER_WORKDAY * _office_hours(at, calendar)


def arrivals(rng: np.random.Generator, start: datetime, end: datetime,
             rate: Callable[[datetime], float]) -> list[datetime]:
    """Instants of a Poisson process in (start, end] whose rate (per hour) is constant per hour."""
    out: list[datetime] = []
    t = start
    while t < end:
        edge = min(end, t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
        span = (edge - t).total_seconds()
        n = int(rng.poisson(rate(t) * span / 3600))
        if n:
            offsets = np.sort(rng.uniform(0, span, n))
            out += [t + timedelta(seconds=max(1, round(float(o)))) for o in offsets]
        t = edge
    return [min(a, end) for a in out]


def waits_on_grid_works(order: WorkOrder) -> bool:
    """Whether the application has an open wait on grid works (its connection must wait)."""
    return any(p.reason == PauseReason.GRID_WORKS and p.ended_at is None for p in order.pauses)


# -- places --------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Territories:
    names: list[str]
    shapes: list[shapely.Geometry]
    p: np.ndarray

    @classmethod
    def load(cls, session: Session) -> _Territories:
        rows = session.execute(select(Unit.kind, Unit.name_zh, Unit.territory).where(
            Unit.kind.in_([UnitKind.SERVICE_STATION, UnitKind.GRID]), Unit.territory.is_not(None))
            .order_by(Unit.id)).all()
        shapes = [shape(r.territory) for r in rows]
        # As the history: urban stations carry most customers per square kilometre.
        weights = np.array([(8.0 if r.kind == UnitKind.SERVICE_STATION else 1.0) * s.area ** 0.5
                            for r, s in zip(rows, shapes, strict=True)])
        return cls([r.name_zh for r in rows], shapes, weights / weights.sum())

    def place(self, rng: np.random.Generator) -> tuple[str, float, float]:
        """A point drawn uniformly inside a territory drawn by weight, and the unit's name."""
        i = int(rng.choice(len(self.shapes), p=self.p))
        polygon = self.shapes[i]
        minx, miny, maxx, maxy = polygon.bounds
        for _attempt in range(200):
            x, y = rng.uniform((minx, miny), (maxx, maxy))
            if shapely.contains_xy(polygon, x, y):
                return self.names[i], round(float(y), 6), round(float(x), 6)
        point = polygon.representative_point()
        return self.names[i], round(point.y, 6), round(point.x, 6)


STREETS = ["解放路", "吉林大街", "北京路", "重庆街", "松江路", "遵义路", "越山路", "长春路"]
SURNAMES = "王李张刘陈杨赵黄周吴"
FIRMS = ["松江", "北山", "江城", "雾凇", "长白", "松花", "华信", "恒通"]
COMPLAINTS = {"low_voltage": "家中停电", "high_voltage": "整片小区停电", "metering": "电表不走字",
              "customer_internal": "户内跳闸", "power_quality": "电压忽高忽低",
              "non_power": "咨询停电原因"}


# -- a repair's story ----------------------------------------------------------------------

@dataclass(frozen=True)
class _Story:
    to_dispatch: float
    to_accept: float
    to_depart: float
    on_site_factor: float
    to_close: float
    cancelled: bool


def _story(order: WorkOrder) -> _Story:
    """The delays of one repair, drawn from a generator keyed by its report time and place."""
    key = [STORY_SEED, int(order.created_at.timestamp() * 1_000_000),
           round(order.lat * 1e6) % 2**32, round(order.lon * 1e6) % 2**32]
    g = np.random.default_rng(key)
    return _Story(1 + g.exponential(4), 0.5 + g.exponential(2), 1 + g.exponential(3),
                  float(g.lognormal(0, 0.45)), 5 + g.exponential(40), bool(g.random() < CANCEL_SHARE))


def _latest(order: WorkOrder) -> datetime:
    return max(t for t in (order.created_at, order.dispatched_at, order.accepted_at,
                           order.en_route_at, order.on_site_at, order.restored_at) if t)


def _minutes(m: float) -> timedelta:
    return timedelta(seconds=round(m * 60))


# -- one call ------------------------------------------------------------------------------

class _Step:
    def __init__(self, session: Session, now: datetime, seconds: float,
                 rng: np.random.Generator) -> None:
        self.s = session
        self.now = now
        self.start = now - min(timedelta(seconds=max(0.0, seconds)), MAX_WINDOW)
        self.rng = rng
        self.settings: DispatchSettings = default_settings()
        self.calendar = WorkCalendar.default()
        self.summary = {"new_repairs": 0, "new_applications": 0, "steps": 0, "repair_steps": 0,
                        "application_steps": 0, "pings": 0, "queue_tickets": 0, "queue_served": 0,
                        "outage_steps": 0, "skipped": 0, "capped": False}
        self._index: TerritoryIndex | None = None
        self._territories: _Territories | None = None
        self._board: Board | None = None
        self._crew_states: dict[int, CrewState] = {}
        self._offices: dict[int, tuple[float, float] | None] = {}
        self._open: list[WorkOrder] = []

    # -- helpers ------------------------------------------------------------------
    def places(self) -> tuple[TerritoryIndex, _Territories]:
        if self._index is None or self._territories is None:
            self._index, self._territories = TerritoryIndex.load(self.s), _Territories.load(self.s)
        return self._index, self._territories

    def board(self) -> Board:
        if self._board is None:
            self._board = load_board(self.s, SYSTEM_SCOPE, self.now, self.settings, kinds=(Kind.REPAIR,))
            self._crew_states = {c.id: c.state for c in self._board.crews}
        return self._board

    def office(self, unit_id: int) -> tuple[float, float] | None:
        """The position of the nearest unit up the tree that has an office."""
        if unit_id not in self._offices:
            unit, at = self.s.get(Unit, unit_id), None
            while unit is not None and at is None:
                at = (unit.lat, unit.lon) if unit.lat is not None and unit.lon is not None else None
                unit = self.s.get(Unit, unit.parent_id) if unit.parent_id else None
            self._offices[unit_id] = at
        return self._offices[unit_id]

    def position(self, crew: Crew, at: datetime, fallback_unit: int) -> tuple[float, float] | None:
        """Where the crew is at ``at``: its last report if recent, else its office."""
        if crew.last_lat is not None and crew.last_lon is not None and crew.last_seen_at is not None \
                and timedelta(0) <= at - crew.last_seen_at <= PLANNING_POSITION:
            return crew.last_lat, crew.last_lon
        return self.office(crew.unit_id) or self.office(fallback_unit)

    def ping(self, crew_id: int, lat: float, lon: float, at: datetime) -> bool:
        if self.summary["pings"] >= MAX_PINGS:
            self.summary["capped"] = True
            return False
        dispatch_service.record_ping(self.s, None, round(lat, 6), round(lon, 6),
                                     accuracy_m=PING_ACCURACY_M, at=at, now=self.now,
                                     crew_id=crew_id)
        self.summary["pings"] += 1
        return True

    def apply(self, call: Callable[[], object]) -> bool:
        """Run one service call; a refused change (a user got there first) is skipped."""
        try:
            call()
        except SERVICE_ERRORS:
            self.summary["skipped"] += 1
            return False
        return True

    # -- outages -------------------------------------------------------------------
    def outages(self) -> None:
        """Planned outages start and end when their time comes; now and then a transformer
        fails and a fault outage is recorded on its area, with a call or two from inside
        it (marked, not dispatched as faults)."""
        due = self.s.scalars(select(Outage).where(or_(
            (Outage.status == OutageStatus.ANNOUNCED.value) & (Outage.starts_at <= self.now),
            (Outage.status == OutageStatus.IN_PROGRESS.value) & (Outage.ends_at <= self.now)))
            .order_by(Outage.id).limit(MAX_OUTAGE_STEPS))
        for outage in list(due):
            step = "start" if outage.status == OutageStatus.ANNOUNCED.value else "end"
            when = max(min(self.now, outage.starts_at if step == "start" else outage.ends_at),
                       self.now - timedelta(hours=23))  # a step is reported within a day
            if self.apply(lambda o=outage, st=step, w=when: outage_service.outage_step(
                    self.s, None, o.id, None, st, at=w, now=self.now)):
                self.summary["outage_steps"] += 1
        hours = (self.now - self.start).total_seconds() / 3600
        if self.rng.random() >= FAULT_OUTAGES_PER_HOUR * hours:
            return
        area = self.s.scalars(select(TransformerArea).where(TransformerArea.active.is_(True))
                              .order_by(TransformerArea.id)
                              .offset(int(self.rng.integers(0, 400))).limit(1)).first()
        if area is None:
            return
        data = outage_service.OutageInput(
            kind="fault", reason=str(self.rng.choice(FAULT_REASONS)),
            starts_at=self.now - timedelta(minutes=5),
            ends_at=self.now + timedelta(hours=int(self.rng.integers(2, 5))), area_ids=[area.id])
        if self.apply(lambda: outage_service.create_outage(self.s, None, data, now=self.now)):
            self.summary["outage_steps"] += 1
            self.s.flush()
            index, _territories = self.places()
            for _call in range(int(self.rng.integers(1, 3))):
                call = repair_service.RepairInput(
                    source="hotline_95598", category="low_voltage", urgency=2,
                    lat=area.lat + float(self.rng.normal(0, 0.0005)),
                    lon=area.lon + float(self.rng.normal(0, 0.0005)),
                    address=f"{area.name}附近", description="家里没电了", reported_at=self.now)
                if self.apply(lambda c=call: repair_service.create_repair(
                        self.s, None, c, now=self.now, index=index)):
                    self.summary["new_repairs"] += 1

    # -- new work -----------------------------------------------------------------
    def arrivals(self, rate: Callable[[datetime], float], cap: int) -> list[datetime]:
        """This step's arrival times at ``rate``, at most ``cap`` of them."""
        times = arrivals(self.rng, self.start, self.now, rate)
        if len(times) > cap:
            times, self.summary["capped"] = times[:cap], True
        return times

    def new_repairs(self) -> None:
        times = self.arrivals(repair_rate, MAX_NEW_REPAIRS)
        if not times:
            return
        index, territories = self.places()
        rng = self.rng
        for when in times:
            name, lat, lon = territories.place(rng)
            category = str(rng.choice(list(COMPLAINTS), p=[.55, .1, .1, .15, .05, .05]))
            data = repair_service.RepairInput(
                source=str(rng.choice(["hotline_95598", "app", "counter", "patrol"], p=[.7, .2, .05, .05])),
                category=category, urgency=int(rng.choice([1, 2, 3], p=[.2, .65, .15])),
                lat=lat, lon=lon,
                address=f"{name.removesuffix('供电服务站')}{STREETS[int(rng.integers(len(STREETS)))]}"
                        f"{int(rng.integers(1, 300))}号",
                customer_name=f"{SURNAMES[int(rng.integers(10))]}{'先生' if rng.random() < .6 else '女士'}",
                customer_phone=f"13{int(rng.integers(0, 10))}{int(rng.integers(10**7, 10**8))}",
                description=COMPLAINTS[category], reported_at=when)
            if self.apply(lambda d=data: repair_service.create_repair(self.s, None, d, now=self.now,
                                                                      index=index)):
                self.summary["new_repairs"] += 1

    def new_applications(self) -> None:
        times = self.arrivals(lambda t: application_rate(t, self.calendar), MAX_NEW_APPLICATIONS)
        if not times:
            return
        index, territories = self.places()
        rng = self.rng
        for when in times:
            name, lat, lon = territories.place(rng)
            # What the applicant states, as the history draws it; the services classify it.
            kind = str(rng.choice(list(APPLICANTS), p=list(APPLICANTS.values())))
            low, high = LOAD_KW[kind]
            load = float(np.clip(round(float(np.exp(rng.uniform(np.log(low), np.log(high))))),
                                 low, high))
            high_voltage = kind.startswith("hv")
            mix = RESIDENT_BUSINESSES if kind == "resident" else FIRM_BUSINESSES
            business = str(rng.choice(list(mix), p=mix_shares(mix)))
            firm = FIRMS[int(rng.integers(len(FIRMS)))]
            customer = (f"{SURNAMES[int(rng.integers(10))]}先生" if kind == "resident" else
                        f"吉林{firm}{'实业' if high_voltage else '商贸'}有限公司")
            sizes = np.array(TRANSFORMER_KVA)
            capacity = float(sizes[min(int(np.searchsorted(sizes, load / 0.8)), len(sizes) - 1)]) \
                if high_voltage else None
            data = application_service.ApplicationInput(
                business_type=business, customer_type="resident" if kind == "resident"
                else "non_resident", load_kw=load, small_firm=kind == "small_firm",
                capacity_kva=capacity, customer_name=customer, lat=lat, lon=lon,
                address=f"{name}辖区{int(rng.integers(1, 200))}号",
                customer_phone=f"139{int(rng.integers(10**7, 10**8))}",
                important=high_voltage and bool(rng.random() < 0.25), applied_at=when)
            at_counter = bool(rng.random() < 0.6)  # accepted at once; online ones wait for acceptance
            data = replace(data, at_counter=at_counter)
            if self.apply(lambda d=data, a=at_counter: application_service.create_application(
                    self.s, None, d, accept=a, now=self.now, index=index)):
                self.summary["new_applications"] += 1

    # -- repairs ------------------------------------------------------------------
    def repairs(self) -> None:
        orders = list(self.s.scalars(
            select(WorkOrder).where(WorkOrder.kind == Kind.REPAIR.value,
                                    WorkOrder.status.in_([s.value for s in OPEN_REPAIR]),
                                    WorkOrder.closed_at.is_(None))
            .options(selectinload(WorkOrder.clocks), selectinload(WorkOrder.pauses))
            .order_by(WorkOrder.id)))
        orders.sort(key=lambda o: (PHASE[RS(o.status)],
                                   working_order(o.status, o.urgency, o.due_at, o.id)))
        self._open = orders
        for order in orders:
            self.advance(order)
            if self.summary["repair_steps"] >= MAX_REPAIR_STEPS:
                self.summary["capped"] = True
                break
        for order in orders:  # phones report while the crew drives or works
            if order.crew_id is None:
                continue
            if order.status == RS.EN_ROUTE:
                self.drive(order, report=True)
            elif order.status == RS.ON_SITE:
                crew = self.s.get(Crew, order.crew_id)
                if crew is not None and (crew.last_seen_at is None
                                         or self.now - crew.last_seen_at >= ON_SITE_PING_EVERY):
                    self.ping(crew.id, order.lat, order.lon, self.now)

    def advance(self, order: WorkOrder) -> None:
        """Take the steps of the repair's story that fall before now, in order."""
        story = _story(order)
        for _step in range(8):
            if self.summary["repair_steps"] >= MAX_REPAIR_STEPS:
                return
            status, latest = RS(order.status), _latest(order)
            kwargs: dict[str, object] = {}
            chosen: Suggestion | None = None
            if status in (RS.REPORTED, RS.TRANSFERRED) or (
                    status in (RS.DISPATCHED, RS.ACCEPTED) and order.crew_id is None):
                at = latest + _minutes(story.to_dispatch)
                if story.cancelled and status == RS.REPORTED:
                    action, kwargs = "cancel", {"reason": "客户来电取消"}
                else:
                    action = "dispatch"
            elif status == RS.DISPATCHED:
                action, at = "accept", latest + _minutes(story.to_accept)
            elif status == RS.ACCEPTED:
                action, at = "depart", latest + _minutes(story.to_depart)
                free_at = self.crew_free_at(order)
                if free_at is None:
                    return  # the crew is still on another job
                at = max(at, free_at)
            elif status == RS.EN_ROUTE:
                action, arrive = "arrive", self.drive(order, report=False)
                if arrive is None:
                    return
                at = arrive
            elif status == RS.ON_SITE:
                standard = self.settings.job_minutes(order.category or "low_voltage")
                factor = story.on_site_factor * (1.0 if order.area_type == "urban" else 1.3)
                action, at = "restore", latest + _minutes(standard * factor)
            elif status == RS.RESTORED:
                action, at = "close", latest + _minutes(story.to_close)
            else:
                return
            at = max(at, self.start, latest)
            if at > self.now:
                return
            if action == "dispatch":
                chosen = self.choose_crew(order, at)
                if chosen is None:
                    return
                kwargs = {"crew_id": chosen.crew_id}
            if not self.apply(lambda a=action, t=at, k=kwargs: repair_service.repair_action(
                    self.s, None, order.id, order.version, a, at=t, now=self.now, **k)):
                return
            self.summary["repair_steps"] += 1
            self.summary["steps"] += 1
            if action == "dispatch":
                self.booked(order, chosen)
            elif action == "depart" and order.crew_id is not None:
                crew = self.s.get(Crew, order.crew_id)
                start = self.position(crew, at, order.unit_id) if crew is not None else None
                if start is not None:
                    self.ping(order.crew_id, start[0], start[1], at)  # leaves from here
            elif action == "arrive" and order.crew_id is not None:
                self.ping(order.crew_id, order.lat, order.lon, at)

    def crew_free_at(self, order: WorkOrder) -> datetime | None:
        """When the lead crew finished its other work (None while it is still on a job)."""
        free = order.accepted_at or order.created_at
        for other in self._open:
            if other.id == order.id or other.crew_id != order.crew_id:
                continue
            if other.status in (RS.EN_ROUTE, RS.ON_SITE):
                return None
            if other.restored_at is not None:
                free = max(free, other.restored_at)
        return free

    def drive(self, order: WorkOrder, *, report: bool) -> datetime | None:
        """An en-route crew: when it arrives (if by now), else report where it is now.

        It drives the straight line from where it last reported (or where it set
        off) to the site, taking the travel model's time for the distance left.
        """
        crew = self.s.get(Crew, order.crew_id) if order.crew_id is not None else None
        departed = order.en_route_at or _latest(order)
        if crew is not None and crew.last_seen_at is not None and crew.last_lat is not None \
                and crew.last_lon is not None and departed <= crew.last_seen_at <= self.now:
            origin, t0 = (crew.last_lat, crew.last_lon), crew.last_seen_at
        else:
            origin = (self.position(crew, departed, order.unit_id) if crew is not None
                      else self.office(order.unit_id))
            t0 = departed
        if origin is None:
            return departed
        minutes = self.settings.travel.minutes(origin[0], origin[1], order.lat, order.lon,
                                               order.area_type or "urban")
        arrive = t0 + _minutes(minutes)
        if arrive <= self.now:
            return arrive
        if report and crew is not None and self.now > t0:
            share = (self.now - t0) / (arrive - t0)
            self.ping(crew.id, origin[0] + (order.lat - origin[0]) * share,
                      origin[1] + (order.lon - origin[1]) * share, self.now)
        return None

    def choose_crew(self, order: WorkOrder, at: datetime) -> Suggestion | None:
        """The best crew of the ranking, as a dispatcher would pick it from the board."""
        board = self.board()
        seen = board.order(order.id)
        if seen is None:
            return None
        busy = {order.crew_id, *seen.support_crew_ids}
        ranked = rank_crews(board.order_state(seen),
                            [s for cid, s in sorted(self._crew_states.items()) if cid not in busy],
                            self.settings)
        if not ranked:
            return None
        best = ranked[0]
        if best.on_duty and best.skills_ok and best.in_territory:
            return best
        if at - order.created_at >= OVERRIDE_AFTER:  # no crew fits: the nearest one on duty goes
            return next((s for s in ranked if s.on_duty), None)
        return None

    def booked(self, order: WorkOrder, chosen: Suggestion | None) -> None:
        """The crew's planning state after taking the order (later dispatches see it busy)."""
        if chosen is None or chosen.crew_id not in self._crew_states:
            return
        state = self._crew_states[chosen.crew_id]
        job = self.settings.job_minutes(order.category or "low_voltage")
        self._crew_states[chosen.crew_id] = replace(
            state, lat=order.lat, lon=order.lon, free_in_min=chosen.eta_min + job, load=state.load + 1)

    # -- applications -------------------------------------------------------------
    def applications(self) -> None:
        times = arrivals(self.rng, self.start, self.now,
                         lambda t: stage_step_rate(t, self.calendar))
        if len(times) > MAX_STAGE_STEPS:
            times, self.summary["capped"] = times[:MAX_STAGE_STEPS], True
        if not times:
            return
        ids = list(self.s.scalars(select(WorkOrder.id).where(
            WorkOrder.kind == Kind.APPLICATION.value,
            WorkOrder.status.in_([ApplicationStatus.PENDING.value, ApplicationStatus.IN_PROGRESS.value]))
            .order_by(WorkOrder.id)))
        if not ids:
            return
        picks = self.rng.choice(len(ids), size=min(len(times), len(ids)), replace=False)
        for when, pick in zip(times, picks.tolist(), strict=False):
            order = self.s.get(WorkOrder, ids[pick])
            if order is None:
                continue
            pause_now = bool(self.rng.random() < PAUSE_SHARE)
            reason = str(self.rng.choice(PAUSE_REASONS, p=[.6, .4]))
            dual = bool(self.rng.random() < DUAL_SHARE)
            marks = [order.created_at, order.accepted_at] + \
                [c.entered_at for c in order.clocks] + \
                [t for p in order.pauses for t in (p.started_at, p.ended_at)]
            at = max([when, *(t for t in marks if t is not None)])
            if at > self.now:
                continue
            if order.paused:
                call = lambda o=order, t=at: application_service.resume(  # noqa: E731
                    self.s, None, o.id, o.version, at=t, now=self.now)
            elif pause_now and order.status == ApplicationStatus.IN_PROGRESS and order.holder == "unit":
                call = lambda o=order, t=at, r=reason: application_service.pause(  # noqa: E731
                    self.s, None, o.id, o.version, r, at=t, now=self.now)
            elif order.current_stage == "connection" and waits_on_grid_works(order):
                continue  # not connected before its supporting grid works are energised
            else:
                # A high-voltage supply plan decides single or dual supply.
                supply = "dual" if dual and order.current_stage == "supply_plan" and \
                    is_high_voltage(order.customer_class) else None
                call = lambda o=order, t=at, p=supply: application_service.advance_stage(  # noqa: E731
                    self.s, None, o.id, o.version, at=t, supply=p, now=self.now)
            if self.apply(call):
                self.summary["application_steps"] += 1
                self.summary["steps"] += 1


    # -- service halls ------------------------------------------------------------
    def halls(self) -> None:
        """Customers take tickets at the kiosks (by the hour's and season's rhythm); the
        clerks call them, serve them for the business's typical time and finish."""
        for hall in self.s.scalars(select(ServiceHall).where(ServiceHall.active.is_(True))
                                   .order_by(ServiceHall.id)):
            if not is_open(hall, self.now):
                continue
            self.hall_arrivals(hall)
            self.hall_counters(hall)

    def hall_arrivals(self, hall: ServiceHall) -> None:
        rate = hall_demo.ticket_rate(hall, self.now, self.calendar)
        seconds = (self.now - self.start).total_seconds()
        mix = np.array(list(hall_demo.MIX.values()))
        for _i in range(int(self.rng.poisson(rate * seconds / 60.0))):
            if self.summary["queue_tickets"] >= MAX_HALL_TICKETS:
                self.summary["capped"] = True
                return
            business = str(self.rng.choice(list(hall_demo.MIX), p=mix / mix.sum()))
            at = self.start + timedelta(seconds=float(self.rng.uniform(0, seconds)))
            if is_open(hall, at) and self.apply(
                    lambda b=business, t=at: hall_service.take_ticket(self.s, hall, b, now=t)):
                self.summary["queue_tickets"] += 1

    def hall_counters(self, hall: ServiceHall) -> None:
        day = local_day(self.now)
        for counter in range(1, hall.counters + 1):
            busy = hall_service.current_ticket(self.s, hall.id, counter, day)
            if busy is None:
                self.apply(lambda c=counter: hall_service.call_next(self.s, None, hall.id, c,
                                                                    now=self.now))
                continue
            if busy.status == "called" and busy.called_at is not None and \
                    self.now - busy.called_at >= WALK_TO_COUNTER:
                self.apply(lambda t=busy: hall_service.start_service(self.s, None, t.id, t.version,
                                                                     now=self.now))
                continue
            # the service takes the business's typical time, drawn from the ticket's place in
            # the day's queue (database ids differ between runs, e.g. after a rollback)
            minutes = hall_demo.service_minutes(hall, busy.business, np.random.default_rng(
                [STORY_SEED, hall.id, busy.day.toordinal(), busy.seq]))  # not the row id
            started = busy.started_at or busy.called_at
            if started is not None and self.now - started >= timedelta(minutes=minutes) and \
                    self.apply(lambda t=busy: hall_service.finish_service(
                        self.s, None, t.id, t.version, now=self.now)):
                self.summary["queue_served"] += 1


def simulate(session: Session, now: datetime, *, seconds: float = 60,
             rng: np.random.Generator | None = None) -> dict:
    """Advance the demo city over the ``seconds`` (at most an hour) before ``now``.

    New repair calls and applications arrive, open repairs and applications move
    on, crews report positions; every change through the services, in the
    caller's transaction (the caller commits); customers queue in the open service
    halls and simulated clerks serve them; announced outages start and end on time, and
    now and then a fault outage is recorded with calls from inside it. Returns what
    happened: ``new_repairs``, ``new_applications``, ``steps`` (``repair_steps`` +
    ``application_steps``), ``pings``, ``queue_tickets``, ``queue_served``,
    ``outage_steps``, ``skipped``
    (changes a service refused, e.g. a user changed the order first) and ``capped`` (a cap on the work of
    one call was reached; the rest follows in later calls).
    """
    if now.tzinfo is None:
        raise ValueError("now must carry its time zone")
    step = _Step(session, now, seconds, rng if rng is not None else np.random.default_rng())
    step.new_repairs()
    step.new_applications()
    step.repairs()
    step.applications()
    step.halls()
    step.outages()
    session.flush()
    return step.summary

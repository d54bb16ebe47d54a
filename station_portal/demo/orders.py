"""A year of demo work: repairs and applications with seasonal peaks, and park cases.

``seed_history(session, n_orders=N, seed=S, now=T)`` writes N work orders
over the year before ``now``:

- repairs follow the load: a summer peak (air conditioning, thunderstorms) and
  a winter peak (electric heating in Jilin's cold), more in the evening;
- connection applications follow the building season (spring and autumn;
  frozen ground in January), on working days and office hours; residents, small
  firms, other low-voltage and high-voltage customers, for the businesses of
  ``sla.classes.BUSINESSES``, each on the path ``data/stages.toml`` gives it;
- some connections wait on supporting grid works at their connection stage (a
  ``grid_works`` row of ``clock_pauses`` that stops no clock: the stage takes
  longer, and the rule set's grid-works limits apply while it waits);
- a few industrial-park cases per park client.

Times, durations and delays are drawn per order and the clocks computed with
the same calendar and rule sets the services use (pauses in whole working days,
the rule set in force on the acceptance day, dual supply once the supply plan
decided it), vectorised with numpy so a million orders take minutes, not hours:
recomputing any stored clock with ``workorders.clocks.refresh`` changes nothing.
Orders whose story reaches past ``now`` stay open at the step they have reached. Large histories (more than
``FULL_TIMELINE_LIMIT`` orders) keep the full timeline only for the last 30
days and open orders; older ones keep their creation and closing events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from station_portal.analytics.snapshots import settle
from station_portal.auth.models import user_clients
from station_portal.demo.gridworks import seed_grid_works
from station_portal.demo.network import link_orders, seed_outages
from station_portal.org.models import Client, Crew, Unit, UnitKind
from station_portal.services.orders import holder_unit
from station_portal.sla.calendar import SECONDS_PER_DAY, WorkCalendar
from station_portal.sla.classes import (
    HV_CLASSES,
    HV_DUAL,
    HV_SINGLE,
    LV_NON_RESIDENT,
    LV_SMALL_FIRM,
    NON_RESIDENT,
    RESIDENT,
    is_high_voltage,
)
from station_portal.sla.clock import AT_RISK, MET, MISSED, NO_LIMIT, ON_TRACK, OVERDUE
from station_portal.sla.rules import START_ACCEPTED, Limit, RuleError, RuleSet, rule_book
from station_portal.sla.stages import CUSTOMER, stage_book
from station_portal.timefmt import SHANGHAI
from station_portal.workorders.clocks import CANCELLED, end_of_local_day
from station_portal.workorders.models import (
    PARK_MILESTONES,
    ClockPause,
    ParkVisit,
    StageClock,
    WorkOrder,
    WorkOrderEvent,
)

FULL_TIMELINE_LIMIT = 100_000
CHUNK = 20_000
REPAIR_SHARE, APPLICATION_SHARE = 0.80, 0.20
REPAIR_STEPS = ["dispatched_at", "accepted_at", "en_route_at", "on_site_at", "restored_at",
                "closed_at"]
STEP_EVENTS = ["dispatch", "accept", "depart", "arrive", "restore", "close"]
STATUS_AFTER = ["dispatched", "accepted", "en_route", "on_site", "restored", "closed"]

# -- applications -------------------------------------------------------------------------
# Who applies: residents, small and micro firms, other low-voltage non-residents, and
# high-voltage customers ("hv_dual": those whose supply plan will decide dual supply).
APPLICANTS = {"resident": .45, "small_firm": .20, "non_resident": .15, "hv": .15, "hv_dual": .05}
# The load asked for (kW), drawn log-uniformly in [low, high]; the utility classifies it.
LOAD_KW = {"resident": (4, 16), "small_firm": (10, 160), "non_resident": (20, 160),
           "hv": (200, 8000), "hv_dual": (800, 8000)}
# Standard transformer sizes (kVA); high voltage takes the one that carries the load at 80 %.
TRANSFORMER_KVA = (250, 315, 400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000,
                   6300, 8000, 10000, 12500)
# What they apply for: residents mostly connect, add load, a charging point or rooftop
# solar; firms also suspend, reduce, move and change their supply.
RESIDENT_BUSINESSES = {
    "new_connection": .50, "capacity_increase": .16, "ev_charging": .12,
    "distributed_generation": .08, "name_change": .04, "transfer": .04, "meter_move": .03,
    "temporary_supply": .01, "closure": .02}
FIRM_BUSINESSES = {
    "new_connection": .40, "capacity_increase": .16, "temporary_supply": .06, "ev_charging": .05,
    "distributed_generation": .05, "capacity_reduction": .04, "suspension": .04,
    "resumption": .03, "temporary_swap": .01, "relocation": .02, "meter_move": .01,
    "temporary_removal": .01, "name_change": .03, "transfer": .03, "split": .01, "merge": .01,
    "closure": .02, "voltage_change": .01, "category_change": .01}
# Share of the connections of a class that wait on supporting grid works (配套电网工程)
# before the connection stage can finish (residents are supplied from the existing network).
GRID_WORKS_SHARE = {LV_SMALL_FIRM: .12, LV_NON_RESIDENT: .10, HV_SINGLE: .15, HV_DUAL: .15}
# Working days they wait: a low-voltage line or transformer area is built in days (the 2020
# policy wants small firms connected within 15 working days), a high-voltage line in weeks.
GRID_WORKS_DAYS = {False: (3.0, 9.0), True: (10.0, 40.0)}


def mix_shares(mix: dict[str, float]) -> np.ndarray:
    weights = np.array(list(mix.values()), dtype=float)
    return weights / weights.sum()


@dataclass
class _Applications:
    """One batch of applications: what each states and when it was made and accepted."""

    ids: np.ndarray
    klass: np.ndarray  # as classified at creation (high voltage: single supply)
    dual: np.ndarray  # the supply plan will decide dual supply
    business: np.ndarray
    important: np.ndarray
    applied: np.ndarray
    accepted: np.ndarray
    which: np.ndarray  # index of the territory unit
    orders: list[dict]


@dataclass
class HistoryReport:
    repairs: int = 0
    applications: int = 0
    park_cases: int = 0
    clocks: int = 0
    events: int = 0


def _ts(values: np.ndarray) -> list[datetime | None]:
    """Unix seconds (NaN for none) → aware datetimes."""
    return [None if np.isnan(v) else datetime.fromtimestamp(float(v), tz=UTC) for v in values]


def _status(due: np.ndarray, warn: np.ndarray, ended: np.ndarray, now: float) -> np.ndarray:
    out = np.where(np.isnan(ended),
                   np.where(now >= due, OVERDUE, np.where(now >= warn, AT_RISK, ON_TRACK)),
                   np.where(ended <= due, MET, MISSED)).astype(object)
    out[np.isnan(due)] = NO_LIMIT  # callers blank the clocks that have not started
    return out


def day_weights(days: np.ndarray, kind: str) -> np.ndarray:
    """Relative daily volume: seasons and the week."""
    doy = np.array([d.timetuple().tm_yday for d in days], dtype=float)
    weekday = np.array([d.weekday() for d in days])
    if kind == "repair":
        summer = 0.9 * np.exp(-((doy - 200) / 22) ** 2)  # mid-July: load, storms
        winter = 0.7 * np.exp(-(np.minimum(doy, 365 - doy) / 28) ** 2)  # around New Year: heating
        return (1.0 + summer + winter) * np.where(weekday >= 5, 0.9, 1.0)
    spring = 0.8 * np.exp(-((doy - 120) / 30) ** 2)
    autumn = 0.6 * np.exp(-((doy - 260) / 30) ** 2)
    frozen = 0.55 * np.exp(-(np.minimum(doy, 365 - doy) / 35) ** 2)
    return np.maximum(0.1, 1.0 + spring + autumn - frozen) * np.where(weekday >= 5, 0.05, 1.0)


class _History:
    def __init__(self, session: Session, seed: int, now: datetime,
                 progress: Callable[[str, int], None]) -> None:
        self.s = session
        self.rng = np.random.default_rng(seed)
        self.now = now
        self.now_ts = now.timestamp()
        self.progress = progress
        self.cal = WorkCalendar.default()
        self.report = HistoryReport()
        self.recent_ts = (now - timedelta(days=30)).timestamp()
        self.next_id = (session.scalar(select(func.max(WorkOrder.id))) or 0) + 1
        self._territories()

    # -- places ---------------------------------------------------------------------
    def _territories(self) -> None:
        units = self.s.scalars(select(Unit).where(
            Unit.kind.in_([UnitKind.SERVICE_STATION, UnitKind.GRID]),
            Unit.territory.is_not(None)).order_by(Unit.id)).all()
        self.units = units
        self.shapes = [shape(u.territory) for u in units]
        # Urban stations carry most of the customers per square kilometre.
        weights = np.array([(8.0 if u.kind == UnitKind.SERVICE_STATION else 1.0) * s.area ** 0.5
                            for u, s in zip(units, self.shapes, strict=True)])
        self.unit_p = weights / weights.sum()
        self.crews: dict[int, list[int]] = {}
        for unit in units:
            group = holder_unit(self.s, unit.id, (UnitKind.LV_REPAIR_GROUP, UnitKind.GRID))
            self.crews[unit.id] = list(self.s.scalars(select(Crew.id).where(
                Crew.unit_id == group, Crew.active.is_(True)).order_by(Crew.id)))
        self.holders: dict[tuple[int, tuple[str, ...]], int | None] = {}

    def holder(self, unit_id: int, kinds: tuple[str, ...]) -> int | None:
        key = (unit_id, kinds)
        if key not in self.holders:
            self.holders[key] = holder_unit(self.s, unit_id, kinds)
        return self.holders[key]

    def places(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unit index, latitude and longitude of n sites, uniform inside their territory."""
        which = self.rng.choice(len(self.units), size=n, p=self.unit_p)
        lat, lon = np.empty(n), np.empty(n)
        for i, polygon in enumerate(self.shapes):
            idx = np.flatnonzero(which == i)
            if not len(idx):
                continue
            minx, miny, maxx, maxy = polygon.bounds
            got: list[np.ndarray] = []
            needed = len(idx)
            while needed > 0:
                xy = self.rng.uniform((minx, miny), (maxx, maxy), size=(max(needed * 3, 64), 2))
                xy = xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])][:needed]
                got.append(xy)
                needed -= len(xy)
            xy = np.concatenate(got)
            lon[idx], lat[idx] = np.round(xy[:, 0], 6), np.round(xy[:, 1], 6)
        return which, lat, lon

    def times(self, n: int, kind: str) -> np.ndarray:
        """n instants over the past year, with the kind's seasons and hours."""
        first = (self.now - timedelta(days=365)).astimezone(SHANGHAI).date()
        days = np.array([first + timedelta(days=i) for i in range(366)])
        weights = day_weights(days, kind)
        day_idx = self.rng.choice(len(days), size=n, p=weights / weights.sum())
        if kind == "repair":
            hours = np.concatenate([np.arange(24)])
            hour_p = np.array([2, 1.5, 1, 1, 1, 1.5, 3, 5, 6, 6, 5, 5, 5, 4.5, 4.5, 5, 5, 6, 7,
                               7.5, 7, 5.5, 4, 3], dtype=float)
            hour = self.rng.choice(hours, size=n, p=hour_p / hour_p.sum())
        else:
            hour = self.rng.integers(8, 17, size=n)
        midnight = np.array([datetime(d.year, d.month, d.day, tzinfo=SHANGHAI).timestamp()
                             for d in days])
        ts = midnight[day_idx] + hour * 3600 + self.rng.uniform(0, 3600, size=n)
        return np.minimum(ts, self.now_ts - 60)

    # -- writing --------------------------------------------------------------------
    def _ids(self, n: int) -> np.ndarray:
        ids = np.arange(self.next_id, self.next_id + n)
        self.next_id += n
        return ids

    def _insert(self, model: type, rows: list[dict]) -> None:
        for start in range(0, len(rows), CHUNK):
            self.s.execute(insert(model), rows[start:start + CHUNK])

    def _keep_timeline(self, created: float, closed: float | None) -> bool:
        return self.full or closed is None or np.isnan(closed) or created >= self.recent_ts

    # -- repairs --------------------------------------------------------------------
    def repairs(self, n: int) -> None:
        rng = self.rng
        reported = self.times(n, "repair")
        which, lat, lon = self.places(n)
        area = np.array([self.units[i].area_type or "urban" for i in which])
        # The year before now lies inside one rule set (in force since December 2023).
        rules = RuleSet.in_force(self.now.date())
        arrival_limit = np.array([rules.limit(a, "arrival").amount or np.nan for a in area])
        restore_limit = np.array([rules.limit(a, "restoration").amount or np.nan for a in area])
        travel_mean = np.select([area == "urban", area == "rural"], [19.0, 42.0], 60.0)
        minutes = np.column_stack([
            rng.exponential(4, n) + 1,                                  # to dispatch
            rng.exponential(2, n) + 0.5,                                # to accept
            rng.exponential(3, n) + 1,                                  # to set off
            travel_mean * rng.lognormal(0, 0.35, n),                    # travel
            np.select([area == "urban"], [70.0], 100.0) * rng.lognormal(0, 0.45, n),  # repair
            rng.exponential(40, n) + 5,                                 # to close
        ])
        stamps = reported[:, None] + np.cumsum(minutes, axis=1) * 60
        cancelled = rng.random(n) < 0.015
        cancel_step = rng.integers(0, 4, n)
        future = stamps > self.now_ts
        stamps[future] = np.nan
        for i in np.flatnonzero(cancelled):
            stamps[i, cancel_step[i]:] = np.nan
        reached = np.sum(~np.isnan(stamps), axis=1)  # steps done
        status = np.array(["reported", *STATUS_AFTER], dtype=object)[reached]
        cancel_at = np.where(cancelled & (reached < 6),
                             np.nanmax(np.column_stack([reported, stamps]), axis=1) + 600, np.nan)
        cancel_at[cancel_at > self.now_ts] = np.nan
        status[~np.isnan(cancel_at)] = "cancelled"
        closed = np.where(~np.isnan(cancel_at), cancel_at, stamps[:, 5])
        on_site, restored = stamps[:, 3], stamps[:, 4]
        arrival_due = reported + arrival_limit * 60
        arrival_end = np.where(np.isnan(on_site), cancel_at, on_site)
        restore_due = on_site + restore_limit * 60
        restore_end = np.where(np.isnan(restored) & ~np.isnan(on_site), cancel_at, restored)
        warn = rules.warn_share
        a_warn = reported + (arrival_due - reported) * warn
        r_warn = on_site + (restore_due - on_site) * warn
        a_status = _status(arrival_due, a_warn, arrival_end, self.now_ts)
        r_status = _status(restore_due, r_warn, restore_end, self.now_ts)
        r_status[np.isnan(on_site)] = None
        is_cancel = ~np.isnan(cancel_at)  # clocks stopped by a cancellation are no result
        a_status[is_cancel & (arrival_end == cancel_at)] = CANCELLED
        r_status[is_cancel & (restore_end == cancel_at)] = CANCELLED
        open_mask = np.isnan(closed)
        running_due = np.where(open_mask & np.isnan(arrival_end), arrival_due,
                               np.where(open_mask & np.isnan(restore_end) & ~np.isnan(on_site),
                                        restore_due, np.nan))
        running_warn = np.where(running_due == arrival_due, reported + (arrival_due - reported) * warn,
                                on_site + (restore_due - on_site) * warn)
        summary = _status(running_due, running_warn, np.full(n, np.nan), self.now_ts)
        summary[np.isnan(running_due)] = None
        missed = (a_status == MISSED) | (r_status == MISSED)
        met = (a_status == MET) | (r_status == MET)
        summary = np.where(open_mask, summary, np.where(missed, MISSED, np.where(met, MET, None)))
        sources = rng.choice(["hotline_95598", "app", "counter", "patrol"], n, p=[.7, .2, .05, .05])
        categories = rng.choice(["low_voltage", "high_voltage", "metering", "customer_internal",
                                 "power_quality", "non_power"], n, p=[.55, .1, .1, .15, .05, .05])
        urgency = rng.choice([1, 2, 3], n, p=[.2, .65, .15])
        ids = self._ids(n)
        streets = ["解放路", "吉林大街", "北京路", "重庆街", "松江路", "遵义路", "越山路", "长春路"]
        orders, clocks, events = [], [], []
        for i in range(n):
            unit = self.units[which[i]]
            crews = self.crews.get(unit.id) or [None]
            crew = crews[int(rng.integers(len(crews)))] if reached[i] >= 1 else None
            created = datetime.fromtimestamp(reported[i], tz=UTC)
            st = _ts(stamps[i])
            holder = self.holder(unit.id, (UnitKind.LV_REPAIR_GROUP, UnitKind.GRID)) or unit.id
            closed_at = None if np.isnan(closed[i]) else datetime.fromtimestamp(closed[i], tz=UTC)
            due = None if np.isnan(running_due[i]) else datetime.fromtimestamp(running_due[i], tz=UTC)
            orders.append({
                "id": int(ids[i]), "code": f"R{created.astimezone(SHANGHAI):%Y%m%d}{ids[i]:07d}",
                "kind": "repair", "status": status[i], "unit_id": unit.id, "holder": "unit",
                "holder_unit_id": holder, "area_type": area[i], "lat": float(lat[i]),
                "lon": float(lon[i]),
                "address": f"{unit.name_zh.removesuffix('供电服务站')}{streets[i % len(streets)]}"
                           f"{int(rng.integers(1, 300))}号",
                "customer_name": f"{'王李张刘陈杨赵黄周吴'[i % 10]}{'先生' if i % 3 else '女士'}",
                "customer_phone": f"13{int(rng.integers(0, 10))}{int(rng.integers(10**7, 10**8))}",
                "description": "",
                "created_at": created, "updated_at": closed_at or max(t for t in [created, *st] if t),
                "closed_at": closed_at, "version": 1 + int(reached[i]), "ruleset_id": rules.id,
                "due_at": due,
                "warn_at": None if due is None else datetime.fromtimestamp(running_warn[i], tz=UTC),
                "sla_status": summary[i], "paused": False, "source": sources[i],
                "category": categories[i], "urgency": int(urgency[i]), "crew_id": crew,
                "dispatched_at": st[0], "accepted_at": st[1], "en_route_at": st[2],
                "on_site_at": st[3], "restored_at": st[4], "important": False,
            })
            a_end = None if np.isnan(arrival_end[i]) else datetime.fromtimestamp(arrival_end[i], tz=UTC)
            r_end = None if np.isnan(restore_end[i]) else datetime.fromtimestamp(restore_end[i], tz=UTC)
            clocks.append(_clock(ids[i], 1, "arrival", holder, created, created, a_end,
                                 arrival_limit[i], "minute", rules.limit(area[i], "arrival").source,
                                 arrival_due[i], a_status[i], a_warn[i]))
            clocks.append(_clock(ids[i], 2, "restoration", holder, st[3], st[3], r_end,
                                 restore_limit[i], "minute",
                                 rules.limit(area[i], "restoration").source,
                                 restore_due[i], r_status[i], r_warn[i]))
            events.append(_event(ids[i], created, "created", None, "reported"))
            keep = self._keep_timeline(reported[i], closed[i])
            previous = "reported"
            for k in range(int(reached[i])):
                if keep or k == 5:
                    events.append(_event(ids[i], st[k], STEP_EVENTS[k], previous, STATUS_AFTER[k]))
                previous = STATUS_AFTER[k]
            if status[i] == "cancelled":
                events.append(_event(ids[i], closed_at, "cancel", previous, "cancelled",
                                     "客户来电取消"))
        self._insert(WorkOrder, orders)
        self._insert(StageClock, clocks)
        self._insert(WorkOrderEvent, events)
        self.report.repairs += n
        self.report.clocks += len(clocks)
        self.report.events += len(events)

    # -- applications ---------------------------------------------------------------
    def applications(self, n: int) -> None:
        rng, book = self.rng, stage_book()
        applied = self.times(n, "application")
        which, lat, lon = self.places(n)
        # What the applicant states (resident or not, a small firm or not, the load in kW);
        # the utility classifies it as the services do. "hv_dual" applicants are high-voltage
        # ones whose supply plan will decide dual supply.
        kind = rng.choice(list(APPLICANTS), n, p=list(APPLICANTS.values()))
        low = np.array([LOAD_KW[k][0] for k in kind], dtype=float)
        high = np.array([LOAD_KW[k][1] for k in kind], dtype=float)
        load = np.clip(np.round(np.exp(rng.uniform(np.log(low), np.log(high)))), low, high)
        customer_type = np.where(kind == "resident", RESIDENT, NON_RESIDENT)
        small_firm = kind == "small_firm"
        klass = np.array([book.classify(customer_type=t, load_kw=float(kw), small_firm=bool(f))
                          for t, kw, f in zip(customer_type, load, small_firm, strict=True)])
        high_voltage = np.isin(klass, HV_CLASSES)
        dual = high_voltage & (kind == "hv_dual")
        # Transformer capacity (kVA) only for high voltage: the smallest standard size that
        # carries the load at 80 % (low voltage has none: the utility's transformer serves it).
        sizes = np.array(TRANSFORMER_KVA)
        capacity = sizes[np.minimum(np.searchsorted(sizes, load / 0.8), len(sizes) - 1)]
        resident = kind == "resident"
        business = np.where(
            resident, rng.choice(list(RESIDENT_BUSINESSES), n,
                                 p=mix_shares(RESIDENT_BUSINESSES)),
            rng.choice(list(FIRM_BUSINESSES), n, p=mix_shares(FIRM_BUSINESSES)))
        important = high_voltage & (rng.random(n) < 0.25)
        # Acceptance: at once at a counter, or within hours for online applications.
        at_counter = rng.random(n) < 0.6
        accepted = applied + np.where(at_counter, 0, rng.uniform(600, 6 * 3600, n))
        # A counter application is one visit; high voltage comes back to sign the contract.
        counter_visits = at_counter * np.where(high_voltage, 2, 1)
        accepted = np.minimum(accepted, self.now_ts - 30)
        # The rule set in force on each acceptance day (as the services fix it at acceptance).
        sets = rule_book().rule_sets
        starts = np.array([datetime(r.in_force_from.year, r.in_force_from.month,
                                    r.in_force_from.day, tzinfo=SHANGHAI).timestamp()
                           for r in sets])
        rule_idx = np.searchsorted(starts, accepted, side="right") - 1
        if (rule_idx < 0).any():
            raise RuleError("no rule set is in force for some of the demo's acceptance days")
        ids = self._ids(n)
        orders: list[dict] = []
        firms = ["松江", "北山", "江城", "雾凇", "长白", "松花", "华信", "恒通"]
        surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"]
        for i in range(n):
            unit = self.units[which[i]]
            created = datetime.fromtimestamp(applied[i], tz=UTC)
            firm = firms[i % len(firms)]
            name = (f"{surnames[i % len(surnames)]}{'先生' if i % 3 else '女士'}" if resident[i]
                    else f"吉林{firm}实业有限公司" if high_voltage[i]
                    else f"吉林市{firm}商贸有限公司" if small_firm[i]
                    else f"吉林{firm}物业管理有限公司")
            orders.append({
                "id": int(ids[i]), "code": f"A{created.astimezone(SHANGHAI):%Y%m%d}{ids[i]:07d}",
                "kind": "application", "unit_id": unit.id, "area_type": unit.area_type or "urban",
                "lat": float(lat[i]), "lon": float(lon[i]),
                "address": f"{unit.name_zh}辖区{int(rng.integers(1, 200))}号",
                "customer_name": name, "customer_phone": f"139{int(rng.integers(10**7, 10**8))}",
                "description": "", "created_at": created, "business_type": str(business[i]),
                "customer_class": str(klass[i]), "important": bool(important[i]),
                "load_kw": float(load[i]),
                "capacity_kva": float(capacity[i]) if high_voltage[i] else None,
                "source": None, "category": None, "counter_visits": int(counter_visits[i]),
                "urgency": None, "crew_id": None,
            })
        apps = _Applications(ids, klass, dual, business, important, applied, accepted, which,
                             orders)
        clocks: list[dict] = []
        pauses: list[dict] = []
        events: list[dict] = []
        # One path per business, class (as classified at creation) and importance.
        keys = np.array([f"{b}|{k}|{int(imp)}|{r}" for b, k, imp, r
                         in zip(business, klass, important, rule_idx, strict=True)])
        for key in np.unique(keys):
            sel = np.flatnonzero(keys == key)
            self._application_group(apps, sel, sets[int(rule_idx[sel[0]])], clocks, pauses,
                                    events)
        self._insert(WorkOrder, orders)
        self._insert(StageClock, clocks)
        self._insert(ClockPause, pauses)
        self._insert(WorkOrderEvent, events)
        self.report.applications += n
        self.report.clocks += len(clocks)
        self.report.events += len(events)

    def _whole_days(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Working days after ``a``'s day up to and including ``b``'s day, where b > a (else 0):
        ``sla.clock.whole_workdays`` over Unix seconds (NaN for none)."""
        out = np.zeros(len(a))
        ok = b > a  # False where either is NaN
        if ok.any():
            out[ok] = np.round(self.cal.ordinals(end_of_local_day(b[ok]))
                               - self.cal.ordinals(end_of_local_day(a[ok])))
        return out

    def _paused(self, intervals: list[tuple[np.ndarray, np.ndarray]], start: np.ndarray,
                horizon: np.ndarray) -> np.ndarray:
        """Whole working days of the intervals inside [start, horizon], summed per order.

        The intervals of one order never overlap (at most one pause per stage, inside it;
        the customer's stages between), and whole days add up over touching intervals, so
        this is the engine's count of its merged pauses (``sla.clock.paused_amount``).
        """
        total = np.zeros(len(start))
        for a, b in intervals:
            total += self._whole_days(np.maximum(a, start), np.minimum(b, horizon))
        return total

    def _application_group(self, apps: _Applications, sel: np.ndarray, rules: RuleSet,
                           clocks: list[dict], pauses: list[dict], events: list[dict]) -> None:
        """Applications sharing one path, accepted under one rule set.

        First their story (when each stage begins and ends, the customer's pauses, the
        waits on grid works), then their clocks as the services would have left them:
        the rule set's limits for the class the application has now (dual supply once the
        supply plan decided it) and, while it waits on grid works, the rule set's limits
        for that (as ``services.applications.set_grid_works_wait`` sets them, and sets back
        when the wait ends); pauses counted in whole working days.
        """
        rng, cal, book = self.rng, self.cal, stage_book()
        m, now = len(sel), self.now_ts
        first = sel[0]
        business, klass = str(apps.business[first]), str(apps.klass[first])
        path = book.path_for(business, klass, important=bool(apps.important[first]))
        end_pos = path.index(book.total_end(path))
        high_voltage = is_high_voltage(klass)
        dual = apps.dual[sel]
        final = np.where(dual, HV_DUAL, klass)  # the class once the supply plan is answered
        applied, acc = apps.applied[sel], apps.accepted[sel]
        slow = np.array([(self.units[apps.which[i]].code.startswith("JL-FM")) for i in sel])
        n_stages = len(path)
        enter = np.full((n_stages, m), np.nan)  # when the stage became current (NaN: not yet)
        end = np.full((n_stages, m), np.nan)  # when it ends (may lie ahead of now)
        done = np.zeros((n_stages, m), dtype=bool)
        p_start = np.full((n_stages, m), np.nan)  # the customer's pause in the stage
        p_end = np.full((n_stages, m), np.nan)  # (may lie ahead: still paused)
        p_reason = np.full((n_stages, m), None, dtype=object)
        g_start, g_end = np.full(m, np.nan), np.full(m, np.nan)  # waiting on grid works
        waits_for_works = klass in GRID_WORKS_SHARE and "connection" in path
        nxt = applied.copy()
        # -- the story -----------------------------------------------------------------
        for pos, code in enumerate(path):
            stage = book.stage(code)
            began = ~np.isnan(nxt)
            enter[pos] = nxt
            safe_enter = np.where(began, nxt, now)
            if pos == 0:  # acceptance: from the application to its acceptance
                stage_end = acc.copy()
            elif stage.holder == CUSTOMER:
                stage_end = safe_enter + rng.uniform(8, 60, m) * SECONDS_PER_DAY
            else:
                amounts = {c: rules.stage_limit(business, c, code).amount for c in set(final)}
                base = np.array([np.nan if amounts[c] is None else amounts[c] for c in final])
                base = np.where(np.isnan(base), rng.uniform(0.3, 2.5, m), base)
                share = rng.lognormal(np.log(0.55), 0.45, m)
                if code == "design_review":  # one county is slow at design reviews
                    share = np.where(slow, share * 2.2, share)
                work = base * share
                enter_ord = cal.ordinals(safe_enter)
                at = enter_ord + work * rng.uniform(0.1, 0.6, m)
                # Supporting grid works come after the supply plan: the line must be built
                # before the connection. Waiting on them stops no clock; the stage takes longer.
                grid = np.zeros(m, dtype=bool)
                if code == "connection" and waits_for_works:
                    grid = rng.random(m) < GRID_WORKS_SHARE[klass]
                wait = np.where(grid, rng.uniform(*GRID_WORKS_DAYS[high_voltage], m), 0.0)
                paused = np.where(~grid & (rng.random(m) < 0.08), rng.uniform(0.5, 4, m), 0.0)
                stage_end = cal.instants(enter_ord + work + wait + paused)
                starts_at, ends_at = cal.instants(at), cal.instants(at + wait + paused)
                reasons = rng.choice(["customer_documents", "customer_request"], m)
                pausing = began & (paused > 0) & (starts_at <= now)
                p_start[pos] = np.where(pausing, starts_at, np.nan)
                p_end[pos] = np.where(pausing, ends_at, np.nan)
                p_reason[pos] = np.where(pausing, reasons, None)
                waiting = began & grid & (starts_at <= now)
                g_start = np.where(waiting, starts_at, g_start)
                g_end = np.where(waiting, ends_at, g_end)
            end[pos] = stage_end
            done[pos] = began & (stage_end <= now)
            nxt = np.where(done[pos], stage_end, np.nan)
        began = ~np.isnan(enter)
        finished = done[-1]
        # -- the class and the limits the services would have set -------------------------
        decided = dual & done[path.index("supply_plan")] if "supply_plan" in path \
            else np.zeros(m, dtype=bool)
        klass_now = np.where(decided, HV_DUAL, klass)
        # the grid-works rule applies while the works are awaited and once they are energised
        # (services.applications.set_grid_works_wait: gridworks.queries.with_grid_works)
        waiting_now = ~np.isnan(g_start)
        combos = sorted(set(zip(klass_now.tolist(), waiting_now.tolist(), strict=True)))

        def limits(code: str) -> list[Limit]:
            if code == "total":
                table = {c: rules.total_for(business, c[0], grid_works=c[1]) for c in combos}
            else:
                table = {c: rules.stage_limit(business, c[0], code, grid_works=c[1])
                         for c in combos}
            return [table[c] for c in zip(klass_now.tolist(), waiting_now.tolist(), strict=True)]

        # -- the clocks ------------------------------------------------------------------
        # What stops the clocks (an end ahead of now is cut at the clock's horizon): the
        # customer's pauses, and for the whole process the stages the customer holds.
        customer_pauses = [(p_start[k], p_end[k]) for k in range(n_stages)]
        customer_stages = [(enter[k], end[k]) for k in range(n_stages)
                           if book.stage(path[k]).holder == CUSTOMER]
        rows_of: list[list[dict]] = [[] for _ in range(m)]
        current = np.full(m, None, dtype=object)
        for pos, code in enumerate([*path, "total"]):
            is_total = code == "total"
            lims = limits(code)
            amount = np.array([np.nan if lim.amount is None else lim.amount for lim in lims])
            if is_total:
                started = acc.copy()
                ended = np.where(done[end_pos], end[end_pos], np.nan)
                entered = acc.copy()
                intervals = customer_pauses + customer_stages
            else:
                # A clock timed from acceptance started then (under the class at acceptance).
                at_acceptance = rules.stage_limit(business, klass, code)
                from_acceptance = at_acceptance.exists and at_acceptance.start == START_ACCEPTED
                started = np.where(began[pos] | from_acceptance,
                                   acc if from_acceptance else enter[pos], np.nan)
                ended = np.where(done[pos], end[pos], np.nan)
                entered = enter[pos]
                intervals = customer_pauses
            has_start = ~np.isnan(started)
            horizon = np.where(np.isnan(ended), now, ended)
            limited = has_start & ~np.isnan(amount)
            paused = np.zeros(m)
            due, warn = np.full(m, np.nan), np.full(m, np.nan)
            provisional = np.zeros(m, dtype=bool)
            if limited.any():
                paused[limited] = self._paused(
                    [(a[limited], b[limited]) for a, b in intervals], started[limited],
                    horizon[limited])
                due[limited], warn[limited] = _due_and_warn(
                    cal, started[limited], amount[limited], paused[limited], rules.warn_share)
                provisional[limited] = cal.provisional_many(started[limited], due[limited])
            status = _status(due, warn, ended, now)
            status[~has_start] = None
            stage = None if is_total else book.stage(code)
            for j in range(m):
                i = sel[j]
                if is_total:
                    holder, holder_id = "unit", None
                elif stage.holder == CUSTOMER:
                    holder, holder_id = "customer", None
                else:
                    unit = self.units[apps.which[i]]
                    holder, holder_id = "unit", self.holder(unit.id, stage.unit_kinds(
                        high_voltage=high_voltage, rural=unit.kind == UnitKind.GRID))
                rows_of[j].append(_clock(
                    int(apps.ids[i]), pos + 1, code, holder_id, _instant(entered[j]),
                    _instant(started[j]), _instant(ended[j]), amount[j],
                    "workday" if is_total or lims[j].exists else None, lims[j].source,
                    due[j], status[j], warn[j], holder=holder,
                    provisional=bool(provisional[j]), paused=paused[j]))
                if not is_total and began[pos, j] and not done[pos, j]:
                    current[j] = code
        # -- the orders, their pauses and timelines --------------------------------------
        for j in range(m):
            i = sel[j]
            oid = int(apps.ids[i])
            rows = rows_of[j]
            clocks.extend(rows)
            running = [r for r in rows if r["started_at"] and r["ended_at"] is None and r["due_at"]]
            first_due = min(running, key=lambda r: r["due_at"]) if running else None
            if finished[j]:
                results = [r["status"] for r in rows if r["status"] in (MET, MISSED)]
                summary = MISSED if MISSED in results else (MET if results else None)
            else:
                summary = next((x for x in (OVERDUE, AT_RISK, ON_TRACK)
                                if x in [r["status"] for r in running]), None)
            timeline: list[dict] = []
            keep = self._keep_timeline(applied[j], end[-1, j] if finished[j] else None)
            accepted_at = _instant(acc[j])
            timeline.append(_event(oid, _instant(applied[j]), "created", None,
                                   "pending_acceptance"))
            timeline.append(_event(oid, accepted_at, "accepted", "pending_acceptance",
                                   "in_progress", details={"rule_set": rules.id}))
            done_pos = [k for k in range(n_stages) if done[k, j]]
            for k in done_pos:
                if path[k] == "supply_plan" and decided[j] and keep:
                    timeline.append(_event(oid, _instant(end[k, j]), "class_decided", klass,
                                           HV_DUAL, "Decided in the supply plan."))
                if keep or k == done_pos[-1]:
                    nxt_code = path[k + 1] if k + 1 < n_stages else "completed"
                    timeline.append(_event(oid, _instant(end[k, j]), "stage_done", path[k],
                                           nxt_code))
            open_pause = None
            for k in range(n_stages):
                if np.isnan(p_start[k, j]):
                    continue
                still = p_end[k, j] > now
                pauses.append({"work_order_id": oid, "reason": str(p_reason[k, j]),
                               "started_at": _instant(p_start[k, j]),
                               "ended_at": None if still else _instant(p_end[k, j]),
                               "note": ""})
                if still:
                    open_pause = p_reason[k, j]
                if keep or still:
                    timeline.append(_event(oid, _instant(p_start[k, j]), "paused", None,
                                           p_reason[k, j]))
                if keep and not still:
                    timeline.append(_event(oid, _instant(p_end[k, j]), "resumed",
                                           p_reason[k, j], None))
            if not np.isnan(g_start[j]):
                still = bool(g_end[j] > now)
                pauses.append({"work_order_id": oid, "reason": "grid_works",
                               "started_at": _instant(g_start[j]),
                               "ended_at": None if still else _instant(g_end[j]), "note": ""})
                rule = rules.grid_works_rule(str(klass_now[j]))
                plain = rules.total_for(business, str(klass_now[j])).amount
                longer = rules.total_for(business, str(klass_now[j]), grid_works=True).amount
                details = {"rule": rule.rule, "source": rule.source}
                moved = plain != longer  # as the service words it: the limit, when it moved
                if keep or still:
                    timeline.append(_event(oid, _instant(g_start[j]), "grid_works_waiting",
                                           _limit_text(plain) if moved else None,
                                           _limit_text(longer) if moved else None,
                                           details=details))
                if keep and not still:  # energised: the limit with grid works stays
                    timeline.append(_event(oid, _instant(g_end[j]), "grid_works_done", None,
                                           None, details=details))
            # Each change claimed a version: acceptance (with the first stage), every later
            # stage, every pause and resume, the start and end of a grid-works wait.
            version = 1 + len(done_pos) + sum(
                1 + int(p_end[k, j] <= now) for k in range(n_stages) if not np.isnan(p_start[k, j]))
            if not np.isnan(g_start[j]):
                version += 1 + int(g_end[j] <= now)
            holder_row = next((r for r in rows if r["stage"] == current[j]), None)
            holder, holder_id = (holder_row["holder"], holder_row["holder_unit_id"]) \
                if holder_row else ("unit", None)
            if open_pause:
                holder, holder_id = "customer", None
            closed_at = _instant(end[-1, j]) if finished[j] else None
            last = max(e["at"] for e in timeline)
            apps.orders[i].update({
                "status": "completed" if finished[j] else "in_progress",
                "current_stage": None if finished[j] else current[j], "holder": holder,
                "holder_unit_id": holder_id, "accepted_at": accepted_at, "closed_at": closed_at,
                "customer_class": str(klass_now[j]), "ruleset_id": rules.id,
                "updated_at": closed_at or last,
                "due_at": first_due["due_at"] if first_due else None,
                "warn_at": first_due["warn_at"] if first_due else None, "sla_status": summary,
                "paused": open_pause is not None,
                "version": version,
            })
            events.extend(timeline)

    # -- park cases -----------------------------------------------------------------
    def park_cases(self, count: int) -> None:
        rng = self.rng
        owners = dict(self.s.execute(select(user_clients.c.client_id, user_clients.c.user_id)).all())
        clients = self.s.scalars(select(Client).order_by(Client.id).limit(count)).all()
        orders, clocks, visits, events = [], [], [], []
        ids = self._ids(len(clients))
        for client, oid in zip(clients, ids, strict=True):
            opened = self.now - timedelta(days=int(rng.integers(20, 300)))
            done_n = int(rng.integers(0, 4))
            # Done milestones were planned through the months since opening; the next
            # ones lie mostly ahead (a few are late, as in life).
            elapsed = (self.now - opened).days
            plan = [opened + timedelta(days=elapsed * (k + 1) // (done_n + 1)) if k < done_n
                    else self.now + timedelta(days=int(rng.integers(-10, 25)) + 21 * (k - done_n))
                    for k in range(len(PARK_MILESTONES))]
            stage = PARK_MILESTONES[done_n] if done_n < len(PARK_MILESTONES) else None
            holder = self.holder(client.unit_id, (UnitKind.COUNTY_COMPANY,))
            orders.append({
                "id": int(oid), "code": f"P{opened.astimezone(SHANGHAI):%Y%m%d}{oid:07d}",
                "kind": "park_case", "status": "open", "unit_id": client.unit_id,
                "holder": "unit", "holder_unit_id": holder, "area_type": "urban",
                "lat": client.lat, "lon": client.lon, "address": client.name_zh,
                "customer_name": client.name_zh, "customer_phone": client.contact_phone,
                "description": "", "client_id": client.id, "park_id": client.park_id,
                "owner_user_id": owners.get(client.id), "created_at": opened,
                "updated_at": opened, "closed_at": None, "version": 1 + done_n,
                "projected_load_kw": float(rng.choice([800, 1500, 2500, 4000, 8000])),
                "projected_date": (self.now + timedelta(days=int(rng.integers(60, 500)))).date(),
                "current_stage": stage, "important": False, "paused": False,
                "sla_status": OVERDUE if stage and plan[done_n] < self.now else
                (ON_TRACK if stage else MET),
                "due_at": plan[done_n] if stage else None, "warn_at": None,
            })
            events.append(_event(oid, opened, "created", None, "open"))
            for k, code in enumerate(PARK_MILESTONES):
                ended = plan[k] - timedelta(days=int(rng.integers(-5, 6))) if k < done_n else None
                if ended is not None and ended > self.now:
                    ended = self.now - timedelta(hours=1)
                status = (MET if ended <= plan[k] else MISSED) if ended else \
                    (OVERDUE if plan[k] < self.now else ON_TRACK)
                clocks.append({"work_order_id": int(oid), "seq": k + 1, "stage": code,
                               "holder": "unit", "holder_unit_id": holder,
                               "entered_at": opened if k <= done_n else None, "started_at": opened,
                               "ended_at": ended, "planned_at": plan[k], "limit_amount": None,
                               "limit_unit": None, "limit_source": "", "due_at": plan[k],
                               "warn_at": None, "status": status, "provisional": False,
                               "paused_amount": 0.0})
                if ended:
                    events.append(_event(oid, ended, "milestone_done", None, code))
            for v in range(int(rng.integers(1, 5))):
                planned = opened + timedelta(days=30 * (v + 1))
                done = planned < self.now and rng.random() < 0.85
                visits.append({"work_order_id": int(oid), "client_id": client.id,
                               "planned_for": planned, "recurring": False, "missed_at": None,
                               "done_at": planned + timedelta(hours=2) if done else None,
                               "user_id": owners.get(client.id), "note": "走访了解用电需求" if done else ""})
        self._insert(WorkOrder, orders)
        self._insert(StageClock, clocks)
        self._insert(ParkVisit, visits)
        self._insert(WorkOrderEvent, events)
        self.report.park_cases += len(orders)
        self.report.clocks += len(clocks)
        self.report.events += len(events)


def _due_and_warn(cal: WorkCalendar, start: np.ndarray, amount: np.ndarray, paused: np.ndarray,
                  share: float) -> tuple[np.ndarray, np.ndarray]:
    """Due and warning times of working-day clocks, as sla.clock.compute_clock sets them."""
    base = cal.ordinals(cal.add_workdays_many(start, amount.astype(int)))
    begin = cal.ordinals(start)
    due = cal.instants(base + paused)
    warn = np.where(base > begin, cal.instants(begin + share * (base - begin) + paused), due)
    return due, warn


def _instant(value: float) -> datetime | None:
    """Unix seconds (NaN for none) → an aware datetime."""
    return None if np.isnan(value) else datetime.fromtimestamp(float(value), tz=UTC)


def _limit_text(amount: float | None) -> str | None:
    return None if amount is None else f"{amount:g}"


def _clock(order_id, seq, stage, holder_unit_id, entered, started, ended, amount, unit, source,
           due, status, warn=np.nan, holder: str = "unit", provisional: bool = False,
           paused: float = 0.0) -> dict:
    def instant(value: object) -> datetime | None:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        return datetime.fromtimestamp(float(value), tz=UTC)

    due_dt = instant(due) if started is not None else None
    warn_dt = instant(warn) if due_dt is not None else None
    return {
        "work_order_id": int(order_id), "seq": seq, "stage": stage, "holder": holder,
        "holder_unit_id": holder_unit_id, "entered_at": entered, "started_at": started,
        "ended_at": ended, "planned_at": None,
        "limit_amount": None if amount is None or np.isnan(amount) else float(amount),
        "limit_unit": unit, "limit_source": source or "", "due_at": due_dt, "warn_at": warn_dt,
        "status": status, "provisional": provisional,
        "paused_amount": round(float(paused), 6) if due_dt is not None else 0.0,
    }


def _event(order_id, at, action, from_value, to_value, reason: str = "",
           details: dict | None = None) -> dict:
    return {"work_order_id": int(order_id), "at": at, "actor_id": None, "action": action,
            "from_value": from_value, "to_value": to_value, "reason": reason, "details": details,
            "recorded_at": at}


def _batches(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size


def _place_crews(session: Session, now: datetime, rng: np.random.Generator) -> None:
    """Crews on site or on the road have just reported where they are (the others never did)."""
    units = {u.id: u for u in session.scalars(select(Unit))}
    work = session.execute(
        select(WorkOrder.crew_id, WorkOrder.status, WorkOrder.lat, WorkOrder.lon)
        .where(WorkOrder.kind == "repair", WorkOrder.status.in_(["en_route", "on_site"]),
               WorkOrder.crew_id.is_not(None)).order_by(WorkOrder.id)).all()
    for crew_id, status, lat, lon in work:
        crew = session.get(Crew, crew_id)
        office = units.get(crew.unit_id)
        while office is not None and office.lat is None:
            office = units.get(office.parent_id) if office.parent_id else None
        share = 1.0 if status == "on_site" or office is None else float(rng.uniform(0.3, 0.8))
        base_lat, base_lon = (office.lat, office.lon) if office is not None else (lat, lon)
        crew.last_lat = round(base_lat + (lat - base_lat) * share + float(rng.normal(0, 0.0002)), 6)
        crew.last_lon = round(base_lon + (lon - base_lon) * share + float(rng.normal(0, 0.0002)), 6)
        crew.last_seen_at = now - timedelta(minutes=float(rng.uniform(1, 12)))


def seed_history(session: Session, *, n_orders: int, seed: int = 7,
                 now: datetime | None = None,
                 progress: Callable[[str, int], None] | None = None,
                 commit_batches: bool = False) -> HistoryReport:
    """Write ``n_orders`` work orders over the year before ``now``.

    The caller commits; with ``commit_batches`` every batch of 50,000 orders is
    committed as it is written (a million orders in one transaction would make
    SQLite's write-ahead log grow to gigabytes).
    """
    now = now or datetime.now(UTC)
    history = _History(session, seed, now, progress or (lambda _what, _n: None))
    history.full = n_orders <= FULL_TIMELINE_LIMIT
    clients = session.scalar(select(func.count()).select_from(Client)) or 0
    parks = min(clients, max(0, n_orders // 50))
    rest = max(0, n_orders - parks)
    n_repairs = int(rest * REPAIR_SHARE)
    n_apps = rest - n_repairs
    for size in _batches(n_repairs, 50_000):
        history.repairs(size)
        if commit_batches:
            session.commit()
        history.progress("repairs", size)
    for size in _batches(n_apps, 50_000):
        history.applications(size)
        if commit_batches:
            session.commit()
        history.progress("applications", size)
    if parks:
        history.park_cases(parks)
        history.progress("park cases", parks)
    _place_crews(session, now, np.random.default_rng(seed + 1))
    seed_grid_works(session, now=now, seed=seed)  # the projects the grid-works waits are on
    link_orders(session)  # each order's transformer area
    seed_outages(session, now=now, seed=seed)
    settle(session, history.cal)  # what each finished clock used, for the dashboards
    if commit_batches:
        session.commit()
    if session.get_bind().dialect.name == "postgresql":
        for table in ("work_orders", "stage_clocks", "work_order_events", "clock_pauses",
                      "park_visits"):  # written with explicit ids
            session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 (constant names)
                f"COALESCE((SELECT MAX(id) FROM {table}), 1))"))
    return history.report


"""A year of demo work: repairs and applications with seasonal peaks, and park cases.

``seed_history(session, n_orders=N, seed=S, now=T)`` writes N work orders
over the year before ``now``:

- repairs follow the load: a summer peak (air conditioning, thunderstorms) and
  a winter peak (electric heating in Jilin's cold), more in the evening;
- connection applications follow the building season (spring and autumn;
  frozen ground in January), on working days and office hours;
- a few industrial-park cases per park client.

Times, durations and delays are drawn per order and the clocks computed with
the same calendar and rule sets the services use, vectorised with numpy so a
million orders take minutes, not hours. Orders whose story reaches past
``now`` stay open at the step they have reached. Large histories (more than
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
from station_portal.org.models import Client, Crew, Unit, UnitKind
from station_portal.services.workorders import holder_unit
from station_portal.sla.calendar import SECONDS_PER_DAY, WorkCalendar
from station_portal.sla.clock import AT_RISK, MET, MISSED, NO_LIMIT, ON_TRACK, OVERDUE
from station_portal.sla.rules import START_ACCEPTED, RuleSet
from station_portal.sla.stages import CUSTOMER, stage_book
from station_portal.timefmt import SHANGHAI
from station_portal.workorders.clocks import CANCELLED
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


def _day_weights(days: np.ndarray, kind: str) -> np.ndarray:
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
        weights = _day_weights(days, kind)
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
        warn = 0.8
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
        klass = rng.choice(["lv_resident", "lv_non_resident", "hv_single", "hv_dual"], n,
                           p=[.55, .30, .12, .03])
        capacity = np.select(
            [klass == "lv_resident", klass == "lv_non_resident", klass == "hv_single"],
            [rng.choice([4.0, 8.0, 10.0, 16.0], n),
             rng.choice([30.0, 50.0, 100.0, 160.0, 250.0], n),
             rng.choice([315.0, 400.0, 630.0, 800.0, 1250.0, 2000.0], n)],
            rng.choice([2000.0, 4000.0, 6300.0, 10000.0], n))
        important = np.array([k.startswith("hv") for k in klass]) & (rng.random(n) < 0.25)
        business = rng.choice(["new_connection", "capacity_increase", "relocation", "name_change",
                               "capacity_reduction", "suspension", "transfer", "closure"], n,
                              p=[.55, .18, .06, .06, .05, .04, .04, .02])
        # Acceptance: at once at a counter, or within hours for online applications.
        at_counter = rng.random(n) < 0.6
        accepted = applied + np.where(at_counter, 0, rng.uniform(600, 6 * 3600, n))
        # A counter application is one visit; high voltage comes back to sign the contract.
        counter_visits = at_counter * np.where(np.char.startswith(klass.astype(str), "hv"), 2, 1)
        accepted = np.minimum(accepted, self.now_ts - 30)
        ids = self._ids(n)
        orders: list[dict] = []
        firms = ["松江", "北山", "江城", "雾凇", "长白", "松花", "华信", "恒通"]
        surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"]
        for i in range(n):
            unit = self.units[which[i]]
            created = datetime.fromtimestamp(applied[i], tz=UTC)
            name = (f"{surnames[i % len(surnames)]}先生" if klass[i] == "lv_resident" else
                    f"吉林{firms[i % len(firms)]}{'实业' if klass[i].startswith('hv') else '商贸'}有限公司")
            orders.append({
                "id": int(ids[i]), "code": f"A{created.astimezone(SHANGHAI):%Y%m%d}{ids[i]:07d}",
                "kind": "application", "unit_id": unit.id, "area_type": unit.area_type or "urban",
                "lat": float(lat[i]), "lon": float(lon[i]),
                "address": f"{unit.name_zh}辖区{int(rng.integers(1, 200))}号",
                "customer_name": name, "customer_phone": f"139{int(rng.integers(10**7, 10**8))}",
                "description": "", "created_at": created, "business_type": business[i],
                "customer_class": klass[i], "important": bool(important[i]),
                "capacity_kva": float(capacity[i]), "source": None, "category": None,
                "counter_visits": int(counter_visits[i]),
                "urgency": None, "crew_id": None,
            })
        clocks: list[dict] = []
        pauses: list[dict] = []
        events: list[dict] = []
        path_names = np.array([book.path_name(k, c) for k, c in zip(klass, capacity, strict=True)])
        for path_name in np.unique(path_names):
            for imp in (False, True):
                sel = np.flatnonzero((path_names == path_name) & (important == imp))
                if len(sel):
                    self._application_group(sel, ids, klass, important, capacity, applied,
                                            accepted, which, orders, clocks, pauses, events)
        self._insert(WorkOrder, orders)
        self._insert(StageClock, clocks)
        self._insert(ClockPause, pauses)
        self._insert(WorkOrderEvent, events)
        self.report.applications += n
        self.report.clocks += len(clocks)
        self.report.events += len(events)

    def _application_group(self, sel, ids, klass, important, capacity, applied, accepted, which,
                           orders, clocks, pauses, events) -> None:
        """The stages of applications sharing one path, one stage position at a time."""
        rng, cal, book = self.rng, self.cal, stage_book()
        rules = RuleSet.in_force(self.now.date())
        m, now = len(sel), self.now_ts
        path = book.path_for(klass[sel[0]], important=bool(important[sel[0]]),
                             capacity_kva=float(capacity[sel[0]]))
        acc = accepted[sel]
        slow = np.array([(self.units[which[i]].code.startswith("JL-FM")) for i in sel])
        enter = applied[sel].copy()  # when the stage at hand became current (inf: not yet)
        paused_total = np.zeros(m)  # working days the whole-process clock stood still
        paused_cum = np.zeros(m)  # working days of pauses since acceptance
        total_end_pos = path.index(book.total_ends_with)
        ended_total = np.full(m, np.nan)
        current = np.full(m, None, dtype=object)
        open_pause = np.full(m, None, dtype=object)
        rows_of: list[list[dict]] = [[] for _ in range(m)]
        for pos, code in enumerate(path):
            stage = book.stage(code)
            limits = [rules.limit(klass[i], code) for i in sel]
            amount = np.array([lim.amount if lim.exists else np.nan for lim in limits])
            began = np.isfinite(enter) & (enter <= now)
            safe_enter = np.where(began, enter, now)
            enter_ord = cal.ordinals(safe_enter)
            stage_pause = np.zeros(m)
            if pos == 0:  # acceptance: from the application to its acceptance
                start, end = applied[sel], acc
            elif stage.holder == CUSTOMER:
                start = safe_enter
                end = safe_enter + rng.uniform(8, 60, m) * SECONDS_PER_DAY
                if pos <= total_end_pos:
                    paused_total += np.where(began,
                                             cal.ordinals(np.minimum(end, now)) - enter_ord, 0)
            else:
                from_acceptance = np.array([lim.exists and lim.start == START_ACCEPTED
                                            for lim in limits])
                start = np.where(from_acceptance, acc, safe_enter)
                base = np.where(np.isnan(amount), rng.uniform(0.3, 2.5, m), amount)
                share = rng.lognormal(np.log(0.55), 0.45, m)
                if code == "design_review":  # one county is slow at design reviews
                    share = np.where(slow, share * 2.2, share)
                work = base * share
                waits = rng.random(m) < 0.08
                grid = (code == "supply_plan") & (rng.random(m) < 0.15) & \
                    np.array([klass[i].startswith("hv") for i in sel])
                stage_pause = np.where(grid, rng.uniform(8, 35, m),
                                       np.where(waits, rng.uniform(0.5, 4, m), 0.0))
                p_start_ord = enter_ord + work * rng.uniform(0.1, 0.6, m)
                end = cal.instants(enter_ord + work + stage_pause)
                p_start = cal.instants(p_start_ord)
                p_end = cal.instants(p_start_ord + stage_pause)
                for j in np.flatnonzero(began & (stage_pause > 0) & (p_start <= now)):
                    still = p_end[j] > now
                    reason = "grid_works" if grid[j] else str(rng.choice(
                        ["customer_documents", "customer_request"]))
                    pauses.append({"work_order_id": int(ids[sel[j]]), "reason": reason,
                                   "started_at": datetime.fromtimestamp(p_start[j], tz=UTC),
                                   "ended_at": None if still else
                                   datetime.fromtimestamp(p_end[j], tz=UTC), "note": ""})
                    if still:
                        open_pause[j] = reason
                # the clocks stand still for the paused time (so far)
                so_far = np.where(began & (p_start <= now), np.clip(
                    cal.ordinals(np.minimum(now, end)) - p_start_ord, 0, stage_pause), 0.0)
                if pos <= total_end_pos:
                    paused_total += so_far
                # a clock running from acceptance also stood still in the earlier pauses
                stage_pause = np.where(from_acceptance, paused_cum + so_far, so_far)
                paused_cum += so_far
            done = began & (end <= now)
            due, warn = np.full(m, np.nan), np.full(m, np.nan)
            limited = began & ~np.isnan(amount) & (pos > 0)
            if limited.any():
                due[limited], warn[limited] = _due_and_warn(
                    cal, start[limited], amount[limited], stage_pause[limited], rules.warn_share)
            provisional = np.zeros(m, dtype=bool)
            provisional[limited] = cal.provisional_many(start[limited], due[limited])
            status = _status(due, warn, np.where(done, end, np.nan), now)
            status[~began] = None
            for j in range(m):
                i = sel[j]
                unit = self.units[which[i]]
                kinds = stage.unit_kinds(high_voltage=klass[i].startswith("hv"),
                                         rural=unit.kind == UnitKind.GRID)
                rows_of[j].append(_clock(
                    int(ids[i]), pos + 1, code,
                    None if stage.holder == CUSTOMER else self.holder(unit.id, kinds),
                    datetime.fromtimestamp(safe_enter[j] if pos else applied[i], tz=UTC)
                    if began[j] else None,
                    datetime.fromtimestamp(start[j], tz=UTC) if began[j] else None,
                    datetime.fromtimestamp(end[j], tz=UTC) if done[j] else None,
                    amount[j], "workday" if limits[j].exists else None, limits[j].source, due[j],
                    status[j], warn[j], holder="customer" if stage.holder == CUSTOMER else "unit",
                    provisional=bool(provisional[j]), paused=stage_pause[j]))
                if began[j] and not done[j]:
                    current[j] = code
            if code == book.total_ends_with:
                ended_total = np.where(done, end, np.nan)
            enter = np.where(done, end, np.inf)
        finished = np.isfinite(enter)  # the last stage is done
        total = [rules.limit(klass[i], "total") for i in sel]
        t_amount = np.array([lim.amount if lim.exists else np.nan for lim in total])
        t_due, t_warn = np.full(m, np.nan), np.full(m, np.nan)
        t_provisional = np.zeros(m, dtype=bool)
        has = ~np.isnan(t_amount)
        if has.any():
            t_due[has], t_warn[has] = _due_and_warn(cal, acc[has], t_amount[has],
                                                    paused_total[has], rules.warn_share)
            t_provisional[has] = cal.provisional_many(acc[has], t_due[has])
        t_status = _status(t_due, t_warn, ended_total, now)
        for j in range(m):
            i = sel[j]
            accepted_at = datetime.fromtimestamp(acc[j], tz=UTC)
            rows = rows_of[j]
            rows.append(_clock(int(ids[i]), len(path) + 1, "total", None, accepted_at, accepted_at,
                               None if np.isnan(ended_total[j])
                               else datetime.fromtimestamp(ended_total[j], tz=UTC),
                               t_amount[j], "workday" if has[j] else None, total[j].source,
                               t_due[j], t_status[j], t_warn[j],
                               provisional=bool(t_provisional[j]), paused=paused_total[j]))
            clocks.extend(rows)
            running = [r for r in rows if r["started_at"] and r["ended_at"] is None and r["due_at"]]
            first = min(running, key=lambda r: r["due_at"]) if running else None
            if finished[j]:
                results = [r["status"] for r in rows if r["status"] in (MET, MISSED)]
                summary = MISSED if MISSED in results else (MET if results else None)
            else:
                summary = next((x for x in (OVERDUE, AT_RISK, ON_TRACK)
                                if x in [r["status"] for r in running]), None)
            holder_row = next((r for r in rows if r["stage"] == current[j]), None)
            holder, holder_id = (holder_row["holder"], holder_row["holder_unit_id"]) \
                if holder_row else ("unit", None)
            if open_pause[j]:
                holder, holder_id = ("grid_works" if open_pause[j] == "grid_works"
                                     else "customer"), None
            done_rows = [r for r in rows if r["stage"] != "total" and r["ended_at"]]
            closed_at = datetime.fromtimestamp(enter[j], tz=UTC) if finished[j] else None
            last = max(r["entered_at"] for r in rows if r["entered_at"])
            orders[i].update({
                "status": "completed" if finished[j] else "in_progress",
                "current_stage": None if finished[j] else current[j], "holder": holder,
                "holder_unit_id": holder_id, "accepted_at": accepted_at, "closed_at": closed_at,
                "ruleset_id": rules.id, "updated_at": closed_at or last,
                "due_at": first["due_at"] if first else None,
                "warn_at": first["warn_at"] if first else None, "sla_status": summary,
                "paused": bool(open_pause[j]),
                "version": 1 + len(done_rows) + (1 if open_pause[j] else 0),
            })
            oid = int(ids[i])
            keep = self._keep_timeline(applied[i], enter[j] if finished[j] else None)
            events.append(_event(oid, datetime.fromtimestamp(applied[i], tz=UTC), "created",
                                 None, "pending_acceptance"))
            events.append(_event(oid, accepted_at, "accepted", "pending_acceptance",
                                 "in_progress", details={"rule_set": rules.id}))
            for k, row in enumerate(done_rows):
                if keep or k == len(done_rows) - 1:
                    nxt = path[k + 1] if k + 1 < len(path) else "completed"
                    events.append(_event(oid, row["ended_at"], "stage_done", row["stage"], nxt))
            if open_pause[j]:
                started = next(p["started_at"] for p in reversed(pauses)
                               if p["work_order_id"] == oid)
                events.append(_event(oid, started, "paused", None, open_pause[j]))

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
    seed_grid_works(session, now=now, seed=seed)  # the projects the grid-works pauses wait on
    settle(session, history.cal)  # what each finished clock used, for the dashboards
    if commit_batches:
        session.commit()
    if session.get_bind().dialect.name == "postgresql":
        for table in ("work_orders", "stage_clocks", "work_order_events", "clock_pauses",
                      "park_visits"):
            session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 (constant names)
                f"COALESCE((SELECT MAX(id) FROM {table}), 1))"))
    return history.report


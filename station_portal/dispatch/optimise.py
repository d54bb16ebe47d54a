"""The "dispatch all" optimiser: give every open repair order to a crew, order each crew's jobs.

The goal is the smallest urgency-weighted lateness against the arrival
deadlines, plus travel minutes (a minute of driving counts like a minute of
lateness on a normal order), while respecting skills, duty and territory.

One simulator, :func:`evaluate`, scores every plan: a crew leaves its position
when it is free, drives to its orders in the given order (from the previous
job's site), arrives, stays the job's minutes and moves on; lateness is how far
the arrival is past the deadline. Two ways of making a plan are scored by it:

- :func:`greedy_nearest`, what a dispatcher does by hand: orders by earliest
  deadline, each to the nearest eligible crew (straight line from where that
  crew will be after the jobs it has already been given).
- :func:`optimise`, an assignment solver. Each crew offers "slots" (its 1st,
  2nd, … job); the cost of an order in a slot is urgency weight × the estimated
  lateness when served in that slot + the travel minutes (+ a tiny term that
  fills early slots first), with a prohibitive cost for crews that may not
  take the order. ``scipy.optimize.linear_sum_assignment`` solves this
  orders × slots problem exactly in milliseconds. The slot start times and
  starting points are only estimates (the previous job is not known before the
  solve), so the solve is repeated with slots re-estimated from the best plan
  so far (where each crew really is, and when, after its k-th job), each
  crew's jobs are re-ordered by a small local search on the simulator, single
  orders are moved between crews while that lowers the total, and the best
  plan by :func:`evaluate` is kept.

Why linear_sum_assignment and not OR-Tools or PyVRP: it is exact for the
assignment it is given, fast (300 orders × ~740 slots, cost matrix included,
in about 20 ms), already in scipy (no new dependency, no native solver to
package for the stations' servers) and deterministic. A full vehicle-routing solver would model the
chained travel exactly, but needs a new dependency and a time budget, and its
answer varies with the time it gets; the dispatcher needs a good plan in well
under a second. Approximations: straight-line travel × detour (see
:mod:`~station_portal.dispatch.travel`), fixed minutes on site per category,
and slot times estimated before the solve (corrected by the iterations and the
local search, not exactly). The result is a good plan, not a proven optimum
of the routing problem.

Deterministic: the same input gives the same plan (no randomness, no time
limits; ties go to the lower id). Plain data in, plain data out: this module
imports no Flask, Dash or database code.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from station_portal.dispatch.model import CrewState, OrderState, eligible
from station_portal.dispatch.travel import DispatchSettings, haversine_km

TRAVEL_WEIGHT = 1.0  # a minute of driving costs as much as a minute late on a normal order
PROHIBITIVE = 1e9  # the cost of a slot a crew may not take; such pairs are never kept
SLOT_TERM = 1e-3  # per slot index: among equal costs, the earlier slot
MAX_ROUNDS = 8  # assignment solves with re-estimated slots (stops early when nothing improves)
RELOCATE_PASSES = 3  # passes of moving single orders between crews
RELOCATE_CANDIDATES = 12  # crews tried per order when moving it (the nearest eligible ones)
URGENCY_PULL_MIN = 30.0  # a start order for a crew's jobs: deadline minus this × urgency weight
_EPS = 1e-9
LOCAL_SEARCH_STEPS = 2_000_000  # about a second of local search at most; small cases use far less
MOVE_WINDOW = 10  # a job moves at most this many places within its crew's sequence


@dataclass(frozen=True)
class Assignment:
    order_id: int
    crew_id: int
    sequence: int  # 1 = the crew's first job in this plan
    eta_min: float  # arrival, minutes from now
    lateness_min: float  # minutes past the arrival deadline (0 if on time)


@dataclass(frozen=True)
class Plan:
    assignments: tuple[Assignment, ...]
    unassigned: tuple[int, ...]  # orders no eligible crew can take
    weighted_lateness: float  # Σ urgency_weight × lateness (minutes)
    travel_min: float
    solve_seconds: float

    def routes(self) -> dict[int, list[int]]:
        """Crew id → its order ids in sequence (crews without jobs are left out)."""
        out: dict[int, list[int]] = {}
        for a in sorted(self.assignments, key=lambda a: (a.crew_id, a.sequence)):
            out.setdefault(a.crew_id, []).append(a.order_id)
        return out


@dataclass
class _Problem:
    """The instance as indexed lists and arrays (orders i, crews c)."""

    orders: tuple[OrderState, ...]
    crews: tuple[CrewState, ...]
    order_index: dict[int, int]
    crew_index: dict[int, int]
    t0: np.ndarray  # crew c's position → order i, minutes (n_c × n_o)
    tt: np.ndarray  # order j's site → order i, minutes (n_o × n_o)
    t0_rows: list[list[float]]
    tt_rows: list[list[float]]
    job: list[float]
    due: list[float]
    weight: list[float]
    free: list[float]
    eligible: np.ndarray  # bool, n_o × n_c
    # Simulator steps the local search may still spend (one per job walked). Counting steps
    # instead of seconds keeps the optimiser deterministic and bounds it on big storms.
    budget: list[int] = field(default_factory=lambda: [LOCAL_SEARCH_STEPS])


def _problem(orders: Sequence[OrderState], crews: Sequence[CrewState],
             settings: DispatchSettings) -> _Problem:
    orders, crews = tuple(orders), tuple(crews)
    order_index = {o.order_id: i for i, o in enumerate(orders)}
    crew_index = {c.crew_id: k for k, c in enumerate(crews)}
    if len(order_index) != len(orders):
        raise ValueError("order ids must be unique")
    if len(crew_index) != len(crews):
        raise ValueError("crew ids must be unique")
    o_lat, o_lon = [o.lat for o in orders], [o.lon for o in orders]
    areas = [o.area_type for o in orders]
    t0 = settings.travel.minutes_matrix([c.lat for c in crews], [c.lon for c in crews], o_lat, o_lon, areas)
    tt = settings.travel.minutes_matrix(o_lat, o_lon, o_lat, o_lon, areas)
    ok = np.array([[eligible(o, c) for c in crews] for o in orders], dtype=bool)
    ok = ok.reshape(len(orders), len(crews))
    return _Problem(
        orders=orders, crews=crews, order_index=order_index, crew_index=crew_index,
        t0=t0, tt=tt, t0_rows=t0.tolist(), tt_rows=tt.tolist(),
        job=[o.job_min for o in orders], due=[o.due_in_min for o in orders],
        weight=[settings.weight(o.urgency) for o in orders], free=[c.free_in_min for c in crews],
        eligible=ok)


def _walk(p: _Problem, c: int, seq: Sequence[int]) -> tuple[list[float], float]:
    """The simulator: arrival times of crew c at its orders in sequence, and its travel minutes."""
    p.budget[0] -= len(seq)
    t = p.free[c]
    row = p.t0_rows[c]
    arrivals = []
    travel = 0.0
    for i in seq:
        leg = row[i]
        t += leg
        travel += leg
        arrivals.append(t)
        t += p.job[i]
        row = p.tt_rows[i]
    return arrivals, travel


def _route_cost(p: _Problem, c: int, seq: Sequence[int]) -> float:
    """Weighted lateness + travel of one crew's sequence (what every algorithm minimises)."""
    arrivals, travel = _walk(p, c, seq)
    late = sum(p.weight[i] * max(0.0, a - p.due[i]) for i, a in zip(seq, arrivals, strict=True))
    return late + TRAVEL_WEIGHT * travel


def _plan(p: _Problem, routes: Mapping[int, Sequence[int]], seconds: float = 0.0) -> Plan:
    """Score crew-index → order-index routes with the simulator."""
    assignments = []
    weighted = travel = 0.0
    routed: set[int] = set()
    for c in sorted(routes, key=lambda k: p.crews[k].crew_id):
        seq = routes[c]
        arrivals, crew_travel = _walk(p, c, seq)
        travel += crew_travel
        for n, (i, arrive) in enumerate(zip(seq, arrivals, strict=True), start=1):
            late = max(0.0, arrive - p.due[i])
            weighted += p.weight[i] * late
            routed.add(i)
            assignments.append(Assignment(p.orders[i].order_id, p.crews[c].crew_id, n, arrive, late))
    unassigned = tuple(sorted(o.order_id for i, o in enumerate(p.orders) if i not in routed))
    return Plan(tuple(assignments), unassigned, weighted, travel, seconds)


def evaluate(routes: Mapping[int, Sequence[int]], orders: Sequence[OrderState], crews: Sequence[CrewState],
             settings: DispatchSettings) -> Plan:
    """Score a plan given as crew id → its order ids in sequence.

    Orders in no route are reported unassigned. Eligibility is not checked here
    (a dispatcher may override); an unknown id or an order in two routes is an
    error.
    """
    p = _problem(orders, crews, settings)
    indexed: dict[int, list[int]] = {}
    seen: set[int] = set()
    for crew_id, order_ids in routes.items():
        if crew_id not in p.crew_index:
            raise ValueError(f"unknown crew {crew_id}")
        seq = []
        for order_id in order_ids:
            if order_id not in p.order_index:
                raise ValueError(f"unknown order {order_id}")
            if order_id in seen:
                raise ValueError(f"order {order_id} is in two routes")
            seen.add(order_id)
            seq.append(p.order_index[order_id])
        indexed[p.crew_index[crew_id]] = seq
    return _plan(p, indexed)


def _total(p: _Problem, routes: Mapping[int, Sequence[int]]) -> float:
    return sum(_route_cost(p, c, seq) for c, seq in routes.items())


def greedy_nearest(orders: Sequence[OrderState], crews: Sequence[CrewState],
                   settings: DispatchSettings) -> Plan:
    """The hand-made baseline: earliest deadline first, each order to the nearest eligible crew."""
    started = time.perf_counter()
    p = _problem(orders, crews, settings)
    lat = np.array([c.lat for c in p.crews], dtype=float)
    lon = np.array([c.lon for c in p.crews], dtype=float)
    crew_ids = np.array([c.crew_id for c in p.crews])
    routes: dict[int, list[int]] = {}
    by_deadline = sorted(range(len(p.orders)),
                         key=lambda i: (p.due[i], p.orders[i].urgency, p.orders[i].order_id))
    for i in by_deadline:
        candidates = np.flatnonzero(p.eligible[i])
        if candidates.size == 0:
            continue
        order = p.orders[i]
        km = np.atleast_1d(haversine_km(lat[candidates], lon[candidates], order.lat, order.lon))
        c = int(candidates[np.lexsort((crew_ids[candidates], km))[0]])
        routes.setdefault(c, []).append(i)
        lat[c], lon[c] = order.lat, order.lon
    return _plan(p, routes, time.perf_counter() - started)


# --- the assignment solver -------------------------------------------------------------------------


def _slot_counts(p: _Problem, slots_per_crew: int | None) -> np.ndarray:
    """How many slots each crew offers: about twice its fair share of the orders it may take."""
    per_crew = p.eligible.sum(axis=0)
    if slots_per_crew is not None:
        return np.minimum(per_crew, max(1, slots_per_crew))
    takers = p.eligible.sum(axis=1)
    share = (p.eligible / np.maximum(takers, 1)[:, None]).sum(axis=0)
    return np.minimum(per_crew, np.ceil(2 * share).astype(int) + 2)


def _typical_step(p: _Problem) -> float:
    """Minutes from one job's start to the next: mean time on site + a typical hop between orders."""
    n = len(p.orders)
    if n < 2:
        return float(np.mean(p.job)) if n else 0.0
    hops = np.sort(p.tt, axis=0)[1:min(n, 6)]  # row 0 is the order itself (0 minutes)
    return float(np.mean(p.job) + np.mean(hops))


def _columns(p: _Problem, counts: np.ndarray, routes: Mapping[int, Sequence[int]] | None,
             step: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The slots: crew, slot index, departure time and starting point (-1 = the crew's position).

    Without routes every slot starts at the crew's position, ``step`` minutes after
    the previous. With routes (the best plan so far) slot k starts where and when
    the crew finishes its k-th job; slots past the route's end follow at ``step``.
    """
    crew, slot, depart, origin = [], [], [], []
    for c in range(len(p.crews)):
        seq = list(routes.get(c, ())) if routes is not None else []
        count = int(counts[c])
        if seq:
            count = min(int(p.eligible[:, c].sum()), max(count, len(seq) + 2))
        arrivals, _travel = _walk(p, c, seq)
        finish = [p.free[c]] + [a + p.job[i] for i, a in zip(seq, arrivals, strict=True)]
        where = [-1, *seq]
        for k in range(count):
            last = min(k, len(seq))
            crew.append(c)
            slot.append(k)
            depart.append(finish[last] + (k - last) * step)
            origin.append(where[last])
    return np.array(crew, dtype=int), np.array(slot, dtype=int), np.array(depart), np.array(origin, dtype=int)


def _assign(p: _Problem, counts: np.ndarray, routes: Mapping[int, Sequence[int]] | None,
            step: float) -> dict[int, list[int]]:
    """One linear_sum_assignment solve of orders × slots; routes in slot order."""
    crew, slot, depart, origin = _columns(p, counts, routes, step)
    if crew.size == 0:
        return {}
    travel = np.where(origin[:, None] < 0, p.t0[crew], p.tt[np.maximum(origin, 0)]).T  # n_o × n_cols
    weight = np.asarray(p.weight)[:, None]
    due = np.asarray(p.due)[:, None]
    cost = weight * np.maximum(0.0, depart[None, :] + travel - due) + TRAVEL_WEIGHT * travel
    cost += SLOT_TERM * slot[None, :]
    blocked = ~p.eligible[:, crew] | (origin[None, :] == np.arange(len(p.orders))[:, None])
    cost[blocked] = PROHIBITIVE
    rows, cols = linear_sum_assignment(cost)
    placed: dict[int, list[tuple[int, int]]] = {}
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        if cost[i, j] < PROHIBITIVE:
            placed.setdefault(int(crew[j]), []).append((int(slot[j]), i))
    return {c: [i for _k, i in sorted(pairs)] for c, pairs in placed.items()}


def _best_insertion(p: _Problem, i: int, routes: Mapping[int, Sequence[int]],
                    crews: Sequence[int]) -> tuple[float, int, int] | None:
    """The cheapest (added cost, crew, position) for order i among the given crews."""
    best: tuple[float, int, int] | None = None
    for c in crews:
        seq = list(routes.get(c, ()))
        before = _route_cost(p, c, seq)
        for pos in range(len(seq) + 1):
            delta = _route_cost(p, c, [*seq[:pos], i, *seq[pos:]]) - before
            if best is None or delta < best[0] - _EPS:
                best = (delta, c, pos)
    return best


def _insert_missing(p: _Problem, routes: dict[int, list[int]]) -> None:
    """Orders that could be served but got no slot: cheapest insertion, earliest deadline first."""
    routed = {i for seq in routes.values() for i in seq}
    missing = [i for i in range(len(p.orders)) if i not in routed and p.eligible[i].any()]
    for i in sorted(missing, key=lambda i: (p.due[i], p.orders[i].order_id)):
        found = _best_insertion(p, i, routes, np.flatnonzero(p.eligible[i]).tolist())
        if found is not None:
            _delta, c, pos = found
            routes.setdefault(c, []).insert(pos, i)


def _sequence(p: _Problem, c: int, seq: list[int]) -> list[int]:
    """A good order for one crew's jobs: the best of slot order, earliest deadline and weighted
    deadline, then single-job moves while they lower the crew's cost."""
    if len(seq) < 2:
        return list(seq)
    starts = [list(seq), sorted(seq, key=lambda i: (p.due[i], i)),
              sorted(seq, key=lambda i: (p.due[i] - URGENCY_PULL_MIN * p.weight[i], i))]
    best = min(starts, key=lambda s: _route_cost(p, c, s))
    best_cost = _route_cost(p, c, best)
    improved = True
    while improved and p.budget[0] > 0:
        improved = False
        for a in range(len(best)):
            for b in range(max(0, a - MOVE_WINDOW), min(len(best), a + MOVE_WINDOW + 1)):
                if a == b:
                    continue
                trial = list(best)
                trial.insert(b, trial.pop(a))
                cost = _route_cost(p, c, trial)
                if cost < best_cost - _EPS:
                    best, best_cost, improved = trial, cost, True
                    break
            if improved:
                break
    return best


def _polish(p: _Problem, routes: dict[int, list[int]]) -> dict[int, list[int]]:
    return {c: _sequence(p, c, seq) for c, seq in sorted(routes.items()) if seq}


def _relocate(p: _Problem, routes: dict[int, list[int]]) -> dict[int, list[int]]:
    """Move single orders to another crew (best position) while that lowers the total cost."""
    routes = {c: list(seq) for c, seq in routes.items()}
    nearest = np.argsort(p.t0, axis=0, kind="stable")  # crews by distance, per order
    for _pass in range(RELOCATE_PASSES):
        moved = False
        where = {i: c for c, seq in routes.items() for i in seq}
        for i in sorted(where):
            if p.budget[0] <= 0:
                break
            c_from = where[i]
            seq_from = routes[c_from]
            without = [j for j in seq_from if j != i]
            saving = _route_cost(p, c_from, seq_from) - _route_cost(p, c_from, without)
            candidates = [int(c) for c in nearest[:, i] if p.eligible[i, c] and c != c_from]
            found = _best_insertion(p, i, routes, candidates[:RELOCATE_CANDIDATES])
            if found is not None and found[0] < saving - _EPS:
                _delta, c_to, pos = found
                routes[c_from] = without
                routes.setdefault(c_to, []).insert(pos, i)
                where[i] = c_to
                moved = True
        routes = _polish(p, routes)
        if not moved:
            break
    return routes


def optimise(orders: Sequence[OrderState], crews: Sequence[CrewState], settings: DispatchSettings, *,
             slots_per_crew: int | None = None) -> Plan:
    """A plan for all open orders: assignment solves over crew slots, then local improvement."""
    started = time.perf_counter()
    p = _problem(orders, crews, settings)
    counts = _slot_counts(p, slots_per_crew)
    step = _typical_step(p)
    best: dict[int, list[int]] = {}
    best_cost = math.inf
    previous: dict[int, list[int]] | None = None
    for _round in range(MAX_ROUNDS):
        routes = _assign(p, counts, previous, step)
        _insert_missing(p, routes)
        routes = _polish(p, routes)
        cost = _total(p, routes)
        if cost < best_cost - _EPS:
            best, best_cost = routes, cost
            previous = routes
        else:
            break
    best = _relocate(p, best)
    return _plan(p, best, time.perf_counter() - started)

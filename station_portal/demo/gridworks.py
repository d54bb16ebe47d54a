"""Demo grid-works projects (业扩配套电网工程) for the applications of the history that wait on them.

The history records a wait on grid works at an application's connection stage
as a ``grid_works`` row of ``clock_pauses`` (it stops no clock). Every open
application with an open wait is linked to an open project of its station or
supply office (a few applications per project); every ended wait belongs to a
project energised on the day the wait ended (energising ends the wait).
About a third of the open projects are late on their current milestone, funds
have partly arrived. Deterministic for a seed and ``now``; a few hundred rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from station_portal.gridworks.models import (
    MILESTONES,
    GridWorksFunds,
    GridWorksLink,
    GridWorksMilestone,
    GridWorksProject,
    ProjectStatus,
)
from station_portal.org.models import Unit, UnitKind
from station_portal.org.tree import ancestor_ids
from station_portal.timefmt import local
from station_portal.workorders.models import ClockPause, PauseReason, WorkOrder

OWNER_KINDS = (UnitKind.SERVICE_STATION, UnitKind.SUPPLY_OFFICE, UnitKind.COUNTY_COMPANY)
PER_PROJECT = 4  # open applications per open project, at most
# Typical calendar days from one milestone to the next (approval … energised).
STEP_DAYS = (15, 20, 20, 45, 12, 8)
WORKS = ("10kV线路新建工程", "配电台区新增工程", "10kV线路改造工程", "箱式变电站新建工程",
         "开关站扩建工程")
WORKS_EN = ("10 kV line", "distribution transformer area", "10 kV line upgrade",
            "compact substation", "switching station extension")


def _owner(units: dict[int, Unit], unit_id: int) -> Unit:
    """The station, supply office or county company whose territory holds the unit."""
    unit = units[unit_id]
    chain = [units[i] for i in reversed(ancestor_ids(unit.path)) if i in units]
    for kind in OWNER_KINDS:
        for level in chain:
            if level.kind == kind:
                return level
    return chain[-1]


def seed_grid_works(session: Session, *, now: datetime, seed: int = 7) -> int:
    """Create the projects for the grid-works waits in the database; returns how many."""
    rng = np.random.default_rng(seed + 17)
    units = {u.id: u for u in session.scalars(select(Unit))}
    rows = session.execute(
        select(ClockPause.work_order_id, ClockPause.started_at, ClockPause.ended_at,
               WorkOrder.unit_id, WorkOrder.closed_at)
        .join(WorkOrder, WorkOrder.id == ClockPause.work_order_id)
        .where(ClockPause.reason == PauseReason.GRID_WORKS.value)
        .order_by(ClockPause.started_at, ClockPause.id)).all()
    waiting: dict[int, list] = defaultdict(list)
    done: dict[tuple[int, object], list] = defaultdict(list)
    for row in rows:
        owner = _owner(units, row.unit_id)
        if row.ended_at is None:
            if row.closed_at is None:
                waiting[owner.id].append(row)
        else:
            done[(owner.id, local(row.ended_at).date())].append(row)
    today = local(now).date()
    count = 0

    def project(owner: Unit, status: str, created: datetime) -> GridWorksProject:
        nonlocal count
        count += 1
        pick = int(rng.integers(len(WORKS)))
        return GridWorksProject(
            code=f"GW{local(created).year}{count:05d}",
            name=f"{owner.name_zh}{WORKS[pick]}",
            description=f"Demo: {WORKS_EN[pick]} for {owner.name_en}",
            unit_id=owner.id, status=status, funds_expected=float(rng.integers(8, 160) * 5),
            funds_arrived=0.0, created_at=created, updated_at=created, version=1)

    def plan(first: datetime) -> list:
        start = local(first).date() - timedelta(days=int(rng.integers(5, 25)))
        days, out = start, []
        for step in STEP_DAYS:
            days = days + timedelta(days=int(step * rng.uniform(0.7, 1.3)))
            out.append(days)
        return out

    projects: list[GridWorksProject] = []
    # open projects: a few waiting applications each
    for owner_id in sorted(waiting):
        group = waiting[owner_id]
        for k in range(0, len(group), PER_PROJECT):
            chunk = group[k:k + PER_PROJECT]
            first = min(r.started_at for r in chunk)
            p = project(units[owner_id], ProjectStatus.IN_PROGRESS.value, first)
            planned = plan(first)
            late = rng.random() < 0.35
            # the milestones done so far: those planned before today (a late one is not done)
            reached = sum(1 for d in planned[:-1] if d < today)
            if late and reached == 0:
                planned = [d - timedelta(days=(planned[0] - today).days + 6) for d in planned]
                reached = 1
            done_count = max(0, reached - 1) if late else reached
            done_count = min(done_count, len(MILESTONES) - 1)
            if late and planned[done_count] >= today:  # make its current milestone overdue
                shift = (planned[done_count] - today).days + int(rng.integers(3, 20))
                planned = [d - timedelta(days=shift) if i >= done_count else d
                           for i, d in enumerate(planned)]
            if not late:  # keep the open ones on time
                for i in range(done_count, len(planned)):
                    planned[i] = max(planned[i], today + timedelta(days=2 * (i - done_count + 1)))
            baseline = [d - timedelta(days=int(rng.integers(0, 10))) if i >= done_count else d
                        for i, d in enumerate(planned)]
            for i in range(1, len(baseline)):
                baseline[i] = max(baseline[i], baseline[i - 1])
            p.milestones = [GridWorksMilestone(
                seq=i, code=c, baseline_on=baseline[i], planned_on=planned[i],
                actual_on=min(planned[i], today) if i < done_count else None,
                replans=int(planned[i] != baseline[i]))
                for i, c in enumerate(MILESTONES)]
            if done_count == 0:
                p.status = ProjectStatus.PLANNED.value
            share = min(1.0, done_count / 5 + rng.uniform(0.05, 0.25)) if done_count else 0.0
            if share:
                arrived = round(p.funds_expected * share, 1)
                p.receipts = [GridWorksFunds(amount=arrived, arrived_on=p.milestones[
                    min(1, done_count - 1)].actual_on or today, note="", recorded_at=now)]
                p.funds_arrived = arrived
            p.links = [GridWorksLink(work_order_id=r.work_order_id, linked_at=r.started_at,
                                     unlink_reason="") for r in chunk]
            projects.append(p)
    # energised projects: one per owner and day a grid-works wait ended
    for (owner_id, day), chunk in sorted(done.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        first = min(r.started_at for r in chunk)
        ended = max(r.ended_at for r in chunk)
        p = project(units[owner_id], ProjectStatus.ENERGISED.value, first)
        planned = plan(first)
        shift = (planned[-1] - day).days
        planned = [d - timedelta(days=shift) for d in planned]  # energised on the day
        for i in range(1, len(planned)):
            planned[i] = max(planned[i], planned[i - 1])
        p.milestones = [GridWorksMilestone(seq=i, code=c, baseline_on=planned[i],
                                           planned_on=planned[i], actual_on=planned[i], replans=0)
                        for i, c in enumerate(MILESTONES)]
        p.funds_arrived = p.funds_expected
        p.receipts = [GridWorksFunds(amount=p.funds_expected, arrived_on=planned[1], note="",
                                     recorded_at=ended)]
        p.closed_at, p.updated_at = ended, ended
        p.links = [GridWorksLink(work_order_id=r.work_order_id, linked_at=r.started_at,
                                 unlink_reason="") for r in chunk]
        projects.append(p)
    session.add_all(projects)
    session.flush()
    return count

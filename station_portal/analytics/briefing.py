"""The weekly briefing (周报) of a station, a supply office or the whole company.

:func:`week_figures` gathers what the weekly report meeting looks at for one
local week (Monday 00:00 to Monday 00:00, Asia/Shanghai): orders received and
closed, repair arrivals and restorations against their commitments,
application stages on time, the open and overdue work at the week's end, the
trend of the four weeks before, the late cases with their holders and — for
the company — the league of stations and supply offices. The figures are a
plain JSON dict with unit names in both languages, frozen in a
:class:`~station_portal.analytics.models.Briefing` row by
:func:`make_briefings`, so the page, the PDF and the spreadsheet (rendered in
either language later, ``analytics.briefing_files``) always agree.

Sums read :class:`~station_portal.analytics.daily.Daily` (snapshot rows plus
the live days); only the open work at the week's end and the late cases read
the work-order tables. Domain code: no Flask, no Dash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from station_portal import validate
from station_portal.analytics.daily import Daily
from station_portal.analytics.dashboards.common import LEAGUE_KINDS, Names
from station_portal.analytics.models import Briefing
from station_portal.analytics.snapshots import in_units
from station_portal.auth.scope import Scope
from station_portal.db import serialize_on
from station_portal.org.models import Crew, Unit
from station_portal.org.tree import subtree_ids
from station_portal.sla.calendar import WorkCalendar, local_midnight
from station_portal.sla.clock import late_amount
from station_portal.sla.rules import WORKDAY
from station_portal.sla.stages import UTILITY, stage_book
from station_portal.timefmt import SHANGHAI
from station_portal.validate import as_id
from station_portal.workorders.clocks import CANCELLED, UNPAUSED_STAGES
from station_portal.workorders.models import Kind, StageClock, WorkOrder

FORMAT = 1  # bumped when the figures' shape changes
KINDS = (Kind.REPAIR, Kind.APPLICATION, Kind.PARK_CASE)
REPAIR_CLOCKS = ("arrival", "restoration")
TREND_WEEKS = 4  # weeks before the briefing's own
LATE_ROWS = 50  # late cases listed (the count covers them all)
COMPANY = "company"  # the unit picker's value for the company briefing


class BriefingError(ValueError):
    """A week or unit the caller may not have (the code says which, for the message)."""


# -- weeks ------------------------------------------------------------------------------------
def week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def last_full_week(now: datetime) -> date:
    """The Monday of the last complete local week before ``now``."""
    return week_monday(now.astimezone(SHANGHAI).date()) - timedelta(days=7)


def week_bounds(week_start: date) -> tuple[datetime, datetime]:
    """The week as UTC instants: [Monday 00:00, next Monday 00:00) local time."""
    return (local_midnight(week_start).astimezone(UTC),
            local_midnight(week_start + timedelta(days=7)).astimezone(UTC))


def _check_week(week_start: date) -> None:
    if week_start.weekday() != 0:
        raise ValueError(f"a week starts on a Monday, not on {week_start}")


# -- the figures -------------------------------------------------------------------------------
def _share(timed: float, late: float) -> float | None:
    return round((timed - late) / timed, 4) if timed else None


def _clock_figures(frame: pd.DataFrame) -> dict[str, Any]:
    done, timed, late = (float(frame[c].sum()) if len(frame) else 0.0
                         for c in ("done", "timed", "late"))
    used = float(frame["used"].sum()) if len(frame) else 0.0
    late_by = float(frame["late_by"].sum()) if len(frame) else 0.0
    return {"done": int(done), "timed": int(timed), "late": int(late),
            "on_time": _share(timed, late), "avg_used": round(used / done, 2) if done else None,
            "late_by": round(late_by, 2)}


def _with_week(frame: pd.DataFrame, first: date) -> pd.DataFrame:
    """The frame with ``week``: 0 for the first week of the range, 1 for the next …"""
    frame = frame.copy()
    if not len(frame):
        frame["week"] = pd.Series(dtype="int64")
        return frame
    days = pd.to_datetime(frame["day"].astype(str)).dt.date
    frame["week"] = [(d - first).days // 7 for d in days]
    return frame


def _unit_info(session: Session, unit_id: int | None) -> dict[str, Any] | None:
    if unit_id is None:
        return None
    row = session.execute(select(Unit.id, Unit.code, Unit.name_zh, Unit.name_en, Unit.kind)
                          .where(Unit.id == unit_id)).one_or_none()
    if row is None:
        raise ValueError(f"no unit {unit_id}")
    return {"id": row.id, "code": row.code, "name_zh": row.name_zh, "name_en": row.name_en,
            "kind": row.kind}


def open_at(session: Session, units: frozenset[int] | None, at: datetime) -> pd.DataFrame:
    """Orders open at the instant ``at`` per unit and kind, and how many of them were overdue
    then: a clock running at ``at`` (started before, ended after) whose due time had passed.

    Exact for a past instant as far as the stored clocks go (a clock paused at that instant
    may since have had its due time moved by the pause).
    """
    overdue = exists().where(
        StageClock.work_order_id == WorkOrder.id, StageClock.started_at < at,
        or_(StageClock.ended_at.is_(None), StageClock.ended_at >= at),
        StageClock.due_at <= at)
    rows = session.execute(
        select(WorkOrder.unit_id, WorkOrder.kind, func.count(WorkOrder.id),
               func.count(WorkOrder.id).filter(overdue))
        .where(WorkOrder.created_at < at,
               or_(WorkOrder.closed_at.is_(None), WorkOrder.closed_at >= at),
               in_units(WorkOrder.unit_id, units))
        .group_by(WorkOrder.unit_id, WorkOrder.kind)).all()
    return pd.DataFrame(rows, columns=["unit_id", "kind", "open", "overdue"])


def _late_unit(stage: str, planned: bool) -> str:
    return "minutes" if stage in UNPAUSED_STAGES else "days" if planned else "workdays"


def late_cases(session: Session, units: frozenset[int] | None, start: datetime, end: datetime,
               as_of: datetime, names: Names, calendar: WorkCalendar | None = None,
               limit: int = LATE_ROWS) -> dict[str, Any]:
    """Orders with a clock that became overdue (its due time passed while it ran) or finished
    late during [start, end): one row per order, its latest clock, the latest orders first.

    Lateness is in the clock's own unit: minutes for a repair's arrival and restoration,
    working days for application stages (the stored ``late_by`` once the clock ended, else
    up to the week's end), calendar days for a park case's planned milestone. Clocks stopped
    by a cancellation are left out, as in the dashboards.
    """
    calendar = calendar or WorkCalendar.default()
    became_overdue = and_(StageClock.due_at >= start, StageClock.due_at < end,
                          or_(StageClock.ended_at.is_(None),
                              StageClock.ended_at > StageClock.due_at))
    finished_late = and_(StageClock.ended_at >= start, StageClock.ended_at < end,
                         StageClock.ended_at > StageClock.due_at)
    rows = session.execute(
        select(WorkOrder.id, WorkOrder.code, WorkOrder.kind, WorkOrder.unit_id,
               StageClock.stage, StageClock.holder, StageClock.holder_unit_id,
               StageClock.due_at, StageClock.ended_at, StageClock.late_by,
               StageClock.planned_at, StageClock.limit_amount, Crew.code)
        .join(WorkOrder, WorkOrder.id == StageClock.work_order_id)
        .outerjoin(Crew, Crew.id == WorkOrder.crew_id)
        .where(StageClock.started_at.is_not(None), StageClock.due_at.is_not(None),
               or_(StageClock.status.is_(None), StageClock.status != CANCELLED),
               or_(became_overdue, finished_late), in_units(WorkOrder.unit_id, units))).all()
    worst: dict[int, tuple[tuple[bool, float], dict[str, Any]]] = {}
    for (order_id, code, kind, unit_id, stage, holder, holder_unit, due, ended, late_by,
         planned, amount, crew) in rows:
        finished = ended is not None and ended < end
        stop = ended if finished else as_of
        seconds = max((stop - due).total_seconds(), 0.0)
        unit = _late_unit(stage, planned is not None and amount is None)
        if unit == "minutes":
            late = late_by if finished and late_by is not None else seconds / 60
        elif unit == "workdays":  # whole working days, as everywhere (sla.clock.late_amount)
            late = late_by if finished and late_by is not None \
                else late_amount(WORKDAY, due, stop, calendar)
        else:
            late = seconds / 86_400
        holder_unit = (holder_unit or unit_id) if holder == "unit" else None
        names_of = names.units.get(holder_unit) if holder_unit is not None else None
        row = {"order_id": order_id, "code": code, "kind": kind, "stage": stage,
               "holder": {"kind": holder, "unit_id": holder_unit,
                          "name_zh": names_of[0] if names_of else "",
                          "name_en": names_of[1] if names_of else ""},
               "crew": crew, "due_at": due.astimezone(UTC).isoformat(),
               "ended_at": ended.astimezone(UTC).isoformat() if finished else None,
               "state": "finished_late" if finished else "overdue",
               "late": round(float(late), 2), "late_unit": unit,
               "late_hours": round(seconds / 3600, 2)}
        # the whole process only when no stage of its own was late
        key = (stage != "total", seconds)
        if order_id not in worst or key > worst[order_id][0]:
            worst[order_id] = (key, row)
    ordered = sorted((r for _k, r in worst.values()),
                     key=lambda r: (-r["late_hours"], r["code"]))
    return {"count": len(ordered), "clocks": len(rows), "rows": ordered[:limit]}


def _league(names: Names, orders: pd.DataFrame, clocks: pd.DataFrame,
            open_end: pd.DataFrame) -> list[dict[str, Any]]:
    """Per station and supply office: received, closed, clocks within their limits, overdue."""
    entries: dict[int, dict[str, float]] = {
        uid: {"received": 0, "closed": 0, "timed": 0, "late": 0, "overdue": 0, "open": 0}
        for uid, row in names.units.items() if row[2] in LEAGUE_KINDS}

    def add(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
        if not len(frame):
            return
        for unit_id, row in frame.groupby("unit_id")[list(columns)].sum().iterrows():
            top = names.league_unit(int(unit_id))
            if top is not None and top in entries:
                for column in columns:
                    entries[top][column] += float(row[column])

    add(orders, ("received", "closed"))
    add(clocks, ("timed", "late"))
    add(open_end, ("open", "overdue"))
    out = [{"unit_id": uid, "name_zh": names.units[uid][0], "name_en": names.units[uid][1],
            "received": int(e["received"]), "closed": int(e["closed"]),
            "timed": int(e["timed"]), "late": int(e["late"]),
            "on_time": _share(e["timed"], e["late"]), "open": int(e["open"]),
            "overdue": int(e["overdue"])} for uid, e in entries.items()]
    out.sort(key=lambda r: (r["on_time"] is None, -(r["on_time"] or 0), r["overdue"],
                            r["name_en"]))
    for rank, row in enumerate(out, start=1):
        row["rank"] = rank
    return out


def week_figures(session: Session, unit_id: int | None, week_start: date,
                 now: datetime) -> dict[str, Any]:
    """The briefing of ``unit_id``'s subtree (None: the company) for the local week starting on
    the Monday ``week_start``, as JSON-ready values (dates and instants as ISO text, shares
    as fractions, None where nothing had a limit).

    If the week has not ended at ``now``, its figures run up to ``now`` (``complete`` False).
    """
    _check_week(week_start)
    unit = _unit_info(session, unit_id)
    units = frozenset(subtree_ids(session, unit_id)) if unit_id is not None else None
    start, end = week_bounds(week_start)
    as_of = min(end, now)
    week_end = week_start + timedelta(days=6)
    first = week_start - timedelta(days=7 * TREND_WEEKS)
    names = Names.load(session)
    daily = Daily(session, units, first, week_end, as_of)
    orders = _with_week(daily.orders(["day", "unit_id", "kind"]), first)
    clocks = _with_week(daily.stages(["day", "unit_id", "kind", "stage"]), first)
    utility = {code for code, s in stage_book().stages.items() if s.holder == UTILITY}
    is_app = clocks["kind"] == Kind.APPLICATION
    masks = {"arrival": clocks["stage"] == "arrival",
             "restoration": clocks["stage"] == "restoration",
             "stages": is_app & clocks["stage"].isin(utility),
             "total": is_app & (clocks["stage"] == "total")}
    timed_clocks = masks["arrival"] | masks["restoration"] | masks["stages"]

    def part(frame: pd.DataFrame, week: int, mask: pd.Series | None = None) -> pd.DataFrame:
        keep = frame["week"] == week
        return frame[keep & mask] if mask is not None else frame[keep]

    this = TREND_WEEKS
    week_orders = part(orders, this)
    open_end = open_at(session, units, as_of)
    per_kind: dict[str, dict[str, int]] = {}
    for kind in KINDS:
        done = week_orders[week_orders["kind"] == kind]
        still = open_end[open_end["kind"] == kind]
        per_kind[str(kind)] = {"received": int(done["received"].sum()),
                               "closed": int(done["closed"].sum()),
                               "open": int(still["open"].sum()),
                               "overdue": int(still["overdue"].sum())}
    per_kind["all"] = {key: sum(v[key] for v in per_kind.values())
                       for key in ("received", "closed", "open", "overdue")}
    repairs = {stage: _clock_figures(part(clocks, this, masks[stage])) for stage in REPAIR_CLOCKS}
    applications = {key: _clock_figures(part(clocks, this, masks[key]))
                    for key in ("stages", "total")}
    trend = []
    for week in range(TREND_WEEKS + 1):
        received = part(orders, week)
        trend.append({
            "week_start": (first + timedelta(days=7 * week)).isoformat(),
            "received": int(received["received"].sum()),
            "closed": int(received["closed"].sum()),
            **{f"{key}_on_time": _clock_figures(part(clocks, week, masks[key]))["on_time"]
               for key in ("arrival", "restoration", "stages")},
            "late": int(part(clocks, week, timed_clocks)["late"].sum()),
        })
    late = late_cases(session, units, start, end, as_of, names)
    league = _league(names, week_orders, part(clocks, this, timed_clocks), open_end) \
        if unit_id is None else None
    return {
        "format": FORMAT,
        "unit": unit,
        "week_start": week_start.isoformat(),
        "week_end": week_end.isoformat(),  # the week's last day (Sunday), inclusive
        "as_of": as_of.astimezone(UTC).isoformat(),
        "complete": now >= end,
        "made_at": now.astimezone(UTC).isoformat(),
        "orders": per_kind,
        "repairs": repairs,
        "applications": applications,
        "late": late,
        "trend": trend,
        "league": league,
    }


# -- the stored briefings --------------------------------------------------------------------
def briefing_units(session: Session) -> list[int]:
    """The units that get a briefing: every urban service station and rural supply office."""
    return list(session.scalars(select(Unit.id).where(Unit.kind.in_(LEAGUE_KINDS))
                                .order_by(Unit.path, Unit.sort_order, Unit.id)))


def make_briefings(session: Session, week_start: date, now: datetime) -> list[Briefing]:
    """The briefings of every briefing unit and the company for the week, made where missing.

    Idempotent: a briefing that exists is left as it was (frozen). Only a finished week gets
    briefings. Runs in the caller's transaction; two runs are serialised on PostgreSQL.
    """
    _check_week(week_start)
    if now < week_bounds(week_start)[1]:
        raise ValueError(f"the week of {week_start} has not ended yet")
    serialize_on(session, f"briefings:{week_start.isoformat()}")
    existing = {b.unit_key: b for b in session.scalars(
        select(Briefing).where(Briefing.week_start == week_start))}
    out = []
    for unit_id in [None, *briefing_units(session)]:
        key = unit_id or 0
        briefing = existing.get(key)
        if briefing is None:
            briefing = Briefing(week_start=week_start, unit_id=unit_id, unit_key=key,
                                made_at=now, figures=week_figures(session, unit_id, week_start,
                                                                  now))
            session.add(briefing)
        out.append(briefing)
    session.flush()
    return out


# -- what a caller may open ------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    """A briefing the caller may pick: ``unit_id`` None is the company."""

    unit_id: int | None
    name_zh: str
    name_en: str

    @property
    def value(self) -> str:
        return COMPANY if self.unit_id is None else str(self.unit_id)

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


def sees_company(scope: Scope) -> bool:
    """The company briefing is for those who see the whole company."""
    return scope.is_global


def briefing_choices(session: Session, scope: Scope) -> list[Choice]:
    """The company (for a caller who sees it) and the briefing units in the caller's scope."""
    rows = session.execute(select(Unit.id, Unit.name_zh, Unit.name_en)
                           .where(Unit.kind.in_(LEAGUE_KINDS), scope.unit_filter(Unit.id))
                           .order_by(Unit.path, Unit.sort_order, Unit.id)).all()
    choices = [Choice(r.id, r.name_zh, r.name_en) for r in rows]
    if sees_company(scope):
        choices.insert(0, Choice(None, "全公司", "Whole company"))
    return choices


def briefing_weeks(session: Session, limit: int = 104) -> list[date]:
    """The weeks that have briefings, the newest first."""
    return list(session.scalars(select(Briefing.week_start).distinct()
                                .order_by(Briefing.week_start.desc()).limit(limit)))


def parse_week(value: object) -> date:
    """A week as the browser sends it: an ISO Monday whose whole week lies in the working-day
    calendar's range (``validate.day``). :class:`BriefingError` ("week") else."""
    monday = validate.day(value) if isinstance(value, str) else None
    if monday is None or monday.weekday() != 0 or validate.day(monday + timedelta(days=6)) is None:
        raise BriefingError("week")
    return monday


def parse_unit(scope: Scope, value: object) -> int | None:
    """The unit the browser picked, checked against the scope: None for the company.

    :class:`BriefingError` ("unit") for anything the caller may not open.
    """
    if value == COMPANY:
        if not sees_company(scope):
            raise BriefingError("unit")
        return None
    unit_id = as_id(value)
    if unit_id is None or not scope.sees_unit(unit_id):
        raise BriefingError("unit")
    return unit_id


def find_briefing(session: Session, scope: Scope, week: object, unit: object) -> Briefing:
    """The stored briefing the caller asked for, after checking the week and the unit.

    Raises :class:`BriefingError` with "week", "unit" or "missing"; never returns a
    briefing outside the caller's scope.
    """
    unit_id = parse_unit(scope, unit)
    week_start = parse_week(week)
    briefing = session.scalar(select(Briefing).where(Briefing.week_start == week_start,
                                                     Briefing.unit_key == (unit_id or 0)))
    if briefing is None:
        raise BriefingError("missing")
    return briefing

"""The company manager's KPI board: the league of stations and supply offices, time-limit
compliance per class and stage, delay attribution, repairs and getting electricity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from station_portal.analytics.daily import Daily
from station_portal.analytics.dashboards.common import (
    AREA_TYPES,
    CLASSES,
    REPAIR_CLOCKS,
    Filters,
    Names,
    _open_orders,
)
from station_portal.sla.clock import OVERDUE
from station_portal.sla.rules import RuleSet
from station_portal.sla.stages import UTILITY, stage_book
from station_portal.timefmt import SHANGHAI
from station_portal.workorders.models import (
    Kind,
    WorkOrder,
)
from station_portal.workorders.queries import live_sla


@dataclass(frozen=True)
class Kpis:
    compliance: pd.DataFrame  # stage, category, done, late, on_time (share), avg_used
    attribution: pd.DataFrame  # holder, late, late_by (working days)
    electricity: pd.DataFrame  # category, procedures, completed, avg_workdays, counter_visits
    repairs: pd.DataFrame  # stage, area_type, limit, done, timed, late, on_time, avg_minutes
    league: pd.DataFrame  # rank, unit, arrival, restoration, stages, overdue, score
    received: int


def _share(done: pd.Series, late: pd.Series) -> pd.Series:
    return ((done - late) / done.where(done > 0)).astype(float)


def kpis(session: Session, filters: Filters, now: datetime, locale: str) -> Kpis:
    names = Names.load(session)
    daily = Daily(session, filters.unit_ids, filters.start, filters.end, now)
    stages = daily.stages(["kind", "stage", "category", "unit_id", "holder_unit_id"])
    apps = stages[stages["kind"] == Kind.APPLICATION] if len(stages) else stages
    book = stage_book()
    utility_stages = [c for c, s in book.stages.items() if s.holder == UTILITY]
    app_unit = apps[apps["stage"].isin([*utility_stages, "total"])] if len(apps) else apps
    compliance = (app_unit.groupby(["stage", "category"], as_index=False)
                  [["done", "timed", "late", "used"]].sum() if len(app_unit)
                  else pd.DataFrame(columns=["stage", "category", "done", "timed", "late",
                                             "used"]))
    compliance["on_time"] = _share(compliance["timed"], compliance["late"])
    compliance["avg_used"] = compliance["used"] / compliance["done"].where(compliance["done"] > 0)
    # in the order of the process (the stage book), the whole process last; classes small first
    stage_rank = {code: i for i, code in enumerate(book.stages)} | {"total": len(book.stages)}
    class_rank = {klass: i for i, klass in enumerate(CLASSES)}
    compliance = compliance.sort_values(
        ["stage", "category"], key=lambda col: col.map(
            stage_rank if col.name == "stage" else class_rank).fillna(99)).reset_index(drop=True)
    late = app_unit[(app_unit["stage"] != "total") & (app_unit["late"] > 0)] if len(app_unit) \
        else app_unit
    attribution = (late.groupby("holder_unit_id", as_index=False, dropna=False)
                   [["late", "late_by"]].sum() if len(late)
                   else pd.DataFrame(columns=["holder_unit_id", "late", "late_by"]))
    attribution["holder"] = [names.unit(int(u), locale) if pd.notna(u) else ""
                             for u in attribution["holder_unit_id"]]
    attribution = attribution.sort_values("late_by", ascending=False)
    orders = daily.orders(["kind", "category"])
    app_orders = orders[orders["kind"] == Kind.APPLICATION] if len(orders) else orders
    totals = compliance[compliance["stage"] == "total"].set_index("category")
    electricity = []
    for klass in CLASSES:
        path = book.path_for("new_connection", klass, important=False)  # the getting-electricity path
        procedures = sum(1 for s in path if book.stage(s).holder == UTILITY and s != "archiving")
        received = float(app_orders.loc[app_orders["category"] == klass, "received"].sum()) \
            if len(app_orders) else 0.0
        visits = float(app_orders.loc[app_orders["category"] == klass, "counter_visits"].sum()) \
            if len(app_orders) else 0.0
        done = float(totals["done"].get(klass, 0)) if len(totals) else 0.0
        timed = float(totals["timed"].get(klass, 0)) if len(totals) else 0.0
        electricity.append({
            "category": klass, "procedures": procedures, "completed": int(done),
            "avg_workdays": float(totals["avg_used"].get(klass)) if done else None,
            "on_time": float(totals["on_time"].get(klass)) if timed else None,
            "counter_visits": visits / received if received else None})
    rep = stages[stages["stage"].isin(REPAIR_CLOCKS)] if len(stages) else stages
    rules = RuleSet.in_force(now.astimezone(SHANGHAI).date())
    rep_area = daily.stages(["stage", "area_type"], {"stage": list(REPAIR_CLOCKS)})
    repair_rows = []
    for stage in REPAIR_CLOCKS:
        for area in AREA_TYPES:
            part = rep_area[(rep_area["stage"] == stage) & (rep_area["area_type"] == area)] \
                if len(rep_area) else rep_area
            done, late_n = float(part["done"].sum()), float(part["late"].sum())
            timed = float(part["timed"].sum())
            repair_rows.append({
                "stage": stage, "area_type": area, "limit": rules.limit(area, stage).amount,
                "done": int(done), "timed": int(timed), "late": int(late_n),
                "on_time": (timed - late_n) / timed if timed else None,
                "avg_minutes": float(part["used"].sum()) / done if done else None})
    league = _league(names, rep, app_unit, session, filters, now, locale)
    received = int(orders["received"].sum()) if len(orders) else 0
    return Kpis(compliance, attribution, pd.DataFrame(electricity), pd.DataFrame(repair_rows),
                league, received)


def _league(names: Names, repairs: pd.DataFrame, apps: pd.DataFrame, session: Session,
            filters: Filters, now: datetime, locale: str) -> pd.DataFrame:
    rows: dict[int, dict[str, float]] = {}

    def add(frame: pd.DataFrame, key: str) -> None:
        if not len(frame):
            return
        grouped = frame.groupby("unit_id")[["timed", "late"]].sum()
        for unit_id, row in grouped.iterrows():
            top = names.league_unit(int(unit_id))
            if top is None:
                continue
            entry = rows.setdefault(top, {})
            entry[f"{key}_done"] = entry.get(f"{key}_done", 0) + row["timed"]
            entry[f"{key}_late"] = entry.get(f"{key}_late", 0) + row["late"]

    add(repairs[repairs["stage"] == "arrival"] if len(repairs) else repairs, "arrival")
    add(repairs[repairs["stage"] == "restoration"] if len(repairs) else repairs, "restoration")
    add(apps[apps["stage"] != "total"] if len(apps) else apps, "stages")
    overdue = session.execute(
        select(WorkOrder.unit_id, func.count(WorkOrder.id))
        .where(*_open_orders(filters.unit_ids), live_sla(now) == OVERDUE)
        .group_by(WorkOrder.unit_id)).all()
    overdue_by: dict[int, int] = {}
    for unit_id, n in overdue:
        top = names.league_unit(unit_id)
        if top is not None:
            overdue_by[top] = overdue_by.get(top, 0) + n
            rows.setdefault(top, {})
    out = []
    for unit_id, entry in rows.items():
        shares = {}
        for key in ("arrival", "restoration", "stages"):
            done = entry.get(f"{key}_done", 0)
            shares[key] = (done - entry.get(f"{key}_late", 0)) / done if done else None
        known = [v for v in shares.values() if v is not None]
        out.append({"unit_id": unit_id, "unit": names.unit(unit_id, locale), **shares,
                    "overdue": overdue_by.get(unit_id, 0),
                    "score": sum(known) / len(known) if known else None})
    frame = pd.DataFrame(out, columns=["unit_id", "unit", "arrival", "restoration", "stages",
                                       "overdue", "score"])
    frame = frame.sort_values(["score", "overdue"], ascending=[False, True], na_position="last")
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)

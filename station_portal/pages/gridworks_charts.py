"""The grid-works section of the company dashboard: pure builders, frames in, figures out.

Frames come from ``gridworks.dashboard.grid_works_board``; figures are plain
dicts like the rest of ``pages/charts/`` and say in words why they are empty.
"""

from __future__ import annotations

import pandas as pd

from station_portal.gridworks.dashboard import GridWorksBoard
from station_portal.gridworks.labels import MILESTONE_NAMES
from station_portal.i18n import _
from station_portal.labels import label
from station_portal.pages.charts.common import (
    Column,
    Figure,
    Table,
    empty_figure,
    figure_layout,
    new_figure,
    trace,
    update_layout,
)


def summary_text(board: GridWorksBoard) -> str:
    days = f"{board.waited_workdays:.1f}"
    return _("%(open)s open projects, %(late)s late · %(waiting)s applications waiting, "
             "%(days)s working days in all", open=board.projects_open, late=board.projects_late,
             waiting=board.waiting, days=days)


def waiting_figure(board: GridWorksBoard) -> Figure:
    """Applications waiting per open project (late ones red), the headline numbers on top."""
    projects = board.projects
    if not len(projects):
        return empty_figure(_("No grid works project is open in this area."))
    top = projects.sort_values(["waiting", "late_by"], ascending=False).head(15).iloc[::-1]
    colours = ["#d62728" if d > 0 else "#1f77b4" for d in top["late_by"]]
    hover = [_("%(name)s · late by %(days)s days · longest wait %(wait)s working days",
               name=n, days=int(d), wait=round(float(w), 1))
             if d > 0 else _("%(name)s · on time · longest wait %(wait)s working days",
                             name=n, wait=round(float(w), 1))
             for n, d, w in zip(top["name"], top["late_by"], top["longest"], strict=True)]
    fig = new_figure([trace("bar", y=top["code"].tolist(), x=top["waiting"].astype(int).tolist(),
                            orientation="h", marker_color=colours, customdata=hover,
                            hovertemplate="%{y}: %{x}<br>%{customdata}<extra></extra>")])
    update_layout(fig, **figure_layout(
        title={"text": summary_text(board), "font": {"size": 12}, "x": 0.01, "y": 0.98},
        margin={"l": 110, "r": 16, "t": 48, "b": 40},
        xaxis={"title": {"text": _("Applications waiting")}, "dtick": 1, "rangemode": "tozero"},
        yaxis={"automargin": True}, height=360))
    return fig


def funds_figure(funds: pd.DataFrame) -> Figure:
    """Funds expected against arrived for the open projects, per owning unit (10,000 yuan)."""
    if not len(funds) or float(funds["expected"].sum()) == 0:
        return empty_figure(_("No open project expects funds in this area."))
    units = funds["unit"].tolist()
    fig = new_figure([
        trace("bar", x=units, y=[round(float(v), 1) for v in funds["expected"]],
              name=_("Expected"), marker_color="#9ecae1"),
        trace("bar", x=units, y=[round(float(v), 1) for v in funds["arrived"]],
              name=_("Arrived"), marker_color="#2ca02c"),
    ])
    update_layout(fig, **figure_layout(barmode="group", height=360,
                                yaxis={"title": {"text": _("10,000 yuan")}}))
    return fig


def late_table(late: pd.DataFrame) -> Table:
    rows = [{"code": r.code, "project_id": int(r.id), "name": r.name, "unit": r.unit,
             "milestone": label(MILESTONE_NAMES, r.next_milestone),
             "since": r.overdue_since.isoformat() if r.overdue_since else "",
             "late_by": int(r.late_by), "waiting": int(r.waiting), "applications": r.codes,
             "longest": round(float(r.longest), 1)} for r in late.itertuples()]
    return Table((Column("code", _("Project")), Column("name", _("Name")), Column("unit", _("Unit")),
                  Column("milestone", _("Milestone overdue")), Column("since", _("Planned for")),
                  Column("late_by", _("Late by (days)"), "number"),
                  Column("waiting", _("Applications delayed"), "number"),
                  Column("applications", _("Applications")),
                  Column("longest", _("Longest wait (working days)"), "number")),
                 rows, _("No grid works project is late."))

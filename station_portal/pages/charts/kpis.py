"""Figures and tables of the KPI board (company manager)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from station_portal.i18n import _
from station_portal.labels import (
    AREA_TYPES,
    CUSTOMER_CLASSES,
    label,
    stage_label,
)
from station_portal.pages.charts.common import (
    RED_TO_GREEN,
    Column,
    Figure,
    Table,
    _num,
    _pct,
    empty_figure,
    figure_layout,
    new_figure,
    trace,
    update_layout,
)


def league_table(frame: pd.DataFrame) -> Table:
    rows = [{"rank": int(r.rank), "unit": r.unit, "arrival": _pct(r.arrival),
             "restoration": _pct(r.restoration), "stages": _pct(r.stages),
             "overdue": int(r.overdue), "score": _pct(r.score)} for r in frame.itertuples()]
    return Table((Column("rank", _("Rank"), "number"), Column("unit", _("Station or supply office")),
                  Column("arrival", _("Arrival on time (%)"), "percent"),
                  Column("restoration", _("Restoration on time (%)"), "percent"),
                  Column("stages", _("Application stages on time (%)"), "percent"),
                  Column("overdue", _("Overdue now"), "number"),
                  Column("score", _("Score (%)"), "percent")),
                 rows, _("No finished work in this period."))


def electricity_table(frame: pd.DataFrame) -> Table:
    rows = [{"class": label(CUSTOMER_CLASSES, r.category), "procedures": int(r.procedures),
             "completed": int(r.completed), "avg_workdays": _num(r.avg_workdays, 2),
             "on_time": _pct(r.on_time), "counter_visits": _num(r.counter_visits, 2)}
            for r in frame.itertuples()]
    return Table((Column("class", _("Customer class")),
                  Column("procedures", _("Procedures"), "number"),
                  Column("completed", _("Applications connected"), "number"),
                  Column("avg_workdays", _("Working days (utility's time)"), "number"),
                  Column("on_time", _("Within the limit (%)"), "percent"),
                  Column("counter_visits", _("Counter visits per application"), "number")),
                 rows, _("No application was connected in this period."))


def satisfaction_table(frame: pd.DataFrame) -> Table:
    """Ratings, online applications and counter visits per station or supply office."""
    rows = [{"unit": r.unit, "ratings": int(r.ratings), "avg_stars": _num(r.avg_stars, 2),
             "good": _pct(r.good), "low": int(r.low), "applications": int(r.applications),
             "online": _pct(r.online), "counter_visits": _num(r.counter_visits, 2)}
            for r in frame.itertuples()]
    return Table((Column("unit", _("Station or supply office")),
                  Column("ratings", _("Ratings"), "number"),
                  Column("avg_stars", _("Average stars"), "number"),
                  Column("good", _("4 or 5 stars (%)"), "percent"),
                  Column("low", _("1 or 2 stars"), "number"),
                  Column("applications", _("Applications received"), "number"),
                  Column("online", _("Applied online (%)"), "percent"),
                  Column("counter_visits", _("Counter visits per application"), "number")),
                 rows, _("No rating and no application in this period."))


def notice_table(rows: list[tuple[str, Any]]) -> Table:
    """Outage notices against the commitment per station or supply office: ``rows`` of
    (unit name, ``network.outages.NoticeFigures``)."""
    data = [{"unit": name, "outages": f.outages, "in_time": f.in_time, "late": f.late,
             "missed": f.missed, "rate": _pct(f.rate)} for name, f in rows]
    return Table((Column("unit", _("Station or supply office")),
                  Column("outages", _("Outages that owed a notice"), "number"),
                  Column("in_time", _("Told in time"), "number"),
                  Column("late", _("Told late"), "number"),
                  Column("missed", _("Notice deadline missed"), "number"),
                  Column("rate", _("Told in time (%)"), "percent")),
                 data, _("No planned or temporary outage started in this period."))


def compliance_table(frame: pd.DataFrame) -> Table:
    rows = [{"stage": stage_label(r.stage), "class": label(CUSTOMER_CLASSES, r.category),
             "done": int(r.done), "late": int(r.late), "on_time": _pct(r.on_time),
             "avg_used": _num(r.avg_used, 2)} for r in frame.itertuples()]
    return Table((Column("stage", _("Stage")), Column("class", _("Customer class")),
                  Column("done", _("Finished"), "number"), Column("late", _("Late"), "number"),
                  Column("on_time", _("Within the limit (%)"), "percent"),
                  Column("avg_used", _("Average working days"), "number")),
                 rows, _("No application stage finished in this period."))


def compliance_heatmap(compliance: pd.DataFrame) -> Figure:
    """Share within the limit per stage and class (stages without a limit left out)."""
    compliance = compliance[compliance["timed"] > 0] if len(compliance) else compliance
    if not len(compliance):
        return empty_figure(_("No application stage with a time limit finished in this period."))
    stages = [s for s in dict.fromkeys(compliance["stage"]) if s != "total"] + ["total"]
    classes = [c for c in ("lv_resident", "lv_non_resident", "hv_single", "hv_dual")
               if c in set(compliance["category"])]
    table = compliance.set_index(["stage", "category"])
    z, text = [], []
    for stage in stages:
        row, row_text = [], []
        for klass in classes:
            if (stage, klass) in table.index:
                rec = table.loc[(stage, klass)]
                row.append(_pct(rec["on_time"]))
                row_text.append(f"{_pct(rec['on_time'])} % · n={int(rec['done'])}")
            else:
                row.append(None)
                row_text.append("")
        z.append(row)
        text.append(row_text)
    fig = new_figure([trace("heatmap",
        z=z, x=[label(CUSTOMER_CLASSES, c) for c in classes], y=[stage_label(s) for s in stages],
        text=text, texttemplate="%{text}", zmin=50, zmax=100, colorscale=RED_TO_GREEN,
        colorbar={"title": {"text": "%"}}, hovertemplate="%{y} · %{x}: %{text}<extra></extra>")])
    update_layout(fig, **figure_layout(yaxis={"automargin": True}, height=360))
    return fig


def stage_days_figure(compliance: pd.DataFrame) -> Figure:
    """Average working days per stage, per class."""
    if not len(compliance) or compliance["done"].sum() == 0:
        return empty_figure(_("No application stage finished in this period."))
    fig = new_figure()
    for klass in ("lv_resident", "lv_non_resident", "hv_single", "hv_dual"):
        part = compliance[(compliance["category"] == klass) & (compliance["stage"] != "total")]
        if len(part):
            fig["data"].append(trace("bar", x=[stage_label(s) for s in part["stage"]],
                                 y=[_num(v, 2) for v in part["avg_used"]],
                                 name=label(CUSTOMER_CLASSES, klass)))
    update_layout(fig, **figure_layout(barmode="group", yaxis={"title": {"text": _("Working days")}}))
    return fig


def attribution_figure(attribution: pd.DataFrame) -> Figure:
    if not len(attribution) or attribution["late_by"].sum() == 0:
        return empty_figure(_("No department held an application past its limit in this period."))
    top = attribution.head(15).iloc[::-1]
    fig = new_figure([trace("bar",
        y=[h or _("Unknown") for h in top["holder"]], x=[_num(v, 1) for v in top["late_by"]],
        orientation="h", marker_color="#d62728", customdata=top["late"].astype(int).tolist(),
        hovertemplate="%{y}: %{x} " + _("working days late") + "<br>" + _("Late stages")
        + ": %{customdata}<extra></extra>")])
    update_layout(fig, **figure_layout(xaxis={"title": {"text": _("Working days past the limits")}},
                                yaxis={"automargin": True}, height=360))
    return fig


def repairs_figure(repairs: pd.DataFrame) -> Figure:
    """Arrival and restoration: average minutes per area type against the commitments."""
    if not len(repairs) or repairs["done"].sum() == 0:
        return empty_figure(_("No repair was finished in this period."))
    fig = new_figure()
    for stage, colour in (("arrival", "#1f77b4"), ("restoration", "#2ca02c")):
        part = repairs[repairs["stage"] == stage]
        x = [label(AREA_TYPES, a) for a in part["area_type"]]
        fig["data"].append(trace("bar", x=x, y=[_num(v) for v in part["avg_minutes"]],
                             name=stage_label(stage), marker_color=colour,
                             customdata=[_pct(v) if _pct(v) is not None else "–"
                                         for v in part["on_time"]],
                             hovertemplate="%{x}: %{y} " + _("min") + ", %{customdata} % " + _("on time")
                             + "<extra></extra>"))
        fig["data"].append(trace("scatter", x=x, y=part["limit"].tolist(), mode="markers",
                                 name=_("Commitment: %(clock)s", clock=stage_label(stage)),
                                 marker={"symbol": "line-ew-open", "size": 30, "color": colour,
                                         "line": {"width": 3}}))
    update_layout(fig, **figure_layout(barmode="group", yaxis={"title": {"text": _("Minutes")}}))
    return fig

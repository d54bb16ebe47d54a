"""Figures and tables of the clients board (account manager)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from station_portal.i18n import _
from station_portal.labels import (
    stage_label,
)
from station_portal.pages.charts.common import (
    Column,
    Figure,
    Table,
    _num,
    empty_figure,
    figure_layout,
    new_figure,
    status_label,
    trace,
    update_layout,
)
from station_portal.timefmt import format_local


def cases_table(frame: pd.DataFrame) -> Table:
    rows = [{"code": r.code, "order_id": int(r.id), "client": r.client, "park": r.park,
             "milestone": stage_label(r.milestone) if r.milestone else "",
             "status": status_label("park_case", r.status), "load_kw": _num(r.load_kw, 0),
             "projected_date": r.projected_date.isoformat() if isinstance(r.projected_date, date)
             else ""} for r in frame.itertuples()]
    return Table((Column("code", _("Case")), Column("client", _("Client")),
                  Column("park", _("Park")), Column("milestone", _("Milestone")),
                  Column("status", _("Status")), Column("load_kw", _("Projected load (kW)"), "number"),
                  Column("projected_date", _("Projected date"))),
                 rows, _("No park cases for your clients yet."))


def visits_table(frame: pd.DataFrame) -> Table:
    states = {"done": _("Visit made"), "overdue": _("Overdue"), "upcoming": _("Planned")}
    rows = [{"case": r.case or "", "order_id": None if pd.isna(r.order_id) else int(r.order_id),
             "client": r.client,
             "planned_for": format_local(r.planned_for),
             "done_at": format_local(r.done_at) if r.done_at is not None and not pd.isna(r.done_at)
             else "", "state": str(states[r.state]), "note": r.note} for r in frame.itertuples()]
    return Table((Column("case", _("Case")), Column("client", _("Client")),
                  Column("planned_for", _("Planned for")), Column("state", _("Visit")),
                  Column("done_at", _("Done at")), Column("note", _("Note"))),
                 rows, _("No visits planned in this period."))


def capacity_table(frame: pd.DataFrame) -> Table:
    """The feeders near each park: capacity, the load of their areas and of high-voltage
    applications on them, the room left, and whether the park's projected load fits without
    grid works."""
    rows = [{"park": r.park, "feeder": r.feeder, "capacity_kva": r.capacity_kva,
             "areas_kva": r.areas_kva, "hv_applied_kva": r.hv_applied_kva,
             "spare_kva": r.spare_kva, "park_kva": r.park_kva,
             "takes": _("Yes") if r.takes else _("Needs grid works")} for r in frame.itertuples()]
    return Table((Column("park", _("Park")), Column("feeder", _("Feeder")),
                  Column("capacity_kva", _("Capacity (kVA)"), "number"),
                  Column("areas_kva", _("Its transformer areas' peak (kVA)"), "number"),
                  Column("hv_applied_kva", _("High-voltage applications (kVA)"), "number"),
                  Column("spare_kva", _("Room left (kVA)"), "number"),
                  Column("park_kva", _("Park's projected load (kVA)"), "number"),
                  Column("takes", _("Takes it without grid works"))),
                 rows, _("No park with open cases near a feeder."))


def pipeline_figure(pipeline: pd.DataFrame) -> Figure:
    if not len(pipeline) or pipeline["n"].sum() == 0:
        return empty_figure(_("No park cases for your clients yet."))
    fig = new_figure([trace("funnel",
        y=[stage_label(m) if m != "applied" else _("Application filed") for m in pipeline["milestone"]],
        x=pipeline["n"].astype(int).tolist(), textinfo="value",
        customdata=[_num(v, 0) for v in pipeline["load_kw"]],
        hovertemplate="%{y}: %{x}<br>" + _("Projected load (kW)") + ": %{customdata}<extra></extra>",
        marker={"color": "#17becf"})])
    update_layout(fig, **figure_layout(yaxis={"automargin": True}))
    return fig


def load_unit(largest_kw: float) -> tuple[str, float]:
    """MW when the largest load reaches 1 MW, else kW; and the divisor from kW."""
    return ("MW", 1000.0) if largest_kw >= 1000 else ("kW", 1.0)


def load_text(kw: float, unit: str, divisor: float) -> str:
    """``12.5 MW``, ``0.4 MW``, ``850 kW``."""
    value = kw / divisor
    return f"{value:,.1f} {unit}" if unit == "MW" else f"{value:,.0f} {unit}"


def parks_figure(parks: pd.DataFrame) -> Figure:
    """The projected load of each park's open cases as labelled bars, the largest on top:
    the park's name on the axis, its load with the unit at the bar's end (MW from 1 MW up,
    else kW, one unit for all), the open cases on hover."""
    if not len(parks):
        return empty_figure(_("No open park cases with a projected load."), height=380)
    frame = parks.assign(load_kw=parks["load_kw"].fillna(0.0).astype(float)) \
        .sort_values(["load_kw", "park"], ascending=[False, True])
    unit, divisor = load_unit(float(frame["load_kw"].max()))
    values = [round(v / divisor, 3) for v in frame["load_kw"]]
    texts = [load_text(v, unit, divisor) for v in frame["load_kw"]]
    fig = new_figure([trace(
        "bar", orientation="h", y=frame["park"].tolist(), x=values, text=texts,
        textposition="outside", cliponaxis=False, marker_color="#17becf",
        customdata=frame["cases"].astype(int).tolist(), showlegend=False,
        hovertemplate="<b>%{y}</b><br>" + _("Projected load") + ": %{text}<br>"
        + _("Open cases") + ": %{customdata}<extra></extra>",
        name=_("Projected load"))])
    title = _("Projected load (MW)") if unit == "MW" else _("Projected load (kW)")
    update_layout(fig, **figure_layout(
        height=max(240, 90 + 34 * len(frame)),
        margin={"l": 16, "r": 72, "t": 36, "b": 48},  # room for the labels at the bars' ends
        xaxis={"title": {"text": title}, "rangemode": "tozero", "fixedrange": True},
        yaxis={"automargin": True, "autorange": "reversed", "fixedrange": True},
        bargap=0.35))
    return fig


def timeline_figure(frame: pd.DataFrame | None, code: str = "") -> Figure:
    """A park case's milestones and visits: planned (hollow) and done (filled)."""
    if frame is None or not len(frame):
        return empty_figure(_("Pick a case in the table to see its timeline."))
    names = [_("Visit") if w == "visit" else stage_label(w) for w in frame["what"]]
    planned = [format_local(p)[:10] if p is not None and not pd.isna(p) else None
               for p in frame["planned"]]
    done = [format_local(d)[:10] if d is not None and not pd.isna(d) else None
            for d in frame["done"]]
    fig = new_figure([
        trace("scatter", x=planned, y=names, mode="markers", name=_("Planned"),
                   marker={"symbol": "circle-open", "size": 12, "color": "#6c757d"}),
        trace("scatter", x=done, y=names, mode="markers", name=_("Reached"),
                   marker={"symbol": "circle", "size": 12, "color": "#2ca02c"}),
    ])
    update_layout(fig, **figure_layout(yaxis={"automargin": True, "autorange": "reversed"},
                                title={"text": code, "x": 0.01, "font": {"size": 13}},
                                margin={"l": 48, "r": 16, "t": 36, "b": 40}))
    return fig

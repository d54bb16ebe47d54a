"""Figures and tables of the operations board (station head)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from station_portal.i18n import _
from station_portal.labels import (
    AREA_TYPES,
    HOLDERS,
    ORDER_KINDS,
    SLA_STATUSES,
    label,
    stage_label,
    standing_text,
)
from station_portal.pages.charts.common import (
    DAY_AXIS,
    KIND_COLOURS,
    KIND_SIZES,
    SLA_COLOURS,
    STATUS_TABLES,
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
from station_portal.pages.maps import base_layout
from station_portal.sla.calendar import WorkCalendar
from station_portal.sla.clock import late_amount, left_amount
from station_portal.sla.rules import MINUTE, WORKDAY
from station_portal.timefmt import format_deadline, format_local


def at_risk_table(frame: pd.DataFrame, now: datetime, calendar: WorkCalendar | None = None
                  ) -> Table:
    """Open work at risk or overdue, each with its one figure: working days for an
    application's clocks, minutes for a repair's (``labels.standing_text``)."""
    calendar = calendar or WorkCalendar.default()
    rows = []
    for r in frame.itertuples():
        standing = ""
        if r.due_at is not None and not pd.isna(r.due_at):
            due = pd.Timestamp(r.due_at).to_pydatetime()
            unit = WORKDAY if r.kind == "application" else MINUTE
            standing = standing_text(unit, late_amount(unit, due, now, calendar),
                                     left_amount(unit, due, now, calendar))
        holder = r.holder if r.holder not in HOLDERS else label(HOLDERS, r.holder)
        rows.append({"code": r.code, "order_id": int(r.id), "kind": label(ORDER_KINDS, r.kind),
                     "status": stage_label(r.stage) if r.kind == "application" and r.stage
                     else status_label(r.kind, r.status),
                     "sla": label(SLA_STATUSES, r.sla), "due": format_deadline(r.due_at)
                     if r.due_at is not None and not pd.isna(r.due_at) else "",
                     "standing": standing, "holder": holder or "", "address": r.address})
    return Table((Column("code", _("Order")), Column("kind", _("Kind")),
                  Column("status", _("Status or stage")), Column("sla", _("Time limit")),
                  Column("due", _("Due at")), Column("standing", _("Left or overdue by")),
                  Column("holder", _("Held by")), Column("address", _("Address"))),
                 rows, _("Nothing is at risk or overdue right now."))


def orders_map(points: pd.DataFrame, locale: str, cells: bool = False,
               areas: Sequence[Any] = (), tiles: tuple[str, str] = ("", ""),
               outages: Sequence[Any] = ()) -> Figure:
    """Open orders on a map: one layer per kind (by marker size), coloured by time limit.

    With ``cells`` each point is a cell of about a kilometre holding ``n`` orders
    of one kind and state (a whole company's open work stays a few thousand
    markers). The legend explains both: the colours of the time-limit states,
    and the kinds (clicking a kind hides its layer). ``areas`` (territory
    features) are drawn underneath, for orientation; ``outages`` (``OutageRow``: running
    or starting within a day) as circles over their areas.
    """
    if not len(points):
        return empty_figure(_("No open work orders in your area."), height=420)
    fig = new_figure()
    if areas:
        fig["data"].append(trace(
            "choroplethmap", geojson={"type": "FeatureCollection", "features": [
                {"type": "Feature", "id": a.unit_id, "geometry": a.geometry, "properties": {}}
                for a in areas]},
            locations=[a.unit_id for a in areas], z=[1] * len(areas),
            colorscale=[[0, "#9ecae1"], [1, "#9ecae1"]], showscale=False,
            marker={"opacity": 0.25, "line": {"width": 1, "color": "#3182bd"}},
            text=[a.name(locale) for a in areas], hovertemplate="%{text}<extra></extra>",
            showlegend=False, name=_("Territories")))
    for kind in ("repair", "application", "park_case"):
        part = points[points["kind"] == kind]
        if not len(part):
            continue
        states = part["sla"].tolist()
        if cells:
            size = [min(KIND_SIZES[kind] + 4 * math.sqrt(n - 1), 40) for n in part["n"].tolist()]
            text = [_("Orders here: %(n)s", n=int(n)) for n in part["n"].tolist()]
        else:
            size = KIND_SIZES[kind]
            names = STATUS_TABLES.get(kind, {})
            text = [f"{code} · {label(names, st)}"
                    for code, st in zip(part["code"].tolist(), part["status"].tolist(),
                                        strict=True)]
        sla_names = {code: label(SLA_STATUSES, code) for code in set(states) if code}
        fig["data"].append(trace(
            "scattermap", lat=part["lat"].round(5).tolist(), lon=part["lon"].round(5).tolist(),
            mode="markers", name=label(ORDER_KINDS, kind), legendgroup=kind, showlegend=False,
            marker={"size": size, "color": [SLA_COLOURS.get(s, "#7f7f7f") for s in states],
                    "opacity": 0.85},
            text=text, customdata=[sla_names.get(s, "") for s in states],
            hovertemplate="<b>%{text}</b><br>%{customdata}<extra></extra>"))
    dark = [(o, a) for o in outages for a in o.areas]
    if dark:
        fig["data"].append(trace(
            "scattermap", lat=[round(a.lat, 5) for _o, a in dark],
            lon=[round(a.lon, 5) for _o, a in dark], mode="markers",
            name=_("Outage areas"), legendgroup="outages",
            marker={"size": [14 + min(16, math.sqrt(a.customers)) for _o, a in dark],
                    "color": ["#d62728" if o.status == "in_progress" else "#ff7f0e"
                              for o, _a in dark], "opacity": 0.35},
            text=[f"{o.code} · {a.name}" for o, a in dark],
            customdata=[f"{format_local(o.starts_at)} – {format_local(o.ends_at)}"
                        for o, _a in dark],
            hovertemplate="<b>%{text}</b><br>%{customdata}<extra></extra>"))
    # legend-only entries: the kinds in grey by size (a click hides the kind's layer, its
    # legend group), then what the colours mean
    for kind in [k for k in ("repair", "application", "park_case") if k in set(points["kind"])]:
        fig["data"].append(trace("scattermap", lat=[None], lon=[None], mode="markers",
                                 name=label(ORDER_KINDS, kind), legendgroup=kind,
                                 hoverinfo="skip",
                                 marker={"size": KIND_SIZES.get(kind, 9), "color": "#6c757d"}))
    for code in ("on_track", "at_risk", "overdue"):
        fig["data"].append(trace("scattermap", lat=[None], lon=[None], mode="markers",
                                 name=label(SLA_STATUSES, code), hoverinfo="skip",
                                 marker={"size": 10, "color": SLA_COLOURS[code]},
                                 legendgroup="sla"))
    update_layout(fig, **base_layout(list(zip(points["lon"], points["lat"], strict=True)), *tiles),
                  height=420)
    return fig


def status_bars(counts: pd.DataFrame) -> Figure:
    if not len(counts):
        return empty_figure(_("No open work orders in your area."))
    fig = new_figure()
    for kind, part in counts.groupby("kind", sort=False):
        fig["data"].append(trace("bar", y=[status_label(str(kind), s) for s in part["status"]],
                             x=part["n"].tolist(), orientation="h",
                             name=label(ORDER_KINDS, str(kind)),
                             marker_color=KIND_COLOURS.get(str(kind))))
    update_layout(fig, **figure_layout(barmode="stack", yaxis={"automargin": True},
                                xaxis={"title": {"text": _("Open orders")}}))
    return fig


def arrivals_figure(arrivals: pd.DataFrame) -> Figure:
    """Average arrival time per area type against its commitment (45/90/120 minutes)."""
    if not len(arrivals) or arrivals["done"].sum() == 0:
        return empty_figure(_("No crew arrived on site in this period."))
    names = [label(AREA_TYPES, a) for a in arrivals["area_type"]]
    on_time = [(d - late) / d * 100 if d else None
               for d, late in zip(arrivals["done"], arrivals["late"], strict=True)]
    fig = new_figure([
        trace("bar", x=names, y=[_num(v) for v in arrivals["avg_minutes"]], name=_("Average arrival (min)"),
               marker_color="#1f77b4",
               customdata=list(zip(arrivals["done"].astype(int), [_num(v) for v in on_time],
                                   strict=True)),
               hovertemplate="%{x}: %{y} " + _("min") + "<br>" + _("Arrivals") + ": %{customdata[0]}<br>"
               + _("On time") + ": %{customdata[1]} %<extra></extra>"),
        trace("scatter", x=names, y=arrivals["limit"].tolist(), mode="markers", name=_("Commitment (min)"),
                   marker={"symbol": "line-ew-open", "size": 40, "color": "#d62728",
                           "line": {"width": 3}}),
    ])
    update_layout(fig, **figure_layout(yaxis={"title": {"text": _("Minutes")}}))
    return fig


def received_bars(received: pd.DataFrame) -> Figure:
    if not len(received) or received["received"].sum() == 0:
        return empty_figure(_("No work orders were received in this period."))
    fig = new_figure()
    for kind, part in received.sort_values("day").groupby("kind", sort=False):
        fig["data"].append(trace("bar", x=[str(d) for d in part["day"]],
                                 y=part["received"].astype(int).tolist(),
                                 name=label(ORDER_KINDS, str(kind)),
                                 marker_color=KIND_COLOURS.get(str(kind))))
    update_layout(fig, **figure_layout(barmode="stack", yaxis={"title": {"text": _("Received")}},
                                 xaxis=DAY_AXIS))
    return fig

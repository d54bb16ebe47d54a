"""Dashboard figures and tables as pure functions: DataFrame in, figure or rows out.

Every builder takes the frames of ``analytics.dashboards`` and returns a
Plotly figure (or a :class:`Table`). A builder with nothing to show returns an
empty-state figure that says why, never a blank chart. Tested without a
browser in tests/unit/test_charts.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from station_portal.analytics.forecast import BASELINE, Forecast
from station_portal.i18n import _
from station_portal.labels import (
    APPLICATION_STATUSES,
    AREA_TYPES,
    CUSTOMER_CLASSES,
    HOLDERS,
    ORDER_KINDS,
    PARK_STATUSES,
    REPAIR_CATEGORIES,
    REPAIR_STATUSES,
    SLA_STATUSES,
    label,
    stage_label,
    standing_text,
)
from station_portal.pages.maps import base_layout
from station_portal.sla.calendar import WorkCalendar
from station_portal.sla.clock import late_amount, left_amount
from station_portal.sla.rules import MINUTE, WORKDAY
from station_portal.timefmt import format_deadline, format_local

SLA_COLOURS = {"on_track": "#2ca02c", "at_risk": "#ff9800", "overdue": "#d62728",
               "no_limit": "#7f7f7f", None: "#7f7f7f"}
KIND_COLOURS = {"repair": "#1f77b4", "application": "#9467bd", "park_case": "#17becf"}
KIND_SIZES = {"repair": 9, "application": 12, "park_case": 15}
STATUS_TABLES = {"repair": REPAIR_STATUSES, "application": APPLICATION_STATUSES,
                 "park_case": PARK_STATUSES}
RED_TO_GREEN = [[0, "#d73027"], [0.5, "#fee08b"], [1, "#1a9850"]]  # plotly.js has no "RdYlGn"
DAY_AXIS = {"type": "date", "tickformat": "%m-%d", "minor": {"dtick": 86400000.0}}
FONT = "system-ui, -apple-system, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif"


Figure = dict[str, Any]  # {"data": [trace, …], "layout": {…}}: what dcc.Graph takes


def trace(kind: str, **props: Any) -> dict[str, Any]:
    """A trace as a plain dict (plotly's graph objects validate every property: too slow for a
    dashboard that answers in milliseconds). ``marker_color`` style keys are nested."""
    out: dict[str, Any] = {"type": kind}
    for key, value in props.items():
        if "_" in key and key.split("_", 1)[0] in ("marker", "line"):
            outer, inner = key.split("_", 1)
            out.setdefault(outer, {})[inner] = value
        else:
            out[key] = value
    return out


def new_figure(traces: list[dict[str, Any]] | None = None) -> Figure:
    return {"data": list(traces or []), "layout": {}}


def update_layout(fig: Figure, **layout: Any) -> None:
    fig["layout"].update(layout)


def _layout(**extra: Any) -> dict[str, Any]:
    # the chart's toolbar sits in the top margin, not over the data
    base = {"margin": {"l": 48, "r": 16, "t": 36, "b": 40}, "font": {"family": FONT, "size": 12},
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "#ffffff",
            "legend": {"orientation": "h", "y": -0.18}, "uirevision": "keep", "height": 320}
    base.update(extra)
    return base


def empty_figure(message: str, height: int = 320) -> Figure:
    """A figure that explains why there is nothing to draw."""
    fig = new_figure()
    update_layout(fig, **_layout(height=height), xaxis={"visible": False},
                  yaxis={"visible": False}, annotations=[{
                          "text": message, "showarrow": False, "xref": "paper", "yref": "paper",
                          "x": 0.5, "y": 0.5, "font": {"size": 14, "color": "#6c757d"}}])
    return fig


def is_empty(fig: Figure) -> bool:
    return not fig["data"]


def is_figure(value: Any) -> bool:
    return isinstance(value, dict) and "data" in value and "layout" in value


def placeholder_figure(height: int = 320) -> Figure:
    """A blank chart of the given height: where a chart is drawn a moment later (the page
    below it does not move when it comes)."""
    fig = new_figure()
    update_layout(fig, **_layout(height=height), xaxis={"visible": False},
                  yaxis={"visible": False})
    return fig


def category_label(kind: str, code: str) -> str:
    if kind == "repair":
        return label(REPAIR_CATEGORIES, code)
    if kind == "application":
        return label(CUSTOMER_CLASSES, code)
    return label(ORDER_KINDS, kind)


def status_label(kind: str, code: str) -> str:
    return label(STATUS_TABLES.get(kind, {}), code)


def _pct(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(100 * float(value), 1)


def _num(value: Any, digits: int = 1) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), digits)


# -- tables ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    field: str
    header: str
    kind: str = "text"  # text | number | percent
    width: int | None = None  # narrowest it may get, in pixels (else the kind's default)
    pinned: bool = False  # stays at the left when the table scrolls sideways (phones)
    alert: str | None = None  # a row field that, when true, draws this cell in red


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    empty: str  # what to say when there are no rows

    def frame(self) -> pd.DataFrame:
        """The table as the user sees it (headers in their language), for Excel."""
        data = pd.DataFrame(self.rows, columns=[c.field for c in self.columns])
        return data.rename(columns={c.field: c.header for c in self.columns})


def column_defs(columns: Sequence[Column]) -> list[dict[str, Any]]:
    defs = []
    for c in columns:
        item: dict[str, Any] = {"field": c.field, "headerName": c.header}
        if c.kind == "text":
            item["flex"], item["minWidth"] = 2, 140  # names and addresses get the room
        if c.kind in ("number", "percent"):
            item["type"] = "rightAligned"
            item["minWidth"] = 130
            item["filter"] = "agNumberColumnFilter"
        if c.kind == "percent":
            item["cellClassRules"] = {"portal-sla-overdue": "params.value !== null && params.value < 90"}
        if c.width is not None:
            item["minWidth"] = c.width
            if c.width < 100:  # a narrow column's header keeps its room for the words
                item["suppressHeaderFilterButton"] = True
        if c.pinned:  # a pinned column does not flex: without a width it takes 200 px
            item["pinned"], item["width"] = "left", c.width or 140
        if c.alert is not None:
            item["cellClassRules"] = {"portal-sla-overdue": f"params.data && params.data.{c.alert} === true"}
        defs.append(item)
    return defs


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


def unit_workload_table(frame: pd.DataFrame) -> Table:
    rows = [{"unit": r.unit, "received": int(r.received), "closed": int(r.closed),
             "backlog": int(r.backlog), "overdue": int(r.overdue)} for r in frame.itertuples()]
    return Table((Column("unit", _("Grid or station")), Column("received", _("Received"), "number"),
                  Column("closed", _("Closed"), "number"),
                  Column("backlog", _("Open now"), "number"),
                  Column("overdue", _("Overdue now"), "number")),
                 rows, _("No work in this period."))


def crew_workload_table(frame: pd.DataFrame) -> Table:
    """Each crew's open jobs against what it can carry at once, first and overloaded crews on
    top (the cell turns red past the capacity), then the period's restored repairs; names
    last. Narrow columns, the crew pinned: the load stays in sight at 1366 px and on phones."""
    rows = [{"crew": r.crew, "open_jobs": int(r.open_jobs), "capacity": int(r.capacity),
             "overloaded": bool(r.open_jobs > r.capacity), "jobs": int(r.jobs),
             "site_hours": _num(r.site_hours), "per_job": _num(r.site_hours / r.jobs)
             if r.jobs else None, "group": r.group, "members": r.members}
            for r in frame.itertuples()]
    rows.sort(key=lambda r: (-(r["open_jobs"] / max(r["capacity"], 1)), -r["jobs"], r["crew"]))
    return Table((Column("crew", _("Crew"), width=150, pinned=True),  # "JL-CH-DSH-G1-C" in full
                  Column("open_jobs", _("Open jobs now"), "number", width=78, alert="overloaded"),
                  Column("capacity", _("Can carry"), "number", width=72),
                  Column("jobs", _("Repairs restored"), "number", width=100),
                  Column("site_hours", _("Hours on site"), "number", width=90),
                  Column("per_job", _("Hours per repair"), "number", width=90),
                  Column("group", _("Group or grid"), width=140),
                  Column("members", _("Members (★ leader)"), width=180)),
                 rows, _("No crews in your area."))


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


def compliance_table(frame: pd.DataFrame) -> Table:
    rows = [{"stage": stage_label(r.stage), "class": label(CUSTOMER_CLASSES, r.category),
             "done": int(r.done), "late": int(r.late), "on_time": _pct(r.on_time),
             "avg_used": _num(r.avg_used, 2)} for r in frame.itertuples()]
    return Table((Column("stage", _("Stage")), Column("class", _("Customer class")),
                  Column("done", _("Finished"), "number"), Column("late", _("Late"), "number"),
                  Column("on_time", _("Within the limit (%)"), "percent"),
                  Column("avg_used", _("Average working days"), "number")),
                 rows, _("No application stage finished in this period."))


# -- figures --------------------------------------------------------------------------------
def orders_map(points: pd.DataFrame, locale: str, cells: bool = False,
               areas: Sequence[Any] = (), tiles: tuple[str, str] = ("", "")) -> Figure:
    """Open orders on a map: one layer per kind (by marker size), coloured by time limit.

    With ``cells`` each point is a cell of about a kilometre holding ``n`` orders
    of one kind and state (a whole company's open work stays a few thousand
    markers). The legend explains both: the colours of the time-limit states,
    and the kinds (clicking a kind hides its layer). ``areas`` (territory
    features) are drawn underneath, for orientation.
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
    update_layout(fig, **_layout(barmode="stack", yaxis={"automargin": True},
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
    update_layout(fig, **_layout(yaxis={"title": {"text": _("Minutes")}}))
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
    update_layout(fig, **_layout(barmode="stack", yaxis={"title": {"text": _("Received")}},
                                 xaxis=DAY_AXIS))
    return fig


def per_day_figure(per_day: pd.DataFrame) -> Figure:
    """Orders per day, and the totals of the whole weeks (Monday to Sunday) in the period on a
    second axis, drawn over their seven days (a partial week would look like a quiet one)."""
    if not len(per_day) or per_day["received"].sum() == 0:
        return empty_figure(_("No work orders were received in this period."))
    days = pd.to_datetime(per_day["day"])
    weeks = per_day.assign(week=(days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.date) \
        .groupby("week", as_index=False).agg(received=("received", "sum"), days=("day", "count"))
    weeks = weeks[weeks["days"] == 7]
    xs, ys = [], []
    for week, total in zip(weeks["week"], weeks["received"].astype(int), strict=True):
        xs += [str(week), str(week + pd.Timedelta(days=6)), None]
        ys += [int(total), int(total), None]
    fig = new_figure([
        trace("bar", x=[str(d) for d in per_day["day"]], y=per_day["received"].astype(int).tolist(),
              name=_("Per day"), marker_color="#1f77b4"),
        trace("scatter", x=xs, y=ys, name=_("Per week (from Monday)"), mode="lines", yaxis="y2",
              line={"color": "#ff7f0e", "width": 3}),
    ])
    update_layout(fig, **_layout(
        yaxis={"title": {"text": _("Per day")}, "rangemode": "tozero"},
        yaxis2={"title": {"text": _("Per week")}, "overlaying": "y", "side": "right",
                "rangemode": "tozero", "tickformat": ",d", "showgrid": False},
        xaxis=DAY_AXIS))
    return fig


def forecast_names(forecast: Forecast) -> tuple[str, str, str]:
    """The drawn line's name, its band's, and the chart's note of which line it is."""
    coverage = (_("80 %% band (held %(n)s %% of held-out days)", n=round(100 * forecast.coverage))
                if forecast.coverage is not None else _("80 % band"))
    if forecast.drawn == BASELINE:
        return (_("Forecast: four-week average"), coverage,
                _("Drawn: the plain four-week average, better than the model on the held-out weeks"))
    if forecast.weekly_mape is None:
        return _("Forecast: model"), coverage, _("Drawn: the model (not yet tested on held-out weeks)")
    return (_("Forecast: model"), coverage,
            _("Drawn: the model, better than the plain four-week average on the held-out weeks"))


def year_figure(year: pd.DataFrame, forecast: Forecast) -> Figure:
    """The last year per day, its 7-day mean, and the next four weeks with an 80 % band: the
    model's line or the plain four-week average's, whichever did better on held-out weeks
    (the chart says which, and how much of the held-out days the band held)."""
    if not len(year) or year["received"].sum() == 0:
        return empty_figure(_("Not enough history for a trend yet."))
    days = [str(d) for d in year["day"]]
    mean7 = year["received"].rolling(7, min_periods=1).mean().round(2).tolist()
    traces = [
        trace("scatter", x=days, y=year["received"].astype(int).tolist(), name=_("Per day"),
                   mode="lines", line={"color": "#9ecae1", "width": 1}),
        trace("scatter", x=days, y=mean7, name=_("7-day mean"), mode="lines",
                   line={"color": "#1f77b4", "width": 2}),
    ]
    layout: dict[str, Any] = {}
    if forecast.days:
        line_name, band_name, drawn = forecast_names(forecast)
        f_days = [d.isoformat() for d in forecast.days]
        traces += [
            trace("scatter", x=f_days + f_days[::-1], y=[round(v, 2) for v in forecast.high]
                       + [round(v, 2) for v in forecast.low[::-1]], fill="toself",
                       fillcolor="rgba(255,127,14,0.2)", line={"width": 0}, hoverinfo="skip",
                       name=band_name),
            trace("scatter", x=f_days, y=[round(v, 2) for v in forecast.mean], name=line_name,
                       mode="lines", line={"color": "#ff7f0e", "width": 2, "dash": "dot"}),
        ]
        # top left: the chart's toolbar sits at the top right
        layout["annotations"] = [{"text": drawn, "showarrow": False, "xref": "paper",
                                  "yref": "paper", "x": 0, "y": 1.02, "xanchor": "left",
                                  "yanchor": "bottom", "font": {"size": 11, "color": "#6c757d"}}]
    fig = new_figure(traces)
    update_layout(fig, **_layout(yaxis={"title": {"text": _("Orders per day")}}, height=340,
                                 **layout))
    return fig


def forecast_note(forecast: Forecast) -> str:
    """Which line is drawn and why, how good both were, and what the band held, in words."""
    if not forecast.days:
        return _("Not enough history for a forecast yet.")
    if forecast.drawn == BASELINE:
        method = _("Forecast drawn: the plain four-week average (every coming day like the "
                   "average day of the last four weeks), because it did better than the model "
                   "(the mean of the last four weeks, a damped trend and each weekday's share "
                   "of the week) on the held-out weeks.")
    else:
        method = _("Forecast drawn: the model, the mean of the last four weeks, a damped trend "
                   "and each weekday's share of the week.")
    band = _("The band is calibrated on the forecasts' past misses to hold 80 % of the days.")
    if forecast.weekly_mape is None:
        return " ".join([method, band, _("Too little history to test it on held-out weeks yet.")])
    mape = round(forecast.weekly_mape)
    naive = round(forecast.naive_mape) if forecast.naive_mape is not None else "–"
    accuracy = _("On the last %(weeks)s held-out weeks the model was off by %(mape)s %% per "
                 "week, the plain four-week average by %(naive)s %%.",
                 weeks=forecast.holdout_weeks, mape=mape, naive=naive)
    coverage = _("Calibrated on the weeks before each of them, the band held %(coverage)s %% "
                 "of the %(days)s held-out days (aim: %(nominal)s %%).",
                 coverage=round(100 * (forecast.coverage or 0)), days=7 * forecast.holdout_weeks,
                 nominal=round(100 * forecast.nominal))
    return " ".join([method, accuracy, band, coverage])


def category_figure(by_category: pd.DataFrame) -> Figure:
    if not len(by_category) or (by_category["received"].sum() == 0
                                and by_category["overdue"].sum() == 0):
        return empty_figure(_("No work orders were received in this period."))
    frame = by_category[(by_category["received"] > 0) | (by_category["overdue"] > 0)] \
        .sort_values("received")
    # "Repair · Low voltage" next to "Connection application · LV resident": never ambiguous
    names = [f"{label(ORDER_KINDS, k)} · {category_label(k, c)}" if k != "park_case"
             else label(ORDER_KINDS, k)
             for k, c in zip(frame["kind"], frame["category"], strict=True)]
    fig = new_figure([
        trace("bar", y=names, x=frame["received"].astype(int).tolist(), orientation="h",
               name=_("Received"), marker_color="#1f77b4"),
        trace("bar", y=names, x=frame["overdue"].astype(int).tolist(), orientation="h",
               name=_("Overdue now"), marker_color="#d62728"),
    ])
    update_layout(fig, **_layout(barmode="group", yaxis={"automargin": True}))
    return fig


def pipeline_figure(pipeline: pd.DataFrame) -> Figure:
    if not len(pipeline) or pipeline["n"].sum() == 0:
        return empty_figure(_("No park cases for your clients yet."))
    fig = new_figure([trace("funnel",
        y=[stage_label(m) if m != "applied" else _("Application filed") for m in pipeline["milestone"]],
        x=pipeline["n"].astype(int).tolist(), textinfo="value",
        customdata=[_num(v, 0) for v in pipeline["load_kw"]],
        hovertemplate="%{y}: %{x}<br>" + _("Projected load (kW)") + ": %{customdata}<extra></extra>",
        marker={"color": "#17becf"})])
    update_layout(fig, **_layout(yaxis={"automargin": True}))
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
    update_layout(fig, **_layout(
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
    update_layout(fig, **_layout(yaxis={"automargin": True, "autorange": "reversed"},
                                title={"text": code, "x": 0.01, "font": {"size": 13}},
                                margin={"l": 48, "r": 16, "t": 36, "b": 40}))
    return fig


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
    update_layout(fig, **_layout(yaxis={"automargin": True}, height=360))
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
    update_layout(fig, **_layout(barmode="group", yaxis={"title": {"text": _("Working days")}}))
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
    update_layout(fig, **_layout(xaxis={"title": {"text": _("Working days past the limits")}},
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
    update_layout(fig, **_layout(barmode="group", yaxis={"title": {"text": _("Minutes")}}))
    return fig

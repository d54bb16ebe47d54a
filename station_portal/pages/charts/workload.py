"""Figures and tables of the workload board (grid manager)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from station_portal.analytics.forecast import BASELINE, Forecast
from station_portal.i18n import _
from station_portal.labels import (
    ORDER_KINDS,
    label,
)
from station_portal.pages.charts.common import (
    DAY_AXIS,
    Column,
    Figure,
    Table,
    _num,
    category_label,
    empty_figure,
    figure_layout,
    new_figure,
    trace,
    update_layout,
)


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
    update_layout(fig, **figure_layout(
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
    update_layout(fig, **figure_layout(yaxis={"title": {"text": _("Orders per day")}}, height=340,
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
    update_layout(fig, **figure_layout(barmode="group", yaxis={"automargin": True}))
    return fig

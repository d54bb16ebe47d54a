"""The hall dashboard's figures and tables as pure functions (DataFrame in, figure out).

Frames come from ``hall.stats``; figures are plain dicts (see pages/charts/common.py). A
builder with nothing to draw returns a figure that says why.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from station_portal.hall.catalog import load_catalog
from station_portal.i18n import _
from station_portal.pages.charts.common import FONT, Figure, empty_figure, new_figure, trace, update_layout

LEVEL_COLOURS = {"A": "#0b5394", "B": "#6aa84f", "C": "#e69138", "D": "#8e7cc3"}
OK, WARN, BAD = "#2ca02c", "#ff9800", "#d62728"


def _layout(**extra: Any) -> dict[str, Any]:
    base = {"margin": {"l": 48, "r": 16, "t": 36, "b": 40}, "font": {"family": FONT, "size": 12},
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "#ffffff",
            "legend": {"orientation": "h", "y": -0.2}, "uirevision": "keep", "height": 300}
    base.update(extra)
    return base


def peak_hours_figure(hourly: pd.DataFrame, opens: int = 8, closes: int = 18) -> Figure:
    """Tickets taken per hour of the day; the busiest hour stands out."""
    if hourly.empty or int(hourly["tickets"].sum()) == 0:
        return empty_figure(_("No tickets on this day."), height=300)
    first = min(opens, int(hourly["hour"].min()))
    last = max(closes, int(hourly["hour"].max()))
    counts = hourly.set_index("hour")["tickets"].reindex(range(first, last + 1), fill_value=0)
    peak = int(counts.max())
    colours = [BAD if v == peak else "#5b8fd1" for v in counts]
    fig = new_figure([trace("bar", x=[f"{h:02d}:00" for h in counts.index],
                            y=[int(v) for v in counts], marker_color=colours,
                            name=_("Tickets"), hovertemplate="%{x}: %{y}<extra></extra>")])
    update_layout(fig, **_layout(yaxis={"title": {"text": _("Tickets")}, "rangemode": "tozero"},
                                 showlegend=False))
    return fig


def service_figure(business: pd.DataFrame) -> Figure:
    """Average service minutes per business against its standard, coloured by the share
    that kept the standard."""
    rows = business[business["done"] > 0] if not business.empty else business
    if rows.empty:
        return empty_figure(_("No finished services in this period."), height=300)
    catalog = load_catalog()
    names = [catalog.business(c).name() if catalog.business(c) else c for c in rows["business"]]
    colours = []
    texts = []
    for share in rows["within_share"]:
        if share is None or pd.isna(share):
            colours.append("#7f7f7f")
            texts.append(_("no standard"))
        else:
            colours.append(OK if share >= 0.9 else WARN if share >= 0.75 else BAD)
            texts.append(_("%(p)s%% within", p=round(100 * share)))
    traces = [trace("bar", x=names, y=list(rows["avg_service_min"]), marker_color=colours,
                    text=texts, textposition="outside", name=_("Average service (min)"),
                    hovertemplate="%{x}: %{y} min<extra></extra>")]
    standard = rows["standard_minutes"]
    if standard.notna().any():
        traces.append(trace("scatter", x=names, y=[None if pd.isna(s) else float(s) for s in standard],
                            mode="markers", name=_("Standard (min)"),
                            marker_symbol="line-ew-open", marker_size=36, marker_color="#222",
                            marker_line={"width": 3}))
    fig = new_figure(traces)
    update_layout(fig, **_layout(yaxis={"title": {"text": _("Minutes")}, "rangemode": "tozero"}))
    return fig


def seasons_figure(weekly: pd.DataFrame) -> Figure:
    """Tickets per week over the last twelve months, one line per hall level."""
    if weekly.empty:
        return empty_figure(_("No tickets in the last twelve months."), height=300)
    traces = []
    for level in sorted(weekly["level"].unique()):
        part = weekly[weekly["level"] == level].sort_values("week")
        traces.append(trace("scatter", mode="lines", x=[str(w) for w in part["week"]],
                            y=[int(v) for v in part["tickets"]],
                            name=_("Level %(level)s halls", level=level),
                            line_color=LEVEL_COLOURS.get(level, "#444"), line_width=2))
    fig = new_figure(traces)
    update_layout(fig, **_layout(xaxis={"type": "date", "tickformat": "%Y-%m"},
                                 yaxis={"title": {"text": _("Tickets per week")},
                                        "rangemode": "tozero"}))
    return fig


def _fmt(value: Any, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return f"{value}{suffix}"


def _pct(share: Any) -> str:
    if share is None or (isinstance(share, float) and pd.isna(share)):
        return "–"
    return f"{round(100 * float(share))} %"


def hall_table_rows(rows: pd.DataFrame) -> list[tuple[Any, ...]]:
    """The by-hall table: hall, level, waiting, average and longest wait, served, average
    service and the share within the standard."""
    if rows.empty:
        return []
    return [(r.name, r.level, int(r.waiting), _fmt(r.avg_wait_min), _fmt(r.longest_wait_min),
             int(r.done), _fmt(r.avg_service_min), _pct(r.within_share))
            for r in rows.itertuples(index=False)]


def level_table_rows(rows: pd.DataFrame) -> list[tuple[Any, ...]]:
    if rows.empty:
        return []
    return [(_("Level %(level)s", level=r.level), int(r.halls), int(r.waiting),
             _fmt(r.avg_wait_min), _fmt(r.longest_wait_min), int(r.done), _fmt(r.avg_service_min),
             _pct(r.within_share)) for r in rows.itertuples(index=False)]


def table_headers() -> list[str]:
    return [_("Waiting now"), _("Average wait (min)"), _("Longest wait (min)"), _("Served"),
            _("Average service (min)"), _("Within standard")]

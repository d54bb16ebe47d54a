"""Map figures (pure functions): territories and points on a blank base.

The base is MapLibre's empty "white-bg" style, so maps work without internet
access; a deployment with its own tile server (or Tianditu) sets
``PORTAL_TILE_URL`` and the tiles are drawn under the territories. Labels are
hover texts, not map symbols, because symbols would need a glyph server.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from station_portal.i18n import _
from station_portal.labels import AREA_TYPES, UNIT_KINDS, label
from station_portal.org.queries import TerritoryFeature
from station_portal.pages.ui import plotly_text

AREA_COLOURS = {"urban": "#1f77b4", "rural": "#2ca02c", "remote": "#ff7f0e"}
SELECTED_COLOUR = "#d62728"
GRAPH_CONFIG = {
    "displaylogo": False,
    "scrollZoom": True,
    "toImageButtonOptions": {"format": "png", "scale": 2},
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "sendChartToCloud"],
}


def _coords(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    polys = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [tuple(pt) for poly in polys for ring in poly for pt in ring]


def view_of(points: Sequence[tuple[float, float]], width_px: int = 640,
            height_px: int = 420) -> tuple[dict[str, float], float]:
    """Centre and zoom that fit lon/lat ``points`` in a map of about the given size.

    At zoom z the (512-pixel-tile) world is 512·2^z pixels wide; near the
    centre a degree of latitude is 1/cos(lat) times longer than one of longitude.
    """
    if not points:
        return {"lat": 43.84, "lon": 126.55}, 8.0
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    centre = {"lat": (max(lats) + min(lats)) / 2, "lon": (max(lons) + min(lons)) / 2}
    lon_span = max(max(lons) - min(lons), 1e-4)
    lat_span = max(max(lats) - min(lats), 1e-4) / math.cos(math.radians(centre["lat"]))
    zoom = min(math.log2(width_px * 360 / (512 * lon_span)),
               math.log2(height_px * 360 / (512 * lat_span)))
    return centre, round(max(1.0, min(15.0, zoom - 0.6)), 2)  # margin for the legend


def base_layout(points: Sequence[tuple[float, float]], tile_url: str = "",
                attribution: str = "") -> dict[str, Any]:
    centre, zoom = view_of(points)
    layers = []
    if tile_url:
        layers.append({"below": "traces", "sourcetype": "raster", "source": [tile_url],
                       "sourceattribution": attribution})
    return {
        "map": {"style": "white-bg", "center": centre, "zoom": zoom, "layers": layers},
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 0.01, "x": 0.01,
                   "bgcolor": "rgba(255,255,255,0.85)"},
        "uirevision": "keep",  # zoom and pan survive data updates
        "paper_bgcolor": "#eef2f5",
    }


def empty_map(message: str) -> go.Figure:
    """A blank map with a message in the middle (no territory to show)."""
    fig = go.Figure(go.Scattermap())
    fig.update_layout(**base_layout([]))
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       bgcolor="rgba(255,255,255,0.9)")
    return fig


def _polygons(features: Sequence[TerritoryFeature], colour: str, **trace: Any) -> go.Choroplethmap:
    """One single-colour layer of territories."""
    return go.Choroplethmap(
        geojson={"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": f.unit_id, "geometry": f.geometry, "properties": {}}
            for f in features]},
        locations=[f.unit_id for f in features],
        z=[1] * len(features),
        colorscale=[[0, colour], [1, colour]],
        showscale=False,
        **trace,
    )


def territory_figure(
    features: Sequence[TerritoryFeature],
    *,
    locale: str,
    selected_ids: set[int] | None = None,
    tile_url: str = "",
    attribution: str = "",
) -> go.Figure:
    """Territories coloured by area type; the selected units outlined in red."""
    fig = go.Figure()
    selected_ids = selected_ids or set()
    for area in ("urban", "rural", "remote"):
        group = [f for f in features if (f.area_type or "urban") == area]
        if not group:
            continue
        fig.add_trace(_polygons(
            group, AREA_COLOURS[area],
            marker={"opacity": 0.35, "line": {"width": 1, "color": "#ffffff"}},
            name=label(AREA_TYPES, area),
            showlegend=True,
            customdata=[label(UNIT_KINDS, f.kind) for f in group],
            text=plotly_text([f.name(locale) for f in group]),
            hovertemplate="<b>%{text}</b><br>%{customdata}<extra></extra>",
        ))
    chosen = [f for f in features if f.unit_id in selected_ids]
    if chosen:
        fig.add_trace(_polygons(
            chosen, SELECTED_COLOUR,
            marker={"opacity": 0.15, "line": {"width": 3, "color": SELECTED_COLOUR}},
            name=_("Selected"),
            hoverinfo="skip",
        ))
    offices = [f for f in features if f.lat is not None and f.lon is not None]
    if offices:
        fig.add_trace(go.Scattermap(
            lat=[f.lat for f in offices], lon=[f.lon for f in offices], mode="markers",
            marker={"size": 9, "color": "#333333"},
            text=plotly_text([f.name(locale) for f in offices]),
            hovertemplate="<b>%{text}</b><extra></extra>",
            name=_("Offices and grid centres"),
        ))
    points = [p for f in (chosen or features) for p in _coords(f.geometry)]
    fig.update_layout(**base_layout(points, tile_url, attribution))
    return fig

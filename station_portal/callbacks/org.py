"""Organisation page: the tree, the selected unit and the map, all from scoped queries."""

from __future__ import annotations

import plotly.graph_objects as go
from dash import Dash, Input, Output

from station_portal.auth.roles import ALL_STAFF
from station_portal.callbacks._secure import secure_callback
from station_portal.i18n import _, get_locale
from station_portal.org import queries
from station_portal.org.tree import ancestor_ids
from station_portal.pages import org, shell
from station_portal.pages.maps import base_layout, territory_figure
from station_portal.pages.ui import out_of_scope
from station_portal.web.context import portal, read_session, signed_in_user


def empty_map(message: str) -> go.Figure:
    fig = go.Figure(go.Scattermap())
    fig.update_layout(**base_layout([]))
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       bgcolor="rgba(255,255,255,0.9)")
    return fig


def register(app: Dash) -> None:
    @secure_callback(
        app,
        Output(org.TREE, "children"), Output(org.DETAILS, "children"), Output(org.MAP, "figure"),
        Input(shell.URL, "search"), roles=ALL_STAFF,
    )
    def show_unit(search: str | None):
        user = signed_in_user()
        session, scope, locale = read_session(), user.scope(), get_locale()
        requested = org.selected_unit(search)
        selected = requested if requested is not None else \
            (scope.root_unit_ids[0] if scope.root_unit_ids else None)
        tree = org.tree_component(queries.unit_tree(session, scope), selected, locale)

        summary = queries.unit_summary(session, scope, selected) if selected else None
        if summary is None:
            details = out_of_scope() if requested is not None else None
            selected = None
        else:
            details = org.details_component(
                summary, queries.staff_rows(session, scope, summary.id),
                queries.crew_rows(session, scope, summary.id), locale)

        features = queries.territories(session, scope)
        if not features:
            return tree, details, empty_map(_("No territory in your area."))
        highlight: set[int] = set()
        if selected is not None:
            highlight = {f.unit_id for f in features if f"/{selected}/" in f.path}
            if not highlight and summary is not None:
                # A group has no territory: outline the station that holds it.
                ancestors = set(ancestor_ids(summary.path))
                highlight = {f.unit_id for f in features if f.unit_id in ancestors}
            if len(highlight) == len(features):
                highlight = set()  # everything selected: outlining it all says nothing
        cfg = portal().config
        figure = territory_figure(features, locale=locale, selected_ids=highlight,
                                  tile_url=cfg.tile_url, attribution=cfg.tile_attribution)
        return tree, details, figure

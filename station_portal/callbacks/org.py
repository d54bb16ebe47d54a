"""Organisation page: a click in the tree (a new ``?unit=``) redraws the tree, the selected
unit and the map, all from scoped queries.

The first load needs no callback: the page's layout arrives filled (``pages/org.py``).
"""

from __future__ import annotations

from dash import Dash, Input, Output

from station_portal.auth.roles import ALL_STAFF
from station_portal.callbacks._secure import secure_callback
from station_portal.i18n import get_locale
from station_portal.pages import org, shell
from station_portal.web.context import read_session, signed_in_user


def register(app: Dash) -> None:
    @secure_callback(
        app,
        Output(org.TREE, "children"), Output(org.DETAILS, "children"), Output(org.MAP, "figure"),
        Input(shell.URL, "search"), roles=ALL_STAFF,
        prevent_initial_call=True,  # the layout already shows the unit in the address
    )
    def show_unit(search: str | None):
        return org.unit_view(read_session(), signed_in_user().scope(), org.selected_unit(search),
                             get_locale())

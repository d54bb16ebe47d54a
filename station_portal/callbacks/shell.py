"""The frame: page routing, the phone menu toggle, the language switch."""

from __future__ import annotations

from urllib.parse import parse_qs

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, html, no_update

from station_portal.auth.roles import ALL_STAFF
from station_portal.callbacks._secure import clientside_callback, secure_callback
from station_portal.i18n import _
from station_portal.pages import account, resolve, shell
from station_portal.pages.ui import page_header
from station_portal.services.users import set_locale
from station_portal.validate import text
from station_portal.web.context import signed_in_user, write_session


def not_found() -> html.Div:
    return html.Div([
        page_header(_("Page not found")),
        dbc.Alert([_("There is no page at this address. "), html.A(_("Go to the start page"),
                                                                   href="/")], color="info"),
    ], id="page-not-found")


def forbidden() -> html.Div:
    return html.Div([
        page_header(_("Not for your role")),
        dbc.Alert([html.I(className="bi bi-shield-lock me-2"),
                   _("Your role may not open this page.")], color="warning"),
    ], id="page-forbidden")


def register(app: Dash) -> None:
    @secure_callback(app, Output(shell.PAGE, "children"), Input(shell.URL, "pathname"),
                     State(shell.URL, "search"), roles=ALL_STAFF, before_password_change=True)
    def route(pathname: str | None, search: str | None):
        user = signed_in_user()
        page = account.PAGE if user.must_change_password else resolve(text(pathname))
        if page is None:
            return not_found()
        if user.role not in page.roles:
            return forbidden()
        query = {k: v[0] for k, v in parse_qs(text(search, 2000).lstrip("?")).items() if v}
        return page.layout(user, query)

    @secure_callback(app, Output(shell.NAV_COLLAPSE, "is_open"),
                     Input(shell.NAV_TOGGLE, "n_clicks"), State(shell.NAV_COLLAPSE, "is_open"),
                     roles=ALL_STAFF, before_password_change=True, prevent_initial_call=True)
    def toggle_menu(_clicks: int | None, is_open: bool | None):
        return is_open is not True

    @secure_callback(app, Output(shell.RELOAD, "data"),
                     [Input(button, "n_clicks") for button in shell.LANG_BUTTONS.values()],
                     roles=ALL_STAFF, before_password_change=True, prevent_initial_call=True)
    def switch_language(*clicks):
        chosen = next((code for code, button in shell.LANG_BUTTONS.items()
                       if button == ctx.triggered_id), None)
        if chosen is None or not any(clicks):
            return no_update
        user = signed_in_user()
        with write_session() as session:
            return set_locale(session, user.model(session), chosen)

    # Each page titles its browser tab: "Dispatch · Station Portal".
    clientside_callback(
        app,
        "function(path, titles) { titles = titles || {}; "
        "var key = (path || '/').replace(/\\/+$/, '') || '/'; "
        "var brand = titles['" + shell.BRAND + "'] || ''; "
        "document.title = titles[key] ? titles[key] + ' · ' + brand : brand; "
        "return window.dash_clientside.no_update; }",
        Output(shell.TITLED, "data"), Input(shell.URL, "pathname"), State(shell.TITLES, "data"),
    )

    # The whole page is rebuilt in the new language.
    clientside_callback(
        app,
        "function(locale) { if (locale) { window.location.reload(); } "
        "return window.dash_clientside.no_update; }",
        Output(shell.RELOADED, "data"), Input(shell.RELOAD, "data"), prevent_initial_call=True,
    )

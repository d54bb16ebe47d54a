"""My account: change password, choose the language, see one's own scope."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, html, no_update

from station_portal.auth.roles import ALL_STAFF
from station_portal.auth.signin import ThrottlePolicy
from station_portal.callbacks._secure import secure_callback
from station_portal.errors import ValidationFailed
from station_portal.i18n import _, get_locale
from station_portal.labels import ROLES, UNIT_KINDS, label
from station_portal.org.queries import own_profile
from station_portal.pages import account as page
from station_portal.pages import shell
from station_portal.pages.ui import feedback
from station_portal.services.users import change_own_password, set_locale
from station_portal.web.context import (
    client_ip,
    portal,
    read_session,
    signed_in_user,
    write_session,
)


def register(app: Dash) -> None:
    @secure_callback(app, Output(page.PROFILE, "children"), Input(page.LOAD, "data"),
                     roles=ALL_STAFF, before_password_change=True)
    def profile(_id: Any):
        user = signed_in_user()
        scope, locale = user.scope(), get_locale()
        mine = own_profile(read_session(), scope)
        if scope.is_global:
            area = _("The whole company")
        elif mine.roots:
            area = "、".join(f"{u.name(locale)} ({label(UNIT_KINDS, u.kind)})" for u in mine.roots)
        else:
            area = _("No unit assigned")
        staff = mine.staff_name(locale) or "–"
        clients = len(scope.client_ids) if scope.client_ids is not None else _("all")
        return html.Dl([
            html.Dt(_("Role")), html.Dd(label(ROLES, user.role)),
            html.Dt(_("Area")), html.Dd(area, id="account-area"),
            html.Dt(_("Clients")), html.Dd(str(clients)),
            html.Dt(_("Staff record")), html.Dd(staff),
        ], className="mb-0")

    @secure_callback(app, Output(page.FEEDBACK, "children"), Output(page.CURRENT, "invalid"),
                     Output(f"{page.CURRENT}-error", "children"), Output(page.NEW, "invalid"),
                     Output(f"{page.NEW}-error", "children"), Output(page.CURRENT, "value"),
                     Output(page.NEW, "value"), Output(page.REPEAT, "value"),
                     Input(page.CHANGE, "n_clicks"), State(page.CURRENT, "value"),
                     State(page.NEW, "value"), State(page.REPEAT, "value"),
                     roles=ALL_STAFF, before_password_change=True, prevent_initial_call=True)
    def change_password(_clicks: Any, current: Any, new: Any, repeat: Any):
        user = signed_in_user()
        if not isinstance(new, str) or new != repeat:
            return (None, False, "", True, _("The two new passwords differ."), no_update,
                    no_update, "")
        with write_session() as session:
            problems = change_own_password(
                session, user.model(session), current, new,
                allow_demo_password=portal().config.is_demo, keep_session=user.get_id(),
                policy=ThrottlePolicy.from_config(portal().config), ip=client_ip())
        if problems:
            return (None, "current" in problems, problems.get("current", ""),
                    "new" in problems, problems.get("new", ""), "", "", "")
        done = feedback([_("Your password is changed. "),
                         html.A(_("Continue to the start page"), href="/")],
                        "success", id_="account-changed")
        return (done, False, "", False, "", "", "", "")

    @secure_callback(app, Output(shell.RELOAD, "data", allow_duplicate=True),
                     Input(page.LANGUAGE_SAVE, "n_clicks"), State(page.LANGUAGE, "value"),
                     roles=ALL_STAFF, before_password_change=True, prevent_initial_call=True)
    def choose_language(clicks: Any, locale: Any):
        if not clicks:  # Dash may fire it when the page's pattern-matched parts render
            return no_update
        user = signed_in_user()
        try:
            with write_session() as session:
                return set_locale(session, user.model(session), locale)
        except ValidationFailed:
            return None

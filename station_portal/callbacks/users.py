"""User administration: list, edit, create, disable/enable, reset password."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from station_portal.auth.models import User
from station_portal.auth.queries import account
from station_portal.auth.roles import ADMIN_ONLY, SCOPE_UNIT_KINDS, Role, parse_role
from station_portal.callbacks._secure import secure_callback
from station_portal.config import Config
from station_portal.errors import Conflict, PortalError, ValidationFailed
from station_portal.i18n import _, get_locale
from station_portal.labels import POSITIONS, UNIT_KINDS, label
from station_portal.org.queries import account_choices
from station_portal.pages import users as page
from station_portal.pages.ui import error_text, feedback
from station_portal.services.users import (
    UserInput,
    create_user,
    list_users,
    reset_password,
    set_active,
    update_user,
)
from station_portal.timefmt import format_local
from station_portal.validate import as_id, mapping, text
from station_portal.web.context import (
    client_ip,
    portal,
    read_session,
    signed_in_user,
    write_session,
)

FORM = [
    (page.EDITOR_TITLE, "children"), (page.EDITING, "data"),
    (page.F_USERNAME, "value"), (page.F_USERNAME, "disabled"), (page.F_DISPLAY, "value"),
    (page.F_ROLE, "value"), (page.F_SCOPE, "value"), (page.F_CLIENTS, "value"),
    (page.F_STAFF, "value"), (page.F_EMAIL, "value"), (page.F_PASSWORD, "value"),
    (page.PASSWORD_ROW, "hidden"), (page.ACTIONS_ROW, "hidden"), (page.TOGGLE, "children"),
]
# What the chosen role decides: the areas on offer, whether clients are asked for …
OPTIONS = [
    (page.F_SCOPE, "options"), (page.F_SCOPE, "disabled"), (page.SCOPE_HELP, "children"),
    (page.CLIENTS_ROW, "hidden"), (page.F_CLIENTS, "options"), (page.F_STAFF, "options"),
]
ERRORS = [(page.error_id(fid), "children") for fid in page.FIELDS.values()]
INVALID = [(fid, "invalid") for fid in page.INVALIDATABLE]


def _outputs(pairs: list[tuple[str, str]], duplicate: bool) -> list[Output]:
    return [Output(cid, prop, allow_duplicate=duplicate) for cid, prop in pairs]


def role_options(role_value: Any) -> list[Any]:
    """Values for OPTIONS, for a role."""
    role = parse_role(role_value)
    locale = get_locale()
    kinds = tuple(k.value for k in SCOPE_UNIT_KINDS[role]) if role else ()
    choices = account_choices(read_session(), signed_in_user().scope(), kinds)
    units = [{"label": f"{zh if locale.startswith('zh') else en} · {label(UNIT_KINDS, kind)}",
              "value": uid} for uid, kind, zh, en in choices.units]
    help_text = {
        Role.ADMIN: _("Administrators see everything."),
        Role.COMPANY_MANAGER: _("The city company for all of it, or one county company."),
        Role.STATION_HEAD: _("The service station this head runs."),
        Role.GRID_MANAGER: _("A supply office with all its grids, or a single grid."),
        Role.ACCOUNT_MANAGER: _("Account managers see the clients chosen below."),
        Role.CREW: _("Crew members see their own crew and orders."),
        Role.CLERK: _("The service station or supply office whose halls this clerk serves."),
    }.get(role, "")
    clients = [{"label": f"{c.name(locale)} ({c.code})", "value": c.id} for c in choices.clients]
    staff = [{"label": f"{s.name(locale)} · {label(POSITIONS, s.position)} · {s.unit(locale)}",
              "value": s.id} for s in choices.staff]
    return [units, not kinds, help_text, role is not Role.ACCOUNT_MANAGER, clients, staff]


def form_state(user: User | None) -> list[Any]:
    """Values for FORM and OPTIONS: a blank form, or the account's current state.

    The options travel with the values: a dropdown drops a value it has no option for.
    """
    if user is None:
        return [_("New account"), {"id": None, "version": None, "active": True},
                "", False, "", Role.STATION_HEAD.value, None, [], None, "", "",
                False, True, "", *role_options(Role.STATION_HEAD)]
    toggle = [html.I(className="bi bi-person-slash me-1"), _("Disable account")] if user.active \
        else [html.I(className="bi bi-person-check me-1"), _("Enable account")]
    return [
        _("Account %(name)s", name=user.username),
        {"id": user.id, "version": user.version, "active": user.active},
        user.username, True, user.display_name, user.role, user.scope_unit_id,
        [c.id for c in user.clients], user.staff_id, user.email or "", "",
        True, False, toggle, *role_options(user.role),
    ]


def field_errors(errors: dict[str, str]) -> list[Any]:
    return [errors.get(name, "") for name in page.FIELDS] + \
        [any(page.FIELDS[n] == fid for n in errors) for fid in page.INVALIDATABLE]


def _config() -> Config:
    return portal().config


def register(app: Dash) -> None:
    @secure_callback(app, Output(page.TABLE, "rowData"), Input(page.SEARCH, "value"),
                     Input(page.ROLE_FILTER, "value"), Input(page.REFRESH, "data"),
                     roles=ADMIN_ONLY)
    def refresh(search: Any, role: Any, _version: Any):
        users = list_users(read_session(), signed_in_user().model(), text(search, 80), text(role))
        return page.table_rows(users, get_locale(), format_local)

    @secure_callback(app, *_outputs(OPTIONS, False), Input(page.F_ROLE, "value"),
                     roles=ADMIN_ONLY)
    def role_changed(role_value: Any):
        return role_options(role_value)

    @secure_callback(app, Output(page.EDITOR, "is_open"), *_outputs(FORM, False),
                     *_outputs(OPTIONS, True), Output(page.FEEDBACK, "children"),
                     *_outputs(ERRORS + INVALID, False),
                     Input(page.TABLE, "cellClicked"), Input(page.NEW, "n_clicks"),
                     roles=ADMIN_ONLY, prevent_initial_call=True)
    def open_editor(clicked: Any, _new: Any):
        clean = field_errors({})
        if ctx.triggered_id == page.NEW:
            return [True, *form_state(None), None, *clean]
        user = account(read_session(), mapping(clicked).get("rowId"))
        if user is None:
            raise PreventUpdate
        return [True, *form_state(user), None, *clean]

    @secure_callback(app, *_outputs(FORM + OPTIONS, True),
                     Output(page.FEEDBACK, "children", allow_duplicate=True),
                     Output(page.REFRESH, "data", allow_duplicate=True),
                     *_outputs(ERRORS + INVALID, True),
                     Input(page.SAVE, "n_clicks"), State(page.EDITING, "data"),
                     State(page.REFRESH, "data"),
                     *[State(fid, "value") for fid in page.FIELDS.values()],
                     roles=ADMIN_ONLY, prevent_initial_call=True)
    def save(_clicks: Any, editing: Any, refresh_count: Any, *values: Any):
        form = dict(zip(page.FIELDS, values, strict=True))
        editing = mapping(editing)
        clients = form["client_ids"] if isinstance(form["client_ids"], list) else []
        data = UserInput(display_name=text(form["display_name"]), role=text(form["role"]),
                         scope_unit_id=form["scope_unit_id"], client_ids=tuple(clients),
                         staff_id=form["staff_id"], email=text(form["email"]))
        count = (refresh_count or 0) + 1 if isinstance(refresh_count, int) else 1
        actor = signed_in_user()
        try:
            with write_session() as session:
                if editing.get("id") is None:
                    user = create_user(
                        session, actor.model(session), username=form["username"],
                        password=form["password"], data=data,
                        allow_demo_password=_config().is_demo, ip=client_ip())
                    message = _("Account %(name)s created.", name=user.username)
                else:
                    user = update_user(session, actor.model(session), editing.get("id"),
                                       editing.get("version"), data, ip=client_ip())
                    message = _("Changes to %(name)s saved.", name=user.username)
                state = form_state(user)
        except ValidationFailed as exc:
            return [no_update] * len(FORM + OPTIONS) + [
                feedback(_("Some fields need correcting."), "danger"), no_update,
                *field_errors(exc.fields)]
        except Conflict as exc:
            fresh = account(read_session(), editing.get("id"))
            return [*form_state(fresh), feedback(error_text(exc), "warning"), count,
                    *field_errors({})]
        except PortalError as exc:
            return [no_update] * len(FORM + OPTIONS) + [feedback(error_text(exc), "danger"), no_update,
                                              *field_errors({})]
        return [*state, feedback(message, "success"), count, *field_errors({})]

    @secure_callback(app, *_outputs(FORM + OPTIONS, True),
                     Output(page.FEEDBACK, "children", allow_duplicate=True),
                     Output(page.REFRESH, "data", allow_duplicate=True),
                     Output(page.TEMP_MODAL, "is_open"), Output(page.TEMP_BODY, "children"),
                     Input(page.TOGGLE_CONFIRM, "submit_n_clicks"),
                     Input(page.RESET_CONFIRM, "submit_n_clicks"),
                     State(page.EDITING, "data"), State(page.REFRESH, "data"),
                     roles=ADMIN_ONLY, prevent_initial_call=True)
    def act(_toggle: Any, _reset: Any, editing: Any, refresh_count: Any):
        editing = mapping(editing)
        if as_id(editing.get("id")) is None:
            raise PreventUpdate
        count = (refresh_count or 0) + 1 if isinstance(refresh_count, int) else 1
        actor = signed_in_user()
        temporary = None
        try:
            with write_session() as session:
                if ctx.triggered_id == page.TOGGLE_CONFIRM:
                    user = set_active(session, actor.model(session), editing.get("id"),
                                      editing.get("version"), not editing.get("active", True),
                                      ip=client_ip())
                    message = _("%(name)s can sign in again.", name=user.username) if user.active \
                        else _("%(name)s is disabled; open sessions were ended.",
                               name=user.username)
                else:
                    user, temporary = reset_password(session, actor.model(session),
                                                     editing.get("id"), editing.get("version"),
                                                     ip=client_ip())
                    message = _("Password of %(name)s reset.", name=user.username)
                state = form_state(user)
        except Conflict as exc:
            fresh = account(read_session(), editing.get("id"))
            return [*form_state(fresh), feedback(error_text(exc), "warning"), count, False, None]
        except PortalError as exc:
            return [no_update] * len(FORM + OPTIONS) + [feedback(error_text(exc), "danger"), no_update,
                                              False, None]
        body = None
        if temporary:
            body = html.Div([
                html.P(_("Give this one-time password to %(name)s. It is shown only now; "
                         "the user must choose a new password at the next sign-in.",
                         name=user.username)),
                html.Pre(temporary, className="fs-4 text-center user-select-all",
                         id="users-temp-password"),
            ])
        return [*state, feedback(message, "success"), count, bool(temporary), body]

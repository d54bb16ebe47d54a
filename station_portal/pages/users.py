"""User administration (admin only): accounts, roles, scopes, disabling, password resets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.auth.models import User
from station_portal.auth.roles import ADMIN_ONLY, Role
from station_portal.i18n import _, _l
from station_portal.labels import ROLES, label
from station_portal.pages import Page
from station_portal.pages.grid import data_grid
from station_portal.pages.ui import dropdown, page_header

SEARCH = "users-search"
ROLE_FILTER = "users-role-filter"
TABLE = "users-table"
NEW = "users-new"
REFRESH = "users-refresh"
EDITOR = "users-editor"
EDITOR_TITLE = "users-editor-title"
EDITING = "users-editing"  # {"id": int | None, "version": int | None}
FEEDBACK = "users-feedback"
F_USERNAME = "users-f-username"
F_DISPLAY = "users-f-display"
F_ROLE = "users-f-role"
F_SCOPE = "users-f-scope"
F_CLIENTS = "users-f-clients"
F_STAFF = "users-f-staff"
F_EMAIL = "users-f-email"
F_PASSWORD = "users-f-password"
PASSWORD_ROW = "users-password-row"
CLIENTS_ROW = "users-clients-row"
SCOPE_HELP = "users-scope-help"
SAVE = "users-save"
TOGGLE = "users-toggle"
TOGGLE_CONFIRM = "users-toggle-confirm"
RESET = "users-reset"
RESET_CONFIRM = "users-reset-confirm"
ACTIONS_ROW = "users-actions"
TEMP_MODAL = "users-temp-modal"
TEMP_BODY = "users-temp-body"

# Form fields in the order the save callback receives them, with the
# service's field names (for error messages).
FIELDS = {
    "username": F_USERNAME,
    "display_name": F_DISPLAY,
    "role": F_ROLE,
    "scope_unit_id": F_SCOPE,
    "client_ids": F_CLIENTS,
    "staff_id": F_STAFF,
    "email": F_EMAIL,
    "password": F_PASSWORD,
}


# Controls with Bootstrap's red "invalid" state (dropdowns only show the message).
INVALIDATABLE = (F_USERNAME, F_DISPLAY, F_ROLE, F_EMAIL, F_PASSWORD)


def error_id(field_id: str) -> str:
    return f"{field_id}-error"


def _field(label_text: str, control: Any, field: str, help_text: Any = None) -> dbc.Row:
    return dbc.Row([
        dbc.Label(label_text, html_for=FIELDS[field], width=4),
        dbc.Col([control,
                 html.Div(id=error_id(FIELDS[field]), className="invalid-feedback d-block"),
                 dbc.FormText(help_text) if help_text is not None else None], width=8),
    ], className="mb-2")


def role_options() -> list[dict[str, str]]:
    return [{"label": label(ROLES, r), "value": r.value} for r in Role]


def layout(user: Any, query: dict[str, str]) -> html.Div:
    editor = dbc.Offcanvas(
        [
            html.Div(id=FEEDBACK),
            dcc.Store(id=EDITING, data={"id": None, "version": None}),
            _field(_("Username"), dbc.Input(id=F_USERNAME, autoComplete="off", maxLength=32),
                   "username"),
            _field(_("Display name"), dbc.Input(id=F_DISPLAY, maxLength=80), "display_name"),
            _field(_("Role"), dbc.Select(id=F_ROLE, options=role_options()), "role"),
            _field(_("Area"), dropdown(F_SCOPE, clearable=True), "scope_unit_id",
                   html.Span(id=SCOPE_HELP)),
            html.Div(_field(_("Clients"), dropdown(F_CLIENTS, multi=True), "client_ids"),
                     id=CLIENTS_ROW),
            _field(_("Staff member"), dropdown(F_STAFF, clearable=True), "staff_id",
                   _("Links the account to a person of the organisation.")),
            _field(_("E-mail"), dbc.Input(id=F_EMAIL, type="email", maxLength=120), "email"),
            html.Div(_field(_("Password"), dbc.Input(id=F_PASSWORD, type="password",
                                                     autoComplete="new-password"), "password",
                            _("At least 10 characters; the user can change it later.")),
                     id=PASSWORD_ROW),
            html.Div([
                dbc.Button([html.I(className="bi bi-check-lg me-1"), _("Save")], id=SAVE,
                           color="primary", className="me-2"),
                html.Span([
                    dcc.ConfirmDialogProvider(
                        dbc.Button(id=TOGGLE, color="outline-danger", className="me-2"),
                        id=TOGGLE_CONFIRM,
                        message=_("Change whether this account can sign in? "
                                  "Disabling ends its open sessions at once."),
                    ),
                    dcc.ConfirmDialogProvider(
                        dbc.Button([html.I(className="bi bi-key me-1"), _("Reset password")],
                                   id=RESET, color="outline-secondary"),
                        id=RESET_CONFIRM,
                        message=_("Give this account a one-time password? "
                                  "Its open sessions end and it must choose a new password."),
                    ),
                ], id=ACTIONS_ROW),
            ], className="mt-3"),
        ],
        id=EDITOR, title=html.Span(id=EDITOR_TITLE), placement="end", is_open=False,
        style={"width": "min(560px, 100vw)"},
    )
    modal = dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle(_("One-time password"))),
        dbc.ModalBody(id=TEMP_BODY),
    ], id=TEMP_MODAL, is_open=False)
    return html.Div([
        page_header(
            _("Users"), _("Who may sign in, with which role and for which area."),
            dbc.Button([html.I(className="bi bi-person-plus me-1"), _("New account")], id=NEW,
                       color="primary"),
        ),
        dbc.Row([
            dbc.Col(dbc.Input(id=SEARCH, placeholder=_("Search by name or username"),
                              debounce=True, type="search"), md=6, className="mb-2"),
            dbc.Col(dropdown(ROLE_FILTER, options=role_options(),
                                 placeholder=_("All roles")), md=4, className="mb-2"),
        ]),
        dcc.Store(id=REFRESH, data=0),
        data_grid(TABLE, (
            ("username", _("Username")), ("display_name", _("Display name")),
            ("role", _("Role")), ("scope", _("Area")), ("status", _("Status")),
            ("last_sign_in", _("Last sign-in"))), page_size=20, clickable=True,
            rowClassRules={"portal-row-disabled": "params.data.active === 0"}),
        html.P(_("Click an account to edit it."), className="small text-body-secondary mt-2"),
        editor,
        modal,
    ])


PAGE = Page(path="/admin/users", title=_l("Users"), roles=ADMIN_ONLY, layout=layout,
            icon="bi-people")


def scope_text(user: User, locale: str) -> str:
    role = Role(user.role)
    if role is Role.ACCOUNT_MANAGER:
        return _("%(n)s clients", n=len(user.clients))
    if user.scope_unit is not None:
        return user.scope_unit.name(locale)
    if role in (Role.ADMIN, Role.COMPANY_MANAGER):
        return _("Whole company")
    if role is Role.CREW and user.staff is not None:
        return _("Own crew")
    return "–"


def table_rows(users: Sequence[User], locale: str, tz_format: Any) -> list[dict[str, Any]]:
    return [{
        "id": str(u.id),
        "username": u.username,
        "display_name": u.display_name,
        "role": label(ROLES, u.role),
        "scope": scope_text(u, locale),
        "status": (_("Active") if u.active else _("Disabled"))
        + (" · " + _("must change password") if u.must_change_password else ""),
        "active": 1 if u.active else 0,
        "last_sign_in": tz_format(u.last_sign_in_at) if u.last_sign_in_at else "–",
    } for u in users]

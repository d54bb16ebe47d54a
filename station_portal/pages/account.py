"""My account: language, password, and what the account may see."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.auth.roles import ALL_STAFF
from station_portal.i18n import LOCALE_NAMES, _, _l, get_locale
from station_portal.pages import Page
from station_portal.pages.ui import page_header

PROFILE = "account-profile"
LANGUAGE = "account-language"
LANGUAGE_SAVE = "account-language-save"
CURRENT = "account-current"
NEW = "account-new"
REPEAT = "account-repeat"
CHANGE = "account-change"
FEEDBACK = "account-feedback"
LOAD = "account-load"
NOTIFY_CHOICE = "account-notify"  # pattern-matched: {"type": NOTIFY_CHOICE, "event": event}
NOTIFY_SAVE = "account-notify-save"
NOTIFY_FEEDBACK = "account-notify-feedback"
NOTIFY_ADDRESS = "account-notify-address"


def notification_settings() -> dbc.Card:
    """Which events reach the user, in the bell and by email: one row per event."""
    from station_portal.notify.service import CHANNELS, EVENTS

    names = {"app": _("In the portal"), "email": _("By email")}
    rows = [html.Div([
        html.Div(str(meaning), className="small"),
        # dcc's checklist: dbc's builds its inputs' ids from a string id and breaks on a dict
        dcc.Checklist(id={"type": NOTIFY_CHOICE, "event": event}, inline=True, value=[],
                      options=[{"label": names[c], "value": c} for c in CHANNELS],
                      className="small mb-2 portal-checks", inputClassName="form-check-input me-1",
                      labelClassName="me-3"),
    ], className="border-bottom pt-1") for event, (meaning, _app, _mail) in EVENTS.items()]
    return dbc.Card([
        dbc.CardHeader(_("Notifications"), id="notification-settings"),
        dbc.CardBody([
            html.Div(id=NOTIFY_FEEDBACK),
            html.P(id=NOTIFY_ADDRESS, className="small text-body-secondary"),
            *rows,
            dbc.Button(_("Save"), id=NOTIFY_SAVE, color="secondary", size="sm",
                       className="mt-2"),
        ]),
    ], className="mb-3")


def layout(user: Any, query: dict[str, str]) -> html.Div:
    forced = dbc.Alert(
        [html.I(className="bi bi-key me-2"),
         _("Your password was reset. Choose a new password before you continue.")],
        color="warning", id="account-must-change",
    ) if user.must_change_password else None
    return html.Div([
        page_header(_("My account"), user.username),
        dcc.Store(id=LOAD, data=user.username),
        forced,
        dbc.Row([
            dbc.Col([dbc.Card([
                dbc.CardHeader(_("Change password")),
                dbc.CardBody([
                    html.Div(id=FEEDBACK),
                    dbc.Label(_("Current password"), html_for=CURRENT),
                    dbc.Input(id=CURRENT, type="password", autoComplete="current-password",
                              className="mb-2"),
                    dbc.FormFeedback(id=f"{CURRENT}-error", type="invalid"),
                    dbc.Label(_("New password"), html_for=NEW),
                    dbc.Input(id=NEW, type="password", autoComplete="new-password",
                              className="mb-2"),
                    dbc.FormFeedback(id=f"{NEW}-error", type="invalid"),
                    dbc.Label(_("Repeat the new password"), html_for=REPEAT),
                    dbc.Input(id=REPEAT, type="password", autoComplete="new-password",
                              className="mb-3"),
                    dbc.Button(_("Change password"), id=CHANGE, color="primary"),
                ]),
            ], className="mb-3"), notification_settings()], md=6),
            dbc.Col([
                dbc.Card([
                    dbc.CardHeader(_("Language")),
                    dbc.CardBody([
                        dbc.RadioItems(
                            id=LANGUAGE, value=get_locale(),
                            options=[{"label": n, "value": c} for c, n in LOCALE_NAMES.items()],
                            inline=True, className="mb-2",
                        ),
                        dbc.Button(_("Use this language"), id=LANGUAGE_SAVE, color="secondary",
                                   size="sm"),
                    ]),
                ], className="mb-3"),
                dbc.Card([dbc.CardHeader(_("What this account may see")),
                          dbc.CardBody(html.Div(id=PROFILE))], className="mb-3"),
            ], md=6),
        ]),
    ])


PAGE = Page(path="/account", title=_l("My account"), roles=ALL_STAFF, layout=layout,
            icon="bi-person-gear", in_nav=False)

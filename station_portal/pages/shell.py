"""The frame around every page: navigation bar, language switch, user menu, page slot."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from station_portal import i18n
from station_portal.i18n import _, _l
from station_portal.labels import ROLES, label
from station_portal.pages import nav_pages, registry
from station_portal.web.context import portal
from station_portal.web.signin import csrf_token

URL = "url"
RELOAD = "reload-signal"
RELOADED = "reload-done"
PAGE = "page-content"
NAV_TOGGLE = "nav-toggle"
NAV_COLLAPSE = "nav-collapse"
LANG_ZH = "lang-zh_CN"
LANG_EN = "lang-en"
LANG_BUTTONS = {"zh_CN": LANG_ZH, "en": LANG_EN}
TOAST = "global-toast"
BELL = "nav-bell"
BELL_COUNT = "nav-bell-count"
BELL_POLL = "nav-bell-poll"
BELL_POLL_MS = 15_000
BELL_REFRESH = "nav-bell-refresh"  # set when notifications are marked read
TITLES = "page-titles"  # path → the page's title, for the browser tab
TITLED = "page-titled"
BRAND = "__brand"


# Pages whose paths share a prefix share one menu (placed where its first page would be), so
# the bar fits 1366 px in either language.
MENUS = (
    (("/dashboards/", "/briefings"), _l("Dashboards"), "bi-graph-up", "nav-dashboards"),
    (("/counter", "/intake"), _l("Counter"), "bi-person-lines-fill", "nav-counters"),
    (("/orders/",), _l("Work orders"), "bi-list-task", "nav-orders"),
    (("/gridworks", "/outages"), _l("Network"), "bi-diagram-3", "nav-network"),
    (("/admin/",), _l("Administration"), "bi-gear", "nav-admin"),
)
# The language switch, short: the bar has little room in English.
LANGUAGE_SHORT = {"zh_CN": "中文", "en": "EN"}


def _nav_id(path: str) -> str:
    return f"nav-{path.strip('/').replace('/', '-') or 'home'}"


def navbar() -> dbc.Navbar:
    user = current_user
    locale = i18n.get_locale()
    links: list = []
    placed: set[str] = set()
    for p in nav_pages(user.role):
        menu = next((m for m in MENUS if p.path.startswith(m[0])), None)
        if menu is None:
            links.append(dbc.NavItem(dbc.NavLink([html.I(className=f"bi {p.icon} me-1"),
                                                  str(p.title)],
                                                 href=p.path, active="exact", id=_nav_id(p.path))))
            continue
        prefixes, title, icon, menu_id = menu
        if menu_id in placed:
            continue
        placed.add(menu_id)
        links.append(dbc.DropdownMenu(
            [dbc.DropdownMenuItem([html.I(className=f"bi {q.icon} me-2"), str(q.title)],
                                  href=q.path, id=_nav_id(q.path))
             for q in nav_pages(user.role) if q.path.startswith(prefixes)],
            label=html.Span([html.I(className=f"bi {icon} me-1"), str(title)]),
            nav=True, in_navbar=True, id=menu_id))
    language = dbc.ButtonGroup(
        [
            dbc.Button(LANGUAGE_SHORT[code], id=LANG_BUTTONS[code], size="sm",
                       color="light" if code == locale else "outline-light",
                       n_clicks=0, title=name)
            for code, name in i18n.LOCALE_NAMES.items()
        ],
        className="me-lg-3 my-2 my-lg-0",
    )
    user_menu = dbc.DropdownMenu(
        [
            dbc.DropdownMenuItem(label(ROLES, user.role), header=True),
            dbc.DropdownMenuItem([html.I(className="bi bi-person-gear me-2"), _("My account")],
                                 href="/account"),
            dbc.DropdownMenuItem(divider=True),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf", value=csrf_token()),
                    html.Button([html.I(className="bi bi-box-arrow-right me-2"), _("Sign out")],
                                type="submit", className="dropdown-item", id="sign-out"),
                ],
                action="/logout", method="POST",
            ),
        ],
        label=[html.I(className="bi bi-person-circle me-1"), user.display_name],
        nav=True, align_end=True, id="user-menu",
    )
    bell = dcc.Link([html.I(className="bi bi-bell-fill"),
                     html.Span(id=BELL_COUNT, className="portal-bell-count")],
                    href="/notifications", id=BELL, className="portal-bell nav-link me-2 me-lg-0",
                    title=_("Notifications"))
    demo = dbc.Badge(_("Demo"), color="warning", text_color="dark", className="ms-2") \
        if portal().config.is_demo else None
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand([html.I(className="bi bi-lightning-charge-fill me-1"),
                                 _("Station Portal"), demo], href="/"),
                # the bell stays in sight on a phone, outside the folding menu
                html.Div([bell, dbc.NavbarToggler(id=NAV_TOGGLE, n_clicks=0)],
                         className="d-flex align-items-center order-lg-last ms-auto ms-lg-2"),
                dbc.Collapse(
                    [dbc.Nav(links, navbar=True, className="me-auto"),
                     language, dbc.Nav([user_menu], navbar=True)],
                    id=NAV_COLLAPSE, is_open=False, navbar=True,
                ),
            ],
            fluid=True,
        ),
        color="primary", dark=True, expand="lg", className="portal-navbar mb-3",
    )


def layout() -> html.Div:
    """Evaluated per page load; the guard has made sure someone is signed in."""
    if not current_user.is_authenticated:
        return html.Div()
    return html.Div(
        [
            dcc.Location(id=URL, refresh="callback-nav"),
            dcc.Store(id=RELOAD),
            dcc.Store(id=RELOADED),
            dcc.Interval(id=BELL_POLL, interval=BELL_POLL_MS),
            dcc.Store(id=BELL_REFRESH),
            dcc.Store(id=TITLES, data={BRAND: _("Station Portal"), **{
                p.path: str(p.title) for p in registry() if current_user.role in p.roles}}),
            dcc.Store(id=TITLED),
            navbar(),
            dbc.Container(html.Div(id=PAGE), fluid=True, className="portal-main pb-5"),
            html.Div(id=TOAST, className="portal-toast-slot"),
        ],
        lang="zh-CN" if i18n.get_locale() == "zh_CN" else "en",
    )

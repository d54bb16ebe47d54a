"""Open an industrial-park or VIP client's case (园区前期介入): account managers and company
managers, the roles the responsibility matrix lets follow park cases.

Layout, component ids and pure builders only; ``callbacks/park_case.py`` fills the
choices and calls ``services.parks.create_park_case``, which checks the role, the area
and every field. No database access here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.auth.roles import Role
from station_portal.i18n import _, _l
from station_portal.labels import stage_label
from station_portal.pages import Page
from station_portal.pages.ui import dropdown, feedback, form_field, page_header
from station_portal.workorders.models import PARK_MILESTONES

# The roles of the matrix action manage_park_cases (a test keeps them together).
ROLES = frozenset({Role.ACCOUNT_MANAGER, Role.COMPANY_MANAGER})
PATH = "/orders/parks/new"

LOAD = "park-new-load"  # Store: fills the client choices once
CLIENT = "park-new-client"
MANAGER = "park-new-manager"
LOAD_KW = "park-new-load-kw"
DATE = "park-new-date"
DESCRIPTION = "park-new-description"
VISIT = "park-new-visit"
SUBMIT = "park-new-submit"
FEEDBACK = "park-new-feedback"
MADE_ID = "park-new-made"


def plan_id(milestone: str) -> str:
    return f"park-new-plan-{milestone.replace('_', '-')}"


PLAN_IDS = tuple(plan_id(code) for code in PARK_MILESTONES)
# The service's fields with a message slot under their control, in the callback's order.
FIELDS = ("client_id", "account_manager_id", "projected_load_kw", "projected_date",
          "description", "visit_planned_for", *(f"milestone_plan.{c}" for c in PARK_MILESTONES))
# Cleared after a case is opened, so that a second click opens nothing twice.
CLEARED = ((CLIENT, "value"), (LOAD_KW, "value"), (DATE, "date"), (DESCRIPTION, "value"),
           (VISIT, "date"), *((pid, "date") for pid in PLAN_IDS))


def error_id(field: str) -> str:
    return "park-new-error-" + field.replace(".", "-").replace("_", "-")


def field_messages(errors: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """The service's messages: one per field slot, and those no slot shows (for the alert)."""
    return [errors.get(f, "") for f in FIELDS], [m for f, m in errors.items() if f not in FIELDS]


def _field(label_text: str, control: Any, field: str, help_text: Any = None,
           required: bool = False) -> html.Div:
    return form_field(label_text, control, error_id(field), help_text, required)


def _day_picker(id_: str) -> dcc.DatePickerSingle:
    return dcc.DatePickerSingle(id=id_, display_format="YYYY-MM-DD", first_day_of_week=1,
                                placeholder=_("Pick a day"), clearable=True)


def layout(user: Any, query: dict[str, str]) -> html.Div:
    case = dbc.Card(dbc.CardBody([
        html.H2(_("Client and load"), className="h5"),
        _field(_("Client"), dropdown(CLIENT, placeholder=_("Choose the client")), "client_id",
               _("A park enterprise or VIP client in your area."), required=True),
        _field(_("Account manager"), dropdown(MANAGER, clearable=False,
                                              placeholder=_("Choose a client first")),
               "account_manager_id",
               _("Who follows the case: an account manager who looks after the client."),
               required=True),
        _field(_("Projected load (kW)"), dbc.Input(id=LOAD_KW, type="number", min=0, step="any"),
               "projected_load_kw", required=True),
        _field(_("Load expected from"), _day_picker(DATE), "projected_date", required=True),
        _field(_("What the client plans (optional)"),
               dbc.Textarea(id=DESCRIPTION, maxLength=500, rows=2), "description"),
    ]), className="mb-3")
    plan = dbc.Card(dbc.CardBody([
        html.H2(_("Plan (optional)"), className="h5"),
        html.P(_("A planned milestone is due at the end of its day; the SLA watch tells the "
                 "account manager when one passes undone."),
               className="small text-body-secondary"),
        _field(_("First visit"), _day_picker(VISIT), "visit_planned_for",
               _("The visit is planned at 09:00.")),
        *[_field(stage_label(code), _day_picker(pid), f"milestone_plan.{code}")
          for code, pid in zip(PARK_MILESTONES, PLAN_IDS, strict=True)],
    ]), className="mb-3")
    return html.Div([
        page_header(_("New park case"),
                    _("Open the early engagement with a park enterprise or VIP client: the "
                      "load it expects and when, the milestones planned and the first visit. "
                      "The case is held by the client's county company.")),
        dcc.Store(id=LOAD, data=1),
        dbc.Row([dbc.Col(case, lg=6), dbc.Col(plan, lg=6)]),
        html.Div(id=FEEDBACK),
        dbc.Button([html.I(className="bi bi-building-add me-1"), _("Open the case")], id=SUBMIT,
                   color="primary", className="mb-3"),
    ])


PAGE = Page(path=PATH, title=_l("New park case"), roles=ROLES, layout=layout,
            icon="bi-building-add")


# -- pure builders -----------------------------------------------------------------------

def client_label(code: str, name: str, park: str | None) -> str:
    return f"{code} · {name}" + (f" ({park})" if park else "")


def option_label(options: Any, value: Any) -> str:
    """The label a choice showed for ``value`` (what the user picked, echoed back)."""
    return next((str(o.get("label", "")) for o in options if isinstance(o, dict)
                 and o.get("value") == value), "") if isinstance(options, list) else ""


def made_message(order_id: int, number: str, client: str, manager: str) -> Any:
    """What was opened, who follows it, and the way to its page."""
    return feedback(html.Span([  # one component: feedback puts its icon before it
        _("Park case %(number)s opened for %(client)s, followed by %(manager)s.", number=number,
          client=client, manager=manager) if client and manager else
        _("Park case %(number)s opened.", number=number),
        html.Div(html.A([_("Open the case"), html.I(className="bi bi-arrow-right ms-1")],
                        href=f"/order?id={order_id}", id="park-new-order-link"),
                 className="mt-1"),
    ]), "success", MADE_ID)

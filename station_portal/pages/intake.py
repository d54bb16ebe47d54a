"""Counter intake (柜台受理) for clerks, station heads and grid managers: register a
connection application or a fault for a customer who came to the counter or phoned.

Layout, component ids and pure builders only; ``callbacks/intake.py`` fills them and
calls ``services/customer.py`` (``take_application``, ``take_fault``, ``issue_code``),
which checks the role and the area. No database access here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
import dash_leaflet as dl
from dash import dcc, html

from station_portal.auth.roles import Role
from station_portal.customer.documents import document_rules
from station_portal.i18n import _, _l
from station_portal.labels import (
    BUSINESS_TYPES,
    CUSTOMER_CLASSES,
    CUSTOMER_TYPES,
    REPAIR_CATEGORIES,
    URGENCIES,
    label,
)
from station_portal.pages import Page
from station_portal.pages.maps import view_of
from station_portal.pages.ui import form_field, page_header
from station_portal.sla.stages import stage_book
from station_portal.web.customer import document_notes

# The roles of the matrix actions create_repair and create_application that work a
# counter (tests/unit/test_matrix.py keeps them together).
ROLES = frozenset({Role.CLERK, Role.STATION_HEAD, Role.GRID_MANAGER})
APPLICATION, FAULT = "application", "fault"

LOAD = "intake-load"
KIND = "intake-kind"  # the tabs: APPLICATION or FAULT
# the customer and the site (both kinds)
CHANNEL = "intake-channel"
NAME = "intake-name"
PHONE = "intake-phone"
ADDRESS = "intake-address"
MAP = "intake-map"
TERRITORIES = "intake-territories"
MARKER = "intake-marker"
LAT = "intake-lat"
LON = "intake-lon"
SITE_HINT = "intake-site-hint"
# the application
BUSINESS = "intake-business"
CUSTOMER_TYPE = "intake-customer-type"
SMALL_FIRM = "intake-small-firm"
LOAD_KW = "intake-load-kw"
CAPACITY = "intake-capacity"
APP_NOTE = "intake-app-note"
CLASS_HINT = "intake-class-hint"
REGISTER_APPLICATION = "intake-register-application"
# the fault
CATEGORY = "intake-category"
URGENCY = "intake-urgency"
FAULT_NOTE = "intake-fault-note"
REGISTER_FAULT = "intake-register-fault"
# the outcome
FEEDBACK = "intake-feedback"
MADE = "intake-made"  # Store: {"id": …} of the order just registered here
CODE_ROW = "intake-code-row"
GIVE_CODE = "intake-give-code"
CODE_RESULT = "intake-code-result"

CHANNELS = ("counter", "hotline_95598")


def doc_upload_id(code: str) -> str:
    return f"intake-doc-{code}"


def doc_name_id(code: str) -> str:
    return f"intake-doc-{code}-name"


def document_codes() -> list[str]:
    return list(document_rules().kinds)


# Where the services' error messages go: (service field, tab or "" for both) → error id.
SHARED_FIELDS = ("source", "customer_name", "customer_phone", "address", "location")
APPLICATION_FIELDS = ("business_type", "customer_type", "load_kw", "capacity_kva", "description",
                      "documents")
FAULT_FIELDS = ("category", "urgency", "description")


def error_keys() -> list[tuple[str, str]]:
    """Every (tab, field) with a message slot, in the order the callback fills them."""
    docs = [f"doc_{code}" for code in document_codes()]
    return ([("", f) for f in SHARED_FIELDS] + [(APPLICATION, f) for f in APPLICATION_FIELDS]
            + [(APPLICATION, d) for d in docs] + [(FAULT, f) for f in FAULT_FIELDS])


def error_id(tab: str, field: str) -> str:
    return f"intake-error-{tab + '-' if tab else ''}{field.replace('_', '-')}"


# Controls shown red with their message: (control id, tab, field).
INVALIDATABLE = (
    (NAME, "", "customer_name"), (PHONE, "", "customer_phone"), (ADDRESS, "", "address"),
    (LAT, "", "location"), (LON, "", "location"), (BUSINESS, APPLICATION, "business_type"),
    (LOAD_KW, APPLICATION, "load_kw"), (CAPACITY, APPLICATION, "capacity_kva"),
    (APP_NOTE, APPLICATION, "description"), (CATEGORY, FAULT, "category"),
    (URGENCY, FAULT, "urgency"), (FAULT_NOTE, FAULT, "description"),
)


def field_feedback(tab: str, errors: Mapping[str, str]) -> tuple[list[str], list[bool], list[str]]:
    """The services' messages for a registration of ``tab``: one per field slot, the red
    state per control, and the messages no field of the form shows (for the alert)."""
    shown = {f for t, f in error_keys() if t in ("", tab)}
    texts = [errors.get(f, "") if t in ("", tab) else "" for t, f in error_keys()]
    invalid = [bool(errors.get(f)) and t in ("", tab) for _cid, t, f in INVALIDATABLE]
    rest = [message for f, message in errors.items() if f not in shown]
    return texts, invalid, rest


def _error(tab: str, field: str) -> html.Div:
    return html.Div(id=error_id(tab, field), className="invalid-feedback d-block")


def _field(label_text: str, control: Any, tab: str, field: str, help_text: Any = None,
           required: bool = False) -> html.Div:
    return form_field(label_text, control, error_id(tab, field), help_text, required)


def _kw(value: float) -> str:
    return f"{value:g}"


def customer_card() -> dbc.Card:
    centre, zoom = view_of([])
    return dbc.Card(dbc.CardBody([
        html.H2(_("Customer and site"), className="h5"),
        _field(_("How did the customer reach us?"), dbc.RadioItems(
            id=CHANNEL, value="counter", inline=True, options=[
                {"label": _("At the counter"), "value": "counter"},
                {"label": _("On the phone (95598 hotline)"), "value": "hotline_95598"}]),
            "", "source", _("A customer at the counter counts one counter visit on an "
                            "application.")),
        _field(_("Customer name (person or company)"),
               dbc.Input(id=NAME, maxLength=80, autoComplete="off"), "", "customer_name",
               _("Required for an application.")),
        _field(_("Phone number"), dbc.Input(id=PHONE, type="tel", maxLength=32,
                                            autoComplete="off"), "", "customer_phone",
               required=True),
        _field(_("Address of the site"), dbc.Input(id=ADDRESS, maxLength=200, autoComplete="off"),
               "", "address", _("District, street and number, for example 吉林市昌邑区重庆街8号: "
                                "the site is found from it."), required=True),
        dbc.Label(_("Or mark the place on the map")),
        html.P(_("A point clicked on the map, or latitude and longitude typed, is used instead "
                 "of the address."), className="small text-body-secondary mb-1"),
        dl.Map([
            dl.GeoJSON(id=TERRITORIES, data={"type": "FeatureCollection", "features": []},
                       interactive=False, style={"variable": "stationPortal.board.territoryStyle"}),
            dl.LayerGroup(id=MARKER),
        ], id=MAP, center=[centre["lat"], centre["lon"]], zoom=zoom, zoomSnap=0.5,
            className="sp-intake-map", attributionControl=False),
        dbc.Row([
            dbc.Col([dbc.Label(_("Latitude"), html_for=LAT, className="small"),
                     dbc.Input(id=LAT, type="number", min=-90, max=90, step="any",
                               debounce=True)], xs=6),
            dbc.Col([dbc.Label(_("Longitude"), html_for=LON, className="small"),
                     dbc.Input(id=LON, type="number", min=-180, max=180, step="any",
                               debounce=True)], xs=6),
        ], className="g-2 mt-1"),
        html.Div(id=SITE_HINT, className="small mt-1"),
        _error("", "location"),
    ]), className="mb-3")


def application_form() -> html.Div:
    book, rules, notes = stage_book(), document_rules(), document_notes()
    docs = [html.Div([
        dbc.Label([rules.kinds[code].name(), " ",
                   html.Span(f"({notes[code]})", className="small text-body-secondary")]),
        dcc.Upload(html.Div([html.I(className="bi bi-paperclip me-1"),
                             _("Choose or drop a file")]),
                   id=doc_upload_id(code), max_size=rules.max_bytes, multiple=False,
                   accept="application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png",
                   className="sp-intake-upload"),
        html.Div(id=doc_name_id(code), className="small"),
        _error(APPLICATION, f"doc_{code}"),
    ], className="mb-2") for code in rules.kinds]
    return html.Div([
        _field(_("Business"), dbc.Select(id=BUSINESS, value="new_connection", options=[
            {"label": str(name), "value": code} for code, name in BUSINESS_TYPES.items()]),
            APPLICATION, "business_type", required=True),
        _field(_("Who is applying?"), dbc.RadioItems(id=CUSTOMER_TYPE, options=[
            {"label": str(name), "value": code} for code, name in CUSTOMER_TYPES.items()]),
            APPLICATION, "customer_type", required=True),
        html.Div([
            dbc.Checkbox(id=SMALL_FIRM, value=False, label=_("A small or micro firm")),
            dbc.FormText(_("Small and micro firms needing at most %(kw)s kW get the “three zeros” "
                           "service: no visit, no approval, no investment of their own up to "
                           "the meter.", kw=_kw(book.small_firm_max_kw))),
        ], className="mb-3"),
        _field(_("Load the customer needs (kW)"),
               dbc.Input(id=LOAD_KW, type="number", min=0, step="any"), APPLICATION, "load_kw",
               required=True),
        _field(_("Transformer capacity (kVA), optional"),
               dbc.Input(id=CAPACITY, type="number", min=0, step="any"), APPLICATION,
               "capacity_kva", _("Only for high-voltage supply with the customer's own "
                                 "transformer. Leave it empty if it is not known.")),
        dbc.Alert([
            html.I(className="bi bi-info-circle me-1"),
            _("The utility decides the kind of supply: up to %(kw)s kW is low voltage, more is "
              "high voltage; single or dual supply is decided in the supply plan.",
              kw=_kw(book.lv_max_kw)),
            html.Div(class_hint(None), id=CLASS_HINT, className="fw-semibold mt-1"),
        ], color="light", className="border small"),
        _field(_("Notes (optional)"), dbc.Textarea(id=APP_NOTE, maxLength=500, rows=2),
               APPLICATION, "description"),
        html.H3(_("Documents the customer brought (optional)"), className="h6 mt-3"),
        html.P(_("PDF, JPEG or PNG, at most %(n)s MB each. Missing documents can follow later.",
                 n=rules.max_bytes // (1024 * 1024)), className="small text-body-secondary"),
        _error(APPLICATION, "documents"),
        *docs,
        dbc.Button([html.I(className="bi bi-clipboard-plus me-1"), _("Register the application")],
                   id=REGISTER_APPLICATION, color="primary", className="mt-2"),
    ], className="pt-3")


def fault_form() -> html.Div:
    return html.Div([
        _field(_("Category"), dbc.Select(id=CATEGORY, value="low_voltage", options=[
            {"label": str(name), "value": code} for code, name in REPAIR_CATEGORIES.items()]),
            FAULT, "category", required=True),
        _field(_("Urgency"), dbc.Select(id=URGENCY, value="2", options=[
            {"label": str(name), "value": code} for code, name in URGENCIES.items()]),
            FAULT, "urgency", required=True),
        _field(_("What is wrong"), dbc.Textarea(id=FAULT_NOTE, maxLength=500, rows=3),
               FAULT, "description"),
        dbc.Button([html.I(className="bi bi-lightning me-1"), _("Register the fault")],
                   id=REGISTER_FAULT, color="danger"),
    ], className="pt-3")


def layout(user: Any, query: dict[str, str]) -> html.Div:
    return html.Div([
        page_header(_("Counter intake"),
                    _("Register a connection application or a fault for a customer at the "
                      "counter or on the phone. The order goes to the unit that owns the site.")),
        dcc.Store(id=LOAD, data=1),
        dcc.Store(id=MADE),
        dbc.Row([
            dbc.Col(customer_card(), lg=6),
            dbc.Col([
                dbc.Card(dbc.CardBody(dbc.Tabs([
                    dbc.Tab(application_form(), label=_("Connection application"),
                            tab_id=APPLICATION),
                    dbc.Tab(fault_form(), label=_("Fault report"), tab_id=FAULT),
                ], id=KIND, active_tab=APPLICATION)), className="mb-3"),
                html.Div(id=FEEDBACK),
                html.Div([
                    dbc.Button([html.I(className="bi bi-key me-1"),
                                _("Give the customer a tracking code")], id=GIVE_CODE,
                               color="secondary", outline=True, size="sm"),
                    html.Div(id=CODE_RESULT, className="mt-2"),
                ], id=CODE_ROW, hidden=True, className="mb-3"),
            ], lg=6),
        ]),
    ])


PAGE = Page(path="/intake", title=_l("Counter intake"), roles=ROLES, layout=layout,
            icon="bi-clipboard-plus")


# -- pure builders -----------------------------------------------------------------------

def class_hint(customer_class: str | None) -> Any:
    """The class the entries lead to and the documents it needs (or what is missing)."""
    if not customer_class:
        return html.Span(_("Choose who is applying and give the load to see the class."),
                         className="fw-normal text-body-secondary")
    rules = document_rules()
    names = [rules.kinds[code].name() for code in rules.required_for(customer_class)
             if code in rules.kinds]
    return html.Span([
        _("Class: %(name)s.", name=label(CUSTOMER_CLASSES, customer_class)), " ",
        html.Span(_("Documents for it: %(names)s.", names=", ".join(names)) if names else "",
                  className="fw-normal"),
    ], id="intake-class")


def site_hint(unit_name: str | None, in_scope: bool) -> Any:
    """Which unit the site belongs to, and whether this user may register work there."""
    if unit_name is None:
        return html.Span(_("This location lies outside the service territory."),
                         className="text-danger")
    if not in_scope:
        return html.Span(_("%(unit)s: outside your area.", unit=unit_name), className="text-danger")
    return html.Span([html.I(className="bi bi-geo-alt me-1"), unit_name],
                     className="text-success")


def made_message(kind: str, order_id: int, number: str, class_name: str, unit_name: str,
                 counter_visit: bool) -> dbc.Alert:
    """What was registered, where it went, and the way to its page."""
    what = _("Application %(number)s registered: %(class_name)s, for %(unit)s.", number=number,
             class_name=class_name, unit=unit_name) if kind == APPLICATION else \
        _("Fault %(number)s registered for %(unit)s; the arrival clock is running.",
          number=number, unit=unit_name)
    return dbc.Alert([
        html.I(className="bi bi-check2-circle me-2"), what,
        html.Div(_("Counter visit counted.") if counter_visit else None, className="small"),
        html.Div(html.A([_("Open the order"), html.I(className="bi bi-arrow-right ms-1")],
                        href=f"/order?id={order_id}", id="intake-order-link"), className="mt-1"),
    ], color="success", id="intake-made-alert", className="py-2")

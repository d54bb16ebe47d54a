"""Counter intake: the site picked on the map, the class the entries lead to, and the
registration of an application or a fault through ``services/customer.py`` (which checks
the role, the area and every field; nothing is kept when it refuses)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import dash_leaflet as dl
from dash import Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate
from flask import url_for

from station_portal.callbacks._secure import secure_callback
from station_portal.errors import PortalError, ValidationFailed
from station_portal.i18n import _, get_locale
from station_portal.labels import CUSTOMER_CLASSES, label
from station_portal.org.queries import site_unit, territories, unit_label
from station_portal.org.territory import InvalidLocation, check_location
from station_portal.pages import dispatch as board
from station_portal.pages import intake as page
from station_portal.pages.ui import error_text, feedback
from station_portal.services import attachments, customer
from station_portal.sla.classes import CUSTOMER_TYPES
from station_portal.sla.stages import stage_book
from station_portal.storage import Written, for_config
from station_portal.web.context import portal, read_session, signed_in_user, write_session

MAX_LOAD_KW = 100_000  # as the work-order service accepts
# Cleared after a registration, so the next customer starts afresh (and a second click
# registers nothing twice).
CLEARED = [page.NAME, page.PHONE, page.ADDRESS, page.LAT, page.LON, page.CUSTOMER_TYPE,
           page.SMALL_FIRM, page.LOAD_KW, page.CAPACITY, page.APP_NOTE, page.FAULT_NOTE]
CLEAR_VALUES = ["", "", "", None, None, None, False, None, None, "", ""]
SHARED_WITH_OTHERS = {page.LAT, page.LON}  # the map click also sets them


def click_position(click: Any) -> tuple[float, float] | None:
    """Latitude and longitude of a map click (``{"latlng": {"lat", "lng"}}`` or a pair)."""
    latlng = click.get("latlng") if isinstance(click, dict) else None
    if isinstance(latlng, dict):
        lat, lon = latlng.get("lat"), latlng.get("lng")
    elif isinstance(latlng, list | tuple) and len(latlng) == 2:
        lat, lon = latlng
    else:
        return None
    try:
        lat, lon = check_location(lat, lon)
    except InvalidLocation:
        return None
    return round(lat, 6), round(lon, 6)


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return out if out == out and abs(out) != float("inf") else None


def entered_class(customer_type: Any, small_firm: Any, load_kw: Any) -> str | None:
    """The class the utility gives these entries, or None while they are incomplete."""
    load = number(load_kw)
    if customer_type not in CUSTOMER_TYPES or load is None or not 0 < load <= MAX_LOAD_KW:
        return None
    return stage_book().classify(customer_type=customer_type, load_kw=load,
                                 small_firm=small_firm is True)


def decode_upload(contents: Any) -> bytes:
    """The bytes of a ``dcc.Upload`` value (``data:<type>;base64,<data>``); b"" for none.
    Anything else gives bytes the document check refuses with its own message."""
    if not isinstance(contents, str) or not contents:
        return b""
    head, sep, body = contents.partition(",")
    if not sep or not head.endswith(";base64"):
        return b"?"
    try:
        return base64.b64decode(body, validate=True) or b"?"
    except (binascii.Error, ValueError):
        return b"?"


def uploads(contents: list[Any], filenames: list[Any]) -> list[customer.Upload]:
    out = []
    for code, content, filename in zip(page.document_codes(), contents, filenames, strict=True):
        data = decode_upload(content)
        if data:
            out.append(customer.Upload(code, filename if isinstance(filename, str) else "", data))
    return out


def _discard(files: list[Written]) -> None:
    for path in files:
        attachments.discard(path)


def register(app: Dash) -> None:
    codes = page.document_codes()
    error_outputs = [Output(page.error_id(tab, field), "children") for tab, field in page.error_keys()]
    invalid_outputs = [Output(cid, "invalid") for cid, _tab, _field in page.INVALIDATABLE]

    @secure_callback(app, Output(page.TERRITORIES, "data"), Output(page.MAP, "viewport"),
                     Input(page.LOAD, "data"), roles=page.ROLES)
    def show_territories(_load: Any):
        features = territories(read_session(), signed_in_user().scope())
        return board.territory_geojson(features, get_locale()), board.territory_view(features)

    @secure_callback(app, Output(page.LAT, "value"), Output(page.LON, "value"),
                     Input(page.MAP, "clickData"), roles=page.ROLES, prevent_initial_call=True)
    def pick_site(click: Any):
        position = click_position(click)
        if position is None:
            raise PreventUpdate
        return position

    @secure_callback(app, Output(page.MARKER, "children"), Output(page.SITE_HINT, "children"),
                     Input(page.LAT, "value"), Input(page.LON, "value"), roles=page.ROLES)
    def show_site(lat: Any, lon: Any):
        try:
            lat, lon = check_location(lat, lon)
        except InvalidLocation:
            return [], None
        unit = site_unit(read_session(), signed_in_user().scope(), lat, lon)
        marker = dl.CircleMarker(center=[lat, lon], radius=9, color="#dc3545", weight=3,
                                 fillOpacity=0.6, interactive=False, id="intake-site-marker")
        return [marker], page.site_hint(unit.name() if unit else None,
                                        unit is not None and unit.in_scope)

    @secure_callback(app, Output(page.CLASS_HINT, "children"), Input(page.CUSTOMER_TYPE, "value"),
                     Input(page.SMALL_FIRM, "value"), Input(page.LOAD_KW, "value"),
                     roles=page.ROLES)
    def show_class(customer_type: Any, small_firm: Any, load_kw: Any):
        return page.class_hint(entered_class(customer_type, small_firm, load_kw))

    @secure_callback(app, *[Output(page.doc_name_id(code), "children") for code in codes],
                     *[Input(page.doc_upload_id(code), "filename") for code in codes],
                     roles=page.ROLES)
    def show_files(*filenames: Any):
        shown = [[html.I(className="bi bi-file-earmark-check me-1"), name[:120]]
                 if isinstance(name, str) and name else None for name in filenames]
        return shown if len(shown) > 1 else shown[0]

    @secure_callback(
        app, *error_outputs, *invalid_outputs, Output(page.FEEDBACK, "children"),
        Output(page.MADE, "data"), Output(page.CODE_ROW, "hidden"),
        Output(page.CODE_RESULT, "children"),
        *[Output(cid, "value", allow_duplicate=cid in SHARED_WITH_OTHERS) for cid in CLEARED],
        *[Output(page.doc_upload_id(code), "contents") for code in codes],
        *[Output(page.doc_upload_id(code), "filename") for code in codes],
        Input(page.REGISTER_APPLICATION, "n_clicks"), Input(page.REGISTER_FAULT, "n_clicks"),
        State(page.CHANNEL, "value"), State(page.NAME, "value"), State(page.PHONE, "value"),
        State(page.ADDRESS, "value"), State(page.LAT, "value"), State(page.LON, "value"),
        State(page.BUSINESS, "value"), State(page.CUSTOMER_TYPE, "value"),
        State(page.SMALL_FIRM, "value"), State(page.LOAD_KW, "value"),
        State(page.CAPACITY, "value"), State(page.APP_NOTE, "value"),
        State(page.CATEGORY, "value"), State(page.URGENCY, "value"),
        State(page.FAULT_NOTE, "value"),
        *[State(page.doc_upload_id(code), "contents") for code in codes],
        *[State(page.doc_upload_id(code), "filename") for code in codes],
        roles=page.ROLES, prevent_initial_call=True,
    )
    def register_order(_application: Any, _fault: Any, channel: Any, name: Any, phone: Any,
                       address: Any, lat: Any, lon: Any, business: Any, customer_type: Any,
                       small_firm: Any, load_kw: Any, capacity: Any, app_note: Any,
                       category: Any, urgency: Any, fault_note: Any, *docs: Any):
        trigger = ctx.triggered_id
        if trigger not in (page.REGISTER_APPLICATION, page.REGISTER_FAULT) \
                or not (ctx.triggered and ctx.triggered[0].get("value")):
            raise PreventUpdate
        kind = page.APPLICATION if trigger == page.REGISTER_APPLICATION else page.FAULT
        keep = [no_update] * (len(CLEARED) + 2 * len(codes))
        user = signed_in_user()
        files: list[Written] = []
        try:
            with write_session() as session:
                actor = user.model(session)
                if kind == page.APPLICATION:
                    made = customer.take_application(
                        session, actor, customer.CounterApplication(
                            channel=channel, business_type=business, customer_type=customer_type,
                            load_kw=load_kw, small_firm=small_firm, customer_name=name,
                            customer_phone=phone, address=address, lat=lat, lon=lon,
                            description=app_note, capacity_kva=capacity),
                        uploads(list(docs[:len(codes)]), list(docs[len(codes):])),
                        upload_dir=for_config(portal().config), files=files)
                    order = made.order
                else:
                    order = customer.take_fault(session, actor, customer.CounterFault(
                        channel=channel, category=category, urgency=urgency, customer_name=name,
                        customer_phone=phone, address=address, lat=lat, lon=lon,
                        description=fault_note))
                made_id, number, unit_id = order.id, order.code, order.unit_id
                class_name = label(CUSTOMER_CLASSES, order.customer_class or "")
                counted = bool(order.counter_visits)
        except ValidationFailed as exc:
            _discard(files)
            texts, invalid, rest = page.field_feedback(kind, exc.fields)
            alert = feedback([_("Nothing was registered: correct the marked fields."),
                              *[html.Div(m) for m in rest]], "danger")
            return [*texts, *invalid, alert, no_update, no_update, no_update, *keep]
        except PortalError as exc:  # the role may not, the order is not in the area …
            _discard(files)
            texts, invalid, _rest = page.field_feedback(kind, {})
            return [*texts, *invalid, feedback(error_text(exc), "danger"), no_update, no_update,
                    no_update, *keep]
        except BaseException:
            _discard(files)
            raise
        unit = unit_label(read_session(), user.scope(), unit_id)
        message = page.made_message(kind, made_id, number, class_name,
                                    unit.name() if unit is not None else "", counted)
        texts, invalid, _rest = page.field_feedback(kind, {})
        return [*texts, *invalid, message, {"id": made_id}, False, None, *CLEAR_VALUES,
                *[None] * (2 * len(codes))]

    @secure_callback(app, Output(page.CODE_RESULT, "children", allow_duplicate=True),
                     Input(page.GIVE_CODE, "n_clicks"), State(page.MADE, "data"),
                     roles=page.ROLES, prevent_initial_call=True)
    def give_code(clicks: Any, made: Any):
        if not clicks:
            raise PreventUpdate
        order_id = made.get("id") if isinstance(made, dict) else None
        user = signed_in_user()
        try:
            with write_session() as session:
                order, code = customer.issue_code(session, user.model(session), order_id)
                number_ = order.code
        except PortalError as exc:
            return feedback(error_text(exc), "danger")
        link = url_for("customer.track", n=number_, c=code, _external=True)
        return feedback([
            html.Div(_("Give the customer case number %(number)s and the code %(code)s. "
                       "It is shown only now; an earlier code no longer works.",
                       number=number_, code=code), id="intake-code-text"),
            html.Div([_("They can follow it online at:"), " ", html.A(link, href=link,
                                                                       target="_blank")],
                     className="small mt-1"),
        ], "info")

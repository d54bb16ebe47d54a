"""One work order: show it, offer the actions the user may take, take them."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate
from sqlalchemy import select

from station_portal.auth.roles import ALL_STAFF
from station_portal.callbacks._secure import secure_callback
from station_portal.customer.tracking import customer_side
from station_portal.db import utcnow
from station_portal.errors import Conflict, PortalError
from station_portal.gridworks.queries import works_for_order
from station_portal.i18n import _
from station_portal.notify.queries import order_alerts
from station_portal.org.models import Unit, UnitKind
from station_portal.pages import order_detail as page
from station_portal.pages.gridworks import order_works_card
from station_portal.pages.ui import no_such_item, out_of_scope
from station_portal.services import applications, customer, orders, parks, repairs, visits
from station_portal.timefmt import SHANGHAI, format_local
from station_portal.validate import as_id, text
from station_portal.web.context import read_session, signed_in_user, write_session
from station_portal.workorders.actions import (
    COUNTER_VISIT,
    SUPPLY_PLAN,
    TRACKING_CODE,
    available_actions,
)
from station_portal.workorders.models import Kind, WorkOrder
from station_portal.workorders.queries import crews_for_dispatch, order_detail

FIELD_IDS = list(page.FIELD_ROWS)


def _alert(message: str, colour: str) -> dbc.Alert:
    return dbc.Alert(message, color=colour, dismissable=True, className="py-2",
                     id="order-feedback-alert")


def _visit_day(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return datetime.combine(day, time(9), SHANGHAI) if 2000 <= day.year <= 2100 else None


def run_action(session, user, order_id: int, version: Any, action: str, values: dict[str, Any]):
    """Call the service for one action of the detail page."""
    note = text(values.get(page.NOTE), 300)
    if action in ("dispatch", "accept", "depart", "arrive", "restore", "close", "cancel", "transfer"):
        order = session.get(WorkOrder, order_id)
        if order is not None and order.kind == Kind.APPLICATION and action in ("accept", "cancel"):
            if action == "accept":
                return applications.accept_application(session, user, order_id, version, note=note)
            return applications.cancel_application(session, user, order_id, version,
                                                   text(values.get(page.REASON), 300))
        return repairs.repair_action(session, user, order_id, version, action,
                                     crew_id=values.get(page.CREW), unit_id=values.get(page.UNIT),
                                     reason=text(values.get(page.REASON), 300))
    if action == "advance":
        return applications.advance_stage(session, user, order_id, version, note=note)
    if action == SUPPLY_PLAN:
        return applications.advance_stage(session, user, order_id, version, note=note,
                                          supply=text(values.get(page.SUPPLY), 8))
    if action == "pause":
        return applications.pause(session, user, order_id, version, text(values.get(page.PAUSE_REASON)),
                                  note=note)
    if action == "resume":
        return applications.resume(session, user, order_id, version, note=note)
    if action == "note":
        return orders.add_note(session, user, order_id, note)
    if action == COUNTER_VISIT:
        return customer.record_counter_visit(session, user, order_id, version, note=note)
    if action == "plan_visit":
        return visits.plan(session, user, order_id, _visit_day(values.get(page.VISIT_DATE)),
                           note=note)
    if action.startswith("record_visit:"):
        return visits.record(session, user, action.split(":", 1)[1], case_id=order_id, note=note)
    if action.startswith("milestone:"):
        application_id = None
        code = text(values.get(page.APPLICATION), 24).strip()
        if code:
            application_id = session.scalar(select(WorkOrder.id).where(WorkOrder.code == code))
        return parks.complete_milestone(session, user, order_id, version, action.split(":", 1)[1],
                                        note=note, application_id=application_id)
    raise PortalError(_("Unknown action."))


def register(app: Dash) -> None:
    @secure_callback(
        app,
        Output(page.CONTENT, "children"), Output(page.VERSION, "data"),
        Output(page.ACTION, "options"), Output(page.ACTION, "value"),
        Output(page.CREW, "options"), Output(page.UNIT, "options"),
        Output(page.ACTIONS, "style"),
        Input(page.ORDER_ID, "data"), Input(page.REFRESH, "data"), roles=ALL_STAFF,
    )
    def show(order_id: Any, _refresh: Any):
        user = signed_in_user()
        session, scope, now = read_session(), user.scope(), utcnow()
        detail = order_detail(session, scope, as_id(order_id), now)
        if detail is None:  # no actions for what cannot be shown
            missing = as_id(order_id) is None or session.get(WorkOrder, as_id(order_id)) is None
            message = no_such_item(_("There is no such work order. Check the number or open it "
                                     "from a list.")) if missing else out_of_scope()
            return message, None, [], None, [], [], {"display": "none"}
        order = detail.order
        actions = available_actions(order, user.role)
        options = [{"label": page.action_label(a), "value": a} for a in actions]
        if order.kind == Kind.PARK_CASE:
            for visit in detail.visits:
                if visit.done_at is None:
                    options.insert(-1, {"label": _("Record the visit of %(day)s",
                                                   day=format_local(visit.planned_for)[:10]),
                                        "value": f"record_visit:{visit.id}"})
        crews = [{"label": c.code, "value": c.id} for c in crews_for_dispatch(session, scope)] \
            if "dispatch" in actions else []
        units = []
        if "transfer" in actions:
            units = [{"label": u.name(), "value": u.id} for u in session.scalars(
                select(Unit).where(Unit.kind.in_([UnitKind.SERVICE_STATION, UnitKind.GRID]),
                                   Unit.id != order.unit_id).order_by(Unit.path))]
        works = order_works_card(works_for_order(session, order.id)) \
            if order.kind == Kind.APPLICATION else None
        customer = page.customer_card(customer_side(session, order)) \
            if order.kind in (Kind.REPAIR, Kind.APPLICATION) else None
        alerts = page.alerts_card(order_alerts(session, order.id))
        return (page.detail_component(detail, now, works, customer, alerts), order.version,
                options, options[0]["value"] if options else None, crews, units, {})

    @secure_callback(app, [Output(page.FIELD_ROWS[f], "hidden") for f in FIELD_IDS],
                     Input(page.ACTION, "value"), roles=ALL_STAFF)
    def show_fields(action: Any):
        action = text(action, 64)
        key = "record_visit" if action.startswith("record_visit:") else action
        if key.startswith("milestone:") and key != "milestone:formal_application":
            wanted = {page.NOTE}
        else:
            wanted = page.FIELDS_FOR.get(key, set())
        return [field not in wanted for field in FIELD_IDS]

    @secure_callback(
        app,
        Output(page.FEEDBACK, "children"), Output(page.REFRESH, "data"),
        Output(page.NOTE, "value"), Output(page.REASON, "value"),
        Input(page.SUBMIT, "n_clicks"),
        State(page.ACTION, "value"), State(page.ORDER_ID, "data"), State(page.VERSION, "data"),
        State(page.REFRESH, "data"),
        *[State(f, "date" if f == page.VISIT_DATE else "value") for f in FIELD_IDS],
        roles=ALL_STAFF, prevent_initial_call=True,
    )
    def submit(_clicks: Any, action: Any, order_id: Any, version: Any, refresh: Any, *values: Any):
        if ctx.triggered_id != page.SUBMIT:
            raise PreventUpdate
        action = text(action, 64)
        oid = as_id(order_id)
        if not action or oid is None:
            return _alert(_("Choose an action."), "warning"), no_update, no_update, no_update
        count = refresh + 1 if isinstance(refresh, int) else 1
        user = signed_in_user()
        if action == TRACKING_CODE:
            try:
                with write_session() as session:
                    order, code = customer.issue_code(session, user.model(session), oid)
                    number = order.code
            except PortalError as exc:
                return _alert(exc.message, "danger"), no_update, no_update, no_update
            return _alert(_("Give the customer case number %(number)s and the code %(code)s. "
                            "It is shown only now; an earlier code no longer works.",
                            number=number, code=code), "info"), count, no_update, no_update
        try:
            with write_session() as session:
                run_action(session, user.model(session), oid, version, action,
                           dict(zip(FIELD_IDS, values, strict=True)))
        except Conflict as exc:
            return _alert(exc.message, "warning"), count, no_update, no_update
        except PortalError as exc:
            fields = getattr(exc, "fields", None)
            message = "; ".join(fields.values()) if fields else exc.message
            return _alert(message, "danger"), no_update, no_update, no_update
        return _alert(_("Done: %(action)s.", action=page.action_label(
            "record_visit" if action.startswith("record_visit:") else action)), "success"), \
            count, "", ""


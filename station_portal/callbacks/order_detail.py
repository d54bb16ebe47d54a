"""One work order: show it, offer the actions the user may take, take them.

Thin: the order and its cards come from the domain's queries, an action goes through the
command table (``services.commands``), which calls the service that checks and records it.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate
from sqlalchemy import select

from station_portal.auth.roles import ALL_STAFF
from station_portal.callbacks._secure import secure_callback
from station_portal.customer.tracking import customer_side
from station_portal.db import utcnow
from station_portal.errors import Conflict, PortalError
from station_portal.gridworks.queries import works_for_order
from station_portal.i18n import _, get_locale
from station_portal.network.areas import feeder_capacity, nearest_areas, spare_capacity
from station_portal.network.models import TransformerArea
from station_portal.network.outages import outages_cutting
from station_portal.notify.queries import order_alerts
from station_portal.org.models import UnitKind
from station_portal.org.queries import unit_options
from station_portal.org.tree import subtree_ids
from station_portal.pages import order_detail as page
from station_portal.pages.gridworks import order_works_card
from station_portal.pages.ui import error_text, feedback, no_such_item, out_of_scope
from station_portal.services import commands
from station_portal.timefmt import format_local
from station_portal.validate import as_id, day, text
from station_portal.web.context import read_session, signed_in_user, write_session
from station_portal.workorders.actions import (
    HOOKUP_OUTAGE,
    SET_AREA,
    TRACKING_CODE,
    available_actions,
)
from station_portal.workorders.models import Kind
from station_portal.workorders.queries import crews_for_dispatch, order_detail

FIELD_IDS = list(page.FIELD_ROWS)
# The units a repair may be handed to (the service checks the same).
TRANSFER_KINDS = (UnitKind.SERVICE_STATION, UnitKind.GRID)
ALERT_ID = "order-feedback-alert"


def action_values(fields: dict[str, Any]) -> commands.ActionValues:
    """The page's action fields (by component id) as the command table takes them."""
    return commands.ActionValues(
        note=text(fields.get(page.NOTE), 300), reason=text(fields.get(page.REASON), 300),
        crew_id=as_id(fields.get(page.CREW)), unit_id=as_id(fields.get(page.UNIT)),
        pause_reason=text(fields.get(page.PAUSE_REASON)), supply=text(fields.get(page.SUPPLY), 8),
        visit_day=day(fields.get(page.VISIT_DATE)),
        area_id=as_id(fields.get(page.AREA)), outage_id=as_id(fields.get(page.OUTAGE)),
        application_code=text(fields.get(page.APPLICATION), 24).strip())


def transfer_options(order_unit_id: int) -> list[dict[str, Any]]:
    """Stations and grids to hand a repair to: every one but its own."""
    zh = get_locale().startswith("zh")
    return [{"label": name_zh if zh else name_en, "value": uid}
            for uid, _kind, name_zh, name_en in unit_options(read_session(), TRANSFER_KINDS)
            if uid != order_unit_id]


def area_options(session: Any, scope: Any, order: Any) -> list[dict[str, Any]]:
    """The active areas of the order's unit nearest its site first (the 30 nearest)."""
    return [{"label": f"{a.name} ({a.code})", "value": a.id}
            for a in nearest_areas(session, order.lat, order.lon,
                                   unit_ids=subtree_ids(session, order.unit_id), scope=scope,
                                   limit=30)]


def hookup_options(session: Any, scope: Any, order: Any, now: Any) -> list[dict[str, Any]]:
    """Approved and announced outages of the scope that cut the application's area."""
    return [{"label": f"{o.code} · {format_local(o.starts_at)}–{format_local(o.ends_at)[11:]}",
             "value": o.id}
            for o in outages_cutting(session, scope, order.area_id, now)]


def capacity_card(session: Any, order: Any) -> Any:
    """An application's room: its transformer area for a low-voltage class, its feeder
    (where a high-voltage customer's own transformer hangs) otherwise."""
    if order.kind != Kind.APPLICATION or order.area_id is None:
        return None
    at_plan = order.current_stage == "supply_plan"
    if (order.customer_class or "").startswith("lv"):
        room = spare_capacity(session, None, area_ids=[order.area_id])
        return page.area_capacity_card(room[0] if room else None, order.load_kw, at_plan)
    feeder = session.scalar(select(TransformerArea.feeder_id)
                            .where(TransformerArea.id == order.area_id))
    rooms = feeder_capacity(session, [feeder] if feeder is not None else [])
    return page.feeder_capacity_card(rooms[0] if rooms else None, order.load_kw, at_plan)


def register(app: Dash) -> None:
    @secure_callback(
        app,
        Output(page.CONTENT, "children"), Output(page.VERSION, "data"),
        Output(page.ACTION, "options"), Output(page.ACTION, "value"),
        Output(page.CREW, "options"), Output(page.UNIT, "options"),
        Output(page.AREA, "options"), Output(page.OUTAGE, "options"),
        Output(page.ACTIONS, "style"),
        Input(page.ORDER_ID, "data"), Input(page.REFRESH, "data"), roles=ALL_STAFF,
    )
    def show(order_id: Any, _refresh: Any):
        user = signed_in_user()
        session, scope, now = read_session(), user.scope(), utcnow()
        detail = order_detail(session, scope, as_id(order_id), now)
        if detail is None:  # no actions for what cannot be shown
            missing = commands.order_kind(session, order_id) is None
            message = no_such_item(_("There is no such work order. Check the number or open it "
                                     "from a list.")) if missing else out_of_scope()
            return message, None, [], None, [], [], [], [], {"display": "none"}
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
        units = transfer_options(order.unit_id) if "transfer" in actions else []
        areas = area_options(session, scope, order) if SET_AREA in actions else []
        hookups = hookup_options(session, scope, order, now) if HOOKUP_OUTAGE in actions else []
        works = order_works_card(works_for_order(session, order.id)) \
            if order.kind == Kind.APPLICATION else None
        customer = page.customer_card(customer_side(session, order)) \
            if order.kind in (Kind.REPAIR, Kind.APPLICATION) else None
        alerts = page.alerts_card(order_alerts(session, order.id))
        capacity = capacity_card(session, order)
        return (page.detail_component(detail, now, works, customer, alerts, capacity),
                order.version,
                options, options[0]["value"] if options else None, crews, units, areas, hookups,
                {})

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
            return feedback(_("Choose an action."), "warning", ALERT_ID), no_update, no_update, \
                no_update
        count = refresh + 1 if isinstance(refresh, int) else 1
        user = signed_in_user()
        try:
            with write_session() as session:
                done = commands.run(session, user.model(session), oid, version, action,
                                    action_values(dict(zip(FIELD_IDS, values, strict=True))))
                if action == TRACKING_CODE:
                    order, code = done
                    number = order.code
        except Conflict as exc:
            return feedback(exc.message, "warning", ALERT_ID), count, no_update, no_update
        except PortalError as exc:
            return feedback(error_text(exc), "danger", ALERT_ID), no_update, no_update, no_update
        if action == TRACKING_CODE:
            return feedback(_("Give the customer case number %(number)s and the code %(code)s. "
                              "It is shown only now; an earlier code no longer works.",
                              number=number, code=code), "info", ALERT_ID), count, no_update, \
                no_update
        return feedback(_("Done: %(action)s.", action=page.action_label(
            "record_visit" if action.startswith("record_visit:") else action)), "success",
            ALERT_ID), count, "", ""

"""One work order: where it stands against its limits, who holds it, its timeline, actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.auth.roles import ALL_STAFF
from station_portal.i18n import _, _l, get_locale
from station_portal.labels import (
    APPLICATION_STATUSES,
    BUSINESS_TYPES,
    CUSTOMER_CLASSES,
    EVENT_ACTIONS,
    HOLDERS,
    PARK_STATUSES,
    PAUSE_REASONS,
    REPAIR_CATEGORIES,
    REPAIR_SOURCES,
    REPAIR_STATUSES,
    SLA_STATUSES,
    SUPPLY_KINDS,
    URGENCIES,
    amount_text,
    label,
    stage_label,
    standing_text,
)
from station_portal.notify.queries import Alert
from station_portal.pages import Page
from station_portal.pages.ui import dropdown, empty_state, page_header, simple_table
from station_portal.sla.rules import GW_EXTENSION, GW_INCLUDED, GW_SEPARATE, RuleSet
from station_portal.timefmt import format_deadline, format_local
from station_portal.workorders.models import Kind, StageClock
from station_portal.workorders.queries import GridWorksStanding, Lateness, OrderDetail

ORDER_ID = "order-id"
VERSION = "order-version"
REFRESH = "order-refresh"
CONTENT = "order-content"
TITLE = "order-title"
ACTION = "order-action"
CREW = "order-crew"
UNIT = "order-unit"
PAUSE_REASON = "order-pause-reason"
SUPPLY = "order-supply"
REASON = "order-reason"
NOTE = "order-note"
APPLICATION = "order-application"
VISIT = "order-visit"
VISIT_DATE = "order-visit-date"
AREA = "order-area"
OUTAGE = "order-outage"
SUBMIT = "order-submit"
ACTIONS = "order-actions"
FEEDBACK = "order-feedback"
# Field groups shown only for the actions that need them.
FIELD_ROWS = {CREW: "order-row-crew", UNIT: "order-row-unit", PAUSE_REASON: "order-row-pause",
              SUPPLY: "order-row-supply",
              REASON: "order-row-reason", APPLICATION: "order-row-application",
              VISIT: "order-row-visit", VISIT_DATE: "order-row-visit-date", AREA: "order-row-area",
              OUTAGE: "order-row-outage", NOTE: "order-row-note"}
FIELDS_FOR = {
    "dispatch": {CREW}, "transfer": {UNIT, REASON}, "cancel": {REASON}, "pause": {PAUSE_REASON, NOTE},
    "resume": {NOTE}, "advance": {NOTE}, "supply_plan": {SUPPLY, NOTE}, "accept": {NOTE},
    "note": {NOTE}, "counter_visit": {NOTE},
    "milestone:formal_application": {APPLICATION, NOTE}, "plan_visit": {VISIT_DATE, NOTE},
    "record_visit": {VISIT, NOTE}, "set_area": {AREA}, "hookup_outage": {OUTAGE},
}
ACTION_LABELS = {
    "dispatch": _l("Dispatch to a crew"), "accept": _l("Accept"), "depart": _l("Set off"),
    "arrive": _l("Arrived on site"), "restore": _l("Power restored"), "close": _l("Close"),
    "cancel": _l("Cancel"), "transfer": _l("Hand over to another unit"),
    "advance": _l("Complete the current stage"),
    "supply_plan": _l("Answer the supply plan (single or dual supply)"),
    "pause": _l("Pause the clock"),
    "resume": _l("Resume the clock"), "note": _l("Add a note"), "plan_visit": _l("Plan a visit"),
    "record_visit": _l("Record a visit"),
    "tracking_code": _l("Give the customer a tracking code"),
    "counter_visit": _l("Record a counter visit"),
    "set_area": _l("Correct the transformer area"),
    "hookup_outage": _l("Hook up during an outage"),
}
# A pause is for the customer; grid works never stop the clocks (link the project instead).
PAUSE_CHOICES = ("customer_documents", "customer_construction", "customer_request")
SLA_COLOURS = {"on_track": "success", "at_risk": "warning", "overdue": "danger", "met": "secondary",
               "missed": "dark", "no_limit": "light", "cancelled": "light"}


def action_label(code: str) -> str:
    if code.startswith("milestone:"):
        return _("Milestone done: %(name)s", name=stage_label(code.split(":", 1)[1]))
    return str(ACTION_LABELS.get(code, code))


def _row(field_id: str, label_text: str, control: Any) -> html.Div:
    return html.Div([dbc.Label(label_text, html_for=field_id, className="small mb-1"), control],
                    id=FIELD_ROWS[field_id], className="mb-2", hidden=True)


def layout(user: Any, query: dict[str, str]) -> html.Div:
    actions = dbc.Card([
        dbc.CardHeader(_("Actions")),
        dbc.CardBody([
            html.Div(id=FEEDBACK),
            dbc.Select(id=ACTION, className="mb-2"),
            _row(CREW, _("Crew"), dropdown(CREW)),
            _row(UNIT, _("Hand over to"), dropdown(UNIT)),
            _row(AREA, _("Transformer area"), dropdown(AREA)),
            _row(OUTAGE, _("Outage of the hook-up"), dropdown(OUTAGE)),
            _row(PAUSE_REASON, _("Reason for the pause"), html.Div([
                dbc.Select(id=PAUSE_REASON, options=[
                    {"label": str(text), "value": code} for code, text in PAUSE_REASONS.items()
                    if code in PAUSE_CHOICES]),
                dbc.FormText(_("The note is shown to the customer on their tracking page "
                               "while the clock waits for them."))])),
            _row(SUPPLY, _("Supply decided in the plan"), html.Div([
                dbc.Select(id=SUPPLY, value="single", options=[
                    {"label": str(text), "value": code} for code, text in SUPPLY_KINDS.items()]),
                dbc.FormText(_("Dual supply takes the dual-supply time limits."))])),
            _row(REASON, _("Why"), dbc.Input(id=REASON, maxLength=300)),
            _row(APPLICATION, _("Number of the formal application"),
                 dbc.Input(id=APPLICATION, maxLength=24, placeholder="A20260301…")),
            _row(VISIT, _("Visit"), dbc.Select(id=VISIT)),
            _row(VISIT_DATE, _("Date of the visit"),
                 dcc.DatePickerSingle(id=VISIT_DATE, display_format="YYYY-MM-DD",
                                      first_day_of_week=1, placeholder=_("Pick a day"))),
            _row(NOTE, _("Note"), dbc.Textarea(id=NOTE, maxLength=300, rows=2)),
            dbc.Button(_("Submit"), id=SUBMIT, color="primary", className="mt-1"),
        ]),
    ], className="mb-3", id=ACTIONS)
    return html.Div([
        dcc.Store(id=ORDER_ID, data=query.get("id")),
        dcc.Store(id=VERSION),
        dcc.Store(id=REFRESH, data=0),
        dbc.Row([
            dbc.Col(dcc.Loading(html.Div(id=CONTENT)), lg=8),
            dbc.Col(actions, lg=4),
        ]),
    ])


PAGE = Page(path="/order", title=_l("Work order"), roles=ALL_STAFF, layout=layout,
            icon="bi-file-text", in_nav=False)


def _name(unit: Any) -> str:
    return unit.name() if unit is not None else ""


def sla_badge(code: str | None) -> Any:
    if not code:
        return None
    colour = SLA_COLOURS.get(code, "secondary")
    return dbc.Badge(label(SLA_STATUSES, code), color=colour,
                     text_color="dark" if colour in ("warning", "light") else None,
                     className=f"portal-sla-badge portal-sla-{code} me-1")


def _limit_text(clock: StageClock) -> str:
    if clock.limit_amount is None:
        return "–"
    amount = f"{clock.limit_amount:g}"
    if clock.limit_unit == "workday":
        return _("%(n)s working days", n=amount)
    return _("%(n)s minutes", n=amount)


def grid_works_text(standing: GridWorksStanding) -> str:
    rule = standing.rule
    if rule.rule == GW_SEPARATE:
        return _("With grid works the whole process has its own limit of %(n)s working days.",
                 n=format(rule.amount or 0, "g"))
    if rule.rule == GW_EXTENSION:
        return _("Grid works extend the whole-process limit by %(n)s working days.",
                 n=format(rule.amount or 0, "g"))
    if rule.rule == GW_INCLUDED:
        return _("Grid works count inside the whole-process limit; the clocks do not stop.")
    return _("The rules give grid works no limit of their own; the clocks do not stop and the "
             "time waiting is shown as held by grid works.")


def grid_works_note(detail: OrderDetail) -> Any:
    """What the rules say of supporting grid works, on an application's time-limit card."""
    standing = detail.grid_works
    if standing is None:
        return None
    return html.Div([html.I(className="bi bi-lightning-charge me-1"),
                     html.Span(_("Waiting on grid works. ") if standing.waiting else "",
                               className="fw-semibold"),
                     grid_works_text(standing),
                     html.Span(f" ({standing.rule.source})" if standing.rule.source else "",
                               className="text-body-secondary")],
                    className="small mb-2", id="order-grid-works-rule")


def holder_text(detail: OrderDetail, holder: str, unit_id: int | None) -> str:
    if holder != "unit":
        return label(HOLDERS, holder)
    return _name(detail.units.get(unit_id)) if unit_id else ""


def clocks_table(detail: OrderDetail) -> Any:
    rows = []
    for clock in detail.order.clocks:
        pending = clock.started_at is None and clock.entered_at is None
        is_current = clock.stage == detail.order.current_stage and clock.ended_at is None
        name = [stage_label(clock.stage)]
        if is_current:
            name.append(dbc.Badge(_("now"), color="primary", className="ms-1"))
        if clock.provisional:
            name.append(html.Span(" *", title=_("Provisional: the calendar of that year is not "
                                                "published yet"), className="text-danger"))
        rows.append(html.Tr([
            html.Td(name),
            html.Td(holder_text(detail, clock.holder, clock.holder_unit_id)
                    if clock.stage != "total" else _("Utility")),
            html.Td(format_local(clock.entered_at or clock.started_at)),
            html.Td(format_deadline(clock.planned_at if clock.planned_at and clock.limit_amount
                                    is None else clock.due_at)),
            html.Td(format_local(clock.ended_at)),
            html.Td([sla_badge(clock.status), _late_cell(detail.lateness.get(clock.seq))]),
            html.Td(html.Span(_limit_text(clock), title=clock.limit_source)),
        ], className="text-body-secondary" if pending else None))
    return dbc.Table([
        html.Thead(html.Tr([html.Th(h) for h in (
            _("Stage"), _("Held by"), _("Started"), _("Due"), _("Done"), _("Status"),
            _("Limit"))])),
        html.Tbody(rows),
    ], size="sm", responsive=True, hover=True, className="align-middle", id="order-clocks")


def _late_cell(figure: Lateness | None) -> Any:
    if figure is None or figure.late <= 0:
        return None
    return html.Span(amount_text(figure.unit, figure.late), className="small text-danger")


def attribution_table(detail: OrderDetail) -> Any:
    if not detail.shares:
        return None
    rows = [(holder_text(detail, s.holder, s.unit_id), f"{s.held_workdays:.1f}",
             html.Span(f"{s.late_workdays:g}", className="text-danger fw-semibold")
             if s.late_workdays > 0 else "0",
             "、".join(stage_label(x) for x in s.stages) if get_locale().startswith("zh")
             else ", ".join(stage_label(x) for x in s.stages))
            for s in detail.shares]
    return dbc.Card([
        dbc.CardHeader(_("Who held it, and who made it late")),
        dbc.CardBody(simple_table([_("Holder"), _("Working days held"),
                                   _("Working days late"), _("Stages")], rows,
                                  id="order-attribution")),
    ], className="mb-3")


def timeline(detail: OrderDetail) -> Any:
    items = []
    for e in reversed(detail.events):
        change = ""
        if e.from_value or e.to_value:
            change = " → ".join(x for x in (_value_text(detail, e.from_value),
                                            _value_text(detail, e.to_value)) if x)
        items.append(dbc.ListGroupItem([
            html.Div([html.Strong(label(EVENT_ACTIONS, e.action)),
                      html.Span(f" {change}" if change else ""),
                      html.Small(format_local(e.at), className="ms-auto text-body-secondary")],
                     className="d-flex gap-2"),
            html.Div([html.Small(e.actor or (_("customer, online")
                                             if (e.details or {}).get("by") == "customer"
                                             else _("system")), className="text-body-secondary"),
                      html.Div(e.reason) if e.reason else None]),
        ]))
    return dbc.Card([dbc.CardHeader(_("Timeline")),
                     dbc.ListGroup(items, flush=True, id="order-timeline")], className="mb-3")


def alerts_card(alerts: list[Alert]) -> Any:
    """The SLA watch's warnings and escalations on this order's clocks."""
    if not alerts:
        return None
    from station_portal.notify.service import LEVEL_NAMES

    rows = [(format_local(fired), stage_label(stage), str(LEVEL_NAMES.get(level, level)),
             _("Sent to %(n)s", n=told) if told else _("recorded without a message"))
            for stage, level, fired, told in alerts]
    return dbc.Card([
        dbc.CardHeader(_("Warnings and escalations")),
        dbc.CardBody(simple_table([_("When"), _("Stage"), _("Level"), _("Who heard")], rows,
                                  id="order-alerts")),
    ], className="mb-3")


CHANNELS = {"online": _l("applied or reported online"),
            "staff": _l("tracking code given by staff"), "demo": _l("demo case")}
FILE_PURPOSES = {"photo": _l("Photo from the field")}


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def customer_card(side: Any) -> Any:
    """The customer's part: how they reached us, counter visits, files, signatures, rating."""
    from station_portal.customer.documents import document_rules

    kinds = document_rules().kinds
    facts_rows = [
        (_("Online access"), str(CHANNELS.get(side.channel, side.channel)) if side.channel
         else _("no tracking code given yet")),
        (_("Counter visits"), str(side.counter_visits)),
    ]
    for sig in side.signatures:
        facts_rows.append((_("Contract signed"), _(
            "%(name)s, %(time)s, from %(ip)s (text %(digest)s…)", name=sig.signer_name,
            time=format_local(sig.signed_at), ip=sig.ip or "–", digest=sig.contract_sha256[:12])))
    if side.rating is not None:
        facts_rows.append((_("Customer's rating"), html.Span([
            html.Span("★" * side.rating.stars + "☆" * (5 - side.rating.stars),
                      className="text-warning me-2"), side.rating.comment])))
    files = [html.Li([
        html.A(f.original_name, href=f"/api/v1/attachments/{f.id}", target="_blank",
               rel="noopener"),
        html.Small(f" · {kinds[f.purpose].name() if f.purpose in kinds else label(FILE_PURPOSES, f.purpose)}"
                   f" · {_size(f.size)} · {format_local(f.uploaded_at)}",
                   className="text-body-secondary")]) for f in side.files]
    return dbc.Card([
        dbc.CardHeader(_("Customer")),
        dbc.CardBody([
            html.Dl([item for k, v in facts_rows for item in (html.Dt(k, className="col-sm-4"),
                                                              html.Dd(v, className="col-sm-8"))],
                    className="row mb-2"),
            html.H3(_("Files"), className="h6") if files else None,
            html.Ul(files, className="small mb-0", id="order-files") if files else None,
        ], id="order-customer"),
    ], className="mb-3")


def _value_text(detail: OrderDetail, value: str | None) -> str:
    if value is None:
        return ""
    for table in (REPAIR_STATUSES, APPLICATION_STATUSES, PARK_STATUSES, PAUSE_REASONS):
        if value in table:
            return label(table, value)
    return stage_label(value)


def facts(detail: OrderDetail) -> list[tuple[str, Any]]:
    o = detail.order
    common = [(_("Unit"), _name(detail.territory)), (_("Address"), o.address)]
    if detail.area is not None:
        common.append((_("Transformer area"), f"{detail.area.name} ({detail.area.code})"))
    if detail.outage is not None:
        common.append((_("Inside outage") if o.kind == Kind.REPAIR else _("Hook-up outage"),
                       html.A(f"{detail.outage.code} · {format_local(detail.outage.starts_at)}–"
                              f"{format_local(detail.outage.ends_at)[11:]}", href="/outages")))
    if o.kind == Kind.REPAIR:
        return [
            (_("Reported at"), format_local(o.created_at)),
            (_("Source"), label(REPAIR_SOURCES, o.source)),
            (_("Category"), label(REPAIR_CATEGORIES, o.category)),
            (_("Urgency"), label(URGENCIES, str(o.urgency))),
            (_("Customer"), f"{o.customer_name} {o.customer_phone}".strip()),
            (_("Crew"), detail.crew.code if detail.crew else "–"),
            *common,
            (_("Description"), o.description or "–"),
        ]
    if o.kind == Kind.APPLICATION:
        rules = RuleSet.by_id(o.ruleset_id).title(get_locale()) if o.ruleset_id else "–"
        return [
            (_("Applicant"), f"{o.customer_name} {o.customer_phone}".strip()),
            (_("Business"), label(BUSINESS_TYPES, o.business_type)),
            (_("Class"), label(CUSTOMER_CLASSES, o.customer_class)
             + (" · " + _("important customer") if o.important else "")),
            (_("Load"), f"{o.load_kw:g} kW" if o.load_kw else "–"),
            (_("Transformer capacity"), f"{o.capacity_kva:g} kVA" if o.capacity_kva else "–"),
            (_("Applied"), format_local(o.created_at)),
            (_("Accepted"), format_local(o.accepted_at) or "–"),
            (_("Time-limit rules"), rules),
            *common,
        ]
    return [
        (_("Client"), detail.client.name() if detail.client else "–"),
        (_("Park"), detail.park.name() if detail.park else "–"),
        (_("Projected load"), f"{o.projected_load_kw:g} kW" if o.projected_load_kw else "–"),
        (_("Expected from"), o.projected_date.isoformat() if o.projected_date else "–"),
        (_("Formal application"), dcc.Link(detail.linked_application.code,
                                           href=f"/order?id={detail.linked_application.id}")
         if detail.linked_application else "–"),
        *common,
    ]


def standing(detail: OrderDetail, now: datetime) -> Any:
    """Where the order stands: status, who holds it since when, the next due time."""
    o = detail.order
    statuses = {Kind.REPAIR: REPAIR_STATUSES, Kind.APPLICATION: APPLICATION_STATUSES,
                Kind.PARK_CASE: PARK_STATUSES}[Kind(o.kind)]
    holder = holder_text(detail, o.holder, o.holder_unit_id) if o.is_open else ""
    parts = [
        html.Div([dbc.Badge(label(statuses, o.status), color="primary", className="me-1"),
                  sla_badge(o.sla_status),
                  dbc.Badge(_("Paused"), color="info", className="me-1") if o.paused else None,
                  html.Span(stage_label(o.current_stage), className="ms-1 fw-semibold")
                  if o.current_stage else None], className="mb-2", id="order-standing"),
    ]
    if holder:
        since = detail.holder_since or o.updated_at
        parts.append(html.Div([html.I(className="bi bi-person-workspace me-2"),
                               _("Held by %(holder)s since %(since)s", holder=holder,
                                 since=format_local(since))], id="order-holder"))
    if o.is_open and o.due_at:
        due = format_deadline(o.due_at)
        figure = detail.due
        text = _("due %(due)s", due=due) if figure is None else _(
            "due %(due)s, %(standing)s", due=due,
            standing=standing_text(figure.unit, figure.late, figure.left))
        parts.append(html.Div([html.I(className="bi bi-alarm me-2"), text], id="order-due"))
    if any(c.provisional for c in o.clocks):
        parts.append(dbc.Alert(_("A due time falls in a year whose holiday calendar is not "
                                 "published yet: it counts Monday to Friday and may move."),
                               color="warning", className="mt-2 mb-0 py-2", id="order-provisional"))
    return parts


def _capacity_card(title: str, rows: list[tuple[str, str]], fits: bool, load_kw: float | None,
                   at_supply_plan: bool, advice: str) -> Any:
    asked = f"{load_kw:,.1f}" if load_kw else ""
    verdict = dbc.Alert(_("It takes the applied loads without grid works.") if fits else advice,
                        color="success" if fits else "warning", className="mb-0 py-2",
                        id="order-capacity-verdict")
    return dbc.Card([
        dbc.CardHeader(title + (" · " + _("for the supply plan") if at_supply_plan else "")),
        dbc.CardBody([simple_table([_("Figure"), _("Value")], rows, id="order-capacity"),
                      html.Div(_("This application asks for %(kw)s kW.", kw=asked),
                               className="small mb-2") if load_kw else None,
                      verdict]),
    ], className="mb-3")


def area_capacity_card(area: Any, load_kw: float | None, at_supply_plan: bool) -> Any:
    """A low-voltage application's transformer area (``network.areas.AreaCapacity``):
    capacity, load connected and applied for (this application included), the room left."""
    if area is None:
        return None
    rows = [(_("Transformer area"), f"{area.name} ({area.code}) · {area.feeder}"),
            (_("Capacity (kVA)"), f"{area.capacity_kva:,.0f}"),
            (_("Connected (kW)"), f"{area.connected_kw:,.1f}"),
            (_("Applied for (kW)"), f"{area.applied_kw:,.1f}"),
            (_("Estimated peak (kVA)"), f"{area.peak_kva:,.1f} ({area.load_ratio:.0%})"),
            (_("Room left (kVA)"), f"{area.spare_kva:,.1f}")]
    return _capacity_card(_("Room on the transformer area"), rows, area.spare_kva >= 0, load_kw,
                          at_supply_plan, _(
                              "With the loads applied for, the area passes its heavy-load "
                              "line: plan grid works or another area in the supply plan."))


def feeder_capacity_card(feeder: Any, load_kw: float | None, at_supply_plan: bool) -> Any:
    """A high-voltage application's feeder (``network.areas.FeederCapacity``): capacity, its
    areas' peak and the high-voltage applications on it (this one included), the room left."""
    if feeder is None:
        return None
    rows = [(_("Feeder"), f"{feeder.name} ({feeder.code})"),
            (_("Capacity (kVA)"), f"{feeder.capacity_kva:,.0f}"),
            (_("Its transformer areas' peak (kVA)"), f"{feeder.areas_kva:,.1f}"),
            (_("High-voltage applications (kVA)"), f"{feeder.hv_applied_kva:,.1f}"),
            (_("Room left (kVA)"), f"{feeder.spare_kva:,.1f}")]
    return _capacity_card(_("Room on the feeder"), rows, feeder.spare_kva >= 0, load_kw,
                          at_supply_plan, _(
                              "With the loads applied for, the feeder passes its heavy-load "
                              "line: plan grid works or another feeder in the supply plan."))


def detail_component(detail: OrderDetail, now: datetime, works: Any = None,
                     customer: Any = None, alerts: Any = None, capacity: Any = None) -> Any:
    """The order; ``works`` is the card of the grid-works projects it waits on (or None),
    ``customer`` the card of the customer's own part (or None), ``alerts`` the card of the
    SLA watch's warnings and escalations (or None), ``capacity`` the card of the
    application's transformer area (or None)."""
    o = detail.order
    kind_names = {Kind.REPAIR: _("Fault repair"), Kind.APPLICATION: _("Connection application"),
                  Kind.PARK_CASE: _("Industrial-park case")}
    visits = None
    if o.kind == Kind.PARK_CASE:
        rows = [(format_local(v.planned_for), format_local(v.done_at) or "–", v.note)
                for v in detail.visits]
        visits = dbc.Card([dbc.CardHeader(_("Visits")), dbc.CardBody(
            simple_table([_("Planned"), _("Done"), _("Note")], rows, id="order-visits")
            if rows else empty_state(_("No visits planned.")))], className="mb-3")
    return html.Div([
        page_header(o.code, kind_names[Kind(o.kind)]),
        dbc.Card(dbc.CardBody(standing(detail, now)), className="mb-3"),
        capacity if o.current_stage == "supply_plan" else None,
        works,
        dbc.Card([dbc.CardHeader(_("Time limits")),
                  dbc.CardBody([grid_works_note(detail), clocks_table(detail)])],
                 className="mb-3"),
        attribution_table(detail),
        alerts,
        capacity if o.current_stage != "supply_plan" else None,
        dbc.Card(dbc.CardBody(html.Dl([x for k, v in facts(detail)
                                       for x in (html.Dt(k, className="col-sm-4"),
                                                 html.Dd(v, className="col-sm-8"))],
                                      className="row mb-0")), className="mb-3"),
        customer,
        visits,
        timeline(detail),
    ])

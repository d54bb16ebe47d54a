"""Request and response schemas of the REST API (the OpenAPI document is built from them).

Request schemas check types and ranges only; the services check meaning (a
location inside the territory, a valid step of the life cycle …) and answer
with their own translated messages per field.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from station_portal.api.fields import (
    CHOOSE,
    ApiSchema,
    Choice,
    Day,
    File,
    Id,
    Instant,
    Msg,
    Number,
    Text,
    plain_text,
    within,
)
from station_portal.auth.roles import Role
from station_portal.i18n import _l
from station_portal.sla.clock import STATUSES as SLA_STATUSES
from station_portal.validate import MAX_ID
from station_portal.workorders.models import (
    PARK_MILESTONES,
    ApplicationStatus,
    BusinessType,
    Kind,
    ParkStatus,
    RepairCategory,
    RepairSource,
    RepairStatus,
)

MAX_PER_PAGE = 200
MAX_PAGE = 100_000
MAX_PINGS = 50
ORDER_STATUSES = tuple(dict.fromkeys(
    [s.value for s in RepairStatus] + [s.value for s in ApplicationStatus]
    + [s.value for s in ParkStatus]))
SLA_FILTERS = (*SLA_STATUSES, "cancelled")
SORTS = ("created_at", "-created_at", "due_at", "-due_at")
CUSTOMER_TYPES = ("resident", "non_resident")
EVENT_ACTIONS = ("accept", "depart", "arrive", "restore", "close", "cancel", "transfer", "note")
CLIENT_KEY_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


def _version(**kwargs: Any) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, validate=within(1, MAX_ID), metadata={
        "description": "The order's version as the caller last saw it (optimistic locking).",
        "minimum": 1, "maximum": MAX_ID}, **kwargs)


def _client_key(description: str) -> ma.fields.String:
    return ma.fields.String(
        validate=[plain_text, ma.validate.Regexp(CLIENT_KEY_PATTERN, error=Msg(_l(
            "The action key has 8 to 64 letters, digits, '-' or '_'.")))],
        metadata={"description": description, "pattern": CLIENT_KEY_PATTERN})


class CodeList(ma.fields.List):
    """Codes from a query string: repeated (``status=a&status=b``) or comma-separated."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        items = value if isinstance(value, list | tuple) else [value]
        pieces = [p.strip() for item in items
                  for p in (item.split(",") if isinstance(item, str) else [item])]
        if len(pieces) > 20:
            raise ma.ValidationError(Msg(_l("At most %(n)s values."), n=20))
        try:
            return super()._deserialize(pieces, attr, data, **kwargs)
        except ma.ValidationError as exc:  # one message for the parameter, not one per value
            raise ma.ValidationError(CHOOSE) from exc


# -- tokens and the caller -----------------------------------------------------------------

class TokenRequestSchema(ApiSchema):
    username = Text(64, required=True, description="The portal username.")
    password = Text(256, required=True, description="The account's password.")
    name = Text(80, description="A label for the token, e.g. the device (shown in the audit log).")


class UserBriefSchema(ma.Schema):
    username = ma.fields.String()
    role = ma.fields.String(metadata={"enum": [r.value for r in Role]})
    display_name = ma.fields.String()


class TokenSchema(ma.Schema):
    token = ma.fields.String(metadata={
        "description": "The bearer token. Shown once; send it as `Authorization: Bearer <token>`."})
    expires_at = ma.fields.DateTime(metadata={"description": "When the token stops working (UTC)."})
    user = ma.fields.Nested(UserBriefSchema)


class MeSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    display_name = ma.fields.String()
    role = ma.fields.String(metadata={"enum": [r.value for r in Role]})
    locale = ma.fields.String(metadata={"description": "Language of messages: zh_CN or en."})
    crew_id = ma.fields.Integer(allow_none=True, metadata={"description": "The caller's crew."})
    staff_id = ma.fields.Integer(allow_none=True)
    scope_unit_id = ma.fields.Integer(allow_none=True)
    must_change_password = ma.fields.Boolean()
    authenticated_by = ma.fields.String(metadata={"enum": ["bearer", "cookie"]})


# -- errors ------------------------------------------------------------------------------

class ErrorSchema(ma.Schema):
    error = ma.fields.String(metadata={"description": "A stable code, e.g. validation_failed."})
    message = ma.fields.String(metadata={"description": "What went wrong, in the caller's language."})
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), metadata={
        "description": "One message per field that needs correcting (dotted paths for lists)."})


# -- work orders ------------------------------------------------------------------------

class OrderListQuerySchema(ApiSchema):
    class Meta:
        unknown = ma.EXCLUDE

    kind = Choice([k.value for k in Kind], description="Only orders of this kind.")
    status = CodeList(Choice(ORDER_STATUSES), metadata={
        "description": "Statuses to keep: repeat the parameter or separate with commas."})
    sla = CodeList(Choice(SLA_FILTERS), metadata={
        "description": "Live time-limit states to keep (on_track, at_risk, overdue for open "
                       "orders; met, missed, no_limit, cancelled for closed ones)."})
    unit_id = Id(strict=False, description="Only orders in this unit's territory (and below it).")
    crew_id = Id(strict=False, description="Only orders held by this crew.")
    created_from = Day(metadata={"description": "Created on or after this day (Asia/Shanghai)."})
    created_to = Day(metadata={"description": "Created on or before this day (Asia/Shanghai)."})
    q = Text(100, description="Text in the order's code or address.")
    sort = Choice(SORTS, description="Sort key; a leading '-' sorts descending. Default -created_at.",
                  load_default="-created_at")
    page = ma.fields.Integer(load_default=1, validate=within(1, MAX_PAGE),
                             metadata={"minimum": 1, "maximum": MAX_PAGE})
    per_page = ma.fields.Integer(load_default=50, validate=within(1, MAX_PER_PAGE),
                                 metadata={"minimum": 1, "maximum": MAX_PER_PAGE})


class UnitRefSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String(metadata={"description": "In the caller's language."})


class CrewRefSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()


class OrderSummarySchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    kind = ma.fields.String(metadata={"enum": [k.value for k in Kind]})
    status = ma.fields.String()
    sla = ma.fields.String(allow_none=True, metadata={
        "description": "Time-limit state now: on_track, at_risk, overdue (open); met, missed, "
                       "no_limit, cancelled (closed)."})
    version = ma.fields.Integer(metadata={"description": "Send it back with changes."})
    unit = ma.fields.Nested(UnitRefSchema, metadata={"description": "The territory owner."})
    holder = ma.fields.String(metadata={"description": "unit, customer or grid_works."})
    crew = ma.fields.Nested(CrewRefSchema, allow_none=True)
    urgency = ma.fields.Integer(allow_none=True, metadata={"description": "1 urgent … 3 low."})
    category = ma.fields.String(allow_none=True)
    source = ma.fields.String(allow_none=True)
    business_type = ma.fields.String(allow_none=True)
    customer_class = ma.fields.String(allow_none=True, metadata={
        "description": "The class the utility gave it: lv_resident, lv_small_firm, "
                       "lv_non_resident, hv_single or hv_dual."})
    load_kw = ma.fields.Float(allow_none=True)
    current_stage = ma.fields.String(allow_none=True)
    paused = ma.fields.Boolean()
    address = ma.fields.String()
    customer_name = ma.fields.String()
    lat = ma.fields.Float()
    lon = ma.fields.Float()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    due_at = ma.fields.DateTime(allow_none=True)
    closed_at = ma.fields.DateTime(allow_none=True)


class OrderPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(OrderSummarySchema))
    total = ma.fields.Integer(metadata={"description": "How many orders match in all."})
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()


class ClockSchema(ma.Schema):
    seq = ma.fields.Integer()
    stage = ma.fields.String(metadata={"description": "arrival, restoration, an application "
                                                      "stage, total, or a park milestone."})
    status = ma.fields.String(allow_none=True)
    due_at = ma.fields.DateTime(allow_none=True)
    warn_at = ma.fields.DateTime(allow_none=True)
    entered_at = ma.fields.DateTime(allow_none=True)
    started_at = ma.fields.DateTime(allow_none=True)
    ended_at = ma.fields.DateTime(allow_none=True)
    planned_at = ma.fields.DateTime(allow_none=True)
    limit_amount = ma.fields.Float(allow_none=True)
    limit_unit = ma.fields.String(allow_none=True)
    limit_source = ma.fields.String()
    provisional = ma.fields.Boolean()


class AssignmentSchema(ma.Schema):
    crew = ma.fields.Nested(CrewRefSchema, allow_none=True)
    role = ma.fields.String(metadata={"enum": ["lead", "support"]})
    assigned_at = ma.fields.DateTime()
    released_at = ma.fields.DateTime(allow_none=True)


class TimelineEventSchema(ma.Schema):
    at = ma.fields.DateTime()
    action = ma.fields.String()
    actor = ma.fields.String(allow_none=True, metadata={"description": "Username; null: the system."})
    from_value = ma.fields.String(allow_none=True)
    to_value = ma.fields.String(allow_none=True)
    reason = ma.fields.String()
    details = ma.fields.Dict(allow_none=True)


class AttachmentSchema(ma.Schema):
    id = ma.fields.Integer()
    content_type = ma.fields.String(metadata={"enum": ["image/jpeg", "image/png", "image/webp"]})
    size = ma.fields.Integer()
    sha256 = ma.fields.String()
    original_name = ma.fields.String()
    uploaded_at = ma.fields.DateTime()
    url = ma.fields.String(metadata={"description": "Where to download it (same authentication)."})


class OrderDetailSchema(OrderSummarySchema):
    description = ma.fields.String()
    customer_phone = ma.fields.String()
    holder_unit = ma.fields.Nested(UnitRefSchema, allow_none=True)
    client = ma.fields.Nested(UnitRefSchema, allow_none=True)
    ruleset_id = ma.fields.String(allow_none=True)
    dispatched_at = ma.fields.DateTime(allow_none=True)
    accepted_at = ma.fields.DateTime(allow_none=True)
    en_route_at = ma.fields.DateTime(allow_none=True)
    on_site_at = ma.fields.DateTime(allow_none=True)
    restored_at = ma.fields.DateTime(allow_none=True)
    capacity_kva = ma.fields.Float(allow_none=True)
    important = ma.fields.Boolean()
    projected_load_kw = ma.fields.Float(allow_none=True)
    projected_date = ma.fields.Date(allow_none=True)
    clocks = ma.fields.List(ma.fields.Nested(ClockSchema))
    assignments = ma.fields.List(ma.fields.Nested(AssignmentSchema))
    events = ma.fields.List(ma.fields.Nested(TimelineEventSchema))
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema))
    actions = ma.fields.List(ma.fields.String(), metadata={
        "description": "Steps the caller may take now (what the portal's buttons offer)."})


class ConflictSchema(ErrorSchema):
    order = ma.fields.Nested(OrderSummarySchema, metadata={
        "description": "The order as it is now: its current version, status and crew."})


class RepairCreateSchema(ApiSchema):
    source = Choice([s.value for s in RepairSource], required=True)
    category = Choice([c.value for c in RepairCategory], required=True)
    urgency = ma.fields.Integer(required=True, strict=True, validate=ma.validate.OneOf(
        [1, 2, 3], error=Msg(_l("Choose one of the listed values."))),
        metadata={"description": "1 urgent, 2 normal, 3 low."})
    lat = Number(-90, 90, required=True, description="Latitude of the fault (WGS 84).")
    lon = Number(-180, 180, required=True, description="Longitude of the fault (WGS 84).")
    address = Text(200, required=True)
    customer_name = Text(80)
    customer_phone = Text(32)
    description = Text(500)
    reported_at = Instant(metadata={"description": "When the fault was reported (default: now)."})
    client_id = Id(description="A VIP or park client, if the fault is theirs.")


class ApplicationCreateSchema(ApiSchema):
    business_type = Choice([b.value for b in BusinessType], required=True)
    customer_type = Choice(CUSTOMER_TYPES, required=True, description=(
        "What the applicant states: resident or non_resident. The utility decides the class "
        "(low or high voltage, the small-firm path; single or dual supply in the supply plan)."))
    load_kw = Number(0, 100_000, required=True, description="The load applied for, in kW.")
    small_firm = ma.fields.Boolean(load_default=False, metadata={
        "description": "A small or micro firm (小微企业): the three-zeros path up to its kW limit."})
    capacity_kva = Number(0, 100_000, description="Transformer capacity in kVA (high voltage), "
                                                  "if known.")
    customer_name = Text(80, required=True)
    lat = Number(-90, 90, required=True)
    lon = Number(-180, 180, required=True)
    address = Text(200, required=True)
    customer_phone = Text(32)
    important = ma.fields.Boolean(load_default=False)
    description = Text(500)
    client_id = Id()
    applied_at = Instant(metadata={"description": "When the customer applied (default: now)."})
    accept = ma.fields.Boolean(load_default=True, metadata={
        "description": "Accept it at once (taken at a counter); false leaves it pending."})
    at_counter = ma.fields.Boolean(load_default=False, metadata={
        "description": "The applicant came to a counter for it (counts one counter visit)."})


# A park case's planned milestones: one optional day per milestone, in their order.
MilestonePlanSchema = ApiSchema.from_dict({
    code: Day(metadata={"description": f"The day `{code}` is planned for (due at its end, "
                                       "24:00 Beijing time; today or later)."})
    for code in PARK_MILESTONES}, name="MilestonePlan")


class ParkCaseCreateSchema(ApiSchema):
    client_id = Id(required=True, description=(
        "The VIP or park client the case is for: one of the caller's clients, in their area."))
    projected_load_kw = Number(0, 1_000_000, required=True, description=(
        "The load the client expects to need, in kW (more than 0)."))
    projected_date = Day(required=True, metadata={
        "description": "The day the load is expected (today or later)."})
    description = Text(500, description="What the client plans.")
    account_manager_id = Id(description=(
        "The account manager who follows the case: one who looks after the client. Default: "
        "the caller, if an account manager; other callers name one."))
    visit_planned_for = Day(metadata={
        "description": "The day of the first visit (at 09:00 Beijing time; today or later)."})
    milestone_plan = ma.fields.Nested(MilestonePlanSchema, metadata={
        "description": "Planned days of the milestones, as many as are known."})


class AssignmentCreateSchema(ApiSchema):
    crew_id = Id(required=True, description="The crew to send.")
    version = _version(required=True)
    role = Choice(["lead", "support"], load_default="lead", description=(
        "lead: dispatch (or re-dispatch) the repair to this crew; support: a further crew "
        "joins a repair that has its lead."))


class EventCreateSchema(ApiSchema):
    action = Choice(EVENT_ACTIONS, required=True)
    at = Instant(metadata={"description": "When it happened, as the phone saw it (default: now)."})
    age_s = Number(0, 86_400, description=(
        "Instead of at: seconds since it happened, measured on the phone (right even when the "
        "phone's clock is not)."))
    note = Text(300, description="A note (the text of a note; for other steps, the reason).")
    reason = Text(300, description="Why (needed to cancel or transfer).")
    client_key = _client_key("An idempotency key chosen by the client: the same key sent again "
                             "returns the order without applying the step twice.")
    version = _version()
    unit_id = Id(description="transfer: the station or grid to hand the repair to.")

    @ma.validates_schema
    def _key_or_version(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("client_key") is None and data.get("version") is None:
            message = Msg(_l("Send the version you saw or a client_key (or both)."))
            raise ma.ValidationError({"version": [message], "client_key": [message]})
        if data.get("at") is not None and data.get("age_s") is not None:
            message = Msg(_l("Send the time of the step or its age, not both."))
            raise ma.ValidationError({"at": [message], "age_s": [message]})


class EventResultSchema(ma.Schema):
    replayed = ma.fields.Boolean(metadata={
        "description": "True if this client_key was applied before (nothing was done again)."})
    order = ma.fields.Nested(OrderDetailSchema)


class AttachmentUploadSchema(ApiSchema):
    file = File(required=True, metadata={"description": "A JPEG, PNG or WebP photo, at most 10 MB."})
    note = Text(300, description="What the photo shows (goes onto the timeline).")
    event_client_key = _client_key("The client_key of the step this photo documents.")


# -- crews --------------------------------------------------------------------------------

class PingSchema(ApiSchema):
    lat = Number(-90, 90, required=True)
    lon = Number(-180, 180, required=True)
    accuracy_m = Number(0, 100_000, description="Accuracy of the position in metres.")
    at = Instant(metadata={"description": "When the position was taken (within the last day)."})


class PingBodySchema(ApiSchema):
    lat = Number(-90, 90)
    lon = Number(-180, 180)
    accuracy_m = Number(0, 100_000)
    at = Instant()
    pings = ma.fields.List(ma.fields.Nested(PingSchema), metadata={
        "description": f"A batch of positions buffered while offline (at most {MAX_PINGS})."})

    @ma.validates_schema
    def _one_or_batch(self, data: dict[str, Any], **_kwargs: Any) -> None:
        single = any(k in data for k in ("lat", "lon", "accuracy_m", "at"))
        if "pings" in data:
            if single:
                raise ma.ValidationError(Msg(_l("Send one position or a batch, not both.")),
                                         "pings")
            if not 1 <= len(data["pings"]) <= MAX_PINGS:
                raise ma.ValidationError(Msg(_l("Send from 1 to %(n)s positions."), n=MAX_PINGS),
                                         "pings")
            return
        errors = {k: [Msg(_l("This field is required."))] for k in ("lat", "lon") if k not in data}
        if errors:
            raise ma.ValidationError(errors)


class RejectedPingSchema(ma.Schema):
    index = ma.fields.Integer()
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


class PingResultSchema(ma.Schema):
    accepted = ma.fields.Integer(metadata={"description": "Positions stored."})
    rejected = ma.fields.List(ma.fields.Nested(RejectedPingSchema), metadata={
        "description": "Positions of a batch that cannot be stored (e.g. older than a day), "
                       "with why; do not send them again."})


class MemberSchema(ma.Schema):
    staff_id = ma.fields.Integer()
    name = ma.fields.String()
    is_leader = ma.fields.Boolean()
    phone = ma.fields.String()


class PositionSchema(ma.Schema):
    lat = ma.fields.Float()
    lon = ma.fields.Float()
    at = ma.fields.DateTime()
    fresh = ma.fields.Boolean(metadata={"description": "Reported within the last 15 minutes."})


class CrewSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    unit = ma.fields.Nested(UnitRefSchema)
    vehicle = ma.fields.String(allow_none=True)
    on_duty = ma.fields.Boolean()
    members = ma.fields.List(ma.fields.Nested(MemberSchema))
    position = ma.fields.Nested(PositionSchema, allow_none=True, metadata={
        "description": "The last reported position, if any."})
    open_orders = ma.fields.Integer(metadata={"description": "Open orders it leads now."})


class CrewListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CrewSchema))

"""Display names of the portal's codes (roles, unit kinds, positions, skills …).

Each is a lazy message, translated when shown.
"""

from __future__ import annotations

from station_portal.auth.roles import Role
from station_portal.i18n import LazyString, gettext
from station_portal.i18n import _l as _
from station_portal.org.models import AreaType, Skill, StaffPosition, UnitKind
from station_portal.sla.stages import stage_book

ROLES: dict[str, LazyString] = {
    Role.ADMIN: _("Administrator"),
    Role.COMPANY_MANAGER: _("Company manager"),
    Role.STATION_HEAD: _("Station head"),
    Role.GRID_MANAGER: _("Grid manager"),
    Role.ACCOUNT_MANAGER: _("Account manager"),
    Role.CREW: _("Crew member"),
    Role.CLERK: _("Counter clerk"),
}

UNIT_KINDS: dict[str, LazyString] = {
    UnitKind.CITY_COMPANY: _("City company"),
    UnitKind.COUNTY_COMPANY: _("County company"),
    UnitKind.SERVICE_STATION: _("Urban service station"),
    UnitKind.OFFICE_GROUP: _("Office services group"),
    UnitKind.LV_REPAIR_GROUP: _("Low-voltage repair group"),
    UnitKind.FIELD_GROUP: _("Field services group"),
    UnitKind.SUPPLY_OFFICE: _("Rural supply office"),
    UnitKind.GRID: _("Grid unit"),
    UnitKind.METERING_TEAM: _("Metering team"),
}

AREA_TYPES: dict[str, LazyString] = {
    AreaType.URBAN: _("Urban"),
    AreaType.RURAL: _("Rural"),
    AreaType.REMOTE: _("Remote"),
}

POSITIONS: dict[str, LazyString] = {
    StaffPosition.COMPANY_MANAGER: _("Company manager"),
    StaffPosition.COUNTY_MANAGER: _("County company manager"),
    StaffPosition.STATION_HEAD: _("Station head"),
    StaffPosition.GROUP_LEADER: _("Group leader"),
    StaffPosition.OFFICE_CLERK: _("Office clerk"),
    StaffPosition.REPAIR_ELECTRICIAN: _("Repair electrician"),
    StaffPosition.FIELD_TECHNICIAN: _("Field technician"),
    StaffPosition.OFFICE_HEAD: _("Supply office head"),
    StaffPosition.GRID_MANAGER: _("Grid manager"),
    StaffPosition.AREA_MANAGER: _("Platform-area manager"),
    StaffPosition.ACCOUNT_MANAGER: _("Account manager"),
    StaffPosition.METER_TECHNICIAN: _("Metering technician"),
}

SKILLS: dict[str, LazyString] = {
    Skill.LV_LINE: _("LV lines"),
    Skill.HV_LINE: _("10 kV lines"),
    Skill.CABLE: _("Cables"),
    Skill.TRANSFORMER: _("Transformers"),
    Skill.METERING: _("Metering"),
    Skill.LIVE_WORKING: _("Live working"),
    Skill.CUSTOMER_INTERNAL: _("Customer installations"),
    Skill.INSPECTION: _("Electrical inspection"),
    Skill.DRIVING: _("Driving"),
}

CLIENT_KINDS: dict[str, LazyString] = {
    "vip": _("Important customer"),
    "park": _("Park enterprise"),
}

INDUSTRIES: dict[str, LazyString] = {
    "electronics": _("Electronics"),
    "pharma": _("Pharmaceuticals"),
    "machinery": _("Machinery"),
    "new_materials": _("New materials"),
    "chemicals": _("Chemicals"),
    "logistics": _("Logistics"),
    "food": _("Food"),
    "hospital": _("Hospital"),
    "water": _("Water supply"),
    "gas": _("Gas supply"),
    "data_centre": _("Data centre"),
    "tourism": _("Tourism"),
    "transport": _("Transport"),
}

AUDIT_ACTIONS: dict[str, LazyString] = {
    "sign_in": _("Signed in"),
    "sign_in_failed": _("Sign-in failed"),
    "sign_in_locked": _("Sign-in refused (locked)"),
    "sign_out": _("Signed out"),
    "session_expired": _("Session ended by timeout"),
    "user_created": _("Account created"),
    "user_updated": _("Account changed"),
    "user_enabled": _("Account enabled"),
    "user_disabled": _("Account disabled"),
    "password_reset": _("Password reset"),
    "password_changed": _("Password changed"),
    "locale_changed": _("Language changed"),
    "notification_preferences": _("Notification settings changed"),
    "visit_frequency": _("Visit frequency changed"),
    "visit_done": _("Client visit recorded"),
    "hall_ticket_taken": _("Queue ticket taken"),
    "hall_ticket_called": _("Queue ticket called"),
    "hall_ticket_recalled": _("Queue ticket called again"),
    "hall_service_started": _("Counter service started"),
    "hall_service_finished": _("Counter service finished"),
    "hall_ticket_no_show": _("Queue ticket: customer did not come"),
    "hall_ticket_transferred": _("Queue ticket transferred"),
    "hall_ticket_cancelled": _("Queue ticket cancelled"),
    "hall_tickets_closed": _("Queue tickets left open closed at night"),
    "outage_created": _("Outage recorded"),
    "outage_approved": _("Outage plan approved"),
    "outage_announced": _("Outage announced"),
    "outage_in_progress": _("Outage started"),
    "outage_ended": _("Outage ended"),
    "outage_cancelled": _("Outage cancelled"),
}

OUTAGE_KINDS: dict[str, LazyString] = {
    "planned": _("Planned outage"),
    "temporary": _("Temporary outage"),
    "fault": _("Fault outage"),
}

OUTAGE_STATUSES: dict[str, LazyString] = {
    "draft": _("Draft"),
    "approved": _("Approved"),
    "announced": _("Announced"),
    "in_progress": _("Power off now"),
    "ended": _("Ended"),
    "cancelled": _("Cancelled"),
}

# How an outage's notice stands against its commitment (network.outages.Verdict).
NOTICE_VERDICTS: dict[str, LazyString] = {
    "in_time": _("Told in time"),
    "late": _("Told late"),
    "due": _("Not told yet"),
    "missed": _("Notice deadline missed"),
    "none": _("Not applicable"),
}


def label(table: dict[str, LazyString], code: str | None) -> str:
    """The translated name of ``code``, or the code itself if it has none."""
    if code is None:
        return ""
    text = table.get(code)
    return str(text) if text is not None else code

REPAIR_STATUSES: dict[str, LazyString] = {
    "reported": _("Reported"),
    "dispatched": _("Dispatched"),
    "accepted": _("Accepted by crew"),
    "en_route": _("En route"),
    "on_site": _("On site"),
    "restored": _("Restored"),
    "closed": _("Closed"),
    "cancelled": _("Cancelled"),
    "transferred": _("Transferred"),
}

APPLICATION_STATUSES: dict[str, LazyString] = {
    "pending_acceptance": _("Awaiting acceptance"),
    "in_progress": _("In progress"),
    "completed": _("Completed"),
    "cancelled": _("Cancelled"),
}

PARK_STATUSES: dict[str, LazyString] = {
    "open": _("Open"),
    "applied": _("Formally applied"),
    "closed": _("Closed"),
}

SLA_STATUSES: dict[str, LazyString] = {
    "on_track": _("On track"),
    "at_risk": _("At risk"),
    "overdue": _("Overdue"),
    "met": _("Met"),
    "missed": _("Missed"),
    "no_limit": _("No limit"),
    "cancelled": _("Cancelled"),
}

REPAIR_SOURCES: dict[str, LazyString] = {
    "hotline_95598": _("95598 hotline"),
    "app": _("Online (web or app)"),
    "counter": _("Counter"),
    "patrol": _("Patrol"),
}

REPAIR_CATEGORIES: dict[str, LazyString] = {
    "high_voltage": _("High voltage"),
    "low_voltage": _("Low voltage"),
    "power_quality": _("Power quality"),
    "metering": _("Metering"),
    "customer_internal": _("Customer installation"),
    "non_power": _("Non-power"),
}

URGENCIES: dict[str, LazyString] = {"1": _("Urgent"), "2": _("Normal"), "3": _("Low")}

CUSTOMER_CLASSES: dict[str, LazyString] = {
    "lv_resident": _("LV resident"),
    "lv_small_firm": _("LV small or micro firm"),
    "lv_non_resident": _("LV non-resident"),
    "hv_single": _("HV single source"),
    "hv_dual": _("HV dual source"),
}

BUSINESS_TYPES: dict[str, LazyString] = {
    "new_connection": _("New connection"),
    "capacity_increase": _("Capacity increase"),
    "temporary_supply": _("Temporary supply"),
    "ev_charging": _("EV charging point"),
    "distributed_generation": _("Distributed generation (grid connection)"),
    "capacity_reduction": _("Capacity reduction"),
    "suspension": _("Suspension"),
    "resumption": _("Resumption after suspension or reduction"),
    "temporary_swap": _("Temporary transformer swap"),
    "relocation": _("Relocation"),
    "meter_move": _("Meter move"),
    "temporary_removal": _("Temporary removal"),
    "name_change": _("Name change"),
    "transfer": _("Transfer of ownership"),
    "split": _("Account split"),
    "merge": _("Account merge"),
    "closure": _("Closure"),
    "voltage_change": _("Voltage change"),
    "category_change": _("Tariff category change"),
}

CUSTOMER_TYPES: dict[str, LazyString] = {
    "resident": _("Resident (household)"),
    "non_resident": _("Non-resident (business, institution)"),
}

SUPPLY_KINDS: dict[str, LazyString] = {
    "single": _("Single supply"),
    "dual": _("Dual supply"),
}

PAUSE_REASONS: dict[str, LazyString] = {
    "customer_documents": _("Waiting for the customer's documents"),
    "customer_construction": _("Customer's construction"),
    "customer_request": _("The customer asked to wait"),
    "grid_works": _("Waiting on supporting grid works (clock runs)"),
}

# Clocks that are not application stages (those are named in data/stages.toml).
CLOCKS: dict[str, LazyString] = {
    "total": _("Whole process (utility's time)"),
    "arrival": _("Arrival on site"),
    "restoration": _("Restoration"),
    "first_contact": _("First contact"),
    "load_survey": _("Load survey"),
    "supply_preplan": _("Supply pre-plan"),
    "formal_application": _("Formal application"),
}

HOLDERS: dict[str, LazyString] = {
    "customer": _("Customer"),
    "grid_works": _("Grid works"),
}

EVENT_ACTIONS: dict[str, LazyString] = {
    "created": _("Created"),
    "dispatch": _("Dispatched"),
    "accept": _("Accepted by crew"),
    "depart": _("Set off"),
    "arrive": _("Arrived on site"),
    "restore": _("Power restored"),
    "close": _("Closed"),
    "cancel": _("Cancelled"),
    "cancelled": _("Cancelled"),
    "transfer": _("Transferred"),
    "accepted": _("Application accepted"),
    "stage_done": _("Stage done"),
    "paused": _("Clock paused"),
    "resumed": _("Clock resumed"),
    "grid_works_waiting": _("Waiting on grid works"),
    "grid_works_done": _("No longer waiting on grid works"),
    "class_decided": _("Class decided in the supply plan"),
    "note": _("Note"),
    "milestone_done": _("Milestone done"),
    "visit_planned": _("Visit planned"),
    "visit_done": _("Visit done"),
    "visit_missed": _("Visit missed"),
    "clocks_recomputed": _("Time limits recomputed"),
    "support_added": _("Support crew added"),
    "photo_added": _("Photo added"),
    "submitted_online": _("Applied online"),
    "reported_online": _("Reported online"),
    "document_added": _("Document received"),
    "contract_signed": _("Contract signed online"),
    "rated": _("Rated by the customer"),
    "tracking_code": _("Tracking code issued"),
    "counter_visit": _("Counter visit"),
    "area_changed": _("Transformer area corrected"),
    "hookup_outage": _("Hook-up outage chosen"),
}

ORDER_KINDS: dict[str, LazyString] = {
    "repair": _("Repair"),
    "application": _("Connection application"),
    "park_case": _("Park case"),
}

CREW_STATUSES: dict[str, LazyString] = {
    "free": _("Free"),
    "assigned": _("Has jobs waiting"),
    "en_route": _("En route"),
    "on_site": _("On site"),
    "off_duty": _("Off duty"),
}


def stage_label(code: str | None) -> str:
    """An application stage, a repair clock or a park milestone, by name."""
    if code is None:
        return ""
    if code in CLOCKS:
        return str(CLOCKS[code])
    stages = stage_book().stages
    return stages[code].name() if code in stages else code


def amount_text(unit: str | None, amount: float) -> str:
    """A time-limit figure in its unit: working days (applications), minutes (repairs)."""
    if unit == "workday":
        return gettext("%(n)s working days", n=format(amount, "g"))
    minutes = round(amount)
    if minutes < 120:
        return gettext("%(n)s min", n=minutes)
    return gettext("%(h)s h %(m)s min", h=minutes // 60, m=minutes % 60)


def standing_text(unit: str | None, late: float, left: float) -> str:
    """"overdue by …" or "… left": the one figure of lateness, the same on every page."""
    if late > 0:
        return gettext("overdue by %(amount)s", amount=amount_text(unit, late))
    return gettext("%(amount)s left", amount=amount_text(unit, left))


# The fields an audit row's details may carry, in words (anything else shows its own key).
AUDIT_DETAIL_KEYS: dict[str, LazyString] = {
    "changes": _("Changed"), "display_name": _("Display name"), "role": _("Role"),
    "scope_unit_id": _("Scope (unit no.)"), "staff_id": _("Staff no."), "email": _("Email"),
    "client_ids": _("Clients (no.)"), "active": _("Active"), "sessions_ended": _("Sessions ended"),
    "tokens_revoked": _("Tokens revoked"), "locale": _("Language"), "scope": _("Applies to"),
    "until": _("Until"), "reason": _("Reason"), "channel": _("Channel"), "name": _("Name"),
    "unit_id": _("Unit no."), "milestone": _("Milestone"), "amount": _("Amount"),
    "work_order_id": _("Work order no."), "order_code": _("Work order"),
    "work_order_ids": _("Work orders (no.)"), "status": _("Status"), "date": _("Date"),
}


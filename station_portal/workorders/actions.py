"""What a user may do to a work order right now (drives the buttons; services check again)."""

from __future__ import annotations

from station_portal.auth.roles import Role
from station_portal.org.matrix import load_matrix
from station_portal.sla.classes import is_high_voltage
from station_portal.sla.stages import stage_book
from station_portal.workorders.models import ApplicationStatus, Kind, ParkStatus, WorkOrder
from station_portal.workorders.states import REPAIR_STEP_ACTION, allowed_repair_actions

NOTE = "note"
TRACKING_CODE = "tracking_code"  # give the customer a code to track the case online
COUNTER_VISIT = "counter_visit"  # the applicant had to come to a counter
# A high-voltage supply plan answered with the utility's decision: single or dual supply.
SUPPLY_PLAN = "supply_plan"
SET_AREA = "set_area"  # correct the transformer area (台区) the order lies on
HOOKUP_OUTAGE = "hookup_outage"  # the outage in which an application is hooked up


def available_actions(order: WorkOrder, role: Role) -> list[str]:
    """Action codes for the order's kind and state that the role may take."""
    matrix = load_matrix()
    actions: list[str] = []
    if order.kind == Kind.REPAIR:
        actions = [a for a in allowed_repair_actions(order.status)
                   if matrix.may(role, REPAIR_STEP_ACTION[a])]
    elif order.kind == Kind.APPLICATION:
        if order.status == ApplicationStatus.PENDING and matrix.may(role, "accept_application"):
            actions.append("accept")
        elif order.status == ApplicationStatus.IN_PROGRESS and matrix.may(role, "advance_stage"):
            stage = stage_book().stages.get(order.current_stage or "")
            if order.paused:
                actions.append("resume")
            else:
                if stage is not None and role in stage.roles:
                    actions.append(SUPPLY_PLAN if stage.code == "supply_plan"
                                   and is_high_voltage(order.customer_class) else "advance")
                actions.append("pause")
        if order.status in (ApplicationStatus.PENDING, ApplicationStatus.IN_PROGRESS) and \
                matrix.may(role, "accept_application"):
            actions.append("cancel")
    elif order.kind == Kind.PARK_CASE and order.status != ParkStatus.CLOSED \
            and matrix.may(role, "manage_park_cases"):
        actions += [f"milestone:{c.stage}" for c in order.clocks if c.ended_at is None]
        actions.append("plan_visit")
    if order.kind in (Kind.REPAIR, Kind.APPLICATION) and matrix.may(role, "issue_tracking_code"):
        actions.append(TRACKING_CODE)
    if order.kind == Kind.APPLICATION and order.is_open and matrix.may(role, "record_counter_visit"):
        actions.append(COUNTER_VISIT)
    if order.kind in (Kind.REPAIR, Kind.APPLICATION) and order.is_open \
            and matrix.may(role, "set_transformer_area"):
        actions.append(SET_AREA)
    if order.kind == Kind.APPLICATION and order.status == ApplicationStatus.IN_PROGRESS \
            and matrix.may(role, "advance_stage"):
        actions.append(HOOKUP_OUTAGE)
    if matrix.may(role, "add_note"):
        actions.append(NOTE)
    return actions

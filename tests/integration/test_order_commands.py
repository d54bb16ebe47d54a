"""The command table (services.commands) behind the staff order page and the API: every action
either face offers has a command, and the page's actions reach the right service."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from station_portal.api.schemas import EVENT_ACTIONS
from station_portal.db import utcnow
from station_portal.errors import PortalError
from station_portal.org.models import Unit, UnitKind
from station_portal.services import applications, commands, parks
from station_portal.timefmt import SHANGHAI, local
from station_portal.workorders.models import PARK_MILESTONES, ParkVisit, WorkOrder, WorkOrderEvent
from station_portal.workorders.states import REPAIR_STEP_ACTION
from tests.dash_calls import call, order_fields
from tests.helpers import account, new_repair, unique

CHANGYI = "JL-CY-S"


def pending_application(db, station: str = CHANGYI) -> WorkOrder:
    """An application of the station, registered but not accepted (detached)."""
    with db.write() as s:
        where = s.scalar(select(Unit).where(Unit.code == station))
        order = applications.create_application(s, None, applications.ApplicationInput(
            business_type="new_connection", customer_type="resident", load_kw=8.0,
            customer_name="孙七", lat=where.lat, lon=where.lon,
            address=f"昌邑区指令路{unique('')}号"), accept=False)
        s.flush()
        s.expunge(order)
        return order


def park_case(db) -> WorkOrder:
    with db.write() as s:
        manager = account(s, "account")
        case = parks.create_park_case(s, manager, parks.ParkCaseInput(
            client_id=manager.clients[0].id, projected_load_kw=1200,
            projected_date=local(utcnow()).date() + timedelta(days=300)))
        s.flush()
        s.expunge(case)
        return case


def submit(client, app, action: str, order: WorkOrder, version: object = None, **fields):
    return call(client, app, "order-feedback", "children", [1],
                [action, str(order.id), order.version if version is None else version, 0,
                 *order_fields(**fields)])


def events(db, order_id: int) -> list[str]:
    with db.read() as s:
        return list(s.scalars(select(WorkOrderEvent.action).where(
            WorkOrderEvent.work_order_id == order_id).order_by(WorkOrderEvent.id)))


def test_every_action_of_the_page_and_the_api_has_a_command():
    from station_portal.pages.order_detail import ACTION_LABELS

    named = set(REPAIR_STEP_ACTION) | set(ACTION_LABELS) | set(EVENT_ACTIONS) | {"support"}
    assert named <= set(commands.COMMANDS)
    assert {"record_visit", "milestone"} == commands.TARGETED


@pytest.mark.parametrize("action", ["dance", "dispatch:3", "record_visit", "milestone", ""])
def test_an_unknown_action_is_refused_before_any_service(db, action):
    with db.write() as s, pytest.raises(PortalError) as caught:
        commands.run(s, account(s, "head"), 1, 1, action)
    assert caught.value.message == "Unknown action."


def test_accept_and_cancel_reach_the_application_service_for_an_application(app, db, as_user):
    head = as_user("head")
    order = pending_application(db)
    accepted = submit(head, app, "accept", order, note="资料齐全")
    assert "Done: Accept." in accepted.text
    with db.read() as s:
        fresh = s.get(WorkOrder, order.id)
        assert fresh.status == "in_progress" and fresh.accepted_at is not None
    assert "accepted" in events(db, order.id)
    refused = submit(head, app, "cancel", fresh)
    assert "This field is required." in refused.text  # an application's cancel needs a reason
    cancelled = submit(head, app, "cancel", fresh, reason="客户撤回")
    assert "Done: Cancel." in cancelled.text
    with db.read() as s:
        assert s.get(WorkOrder, order.id).status == "cancelled"


def test_an_order_outside_the_area_gets_the_same_answer_whatever_its_kind(app, db, as_user):
    """Who cannot see an order learns nothing of it: not its kind, not that it exists."""
    gridmgr = as_user("gridmgr")
    order = pending_application(db)
    forged = submit(gridmgr, app, "accept", order)
    missing = call(gridmgr, app, "order-feedback", "children", [1],
                   ["accept", "987654321", 1, 0, *order_fields()])
    assert forged.json["response"]["order-feedback"] == missing.json["response"]["order-feedback"]
    with db.read() as s:
        assert s.get(WorkOrder, order.id).status == "pending_acceptance"


def test_a_repair_is_dispatched_and_handed_over_from_the_page(app, db, as_user):
    head = as_user("head")
    order_id, _version = new_repair(db)
    shown = call(head, app, "order-content", "children", [str(order_id), 0]).json["response"]
    crews = [o["value"] for o in shown["order-crew"]["options"]]
    units = shown["order-unit"]["options"]
    with db.read() as s:
        own = s.get(WorkOrder, order_id).unit_id
        kinds = {u.id: u.kind for u in s.scalars(select(Unit).where(
            Unit.id.in_([o["value"] for o in units])))}
    assert crews and units and own not in kinds
    assert set(kinds.values()) <= {UnitKind.SERVICE_STATION, UnitKind.GRID}
    with db.read() as s:
        order = s.get(WorkOrder, order_id)
    assert "Done: Dispatch to a crew." in submit(head, app, "dispatch", order, crew=str(crews[0])).text
    with db.read() as s:
        order = s.get(WorkOrder, order_id)
        assert order.crew_id == crews[0] and order.status == "dispatched"
    target = next(o["value"] for o in units)
    moved = submit(head, app, "transfer", order, unit=target, reason="在对方辖区")
    assert "Done: Hand over to another unit." in moved.text
    with db.read() as s:
        assert s.get(WorkOrder, order_id).unit_id == target


def test_a_park_cases_visit_is_planned_for_nine_and_its_milestone_done(app, db, as_user):
    manager = as_user("account")
    case = park_case(db)
    day = local(utcnow()).date() + timedelta(days=5)
    planned = submit(manager, app, "plan_visit", case, visit_date=f"{day.isoformat()}T00:00:00",
                     note="了解二期用电")
    assert "Done: Plan a visit." in planned.text
    outside = submit(manager, app, "plan_visit", case, visit_date="2099-01-01")
    assert "Give the date of the visit." in outside.text  # beyond the calendar: no day
    with db.read() as s:
        visit = s.scalar(select(ParkVisit).where(ParkVisit.work_order_id == case.id))
    assert visit.planned_for == datetime.combine(day, datetime.min.time().replace(hour=9),
                                                 SHANGHAI)
    shown = call(manager, app, "order-content", "children", [str(case.id), 0]).json["response"]
    options = [o["value"] for o in shown["order-action"]["options"]]
    assert f"record_visit:{visit.id}" in options
    assert f"milestone:{PARK_MILESTONES[0]}" in options
    recorded = submit(manager, app, f"record_visit:{visit.id}", case, note="见了厂长")
    assert "Done: Record a visit." in recorded.text
    done = submit(manager, app, f"milestone:{PARK_MILESTONES[0]}", case, note="已对接")
    assert "Done: Milestone done: First contact." in done.text
    formal = submit(manager, app, "milestone:formal_application",
                    case, version=case.version + 1, application="A-NO-SUCH")
    assert "Choose this client's connection application." in formal.text
    assert events(db, case.id) == ["created", "visit_planned", "visit_done", "milestone_done"]


def test_the_api_and_the_page_reach_the_same_command_for_a_note(client, db, app, as_user):
    """A note through the API's events and through the page lands on the same timeline."""
    from tests.helpers import API, head_of, token

    order = pending_application(db)
    bearer = {"Authorization": f"Bearer {token(client, head_of(db))}"}
    sent = client.post(f"{API}/work-orders/{order.id}/events", headers=bearer,
                       json={"action": "note", "note": "电话联系", "client_key": unique("note-k")})
    assert sent.status_code == 201
    assert "Done: Add a note." in submit(as_user("head"), app, "note", order, note="再次联系").text
    assert events(db, order.id)[-2:] == ["note", "note"]


def test_the_visit_day_is_read_by_the_one_day_parser():
    from station_portal.callbacks.order_detail import action_values
    from station_portal.pages import order_detail as page

    assert action_values({page.VISIT_DATE: "2026-05-04T00:00:00"}).visit_day == date(2026, 5, 4)
    for bad in ("2026-13-01", "1999-12-31", "2061-01-01", 20260504, None, ["2026-05-04"]):
        assert action_values({page.VISIT_DATE: bad}).visit_day is None

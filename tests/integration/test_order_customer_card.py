"""The customer card on the staff order page: staff who see the order see how the customer
reached us, their counter visits and online access; staff outside its area see nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from station_portal.db import utcnow
from station_portal.org.models import Unit
from station_portal.services import applications, customer
from station_portal.workorders.models import WorkOrder
from tests.dash_calls import call, text_of
from tests.helpers import account, unique


def counter_application(db) -> int:
    """An application of the head's station taken at the counter, with one counter visit
    and a tracking code handed to the customer."""
    with db.write() as s:
        station = s.scalar(select(Unit).where(Unit.code == "JL-CY-S"))
        head = account(s, "head")
        when = utcnow() - timedelta(hours=2)
        order = applications.create_application(s, head, applications.ApplicationInput(
            business_type="new_connection", customer_type="resident", load_kw=8.0,
            customer_name="王丽", lat=station.lat, lon=station.lon,
            address=f"昌邑区卡片路{unique('')}号", applied_at=when), accept=True, now=when)
        order = customer.record_counter_visit(s, head, order.id, order.version)
        customer.issue_code(s, head, order.id)
        return order.id


def test_staff_in_scope_see_the_customer_card_and_others_do_not(app, db, as_user):
    order_id = counter_application(db)
    shown = text_of(call(as_user("head"), app, "order-content", "children", [str(order_id), 0]))
    assert "Customer" in shown and "Online access" in shown and "Counter visits" in shown
    assert "tracking code given by staff" in shown
    other = text_of(call(as_user("gridmgr"), app, "order-content", "children",
                         [str(order_id), 0]))
    assert "portal-out-of-scope" in other
    assert "Online access" not in other and "Counter visits" not in other
    assert "王丽" not in other


def test_a_repair_has_the_card_too(app, db, as_user):
    with db.read() as s:
        station = s.scalar(select(Unit.id).where(Unit.code == "JL-CY-S"))
        repair = s.scalar(select(WorkOrder.id).where(WorkOrder.kind == "repair",
                                                    WorkOrder.unit_id == station).limit(1))
    shown = text_of(call(as_user("head"), app, "order-content", "children", [str(repair), 0]))
    assert "Online access" in shown and "Counter visits" in shown

"""Twenty station-head terminals assign the same repair at the same moment over real HTTP:
one wins, nineteen get 409 with the fresh order, and the timeline records one dispatch."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from station_portal.audit import AuditEvent
from station_portal.workorders.models import OrderAssignment, WorkOrder, WorkOrderEvent
from tests.helpers import API, crews_of, head_of, new_repair, token

TERMINALS = 20


@pytest.mark.slow
def test_twenty_concurrent_assignments_of_one_repair_have_exactly_one_winner(app, db, live_app):
    head = head_of(db)
    client = app.test_client()
    tokens = [token(client, head) for _ in range(TERMINALS)]
    order_id, version = new_repair(db)
    crews = crews_of(db)
    with db.read() as s:
        audit_before = s.scalar(select(func.count()).select_from(AuditEvent))
    start = threading.Barrier(TERMINALS)

    def assign(i: int) -> tuple[int, dict]:
        with requests.Session() as http:
            start.wait(timeout=30)
            response = http.post(
                f"{live_app.url}{API}/work-orders/{order_id}/assignments", timeout=120,
                headers={"Authorization": f"Bearer {tokens[i]}"},
                json={"crew_id": crews[i % len(crews)], "version": version, "role": "lead"})
            return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=TERMINALS) as pool:
        results = list(pool.map(assign, range(TERMINALS)))

    codes = sorted(code for code, _body in results)
    assert codes == [201] + [409] * (TERMINALS - 1), codes
    winner = next(body for code, body in results if code == 201)
    for code, body in results:
        if code == 409:
            assert body["error"] == "conflict" and body["message"]
            assert body["order"]["version"] == version + 1
            assert body["order"]["status"] == "dispatched"
            assert body["order"]["crew"] == winner["crew"]
    with db.read() as s:
        order = s.get(WorkOrder, order_id)
        dispatches = s.scalar(select(func.count()).where(
            WorkOrderEvent.work_order_id == order_id, WorkOrderEvent.action == "dispatch"))
        assignments = s.scalar(select(func.count()).where(OrderAssignment.work_order_id == order_id))
        # The timeline event is the order's audit record; the requests wrote no other audit row
        # (the terminals' tokens were issued, and their sign-ins audited, before).
        audit_after = s.scalar(select(func.count()).select_from(AuditEvent))
    assert order.version == version + 1 and order.crew_id == winner["crew"]["id"]
    assert dispatches == 1 and assignments == 1
    assert audit_after == audit_before

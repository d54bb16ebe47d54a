"""Demo cases a visitor can track on the customer pages (demo mode only).

Their verification codes are derived from the case numbers with a fixed key, so
the demo start page can show them; ``CaseAccess.channel == "demo"`` marks them
and only a portal in demo mode lists them.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from station_portal.customer.models import CaseAccess
from station_portal.services import applications, customer
from station_portal.sla.classes import HV_CLASSES
from station_portal.workorders.models import (
    ApplicationStatus,
    ClockPause,
    Kind,
    PauseReason,
    RepairStatus,
    WorkOrder,
)

DEMO_KEY = b"station-portal-demo-case"
CHANNEL = "demo"


def demo_code(number: str) -> str:
    raw = hmac.new(DEMO_KEY, number.encode(), hashlib.sha256).digest()
    alphabet = customer.CODE_ALPHABET
    return customer.format_code("".join(alphabet[b % len(alphabet)] for b in raw[:8]))


def _first(session: Session, *where) -> WorkOrder | None:
    return session.scalar(select(WorkOrder).where(*where).order_by(WorkOrder.id.desc()).limit(1))


def _before_contract(session: Session, *where) -> WorkOrder | None:
    """The newest order whose path still has the supply contract ahead (not every
    business signs one: a suspension or a name change does not)."""
    for order in session.scalars(select(WorkOrder).where(*where).order_by(WorkOrder.id.desc())):
        contract = next((c for c in order.clocks if c.stage == "contract"), None)
        now = next((c for c in order.clocks if c.stage == order.current_stage), None)
        if contract is not None and now is not None and now.seq < contract.seq:
            return order
    return None


def seed_demo_cases(session: Session) -> list[tuple[str, str, str]]:
    """Open demo cases to track: (number, code, what the visitor can do there)."""
    picked: list[tuple[WorkOrder, str]] = []
    running = (WorkOrder.kind == Kind.APPLICATION, WorkOrder.paused.is_(False),
               WorkOrder.status == ApplicationStatus.IN_PROGRESS)
    hv = _before_contract(session, *running, WorkOrder.customer_class.in_(HV_CLASSES))
    if hv is not None:
        while hv.current_stage != "contract":
            applications.advance_stage(session, None, hv.id, hv.version)
        picked.append((hv, "sign the supply contract"))
    works = _first(session, *running, WorkOrder.current_stage == "customer_construction")
    if works is not None:
        picked.append((works, "report the own works finished"))
    lv = _first(session, *running, WorkOrder.customer_class == "lv_resident")
    if lv is not None:
        picked.append((lv, "follow the steps, add a document"))
    # Waiting on grid works is no pause: an open application with an open grid-works wait.
    grid = _first(session, WorkOrder.kind == Kind.APPLICATION, WorkOrder.closed_at.is_(None),
                  WorkOrder.id.in_(select(ClockPause.work_order_id).where(
                      ClockPause.reason == PauseReason.GRID_WORKS.value,
                      ClockPause.ended_at.is_(None))))
    if grid is not None:
        picked.append((grid, "see the grid works it waits for"))
    done = _first(session, WorkOrder.kind == Kind.APPLICATION,
                  WorkOrder.status == ApplicationStatus.COMPLETED)
    if done is not None:
        picked.append((done, "rate the service"))
    repair = _first(session, WorkOrder.kind == Kind.REPAIR,
                    WorkOrder.status == RepairStatus.RESTORED)
    if repair is not None:
        picked.append((repair, "follow a repair, rate it"))
    out = []
    for order, what in picked:
        code = demo_code(order.code)
        customer.grant_access(session, order, channel=CHANNEL, code=code)
        out.append((order.code, code, what))
    session.flush()
    return out


def demo_cases(session: Session) -> list[tuple[str, str]]:
    """The demo cases (number, code) to list on the demo start page."""
    numbers = session.scalars(select(WorkOrder.code).join(
        CaseAccess, CaseAccess.work_order_id == WorkOrder.id)
        .where(CaseAccess.channel == CHANNEL).order_by(WorkOrder.id)).all()
    return [(n, demo_code(n)) for n in numbers]

"""Which work orders a user may see: the same rule in Python and in SQL.

A crew member sees their own crew's orders and the open repairs their crew helps with
as a support crew (an open support row in ``order_assignments``). Support is a fact of
the orders, so it is read here, not carried in the ``Scope``.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, select, true
from sqlalchemy.orm import object_session

from station_portal.auth.roles import Role
from station_portal.auth.scope import Scope
from station_portal.workorders.models import OrderAssignment, WorkOrder


def _supported_by(crew_id: int) -> Select[tuple[int]]:
    """The orders ``crew_id`` holds an open support assignment on."""
    return select(OrderAssignment.work_order_id).where(
        OrderAssignment.crew_id == crew_id, OrderAssignment.role == "support",
        OrderAssignment.released_at.is_(None))


def order_filter(scope: Scope) -> ColumnElement[bool]:
    """WHERE clause: the orders in the user's scope."""
    if scope.is_global:
        return true()
    if scope.role is Role.CREW:
        if not scope.crew_id:
            return false()
        return (WorkOrder.crew_id == scope.crew_id) | (
            WorkOrder.closed_at.is_(None) & WorkOrder.id.in_(_supported_by(scope.crew_id)))
    if scope.role is Role.ACCOUNT_MANAGER:
        return scope.client_filter(WorkOrder.client_id) | (WorkOrder.owner_user_id == scope.user_id)
    return scope.unit_filter(WorkOrder.unit_id)


def sees_order(scope: Scope, order: WorkOrder) -> bool:
    """Whether ``order`` is in scope. A crew's support is read through the order's session;
    an order outside any session is seen by its own crew only."""
    if scope.is_global:
        return True
    if scope.role is Role.CREW:
        if scope.crew_id is None:
            return False
        if order.crew_id == scope.crew_id:
            return True
        session = object_session(order)
        return session is not None and order.closed_at is None and session.scalar(
            _supported_by(scope.crew_id).where(OrderAssignment.work_order_id == order.id)
            .limit(1)) is not None
    if scope.role is Role.ACCOUNT_MANAGER:
        return scope.sees_client(order.client_id) or order.owner_user_id == scope.user_id
    return scope.sees_unit(order.unit_id)

"""Which work orders a user may see: the same rule in Python and in SQL."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from station_portal.auth.roles import Role
from station_portal.auth.scope import Scope
from station_portal.workorders.models import WorkOrder


def order_filter(scope: Scope) -> ColumnElement[bool]:
    """WHERE clause: the orders in the user's scope."""
    if scope.is_global:
        return true()
    if scope.role is Role.CREW:
        if not scope.crew_id:
            return false()
        own = WorkOrder.crew_id == scope.crew_id
        return own | WorkOrder.id.in_(sorted(scope.support_order_ids)) if scope.support_order_ids else own
    if scope.role is Role.ACCOUNT_MANAGER:
        return scope.client_filter(WorkOrder.client_id) | (WorkOrder.owner_user_id == scope.user_id)
    return scope.unit_filter(WorkOrder.unit_id)


def sees_order(scope: Scope, order: WorkOrder) -> bool:
    if scope.is_global:
        return True
    if scope.role is Role.CREW:
        return scope.crew_id is not None and (order.crew_id == scope.crew_id
                                              or order.id in scope.support_order_ids)
    if scope.role is Role.ACCOUNT_MANAGER:
        return scope.sees_client(order.client_id) or order.owner_user_id == scope.user_id
    return scope.sees_unit(order.unit_id)

"""What a signed-in user may see: their units, clients and own staff record.

Every query that returns rows to a user is filtered with the user's Scope on
the server. Ids sent by a browser are checked with :meth:`Scope.sees_unit`
and friends, never trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from station_portal.auth.models import User, user_clients
from station_portal.auth.roles import Role
from station_portal.org.models import Client, CrewMember, Staff, Unit, UnitKind
from station_portal.org.tree import subtree_ids


@dataclass(frozen=True)
class Scope:
    user_id: int
    role: Role
    # None means "every unit" / "every client".
    unit_ids: frozenset[int] | None
    client_ids: frozenset[int] | None
    # The units at the top of what the user sees (tree and map roots).
    root_unit_ids: tuple[int, ...]
    staff_id: int | None = None
    crew_id: int | None = None  # a crew member's own crew (the orders it supports:
    # ``workorders.access``)

    @property
    def is_global(self) -> bool:
        return self.unit_ids is None

    def sees_unit(self, unit_id: object) -> bool:
        if not isinstance(unit_id, int) or isinstance(unit_id, bool):
            return False
        return self.unit_ids is None or unit_id in self.unit_ids

    def sees_client(self, client_id: object) -> bool:
        if not isinstance(client_id, int) or isinstance(client_id, bool):
            return False
        return self.client_ids is None or client_id in self.client_ids

    def unit_filter(self, column: ColumnElement[int]) -> ColumnElement[bool]:
        """A WHERE clause keeping rows whose unit ``column`` is in scope."""
        if self.unit_ids is None:
            return true()
        if not self.unit_ids:
            return false()
        return column.in_(sorted(self.unit_ids))

    def client_filter(self, column: ColumnElement[int]) -> ColumnElement[bool]:
        if self.client_ids is None:
            return true()
        if not self.client_ids:
            return false()
        return column.in_(sorted(self.client_ids))


# The system (scheduler jobs, the demo simulation): everything, no person behind it.
SYSTEM_SCOPE = Scope(user_id=0, role=Role.ADMIN, unit_ids=None, client_ids=None, root_unit_ids=())


def _empty(user: User, role: Role) -> Scope:
    return Scope(user.id, role, frozenset(), frozenset(), (), user.staff_id)


def scope_for(session: Session, user: User) -> Scope:
    """Compute the scope from the user's role, scope unit, clients and staff link."""
    role = Role(user.role)
    if not user.active:
        return _empty(user, role)
    if role is Role.ADMIN:
        return Scope(user.id, role, None, None, _roots(session), user.staff_id)
    if role is Role.COMPANY_MANAGER:
        unit = session.get(Unit, user.scope_unit_id) if user.scope_unit_id else None
        if unit is None or unit.kind == UnitKind.CITY_COMPANY:
            return Scope(user.id, role, None, None, _roots(session), user.staff_id)
        units = frozenset(subtree_ids(session, unit.id))
        clients = frozenset(session.scalars(select(Client.id).where(Client.unit_id.in_(units))))
        return Scope(user.id, role, units, clients, (unit.id,), user.staff_id)
    if role in (Role.STATION_HEAD, Role.GRID_MANAGER, Role.CLERK):
        if user.scope_unit_id is None:
            return _empty(user, role)
        units = frozenset(subtree_ids(session, user.scope_unit_id))
        clients = frozenset(session.scalars(select(Client.id).where(Client.unit_id.in_(units))))
        return Scope(user.id, role, units, clients, (user.scope_unit_id,), user.staff_id)
    if role is Role.ACCOUNT_MANAGER:
        clients = frozenset(
            session.scalars(select(user_clients.c.client_id).where(user_clients.c.user_id == user.id))
        )
        units = set(session.scalars(select(Client.unit_id).where(Client.id.in_(clients))))
        own = _staff_unit(session, user.staff_id)
        if own is not None:
            units.add(own)
        return Scope(user.id, role, frozenset(units), clients, tuple(sorted(units)), user.staff_id)
    # Role.CREW: their own unit (group or grid) and their own crew (whose orders
    # ``workorders.access`` finds, with those the crew supports).
    own = _staff_unit(session, user.staff_id)
    units = frozenset({own}) if own is not None else frozenset()
    crew = session.scalar(select(CrewMember.crew_id).where(CrewMember.staff_id == user.staff_id)) \
        if user.staff_id is not None else None
    return Scope(user.id, role, units, frozenset(), tuple(units), user.staff_id, crew)


def _roots(session: Session) -> tuple[int, ...]:
    return tuple(session.scalars(select(Unit.id).where(Unit.parent_id.is_(None)).order_by(Unit.id)))


def _staff_unit(session: Session, staff_id: int | None) -> int | None:
    if staff_id is None:
        return None
    return session.scalar(select(Staff.unit_id).where(Staff.id == staff_id))

"""Read queries over the organisation, always filtered by the caller's Scope.

They return plain dataclasses; pages turn them into components. An id that is
outside the scope gives None or an empty list, never the row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from station_portal.auth.scope import Scope
from station_portal.i18n import BilingualName, get_locale
from station_portal.org.models import (
    ROUTABLE_KINDS,
    Client,
    Crew,
    CrewMember,
    IndustrialPark,
    Staff,
    Unit,
)
from station_portal.org.territory import route_location
from station_portal.org.tree import ancestor_ids


@dataclass(frozen=True)
class TreeNode(BilingualName):
    id: int
    code: str
    kind: str
    name_zh: str
    name_en: str
    depth: int
    in_scope: bool  # False: shown only as the path to the user's own units
    children: list[TreeNode] = field(default_factory=list)



def unit_tree(session: Session, scope: Scope) -> list[TreeNode]:
    """The units the user may see, with the chain of ancestors above them for context."""
    units = list(session.scalars(select(Unit).order_by(Unit.sort_order, Unit.id)))
    visible: set[int] = set()
    for unit in units:
        if scope.sees_unit(unit.id):
            visible.update(ancestor_ids(unit.path))
    nodes = {
        u.id: TreeNode(u.id, u.code, u.kind, u.name_zh, u.name_en,
                       len(ancestor_ids(u.path)) - 1, scope.sees_unit(u.id))
        for u in units if u.id in visible
    }
    roots: list[TreeNode] = []
    for unit in units:
        if unit.id not in nodes:
            continue
        parent = nodes.get(unit.parent_id) if unit.parent_id else None
        (parent.children if parent else roots).append(nodes[unit.id])
    return roots


@dataclass(frozen=True)
class UnitSummary(BilingualName):
    id: int
    code: str
    kind: str
    name_zh: str
    name_en: str
    path: str
    area_type: str | None
    phone: str | None
    address: str | None
    parent: tuple[int, str, str, bool] | None  # id, name_zh, name_en, in scope
    children: list[tuple[int, str, str, str]]  # id, kind, name_zh, name_en (in scope only)
    staff_count: int
    crew_count: int
    has_territory: bool



def _subtree(session: Session, unit: Unit, scope: Scope) -> list[int]:
    ids = session.scalars(select(Unit.id).where(Unit.path.startswith(unit.path, autoescape=True)))
    return [i for i in ids if scope.sees_unit(i)]


def unit_summary(session: Session, scope: Scope, unit_id: object) -> UnitSummary | None:
    if not scope.sees_unit(unit_id):
        return None
    unit = session.get(Unit, unit_id)
    if unit is None:
        return None
    subtree = _subtree(session, unit, scope)
    staff_count = session.scalar(
        select(func.count(Staff.id)).where(Staff.unit_id.in_(subtree), Staff.active.is_(True)))
    crew_count = session.scalar(
        select(func.count(Crew.id)).where(Crew.unit_id.in_(subtree), Crew.active.is_(True)))
    parent = None
    if unit.parent is not None:
        p = unit.parent
        parent = (p.id, p.name_zh, p.name_en, scope.sees_unit(p.id))
    children = [(c.id, c.kind, c.name_zh, c.name_en) for c in unit.children if scope.sees_unit(c.id)]
    return UnitSummary(
        unit.id, unit.code, unit.kind, unit.name_zh, unit.name_en, unit.path, unit.area_type,
        unit.phone,
        unit.address, parent, children, staff_count or 0, crew_count or 0,
        unit.territory is not None,
    )


@dataclass(frozen=True)
class StaffRow:
    id: int
    employee_no: str
    name_zh: str
    name_latin: str
    unit_id: int
    unit_zh: str
    unit_en: str
    position: str
    skills: list[str]
    phone: str
    crew_code: str | None
    is_leader: bool


def staff_rows(session: Session, scope: Scope, unit_id: object) -> list[StaffRow]:
    """Active staff of a unit and the units below it (within scope)."""
    if not scope.sees_unit(unit_id):
        return []
    unit = session.get(Unit, unit_id)
    if unit is None:
        return []
    rows = session.execute(
        select(Staff, Unit.name_zh, Unit.name_en, Crew.code, CrewMember.is_leader)
        .join(Unit, Unit.id == Staff.unit_id)
        .outerjoin(CrewMember, CrewMember.staff_id == Staff.id)
        .outerjoin(Crew, Crew.id == CrewMember.crew_id)
        .where(Staff.unit_id.in_(_subtree(session, unit, scope)), Staff.active.is_(True))
        .order_by(Unit.path, Staff.position, Staff.employee_no)
    ).all()
    return [
        StaffRow(s.id, s.employee_no, s.name_zh, s.name_latin, s.unit_id, uzh, uen, s.position,
                 list(s.skills or []), s.phone, crew, bool(leader))
        for s, uzh, uen, crew, leader in rows
    ]


@dataclass(frozen=True)
class CrewRow:
    id: int
    code: str
    unit_id: int
    unit_zh: str
    unit_en: str
    vehicle: str | None
    members: list[tuple[str, str, bool, str]]  # name_zh, name_latin, is_leader, phone
    skills: list[str]


def crew_rows(session: Session, scope: Scope, unit_id: object) -> list[CrewRow]:
    if not scope.sees_unit(unit_id):
        return []
    unit = session.get(Unit, unit_id)
    if unit is None:
        return []
    crews = session.scalars(
        select(Crew)
        .where(Crew.unit_id.in_(_subtree(session, unit, scope)), Crew.active.is_(True))
        .options(selectinload(Crew.members).selectinload(CrewMember.staff),
                 selectinload(Crew.unit))
        .order_by(Crew.code)
    ).all()
    return [_crew_row(crew) for crew in crews]


def _crew_row(crew: Crew) -> CrewRow:
    members = sorted(crew.members, key=lambda m: (not m.is_leader, m.id))
    skills = {s for m in members for s in (m.staff.skills or [])}
    return CrewRow(
        crew.id, crew.code, crew.unit_id, crew.unit.name_zh, crew.unit.name_en, crew.vehicle,
        [(m.staff.name_zh, m.staff.name_latin, m.is_leader, m.staff.phone) for m in members],
        sorted(skills),
    )


@dataclass(frozen=True)
class TerritoryFeature(BilingualName):
    unit_id: int
    code: str
    kind: str
    name_zh: str
    name_en: str
    area_type: str | None
    geometry: dict[str, Any]
    lat: float | None
    lon: float | None
    parent_id: int | None
    path: str


def territories(session: Session, scope: Scope) -> list[TerritoryFeature]:
    """Territories (stations and grids) the user works in.

    Those of units in scope; for a unit in scope without a territory of its own
    (a station's group), the territory of the station above it.
    """
    routable = session.scalars(
        select(Unit).where(Unit.territory.is_not(None), Unit.kind.in_(ROUTABLE_KINDS))
        .order_by(Unit.id)
    ).all()
    if scope.unit_ids is None:
        chosen = routable
    else:
        routable_ids = {u.id for u in routable}
        ids = {u.id for u in routable if scope.sees_unit(u.id)}
        for path in session.scalars(select(Unit.path).where(scope.unit_filter(Unit.id))):
            holder = next((i for i in reversed(ancestor_ids(path)) if i in routable_ids), None)
            if holder is not None:
                ids.add(holder)
        chosen = [u for u in routable if u.id in ids]
    return [
        TerritoryFeature(u.id, u.code, u.kind, u.name_zh, u.name_en, u.area_type, u.territory,
                         u.lat, u.lon, u.parent_id, u.path)
        for u in chosen
    ]


@dataclass(frozen=True)
class UnitCounts(BilingualName):
    unit_id: int
    name_zh: str
    name_en: str
    stations: int
    offices: int
    grids: int
    staff: int
    crews: int



def county_counts(session: Session, scope: Scope) -> list[UnitCounts]:
    """Per county company in scope: how many stations, offices, grids, staff and crews."""
    counties = session.scalars(
        select(Unit).where(Unit.kind == "county_company", scope.unit_filter(Unit.id))
        .order_by(Unit.sort_order, Unit.id)
    ).all()
    units = session.execute(select(Unit.id, Unit.kind, Unit.path)).all()
    staff = dict(session.execute(
        select(Staff.unit_id, func.count()).where(Staff.active.is_(True)).group_by(Staff.unit_id)
    ).all())
    crews = dict(session.execute(
        select(Crew.unit_id, func.count()).where(Crew.active.is_(True)).group_by(Crew.unit_id)
    ).all())
    out = []
    for county in counties:
        below = [u for u in units if u.path.startswith(county.path) and scope.sees_unit(u.id)]
        kinds = Counter(u.kind for u in below)
        out.append(UnitCounts(
            county.id, county.name_zh, county.name_en, kinds["service_station"],
            kinds["supply_office"], kinds["grid"], sum(staff.get(u.id, 0) for u in below),
            sum(crews.get(u.id, 0) for u in below),
        ))
    return out


@dataclass(frozen=True)
class ClientRow:
    id: int
    code: str
    name_zh: str
    name_en: str
    kind: str
    industry: str
    park_zh: str | None
    park_en: str | None
    unit_zh: str
    unit_en: str
    contact_name: str
    contact_phone: str
    lat: float
    lon: float


def client_rows(session: Session, scope: Scope) -> list[ClientRow]:
    rows = session.execute(
        select(Client, IndustrialPark.name_zh, IndustrialPark.name_en, Unit.name_zh, Unit.name_en)
        .join(Unit, Unit.id == Client.unit_id)
        .outerjoin(IndustrialPark, IndustrialPark.id == Client.park_id)
        .where(scope.client_filter(Client.id))
        .order_by(Client.kind, Client.code)
    ).all()
    return [
        ClientRow(c.id, c.code, c.name_zh, c.name_en, c.kind, c.industry, pzh, pen, uzh, uen,
                  c.contact_name, c.contact_phone, c.lat, c.lon)
        for c, pzh, pen, uzh, uen in rows
    ]


def crew_of(session: Session, staff_id: int | None) -> CrewRow | None:
    """The crew a staff member belongs to (for the crew member's own home page)."""
    if staff_id is None:
        return None
    crew = session.scalar(
        select(Crew).join(CrewMember).where(CrewMember.staff_id == staff_id)
        .options(selectinload(Crew.members).selectinload(CrewMember.staff), selectinload(Crew.unit))
    )
    return _crew_row(crew) if crew is not None else None


def unit_options(session: Session, kinds: tuple[str, ...]) -> list[tuple[int, str, str, str]]:
    """(id, kind, name_zh, name_en) of every unit of the given kinds, for pickers."""
    return [tuple(r) for r in session.execute(
        select(Unit.id, Unit.kind, Unit.name_zh, Unit.name_en)
        .where(Unit.kind.in_(kinds)).order_by(Unit.path)
    ).all()]


def unit_leads(session: Session, scope: Scope, unit_ids: list[int],
               positions: tuple[str, ...]) -> dict[int, tuple[str, str, str]]:
    """For each unit, its first active staff member holding one of ``positions``:
    (name_zh, name_latin, phone) — the group leader of a group, the manager of a grid."""
    rows = session.execute(
        select(Staff.unit_id, Staff.name_zh, Staff.name_latin, Staff.phone)
        .where(Staff.unit_id.in_([u for u in unit_ids if scope.sees_unit(u)]),
               Staff.position.in_(positions), Staff.active.is_(True))
        .order_by(Staff.unit_id, Staff.id)
    ).all()
    leads: dict[int, tuple[str, str, str]] = {}
    for unit_id, zh, latin, phone in rows:
        leads.setdefault(unit_id, (zh, latin, phone))
    return leads


@dataclass(frozen=True)
class ClientChoice(BilingualName):
    id: int
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class StaffChoice:
    id: int
    name_zh: str
    name_latin: str
    position: str
    unit_zh: str
    unit_en: str

    def name(self, locale: str | None = None) -> str:
        return self.name_zh if (locale or get_locale()).startswith("zh") else self.name_latin

    def unit(self, locale: str | None = None) -> str:
        return self.unit_zh if (locale or get_locale()).startswith("zh") else self.unit_en


@dataclass(frozen=True)
class AccountChoices:
    """What an account form offers: the units of the kinds a role's scope may be (see
    :func:`unit_options`), the clients and the active staff (by unit, then number)."""

    units: list[tuple[int, str, str, str]]
    clients: list[ClientChoice]
    staff: list[StaffChoice]


def account_choices(session: Session, scope: Scope, kinds: tuple[str, ...]) -> AccountChoices:
    """The choices of the account form for a role whose scope is a unit of ``kinds``."""
    units = [u for u in unit_options(session, kinds) if scope.sees_unit(u[0])]
    clients = [ClientChoice(*r) for r in session.execute(
        select(Client.id, Client.code, Client.name_zh, Client.name_en)
        .where(scope.client_filter(Client.id)).order_by(Client.code))]
    staff = [StaffChoice(*r) for r in session.execute(
        select(Staff.id, Staff.name_zh, Staff.name_latin, Staff.position, Unit.name_zh,
               Unit.name_en)
        .join(Unit, Unit.id == Staff.unit_id)
        .where(Staff.active.is_(True), scope.unit_filter(Staff.unit_id))
        .order_by(Unit.path, Staff.employee_no))]
    return AccountChoices(units, clients, staff)


@dataclass(frozen=True)
class UnitLabel(BilingualName):
    id: int
    kind: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Profile:
    """Where a user stands in the organisation: the units at the top of their scope (in
    its order) and their staff record's name (name_zh, name_latin), if linked."""

    roots: list[UnitLabel]
    staff: tuple[str, str] | None

    def staff_name(self, locale: str | None = None) -> str | None:
        if self.staff is None:
            return None
        return self.staff[0] if (locale or get_locale()).startswith("zh") else self.staff[1]


def own_profile(session: Session, scope: Scope) -> Profile:
    """The signed-in user's own units and staff record (``My account``)."""
    units = {u.id: u for u in session.scalars(
        select(Unit).where(Unit.id.in_(scope.root_unit_ids)))} if scope.root_unit_ids else {}
    roots = [UnitLabel(u.id, u.kind, u.name_zh, u.name_en)
             for u in (units.get(uid) for uid in scope.root_unit_ids) if u is not None]
    staff = session.execute(select(Staff.name_zh, Staff.name_latin)
                            .where(Staff.id == scope.staff_id)).first() \
        if scope.staff_id is not None else None
    return Profile(roots, tuple(staff) if staff else None)


def crew_code(session: Session, scope: Scope, crew_id: object) -> str:
    """A crew's code; "" when there is no such crew in the scope."""
    crew = session.get(Crew, crew_id) if isinstance(crew_id, int) else None
    return crew.code if crew is not None and scope.sees_unit(crew.unit_id) else ""


def unit_label(session: Session, scope: Scope, unit_id: object) -> UnitLabel | None:
    """A unit's kind and names; None when there is no such unit in the scope."""
    unit = session.get(Unit, unit_id) if scope.sees_unit(unit_id) else None
    return UnitLabel(unit.id, unit.kind, unit.name_zh, unit.name_en) if unit is not None else None


@dataclass(frozen=True)
class SiteUnit(BilingualName):
    id: int
    name_zh: str
    name_en: str
    in_scope: bool


def site_unit(session: Session, scope: Scope, lat: float, lon: float) -> SiteUnit | None:
    """The station or grid whose territory holds a checked point (None: outside every
    territory), named even outside the scope, so the counter can say where the customer
    belongs, and whether the scope may register work there."""
    routed = route_location(session, lat, lon)
    unit = session.get(Unit, routed.unit_id) if routed is not None else None
    if unit is None:
        return None
    return SiteUnit(unit.id, unit.name_zh, unit.name_en, scope.sees_unit(unit.id))

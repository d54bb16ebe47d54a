"""What every kind of work order shares: where a site lies and who holds it, the
order's code, notes, and the system's recomputation of open clocks.

The use cases of each kind live beside it: ``services.repairs``,
``services.applications``, ``services.parks`` (and ``services.visits`` for the
visits of a park case). Every change goes through ``services.changes``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from station_portal.auth.models import User
from station_portal.auth.roles import Role
from station_portal.db import utcnow
from station_portal.errors import ValidationFailed
from station_portal.i18n import _
from station_portal.network.areas import area_for_site, area_in_scope
from station_portal.network.models import TransformerArea
from station_portal.network.outages import covering_outage
from station_portal.org.models import Client, Unit, UnitKind
from station_portal.org.territory import InvalidLocation, TerritoryIndex
from station_portal.org.tree import ancestor_ids
from station_portal.services.changes import (
    actor_scope,
    already_applied,
    claim_version,
    load_order,
    parse_client_key,
    plain_text,
    record_event,
    require_action,
)
from station_portal.timefmt import local
from station_portal.validate import as_id
from station_portal.workorders import clocks
from station_portal.workorders.models import (
    Kind,
    WorkOrder,
)

PHONE_RE = re.compile(r"^[0-9+\- ()]{5,20}$")
CODE_PREFIX = {Kind.REPAIR: "R", Kind.APPLICATION: "A", Kind.PARK_CASE: "P"}
CODE_DIGITS = 8  # random, after the kind's letter and the local day


@dataclass(frozen=True)
class Site:
    unit_id: int
    area_type: str
    rural: bool


def route_site(session: Session, lat: object, lon: object, errors: dict[str, str],
               index: TerritoryIndex | None = None) -> Site | None:
    """The unit whose territory holds the location (None, with the reason in ``errors``)."""
    try:
        routed = (index or TerritoryIndex.load(session)).route_location(lat, lon)
    except InvalidLocation:
        errors["location"] = _("Give the location as latitude and longitude.")
        return None
    if routed is None:
        errors["location"] = _("This location lies outside the service territory.")
        return None
    return Site(routed.unit_id, routed.area_type or "urban", routed.kind == UnitKind.GRID)


def check_site_in_scope(session: Session, actor: User | None, site: Site) -> None:
    """A new order's site must lie in the actor's area (an account manager's clients may not)."""
    scope = actor_scope(session, actor)
    if scope is not None and scope.role is not Role.ACCOUNT_MANAGER and not scope.sees_unit(site.unit_id):
        raise ValidationFailed({"location": _("This location lies outside your area.")})


def new_code(session: Session, order: WorkOrder, when: datetime) -> None:
    """Give a new order its code: the kind's letter, the local day and eight random digits.

    Not the id: the code is also the customer's case number, and one case's number must
    not tell the next one's (codes made from the id before stay as they are). A code
    already taken is drawn again."""
    session.flush()  # the order has its id before its code, as callers expect
    day = f"{CODE_PREFIX[Kind(order.kind)]}{local(when).strftime('%Y%m%d')}"
    while True:
        code = f"{day}{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        if session.scalar(select(WorkOrder.id).where(WorkOrder.code == code)) is None:
            break
    order.code = code


def holder_unit(session: Session, territory_unit_id: int, kinds: tuple[str, ...]) -> int | None:
    """The unit of one of ``kinds`` nearest the territory unit: itself, its groups, then up."""
    unit = session.get(Unit, territory_unit_id)
    if unit is None:
        return None
    chain = [session.get(Unit, i) for i in reversed(ancestor_ids(unit.path))]  # self first
    for kind in kinds:
        for level in chain:
            if level is None:
                continue
            if level.kind == kind:
                return level.id
            for child in level.children:
                if child.kind == kind:
                    return child.id
    return None


def client_of(session: Session, client_id: object, errors: dict[str, str]) -> int | None:
    """The id of the client an order is for (None if none; a wrong one goes in ``errors``)."""
    if client_id in (None, ""):
        return None
    cid = as_id(client_id)
    if cid is None or session.get(Client, cid) is None:
        errors["client_id"] = _("Choose a client from the list.")
        return None
    return cid


# -- the transformer area ----------------------------------------------------------------

def link_area(session: Session, order: WorkOrder, site_unit_id: int, at: datetime) -> None:
    """Give a new order the transformer area nearest its site among the areas of the unit
    its site routes to; a repair inside an announced or running outage of that area is
    marked with it (power is off by plan, not by a fault)."""
    area = area_for_site(session, order.lat, order.lon, site_unit_id)
    order.area_id = area.id if area is not None else None
    if order.kind == Kind.REPAIR.value and area is not None:
        outage = covering_outage(session, area.id, at)
        order.outage_id = outage.id if outage is not None else None


def set_area(session: Session, actor: User | None, order_id: object, version: object,
             area_id: object, *, now: datetime | None = None) -> WorkOrder:
    """Staff correct the transformer area of an open repair or application (the nearest
    area is a guess from the location). The area must be active and in the actor's scope."""
    require_action(actor, "set_transformer_area")
    now = now or utcnow()
    order = load_order(session, actor, order_id, lock_version=version)
    if order.kind not in (Kind.REPAIR.value, Kind.APPLICATION.value) or not order.is_open:
        raise ValidationFailed({"area_id": _("Only an open repair or application has an area "
                                             "to correct.")})
    scope = actor_scope(session, actor)
    area = area_in_scope(session, scope, as_id(area_id))
    if area is None or not area.active:
        raise ValidationFailed({"area_id": _("Choose a transformer area of your area.")})
    if area.id == order.area_id:
        raise ValidationFailed({"area_id": _("The order already lies on this area.")})
    before = session.get(TransformerArea, order.area_id) if order.area_id else None
    claim_version(session, order)
    order.area_id = area.id
    order.updated_at = now
    record_event(session, order, actor, "area_changed", now,
                 from_value=before.code if before else None, to_value=area.code)
    return order


# -- notes (any kind) ------------------------------------------------------------------

def add_note(session: Session, actor: User | None, order_id: object, note: str, *,
             now: datetime | None = None, client_key: object = None) -> WorkOrder:
    """A remark on the timeline; it changes no field, so it needs no version.

    Sent again with the same ``client_key`` (a phone retrying), it is not added twice.
    """
    require_action(actor, "add_note")
    now = now or utcnow()
    key = parse_client_key(client_key)
    repeated = already_applied(session, actor, order_id, key, "note")
    if repeated is not None:
        return repeated
    order = load_order(session, actor, order_id, need_version=False)
    errors: dict[str, str] = {}
    text = plain_text(note, "note", 300, errors, required=True)
    if errors:
        raise ValidationFailed(errors)
    record_event(session, order, actor, "note", now, reason=text, client_key=key)
    return order


# -- the system ------------------------------------------------------------------------

def recompute_open_clocks(session: Session, *, now: datetime | None = None,
                          batch: int = 500) -> int:
    """Recompute the clocks of every open order (after the calendar or a rule file changed).

    An order whose due times moved claims a new version and gets a timeline event
    saying so; the others are left untouched. Returns how many changed.
    """
    now = now or utcnow()
    changed = 0
    last_id = 0
    while True:
        orders = session.scalars(
            select(WorkOrder).where(WorkOrder.closed_at.is_(None), WorkOrder.id > last_id)
            .options(selectinload(WorkOrder.clocks), selectinload(WorkOrder.pauses))
            .order_by(WorkOrder.id).limit(batch)).all()
        if not orders:
            return changed
        for order in orders:
            before = [(c.due_at, c.provisional) for c in order.clocks]
            clocks.refresh_now(order, now)
            after = [(c.due_at, c.provisional) for c in order.clocks]
            if before != after:
                claim_version(session, order)
                order.updated_at = now
                record_event(session, order, None, "clocks_recomputed", now,
                             reason="calendar or time-limit rules changed",
                             details={"moved": sum(1 for a, b in zip(before, after, strict=True)
                                                   if a != b)})
                changed += 1
        last_id = orders[-1].id
        session.flush()

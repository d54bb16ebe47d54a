"""Use cases of outages (停电计划 / 临时停电).

A planned outage goes draft → approved → announced → in progress → ended (or cancelled
before it starts). A temporary outage (maintenance at short notice) is approved and
announced in one step, running at once when its start has come; a fault outage (故障停电)
is one that has begun without a plan: recorded, announced and running at once, with no
advance-notice commitment. Announcing fixes the affected
customers (those on the outage's transformer areas), queues one notice per customer and
channel with a contact (``notify.outage_notices`` delivers them) and records whether the
notice kept the commitment of ``data/network.toml``.

Every change checks the responsibility matrix (``plan_outage``, ``approve_outage``) and the
caller's scope, claims the outage's next version (a stale form is a Conflict, nothing
written) and writes an audit row in the caller's transaction. Bad input raises
``ValidationFailed`` before anything changes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from station_portal import validate
from station_portal.auth.models import User
from station_portal.db import utcnow
from station_portal.errors import Conflict, NotFound, ValidationFailed
from station_portal.gridworks.models import ENERGISED, GridWorksProject
from station_portal.gridworks.models import OPEN_STATUSES as GW_OPEN
from station_portal.gridworks.queries import project_visible
from station_portal.i18n import _
from station_portal.labels import OUTAGE_STATUSES, label
from station_portal.network.models import (
    ConnectionPoint,
    NoticeStatus,
    Outage,
    OutageArea,
    OutageKind,
    OutageNotice,
    OutageStatus,
    TransformerArea,
)
from station_portal.network.outages import (
    affected_count,
    notice_due,
    notice_verdict,
    outage_in_scope,
)
from station_portal.network.rules import network_rules
from station_portal.org.models import Unit, UnitKind
from station_portal.org.tree import ancestor_ids
from station_portal.services import changes, gridworks
from station_portal.timefmt import local
from station_portal.workorders.models import Kind, WorkOrder

ENTITY = "outage"
MAX_AREAS = 300
MAX_LENGTH = timedelta(days=7)  # one outage window; longer works are planned in parts
OWNER_KINDS = (UnitKind.SERVICE_STATION.value, UnitKind.SUPPLY_OFFICE.value)


def _stale() -> Conflict:
    return Conflict(_("Someone else changed this outage a moment ago. "
                      "The page now shows its current state; check it and try again."))


@dataclass
class OutageInput:
    kind: str
    reason: str
    starts_at: object
    ends_at: object
    area_ids: list[Any] = field(default_factory=list)
    grid_works_project_id: object = None


def load_outage(session: Session, actor: User | None, outage_id: object, version: object, *,
                need_version: bool = True) -> Outage:
    scope = changes.actor_scope(session, actor)
    outage = outage_in_scope(session, scope, validate.as_id(outage_id))
    if outage is None:
        raise NotFound(_("There is no such outage in your area."))
    if need_version:
        changes.check_version(version, outage.version, _stale, required=actor is not None)
    return outage


def _owner(session: Session, areas: list[TransformerArea]) -> int | None:
    """The one station or supply office above every area, or None."""
    owners = set()
    for area in areas:
        unit = session.get(Unit, area.unit_id)
        chain = [session.get(Unit, uid) for uid in reversed(ancestor_ids(unit.path))] if unit else []
        owner = next((u.id for u in [unit, *chain] if u is not None and u.kind in OWNER_KINDS), None)
        owners.add(owner)
    return owners.pop() if len(owners) == 1 else None


def _window(data: OutageInput, errors: dict[str, str]) -> tuple[datetime | None, datetime | None]:
    starts = validate.local_time(data.starts_at)
    ends = validate.local_time(data.ends_at)
    message = _("Give a time as YYYY-MM-DD HH:MM (Beijing time).")
    if starts is None:
        errors["starts_at"] = message
    if ends is None:
        errors["ends_at"] = message
    if starts is not None and ends is not None:
        if ends <= starts:
            errors["ends_at"] = _("The outage must end after it starts.")
        elif ends - starts > MAX_LENGTH:
            errors["ends_at"] = _("One outage lasts at most 7 days; plan longer works in parts.")
    return starts, ends


def _audit(session: Session, actor: User | None, action: str, outage: Outage, now: datetime,
           **details: Any) -> None:
    changes.record_audit(session, actor, action, entity_type=ENTITY, entity_id=outage.id,
                         subject=outage.code, at=now, details={
                             k: (v.isoformat() if isinstance(v, datetime) else v)
                             for k, v in details.items()} or None)


def _new_code(session: Session, kind: str, starts: datetime) -> str:
    letter = {OutageKind.PLANNED.value: "PO", OutageKind.TEMPORARY.value: "TO"}.get(kind, "FO")
    prefix = letter + local(starts).strftime("%y%m%d")
    while True:
        code = f"{prefix}-{secrets.randbelow(10_000):04d}"
        if session.scalar(select(Outage.id).where(Outage.code == code)) is None:
            return code


def create_outage(session: Session, actor: User | None, data: OutageInput, *,
                  now: datetime | None = None) -> Outage:
    """A planned outage as a draft; a temporary or fault outage approved and announced at
    once (a fault outage has begun: it runs from its start)."""
    changes.require_action(actor, "plan_outage")
    now = now or utcnow()
    errors: dict[str, str] = {}
    kind = changes.one_of(data.kind, OutageKind, "kind", errors)
    reason = changes.plain_text(data.reason, "reason", 300, errors, required=True)
    starts, ends = _window(data, errors)
    if kind == OutageKind.PLANNED.value and starts is not None and starts <= now:
        errors["starts_at"] = _("A planned outage starts in the future; record one that has "
                                "begun as a fault outage.")
    if kind == OutageKind.FAULT.value and starts is not None and starts > now + changes.CLOCK_SKEW:
        errors["starts_at"] = _("A fault outage has begun; give when the power went off.")
    sent = data.area_ids if isinstance(data.area_ids, list) else []
    ids = validate.id_list(sent, MAX_AREAS + 1)
    if len(ids) != len(sent[:MAX_AREAS + 1]):  # something that is not an area's id
        errors["area_ids"] = _("Choose the transformer areas from the list.")
    elif not ids:
        errors["area_ids"] = _("Choose the transformer areas the outage cuts off.")
    elif len(ids) > MAX_AREAS:
        errors["area_ids"] = _("At most %(n)s transformer areas in one outage.", n=MAX_AREAS)
    scope = changes.actor_scope(session, actor)
    areas = list(session.scalars(select(TransformerArea).where(TransformerArea.id.in_(ids)))) \
        if ids else []
    if ids and "area_ids" not in errors and (len(areas) != len(set(ids)) or any(
            scope is not None and not scope.sees_unit(a.unit_id) for a in areas)):
        errors["area_ids"] = _("Some of these transformer areas are not in your area.")
    owner = _owner(session, areas) if areas and "area_ids" not in errors else None
    if areas and "area_ids" not in errors and owner is None:
        errors["area_ids"] = _("One outage belongs to one station or supply office; "
                               "plan the areas of another in an outage of its own.")
    project = validate.as_id(data.grid_works_project_id)
    if data.grid_works_project_id not in (None, ""):
        works = session.get(GridWorksProject, project) if project is not None else None
        if works is None or works.status not in GW_OPEN or (
                scope is not None and not project_visible(session, scope, works.id)):
            errors["grid_works_project_id"] = _("Choose an open grid works project of your area.")
    if errors:
        raise ValidationFailed(errors)
    assert starts is not None and ends is not None and owner is not None and kind is not None
    outage = Outage(code=_new_code(session, kind, starts), kind=kind, unit_id=owner,
                    feeder_id=areas[0].feeder_id if len({a.feeder_id for a in areas}) == 1 else None,
                    reason=reason, starts_at=starts, ends_at=ends,
                    notice_due_at=notice_due(kind, starts), created_at=now, updated_at=now,
                    created_by=actor.id if actor else None, grid_works_project_id=project,
                    status=OutageStatus.DRAFT.value)
    outage.areas = [OutageArea(area_id=a.id) for a in areas]
    session.add(outage)
    session.flush()
    _audit(session, actor, "outage_created", outage, now, kind=kind, areas=len(areas),
           starts_at=starts, ends_at=ends)
    if kind in (OutageKind.TEMPORARY.value, OutageKind.FAULT.value):
        _set_status(session, actor, outage, OutageStatus.APPROVED, now)
        _announce(session, actor, outage, now)
        if starts <= now:
            _set_status(session, actor, outage, OutageStatus.IN_PROGRESS, now, started_at=starts)
    return outage


def _set_status(session: Session, actor: User | None, outage: Outage, status: OutageStatus,
                now: datetime, **details: Any) -> None:
    before = outage.status
    outage.status = status.value
    outage.updated_at = now
    if "started_at" in details:
        outage.started_at = details["started_at"]
    if "ended_at" in details:
        outage.ended_at = details["ended_at"]
    _audit(session, actor, f"outage_{status.value}", outage, now, before=before, **details)


def _announce(session: Session, actor: User | None, outage: Outage, now: datetime) -> None:
    area_ids = [a.area_id for a in outage.areas]
    outage.announced_at = now
    outage.customers = affected_count(session, area_ids)
    channels = network_rules().channels
    rows = []
    for cp_id, phone, email in session.execute(
            select(ConnectionPoint.id, ConnectionPoint.phone, ConnectionPoint.email)
            .where(ConnectionPoint.area_id.in_(area_ids))):
        if "sms" in channels and phone:
            rows.append({"outage_id": outage.id, "connection_point_id": cp_id, "channel": "sms",
                         "address": phone, "status": NoticeStatus.PENDING.value,
                         "created_at": now, "attempts": 0, "error": ""})
        if "mail" in channels and email:
            rows.append({"outage_id": outage.id, "connection_point_id": cp_id, "channel": "mail",
                         "address": email, "status": NoticeStatus.PENDING.value,
                         "created_at": now, "attempts": 0, "error": ""})
    if rows:
        session.execute(insert(OutageNotice), rows)
    _set_status(session, actor, outage, OutageStatus.ANNOUNCED, now, customers=outage.customers,
                notices=len(rows), verdict=notice_verdict(outage.kind, OutageStatus.ANNOUNCED.value,
                                                          outage.starts_at, now, now))


# Which step may follow which status, and the right it needs.
STEPS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": ((OutageStatus.DRAFT.value,), "approve_outage"),
    "announce": ((OutageStatus.APPROVED.value,), "plan_outage"),
    "start": ((OutageStatus.ANNOUNCED.value,), "plan_outage"),
    "end": ((OutageStatus.IN_PROGRESS.value,), "plan_outage"),
    "cancel": ((OutageStatus.DRAFT.value, OutageStatus.APPROVED.value,
                OutageStatus.ANNOUNCED.value), "plan_outage"),
}


def outage_step(session: Session, actor: User | None, outage_id: object, version: object,
                step: str, *, at: object = None, now: datetime | None = None) -> Outage:
    """One step of an outage's life: approve, announce, start, end or cancel. ``at``: when
    it started or ended, if not now (at most a day back)."""
    now = now or utcnow()
    if step not in STEPS:
        raise ValidationFailed({"step": _("Unknown action.")})
    allowed, right = STEPS[step]
    changes.require_action(actor, right)
    outage = load_outage(session, actor, outage_id, version)
    if outage.status not in allowed:
        raise Conflict(_("This outage is %(status)s now; that step does not apply.",
                         status=label(OUTAGE_STATUSES, outage.status)))
    when = now
    if at not in (None, ""):
        when = validate.local_time(at)
        if when is None or when > now + changes.CLOCK_SKEW or when < now - changes.MAX_STEP_LAG:
            raise ValidationFailed({"at": _("Give a time within the last day, not in the future.")})
    changes.claim_version(session, outage, _stale)
    if step == "approve":
        _set_status(session, actor, outage, OutageStatus.APPROVED, now)
    elif step == "announce":
        _announce(session, actor, outage, now)
    elif step == "start":
        _set_status(session, actor, outage, OutageStatus.IN_PROGRESS, now, started_at=when)
    elif step == "end":
        if outage.started_at is not None and when < outage.started_at:
            raise ValidationFailed({"at": _("An outage cannot end before it started.")})
        _set_status(session, actor, outage, OutageStatus.ENDED, now, ended_at=when)
    else:
        told = _recall_notices(session, outage, now) \
            if outage.status == OutageStatus.ANNOUNCED.value else 0
        _set_status(session, actor, outage, OutageStatus.CANCELLED, now, told_off=told)
    if step == "end" and outage.grid_works_project_id is not None:
        _energise_works(session, outage, when, now)
    return outage


def _recall_notices(session: Session, outage: Outage, now: datetime) -> int:
    """An announced outage is called off: notices not sent yet are dropped, and everyone
    already told is told it is off (the delivery words a cancelled outage's notice so)."""
    session.execute(delete(OutageNotice).where(
        OutageNotice.outage_id == outage.id, OutageNotice.status == NoticeStatus.PENDING.value))
    told = session.execute(select(OutageNotice.connection_point_id, OutageNotice.channel,
                                  OutageNotice.address)
                           .where(OutageNotice.outage_id == outage.id,
                                  OutageNotice.status == NoticeStatus.SENT.value)).all()
    if told:
        session.execute(insert(OutageNotice), [
            {"outage_id": outage.id, "connection_point_id": cp, "channel": channel,
             "address": address, "status": NoticeStatus.PENDING.value, "created_at": now,
             "attempts": 0, "error": ""} for cp, channel, address in told])
    return len(told)


def _energise_works(session: Session, outage: Outage, when: datetime, now: datetime) -> None:
    """The outage that switched a grid-works project in: its end energises the project when
    energising is the project's next milestone (recorded by the system, naming the outage)."""
    works = session.get(GridWorksProject, outage.grid_works_project_id)
    if works is None or works.status not in GW_OPEN:
        return
    following = next((m for m in works.milestones if m.actual_on is None), None)
    if following is None or following.code != ENERGISED:
        return
    gridworks.complete_milestone(session, None, works.id, None, ENERGISED, local(when).date(),
                                 note=_("Energised by outage %(code)s.", code=outage.code),
                                 now=now)


def link_hookup(session: Session, actor: User | None, order_id: object, version: object,
                outage_id: object, *, now: datetime | None = None) -> WorkOrder:
    """An application's final hook-up (接火) is done in this outage: approved or announced,
    in the actor's area, cutting the application's transformer area. The customer's tracking
    page shows its window."""
    changes.require_action(actor, "advance_stage")
    now = now or utcnow()
    order = changes.load_order(session, actor, order_id, Kind.APPLICATION, lock_version=version)
    if not order.is_open:
        raise ValidationFailed({"outage_id": _("This application is closed.")})
    scope = changes.actor_scope(session, actor)
    outage = outage_in_scope(session, scope, validate.as_id(outage_id))
    if outage is None or outage.status not in (OutageStatus.APPROVED.value,
                                               OutageStatus.ANNOUNCED.value):
        raise ValidationFailed({"outage_id": _("Choose an approved or announced outage of "
                                               "your area.")})
    if order.area_id is None or order.area_id not in {a.area_id for a in outage.areas}:
        raise ValidationFailed({"outage_id": _("This outage does not cut the application's "
                                               "transformer area.")})
    changes.claim_version(session, order)
    order.outage_id = outage.id
    order.updated_at = now
    changes.record_event(session, order, actor, "hookup_outage", now, to_value=outage.code,
                         details={"starts_at": outage.starts_at.isoformat(),
                                  "ends_at": outage.ends_at.isoformat()})
    return order

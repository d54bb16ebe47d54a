"""Account managers' client visits: planning one on a park case, recurring plans,
recording a visit (the one way, from a case's page or the visits page), the frequency.

A visit belongs to a client and, when the client has an open park case, to that
case too; then every change also goes into the case's timeline (same
transaction). When a visit is due and when it is overdue is decided in one place,
:mod:`station_portal.workorders.visit_due`. The recurring-visit job
(``jobs/visits.py``) keeps each client's next visit on its due day through
:func:`keep_next_visit` and flags through :func:`flag_missed`; changing a client's
frequency moves the visit the job planned at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from station_portal.auth.models import User, user_clients
from station_portal.auth.roles import Role
from station_portal.db import utcnow
from station_portal.errors import NotFound, ValidationFailed
from station_portal.i18n import _
from station_portal.org.models import Client
from station_portal.services import changes
from station_portal.timefmt import local
from station_portal.validate import as_id
from station_portal.workorders import visit_due
from station_portal.workorders.models import Kind, ParkVisit, WorkOrder

MAX_EVERY_DAYS = 366


def open_case(session: Session, client_id: int) -> WorkOrder | None:
    """The client's newest open park case, if any."""
    return session.scalars(
        select(WorkOrder).where(WorkOrder.kind == Kind.PARK_CASE, WorkOrder.client_id == client_id,
                                WorkOrder.closed_at.is_(None))
        .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc()).limit(1)).first()


def account_managers(session: Session, client_id: int) -> list[User]:
    """Active account managers who look after the client."""
    return list(session.scalars(
        select(User).join(user_clients, user_clients.c.user_id == User.id)
        .where(user_clients.c.client_id == client_id, User.role == Role.ACCOUNT_MANAGER,
               User.active.is_(True)).order_by(User.id)))


def _client_in_scope(session: Session, actor: User | None, client_id: object) -> Client:
    changes.require_action(actor, "manage_park_cases")
    cid = as_id(client_id)
    client = session.get(Client, cid) if cid is not None else None
    scope = changes.actor_scope(session, actor)
    if client is None or (scope is not None and (not scope.sees_client(client.id)
                                                 or not scope.sees_unit(client.unit_id))):
        raise NotFound(_("There is no such client among yours."))
    return client


def set_frequency(session: Session, actor: User, client_id: object, every_days: object,
                  *, now: datetime | None = None) -> Client:
    """Set (or clear, with None) how often the client is visited; the next visit the job
    planned moves to the day the new frequency asks for (or one is planned)."""
    client = _client_in_scope(session, actor, client_id)
    if every_days in (None, ""):
        days = None
    else:
        days = as_id(every_days)
        if days is None or not 1 <= days <= MAX_EVERY_DAYS:
            raise ValidationFailed({"every_days": _(
                "Give a whole number of days between 1 and %(n)s, or leave it empty.",
                n=MAX_EVERY_DAYS)})
    if client.visit_every_days != days:
        changes.record_audit(session, actor, "visit_frequency", entity_type="client",
                             entity_id=client.id,
                             details={"from": client.visit_every_days, "to": days})
        client.visit_every_days = days
        session.flush()
        keep_next_visit(session, client, now or utcnow())
    return client


def plan_recurring(session: Session, client: Client, planned_for: datetime, owner: User | None,
                   now: datetime) -> ParkVisit:
    """The visit job plans the client's next visit (on its open park case if it has one)."""
    case = open_case(session, client.id)
    visit = ParkVisit(client_id=client.id, work_order_id=case.id if case else None,
                      planned_for=planned_for, user_id=owner.id if owner else None,
                      recurring=True)
    session.add(visit)
    if case is not None:
        changes.record_event(session, case, None, "visit_planned", now,
                             to_value=local(planned_for).strftime("%Y-%m-%d %H:%M"),
                             details={"every_days": client.visit_every_days, "recurring": True})
    return visit


def flag_missed(session: Session, visit: ParkVisit, now: datetime) -> bool:
    """Mark a visit missed once (False if it was done or flagged meanwhile); the case's
    timeline says so."""
    flagged = session.execute(
        update(ParkVisit).where(ParkVisit.id == visit.id, ParkVisit.done_at.is_(None),
                                ParkVisit.missed_at.is_(None))
        .values(missed_at=now).execution_options(synchronize_session=False)).rowcount
    if flagged != 1:
        return False
    session.refresh(visit)
    if visit.work_order_id is not None:
        case = session.get(WorkOrder, visit.work_order_id)
        if case is not None:
            changes.record_event(session, case, None, "visit_missed", now,
                                 from_value=local(visit.planned_for).strftime("%Y-%m-%d %H:%M"))
    return True


def plan(session: Session, actor: User | None, case_id: object, planned_for: object, *,
         note: str = "", now: datetime | None = None) -> ParkVisit:
    """A visit planned on a park case (by its account manager, or the case's owner)."""
    changes.require_action(actor, "manage_park_cases")
    now = now or utcnow()
    case = changes.load_order(session, actor, case_id, Kind.PARK_CASE, need_version=False)
    errors: dict[str, str] = {}
    if not isinstance(planned_for, datetime) or planned_for.tzinfo is None:
        errors["planned_for"] = _("Give the date of the visit.")
    note = changes.plain_text(note, "note", 500, errors)
    if errors:
        raise ValidationFailed(errors)
    visit = ParkVisit(work_order_id=case.id, client_id=case.client_id, planned_for=planned_for,
                      user_id=actor.id if actor else case.owner_user_id, note=note)
    session.add(visit)
    changes.record_event(session, case, actor, "visit_planned", now,
                         to_value=local(planned_for).strftime("%Y-%m-%d %H:%M"), reason=note)
    return visit


def record(session: Session, actor: User | None, visit_id: object, *, case_id: object = None,
           note: object = "", at: object = None, now: datetime | None = None) -> ParkVisit:
    """A visit is done (recorded once: of two people recording it, one wins; a second try
    is refused). From a park case's page (``case_id``) the case must be in the actor's
    area and the visit one of its; from the visits page the client must be the actor's.
    The case's timeline says so, or, for a visit without a case, the audit trail."""
    now = now or utcnow()
    vid = as_id(visit_id)
    visit = session.get(ParkVisit, vid) if vid is not None else None
    if case_id is not None:
        changes.require_action(actor, "manage_park_cases")
        case = changes.load_order(session, actor, case_id, Kind.PARK_CASE, need_version=False)
        if visit is None or visit.work_order_id != case.id:
            raise NotFound(_("There is no such visit."))
    elif visit is None:
        raise NotFound(_("There is no such visit."))
    else:
        _client_in_scope(session, actor, visit.client_id)
    errors: dict[str, str] = {}
    text = changes.plain_text(note, "note", 500, errors)
    if errors:
        raise ValidationFailed(errors)
    done_at = changes.step_time(at, now, None)
    case = session.get(WorkOrder, visit.work_order_id) if visit.work_order_id else None
    recorded = session.execute(
        update(ParkVisit).where(ParkVisit.id == visit.id, ParkVisit.done_at.is_(None))
        .values(done_at=done_at, note=text or visit.note,
                user_id=visit.user_id or (actor.id if actor else None))
        .execution_options(synchronize_session=False)).rowcount
    if recorded != 1:
        raise ValidationFailed({"visit": _("This visit is already recorded.")})
    session.refresh(visit)
    if case is not None:
        changes.record_event(session, case, actor, "visit_done", done_at, reason=text)
    else:
        changes.record_audit(session, actor, "visit_done", entity_type="client",
                             entity_id=visit.client_id, details={"visit": visit.id, "note": text})
    return visit


def keep_next_visit(session: Session, client: Client, now: datetime,
                    status: visit_due.NextVisit | None = None) -> tuple[ParkVisit | None, str]:
    """Keep a client with a frequency on it: with no visit open since the last one made,
    plan the next on the day it is due (the frequency after the last visit, or after the
    relationship started; tomorrow if neither is known), for the client's account manager
    — a day already past is planned as it is, and shows overdue; a visit the job planned
    and not yet flagged missed moves to the frequency's day if that changed.

    Returns the open visit and what was done: "planned", "moved" or ""."""
    if not client.visit_every_days:
        return None, ""
    status = status or visit_due.next_visits(session, [client.id], now)[client.id]
    wanted = status.frequency_due
    if status.visit_id is None:
        day = wanted or local(now).date() + timedelta(days=1)
        managers = account_managers(session, client.id)
        owner = managers[0] if managers else None
        return plan_recurring(session, client, visit_due.visit_time(day), owner, now), "planned"
    visit = session.get(ParkVisit, status.visit_id)
    if (visit is None or wanted is None or not visit.recurring or visit.missed_at is not None
            or local(visit.planned_for).date() == wanted):
        return visit, ""
    moved_from = visit.planned_for
    visit.planned_for = visit_due.visit_time(wanted)
    case = session.get(WorkOrder, visit.work_order_id) if visit.work_order_id else None
    if case is not None:
        changes.record_event(session, case, None, "visit_planned", now,
                             from_value=local(moved_from).strftime("%Y-%m-%d %H:%M"),
                             to_value=local(visit.planned_for).strftime("%Y-%m-%d %H:%M"),
                             details={"every_days": client.visit_every_days, "recurring": True})
    return visit, "moved"

"""Use cases of industrial-park and VIP cases (园区前期介入): open a case with its
milestone plan (and the first visit), complete milestones. The visits themselves are
``services.visits``.

Every change checks the actor's role and scope, claims the case's next version and
writes the timeline event in the same transaction (``services.changes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.auth.roles import Role
from station_portal.auth.scope import Scope
from station_portal.db import utcnow
from station_portal.errors import ValidationFailed
from station_portal.i18n import _
from station_portal.org.models import Client, UnitKind
from station_portal.services import orders, visits
from station_portal.services.changes import (
    actor_scope,
    claim_version,
    load_order,
    plain_text,
    record_event,
    refresh_clocks,
    require_action,
    step_time,
)
from station_portal.timefmt import SHANGHAI, local
from station_portal.validate import as_id, day
from station_portal.workorders.models import (
    PARK_MILESTONES,
    Kind,
    ParkStatus,
    ParkVisit,
    StageClock,
    WorkOrder,
)

# A visit planned for a day is at this hour (Beijing time).
VISIT_HOUR = time(9)


def visit_time(day: date) -> datetime:
    """The time of a visit planned for ``day``: 09:00 that day, Beijing time."""
    return datetime.combine(day, VISIT_HOUR, SHANGHAI)


# -- industrial-park cases -------------------------------------------------------------

MAX_LOAD_KW = 1_000_000


@dataclass(frozen=True)
class ParkCaseInput:
    """A new park case as a page, the API or a test gives it; every field is checked."""

    client_id: object  # the client (VIP or park enterprise) the case is for
    projected_load_kw: object  # the load the client expects to need, in kW
    projected_date: object  # the day the load is expected: a date or YYYY-MM-DD
    description: object = ""
    # Who follows the case: an account manager who looks after the client. Default: the
    # actor, if an account manager (the system may leave it empty).
    account_manager_id: object = None
    # The first visit: a time, or a day (the visit at 09:00).
    visit_planned_for: object = None
    # Planned milestones: code → a time, or a day (due at its end, 24:00).
    milestone_plan: Mapping[str, object] | None = None


def _planned_time(value: object, opened: date, *, visit: bool) -> datetime | None:
    """A planned time (with its zone) or day, on the opening day or later; None if not."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return None
        when = value
    else:
        planned = day(value)
        if planned is None:
            return None
        when = visit_time(planned) if visit else datetime.combine(
            planned + timedelta(days=1), time(0), SHANGHAI)  # 24:00 of the day
    return when if local(when).date() >= opened else None


def _client(session: Session, actor: User | None, client_id: object,
            errors: dict[str, str]) -> Client | None:
    """The client, if it is one of the actor's and its unit is in their area."""
    cid = as_id(client_id)
    client = session.get(Client, cid) if cid is not None else None
    scope = actor_scope(session, actor)
    if client is None or (scope is not None and not (scope.sees_client(client.id)
                                                     and scope.sees_unit(client.unit_id))):
        errors["client_id"] = _("Choose one of your clients.")
        return None
    return client


def _account_manager(session: Session, actor: User | None, client: Client | None,
                     chosen: object, errors: dict[str, str]) -> User | None:
    """Who follows the case: an active account manager who looks after the client."""
    if chosen in (None, ""):
        if actor is None or actor.role == Role.ACCOUNT_MANAGER:
            return actor
        errors["account_manager_id"] = _("Choose the account manager who follows the case.")
        return None
    if client is None:
        return None  # the client's own message says what to fix first
    wanted = as_id(chosen)
    manager = next((m for m in visits.account_managers(session, client.id) if m.id == wanted), None)
    if manager is None:
        errors["account_manager_id"] = _("Choose an account manager who looks after this client.")
    return manager


def account_manager_choices(session: Session, scope: Scope, client_id: object) -> list[User]:
    """The account managers a case of this client may be given to (active, looking after
    it); none for a client outside ``scope``."""
    cid = as_id(client_id)
    client = session.get(Client, cid) if cid is not None else None
    if client is None or not (scope.sees_client(client.id) and scope.sees_unit(client.unit_id)):
        return []
    return visits.account_managers(session, client.id)


def create_park_case(session: Session, actor: User | None, data: ParkCaseInput, *,
                     now: datetime | None = None) -> WorkOrder:
    """Open a park or VIP client's early-engagement case (园区前期介入): its four milestones
    (the first entered now; a planned one is due on its date), the first visit if one is
    planned, the account manager who follows it.

    The role (``manage_park_cases``) and the area (the client and its unit) are checked
    here, every field with a message of its own; when one is wrong nothing is written.
    The timeline's ``created`` event is the case's record, in the same transaction.
    """
    require_action(actor, "manage_park_cases")
    now = now or utcnow()
    opened = local(now).date()
    errors: dict[str, str] = {}
    client = _client(session, actor, data.client_id, errors)
    load = data.projected_load_kw
    if not isinstance(load, int | float) or isinstance(load, bool) or not 0 < load <= MAX_LOAD_KW:
        errors["projected_load_kw"] = _("Give the projected load in kW (more than 0, at most "
                                        "1,000,000).")
    projected = day(data.projected_date)
    if projected is None or projected < opened:
        errors["projected_date"] = _("Give the day the load is expected, today or later.")
    description = plain_text(data.description, "description", 500, errors)
    owner = _account_manager(session, actor, client, data.account_manager_id, errors)
    visit = None
    if data.visit_planned_for not in (None, ""):
        visit = _planned_time(data.visit_planned_for, opened, visit=True)
        if visit is None:
            errors["visit_planned_for"] = _("Give the day of the first visit, today or later.")
    plan: dict[str, datetime] = {}
    given = data.milestone_plan if data.milestone_plan is not None else {}
    if not isinstance(given, Mapping) or set(given) - set(PARK_MILESTONES):
        errors["milestone_plan"] = _("Plan the milestones with dates.")
    else:
        for code, value in given.items():
            if value in (None, ""):
                continue
            planned = _planned_time(value, opened, visit=False)
            if planned is None:
                errors[f"milestone_plan.{code}"] = _("Plan it for today or later.")
            else:
                plan[code] = planned
    if errors:
        raise ValidationFailed(errors)
    assert client is not None and projected is not None
    order = WorkOrder(
        code="", kind=Kind.PARK_CASE.value, status=ParkStatus.OPEN.value, unit_id=client.unit_id,
        holder="unit", holder_unit_id=orders.holder_unit(session, client.unit_id,
                                                         (UnitKind.COUNTY_COMPANY,)),
        area_type="urban", lat=client.lat, lon=client.lon, address=client.name_zh,
        customer_name=client.name_zh, customer_phone=client.contact_phone, client_id=client.id,
        park_id=client.park_id, owner_user_id=owner.id if owner else None,
        description=description, created_at=now, updated_at=now,
        projected_load_kw=float(load), projected_date=projected,
    )
    order.clocks = [
        StageClock(seq=i, stage=code, holder="unit", holder_unit_id=order.holder_unit_id,
                   planned_at=plan.get(code), started_at=now if plan.get(code) else None,
                   entered_at=now if i == 1 else None)
        for i, code in enumerate(PARK_MILESTONES, start=1)
    ]
    order.current_stage = PARK_MILESTONES[0]
    session.add(order)
    orders.new_code(session, order, now)
    if visit is not None:
        session.add(ParkVisit(work_order_id=order.id, client_id=client.id, planned_for=visit,
                              user_id=order.owner_user_id))
    refresh_clocks(order, now)
    record_event(session, order, actor, "created", now, to_value=order.status,
                 details={"client": client.code, "load_kw": float(load),
                          "account_manager": owner.username if owner else None})
    return order


def complete_milestone(session: Session, actor: User | None, order_id: object, version: object,
                       milestone: str, *, note: str = "", application_id: object = None,
                       at: object = None, now: datetime | None = None) -> WorkOrder:
    """A milestone of a park case is done; the formal application links the case to it."""
    require_action(actor, "manage_park_cases")
    now = now or utcnow()
    order = load_order(session, actor, order_id, Kind.PARK_CASE, lock_version=version)
    clock = next((c for c in order.clocks if c.stage == milestone), None)
    errors: dict[str, str] = {}
    if clock is None:
        errors["milestone"] = _("Choose one of the listed values.")
    elif clock.ended_at is not None:
        errors["milestone"] = _("This milestone is already done.")
    note = plain_text(note, "note", 300, errors)
    linked = None
    if milestone == "formal_application":
        linked = session.get(WorkOrder, as_id(application_id)) if as_id(application_id) else None
        if linked is None or linked.kind != Kind.APPLICATION or linked.client_id != order.client_id:
            errors["application_id"] = _("Choose this client's connection application.")
    if order.status == ParkStatus.CLOSED:
        errors["action"] = _("This case is closed.")
    if errors:
        raise ValidationFailed(errors)
    assert clock is not None
    when = step_time(at, now, order.created_at)
    claim_version(session, order)
    clock.ended_at = when
    if clock.started_at is None:
        clock.started_at = when
    clock.entered_at = clock.entered_at or when
    if linked is not None:
        order.application_id = linked.id
        order.status = ParkStatus.APPLIED.value
    remaining = [c for c in order.clocks if c.ended_at is None]
    order.current_stage = remaining[0].stage if remaining else None
    if remaining and remaining[0].entered_at is None:
        remaining[0].entered_at = when
    refresh_clocks(order, now)
    record_event(session, order, actor, "milestone_done", when, to_value=milestone, reason=note,
                 details={"application": linked.code} if linked else None)
    return order

"""What a customer sees of their case: parcel-style steps, who holds it now, what
the customer still owes, the grid works it waits on, the crew on its way.

Reads only; shows nothing of staff beyond a unit's name and a crew's name.
Must not import Flask or Dash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from station_portal.customer.documents import document_rules
from station_portal.customer.models import CaseAccess, ContractSignature, ServiceRating
from station_portal.dispatch.board import default_settings
from station_portal.gridworks.labels import MILESTONE_NAMES, PROJECT_STATUSES
from station_portal.gridworks.queries import works_for_order
from station_portal.i18n import _
from station_portal.labels import (
    APPLICATION_STATUSES,
    BUSINESS_TYPES,
    PAUSE_REASONS,
    REPAIR_STATUSES,
    label,
    stage_label,
)
from station_portal.network.models import Outage, TransformerArea
from station_portal.org.models import Crew, Unit
from station_portal.sla.stages import CUSTOMER, stage_book
from station_portal.workorders.models import (
    ApplicationStatus,
    Attachment,
    Kind,
    PauseReason,
    RepairStatus,
    WorkOrder,
)

# The steps of a repair as the customer follows them, with the column that stamps each.
REPAIR_STEPS = (("reported", "created_at"), ("dispatched", "dispatched_at"),
                ("accepted", "accepted_at"), ("en_route", "en_route_at"),
                ("on_site", "on_site_at"), ("restored", "restored_at"))
CREW_COMING = {RepairStatus.DISPATCHED.value, RepairStatus.ACCEPTED.value,
               RepairStatus.EN_ROUTE.value}
# The states in which a customer may rate their case (once): the service rates it too.
RATEABLE = {Kind.APPLICATION.value: {ApplicationStatus.COMPLETED.value},
            Kind.REPAIR.value: {RepairStatus.RESTORED.value, RepairStatus.CLOSED.value}}


@dataclass(frozen=True)
class Step:
    name: str
    state: str  # "done", "current", "upcoming", "skipped"
    done_at: datetime | None = None
    due_at: datetime | None = None
    holder: str = ""
    provisional: bool = False
    late: bool = False


@dataclass(frozen=True)
class Works:
    code: str
    name: str
    status: str
    milestone: str
    milestone_planned_on: object
    expected_energise_on: object
    late: bool


@dataclass(frozen=True)
class CaseView:
    order: WorkOrder
    title: str
    status: str
    closed: bool
    steps: list[Step]
    holder: str  # who holds the case now, in words
    owes: list[str]  # what the customer still has to do
    works: list[Works]
    documents: list[Attachment]
    missing_documents: list[tuple[str, str]]  # (code, name)
    can_add_documents: bool
    can_finish_works: bool
    can_sign: bool
    signed: ContractSignature | None
    can_rate: bool
    rating: ServiceRating | None
    crew: str = ""
    eta: datetime | None = None  # the crew's estimated arrival
    arrival_due: datetime | None = None
    area: str = ""  # the transformer area (台区) the site hangs on
    outage: Outage | None = None  # the outage that explains a dark site / the hook-up window


def _unit_name(session: Session, unit_id: int | None) -> str:
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    return unit.name() if unit is not None else ""


def _holder_words(session: Session, order: WorkOrder) -> str:
    if order.closed_at is not None:
        return ""
    if order.holder == "customer":
        return _("You (the utility waits for you)")
    if order.holder == "grid_works":
        return _("Supporting grid works")
    return _unit_name(session, order.holder_unit_id or order.unit_id)


def _application_steps(session: Session, order: WorkOrder) -> list[Step]:
    book = stage_book()
    steps = []
    for clock in order.clocks:
        if clock.stage == "total":
            continue
        if clock.ended_at is not None:
            state = "done"
        elif clock.stage == order.current_stage and order.closed_at is None:
            state = "current"
        elif order.closed_at is not None:
            state = "skipped"
        else:
            state = "upcoming"
        customers = book.stages[clock.stage].holder == CUSTOMER
        holder = _("You") if customers else _unit_name(session, clock.holder_unit_id)
        steps.append(Step(
            name=stage_label(clock.stage), state=state, done_at=clock.ended_at,
            due_at=None if customers else clock.due_at, holder=holder,
            provisional=bool(clock.provisional), late=clock.status in ("overdue", "missed")))
    return steps


def _repair_steps(order: WorkOrder) -> list[Step]:
    steps = []
    reached = True
    due = {c.stage: c.due_at for c in order.clocks}
    for status, column in REPAIR_STEPS:
        at = getattr(order, column)
        if order.status == RepairStatus.CANCELLED.value and at is None:
            reached = False
        state = "done" if at is not None else ("current" if reached else "upcoming")
        if at is None:
            reached = False
        step_due = due.get("arrival") if status == "on_site" else \
            due.get("restoration") if status == "restored" else None
        steps.append(Step(name=label(REPAIR_STATUSES, status), state=state, done_at=at,
                          due_at=step_due if at is None else None))
    # Only the first open step is current.
    first_open = next((i for i, s in enumerate(steps) if s.state != "done"), None)
    return [s if i == first_open or s.state == "done"
            else Step(s.name, "upcoming", s.done_at, s.due_at) for i, s in enumerate(steps)]


def _owes(order: WorkOrder, missing: list[tuple[str, str]]) -> list[str]:
    out = []
    # the customer's pause, not a wait on grid works (which the grid-works card shows)
    open_pause = next((p for p in order.pauses if p.ended_at is None
                       and p.reason != PauseReason.GRID_WORKS), None)
    if open_pause is not None and open_pause.reason == PauseReason.CUSTOMER_DOCUMENTS:
        out.append(_("Documents: %(note)s", note=open_pause.note) if open_pause.note
                   else _("Documents the utility asked you for."))
    elif open_pause is not None and open_pause.reason in (PauseReason.CUSTOMER_CONSTRUCTION,
                                                          PauseReason.CUSTOMER_REQUEST):
        out.append(label(PAUSE_REASONS, open_pause.reason)
                   + (f": {open_pause.note}" if open_pause.note else ""))
    for _code, name in missing:
        out.append(_("Missing document: %(name)s", name=name))
    if order.status == ApplicationStatus.IN_PROGRESS and not order.paused and \
            order.current_stage and stage_book().stages[order.current_stage].holder == CUSTOMER:
        out.append(_("Your own works (%(stage)s). Tell us here when they are finished.",
                     stage=stage_label(order.current_stage)))
    if order.current_stage == "contract" and not order.paused:
        out.append(_("Sign the supply contract below."))
    return out


def case_view(session: Session, order: WorkOrder, now: datetime) -> CaseView:
    area = session.get(TransformerArea, order.area_id) if order.area_id is not None else None
    network = {"area": area.name if area is not None else "",
               "outage": session.get(Outage, order.outage_id) if order.outage_id else None}
    rating = session.get(ServiceRating, order.id)
    signed = session.scalar(select(ContractSignature).where(
        ContractSignature.work_order_id == order.id, ContractSignature.occasion == "contract"))
    documents = list(session.scalars(select(Attachment).where(
        Attachment.work_order_id == order.id, Attachment.purpose != "photo")
        .order_by(Attachment.uploaded_at, Attachment.id)))
    can_rate = order.status in RATEABLE.get(order.kind, set()) and rating is None
    if order.kind == Kind.APPLICATION:
        rules = document_rules()
        have = {d.purpose for d in documents}
        # Documents handed in at a counter are on paper: only online cases can miss one.
        access = session.get(CaseAccess, order.id)
        online = access is not None and access.channel == "online"
        missing = [(c, rules.kinds[c].name()) for c in rules.required_for(order.customer_class or "")
                   if c not in have] if order.is_open and online else []
        works = [Works(w.code, w.name, label(PROJECT_STATUSES, w.status),
                       label(MILESTONE_NAMES, w.milestone) if w.milestone else "",
                       w.milestone_planned_on, w.expected_energise_on, w.late)
                 for w in works_for_order(session, order.id)]
        in_progress = order.status == ApplicationStatus.IN_PROGRESS
        customers_stage = in_progress and order.current_stage is not None and \
            stage_book().stages[order.current_stage].holder == CUSTOMER
        return CaseView(
            order=order, title=label(BUSINESS_TYPES, order.business_type),
            status=label(APPLICATION_STATUSES, order.status), closed=not order.is_open,
            steps=_application_steps(session, order), holder=_holder_words(session, order),
            owes=_owes(order, missing), works=works, documents=documents,
            missing_documents=missing, can_add_documents=order.is_open,
            can_finish_works=customers_stage and not order.paused,
            can_sign=in_progress and order.current_stage == "contract" and not order.paused,
            signed=signed, can_rate=can_rate, rating=rating, **network)
    crew = session.get(Crew, order.crew_id) if order.crew_id is not None else None
    eta = None
    if crew is not None and order.status in CREW_COMING and crew.last_lat is not None \
            and crew.last_lon is not None:
        minutes = default_settings().travel.minutes(crew.last_lat, crew.last_lon, order.lat,
                                                    order.lon, order.area_type)
        eta = now + timedelta(minutes=round(minutes))
    arrival = next((c for c in order.clocks if c.stage == "arrival"), None)
    return CaseView(
        order=order, title=_("Fault repair"), status=label(REPAIR_STATUSES, order.status),
        closed=order.status in (RepairStatus.RESTORED, RepairStatus.CLOSED,
                                RepairStatus.CANCELLED),
        steps=_repair_steps(order), holder=_holder_words(session, order), owes=[], works=[],
        documents=[], missing_documents=[], can_add_documents=False, can_finish_works=False,
        can_sign=False, signed=None, can_rate=can_rate, rating=rating,
        crew=_("Crew %(code)s of %(unit)s", code=crew.code, unit=crew.unit.name())
        if crew is not None else "",
        eta=eta, arrival_due=arrival.due_at if arrival is not None and arrival.ended_at is None
        else None, **network)


@dataclass(frozen=True)
class CustomerSide:
    """What staff see of the customer's own part of a case (order page)."""

    channel: str | None  # "online", "staff", "demo", or None: no tracking code given
    counter_visits: int
    files: list[Attachment]
    signatures: list[ContractSignature]
    rating: ServiceRating | None


def customer_side(session: Session, order: WorkOrder) -> CustomerSide:
    access = session.get(CaseAccess, order.id)
    return CustomerSide(
        channel=access.channel if access is not None else None,
        counter_visits=order.counter_visits,
        files=list(session.scalars(select(Attachment).where(Attachment.work_order_id == order.id)
                                   .order_by(Attachment.uploaded_at, Attachment.id))),
        signatures=list(session.scalars(select(ContractSignature).where(
            ContractSignature.work_order_id == order.id).order_by(ContractSignature.signed_at))),
        rating=session.get(ServiceRating, order.id))

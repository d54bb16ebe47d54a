"""The customer's use cases, with no staff sign-in: apply online, report a fault,
prove they hold a case, add documents, finish their own works, sign, rate.

Every case a customer can reach has a :class:`CaseAccess` row: a verification
code, kept only as a salted hash, given to the customer once (on the page after
they applied, or by staff for a case taken at a counter or on the phone).
``find_case`` answers the same (None) for an unknown number and a wrong code.

Changes go through ``services.workorders`` with ``actor=None`` and write their
own timeline event marked ``"by": "customer"`` in the same transaction.
The staff side is here too: a code for a case taken at a counter or on the phone,
counter visits, and the counter intake (``take_application``, ``take_fault``: staff
register for a walk-in or phone customer, as the actor whose role and area are checked).
No Flask here: the web face passes the address, the agent and the upload folder.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.customer.contract import VERSION, contract_text, digest
from station_portal.customer.documents import document_rules
from station_portal.customer.models import CaseAccess, ContractSignature, ServiceRating
from station_portal.db import utcnow
from station_portal.errors import Conflict, ValidationFailed
from station_portal.i18n import _, get_locale
from station_portal.org.models import Unit, UnitKind
from station_portal.services import attachments
from station_portal.services import workorders as wo
from station_portal.sla.classes import CUSTOMER_TYPES
from station_portal.sla.stages import CUSTOMER, stage_book
from station_portal.validate import as_id, has_control_chars
from station_portal.workorders.models import (
    ApplicationStatus,
    Kind,
    RepairCategory,
    RepairSource,
    RepairStatus,
    WorkOrder,
)

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 8
CONTRACT_STAGE = "contract"
# What a customer may say is wrong → (repair category, urgency). Dispatchers reclassify.
FAULT_KINDS: dict[str, tuple[str, int]] = {
    "danger": (RepairCategory.HIGH_VOLTAGE.value, 1),  # fallen wire, sparks, fire
    "area": (RepairCategory.HIGH_VOLTAGE.value, 2),  # the whole street or village is dark
    "premises": (RepairCategory.LOW_VOLTAGE.value, 2),  # only my home or shop
    "quality": (RepairCategory.POWER_QUALITY.value, 2),  # low voltage, flicker
    "meter": (RepairCategory.METERING.value, 3),
}
RATEABLE = {Kind.APPLICATION.value: {ApplicationStatus.COMPLETED.value},
            Kind.REPAIR.value: {RepairStatus.RESTORED.value, RepairStatus.CLOSED.value}}


# -- the verification code --------------------------------------------------------------

def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalise_code(text: object) -> str:
    if not isinstance(text, str):
        return ""
    return "".join(ch for ch in text.upper() if ch.isalnum())[:32]


def normalise_number(text: object) -> str:
    if not isinstance(text, str):
        return ""
    return "".join(ch for ch in text.upper() if ch.isalnum())[:24]


def _hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def grant_access(session: Session, order: WorkOrder, *, channel: str,
                 now: datetime | None = None, code: str | None = None) -> str:
    """A new verification code for the case (an older one stops working); shown once.
    ``code`` is for the demo seed only (its cases have codes the demo can show)."""
    code = normalise_code(code) if code else new_code()
    salt = secrets.token_hex(8)
    access = session.get(CaseAccess, order.id)
    if access is None:
        session.add(CaseAccess(work_order_id=order.id, code_hash=_hash(salt, code), salt=salt,
                               created_at=now or utcnow(), channel=channel))
    else:
        access.code_hash, access.salt, access.created_at = _hash(salt, code), salt, now or utcnow()
    return format_code(code)


def find_case(session: Session, number: object, code: object) -> WorkOrder | None:
    """The case with this number if the code is its code; None for any other answer."""
    number, code = normalise_number(number), normalise_code(code)
    order = session.scalar(select(WorkOrder).where(WorkOrder.code == number)) if number else None
    access = session.get(CaseAccess, order.id) if order is not None else None
    salt, expected = (access.salt, access.code_hash) if access else ("-", "0" * 64)
    ok = hmac.compare_digest(_hash(salt, code), expected)  # hashed either way: same work
    return order if ok and access is not None and code else None


def access_tag(session: Session, order_id: int) -> str | None:
    """What a visitor keeps with a case they proved to hold: it changes with every new
    code, so a new code shuts out whoever held the old one."""
    access = session.get(CaseAccess, order_id)
    return access.salt if access is not None else None


def case_by_id(session: Session, order_id: object, tag: object) -> WorkOrder | None:
    """A case the visitor proved to hold earlier in this visit (id and tag kept in their
    session), as long as its code was not replaced since."""
    oid = as_id(order_id)
    access = session.get(CaseAccess, oid) if oid is not None else None
    if access is None or not isinstance(tag, str) or not hmac.compare_digest(tag, access.salt):
        return None
    return session.get(WorkOrder, oid)


# -- applying online --------------------------------------------------------------------

@dataclass(frozen=True)
class Upload:
    purpose: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class OnlineApplication:
    """The online form as sent: the customer states who they are and the load they need;
    the utility decides the class (``StageBook.classify``)."""

    business_type: object
    customer_type: object
    load_kw: object
    small_firm: object
    customer_name: object
    customer_phone: object
    address: object
    lat: object
    lon: object
    description: object = ""
    accept_terms: bool = False
    capacity_kva: object = None


@dataclass
class Submitted:
    order: WorkOrder
    code: str  # the verification code, formatted, to show once
    files: list[Path] = field(default_factory=list)  # written; to remove if the commit fails


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _checked_uploads(uploads: list[Upload], customer_class: str, errors: dict[str, str]
                     ) -> list[tuple[Upload, str]]:
    rules = document_rules()
    checked: list[tuple[Upload, str]] = []
    for upload in uploads:
        if upload.purpose not in rules.kinds:
            errors["documents"] = _("This kind of document is not asked for.")
            continue
        if not upload.data:
            continue
        try:
            checked.append((upload, attachments.check_document(upload.data, rules.max_bytes)))
        except ValueError as exc:
            errors[f"doc_{upload.purpose}"] = str(exc)
    have = {u.purpose for u, _t in checked}
    for code in rules.required_for(customer_class):
        if code not in have and f"doc_{code}" not in errors:
            errors[f"doc_{code}"] = _("Upload this document.")
    return checked


def _store(session: Session, order: WorkOrder, checked: list[tuple[Upload, str]],
           upload_dir: Path, now: datetime, files: list[Path]) -> int:
    stored = 0
    for upload, content_type in checked:
        result = attachments.store_document(
            session, order, upload.data, content_type, purpose=upload.purpose,
            filename=upload.filename, upload_dir=upload_dir, now=now)
        if result.path is not None:
            files.append(result.path)
        stored += int(result.created)
    return stored


def _signature(session: Session, order: WorkOrder, signer: str, occasion: str, ip: str,
               agent: str, now: datetime) -> ContractSignature:
    text = contract_text(order, supplier=supplier_name(session, order))
    return ContractSignature(
        work_order_id=order.id, signer_name=signer, signed_at=now, ip=ip[:64],
        user_agent=agent[:200], contract_sha256=digest(text),
        contract_version=f"{VERSION}/{get_locale()}", occasion=occasion)


def supplier_name(session: Session, order: WorkOrder) -> str:
    """The company that supplies the site (the contract's other party): the county
    company over the site's station or grid."""
    company = wo.holder_unit(session, order.unit_id, (UnitKind.COUNTY_COMPANY.value,
                                                      UnitKind.CITY_COMPANY.value))
    unit = session.get(Unit, company or order.unit_id)
    return unit.name() if unit is not None else ""


def _application_input(form: OnlineApplication | CounterApplication, *,
                       at_counter: bool) -> wo.ApplicationInput:
    """A form as typed → the service's input; a value that is not a number becomes one the
    service refuses with its own message (every problem is reported at once)."""
    load = _number(form.load_kw)
    capacity = None if form.capacity_kva in (None, "") else _number(form.capacity_kva)
    return wo.ApplicationInput(
        business_type=form.business_type if isinstance(form.business_type, str) else "",
        customer_type=form.customer_type if isinstance(form.customer_type, str) else "",
        load_kw=load if load is not None else -1.0,
        small_firm=form.small_firm in (True, "1", "on", "true", "yes"),
        capacity_kva=None if form.capacity_kva in (None, "")
        else capacity if capacity is not None else -1.0,
        customer_name=form.customer_name, customer_phone=form.customer_phone,  # type: ignore[arg-type]
        address=form.address, lat=_number(form.lat), lon=_number(form.lon),  # type: ignore[arg-type]
        description=form.description, at_counter=at_counter)  # type: ignore[arg-type]


def submit_application(session: Session, form: OnlineApplication, uploads: list[Upload], *,
                       upload_dir: Path, ip: str = "", user_agent: str = "",
                       now: datetime | None = None, files: list[Path] | None = None) -> Submitted:
    """An online application: checked as a whole (every problem reported at once), routed,
    accepted at once (the online form is the acceptance: zero counter visits), its
    documents stored, a verification code issued."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    data = _application_input(form, at_counter=False)
    klass = stage_book().classify(customer_type=data.customer_type, load_kw=data.load_kw,
                                  small_firm=data.small_firm) \
        if data.load_kw > 0 and data.customer_type in CUSTOMER_TYPES else ""
    checked = _checked_uploads(uploads, klass, errors)
    if not form.accept_terms:
        errors["accept_terms"] = _("Confirm the information and accept the terms to apply.")
    if not isinstance(form.customer_phone, str) or not form.customer_phone.strip():
        errors["customer_phone"] = _("Give a phone number we can call you on.")
    try:
        order = wo.create_application(session, None, data, accept=True, now=now)
    except ValidationFailed as exc:
        raise ValidationFailed({**exc.fields, **errors}) from None
    if errors:
        raise ValidationFailed(errors)
    submitted = Submitted(order, grant_access(session, order, channel="online", now=now),
                          files if files is not None else [])
    stored = _store(session, order, checked, upload_dir, now, submitted.files)
    signer = order.customer_name
    if CONTRACT_STAGE not in {c.stage for c in order.clocks}:
        session.add(_signature(session, order, signer, "application", ip, user_agent, now))
    wo._event(session, order, None, "submitted_online", now, to_value=order.status,
              details={"by": "customer", "channel": "online", "documents": stored,
                       "ip": ip[:64]})
    return submitted


# -- reporting a fault online -----------------------------------------------------------

@dataclass(frozen=True)
class OnlineFault:
    kind: object
    lat: object
    lon: object
    address: object
    customer_name: object
    customer_phone: object
    description: object = ""


def report_fault(session: Session, form: OnlineFault, *, ip: str = "",
                 now: datetime | None = None) -> Submitted:
    now = now or utcnow()
    errors: dict[str, str] = {}
    kind = FAULT_KINDS.get(form.kind) if isinstance(form.kind, str) else None
    if kind is None:
        errors["kind"] = _("Choose what is wrong.")
    if not isinstance(form.customer_phone, str) or not form.customer_phone.strip():
        errors["customer_phone"] = _("Give a phone number the crew can call you on.")
    category, urgency = kind or (RepairCategory.LOW_VOLTAGE.value, 2)
    data = wo.RepairInput(
        source="app", category=category, urgency=urgency,
        lat=_number(form.lat), lon=_number(form.lon),  # type: ignore[arg-type]
        address=form.address, customer_name=form.customer_name,  # type: ignore[arg-type]
        customer_phone=form.customer_phone, description=form.description)  # type: ignore[arg-type]
    try:
        order = wo.create_repair(session, None, data, now=now)
    except ValidationFailed as exc:
        raise ValidationFailed({**exc.fields, **errors}) from None
    if errors:
        raise ValidationFailed(errors)
    submitted = Submitted(order, grant_access(session, order, channel="online", now=now))
    wo._event(session, order, None, "reported_online", now, to_value=order.status,
              details={"by": "customer", "channel": "online", "kind": form.kind, "ip": ip[:64]})
    return submitted


# -- on the tracked case ----------------------------------------------------------------

LOW_RATING = 2  # this many stars or fewer: the unit's heads hear of it


def _tell(session: Session, order: WorkOrder, event: str, *, heads: bool = False,
          **params: object) -> int:
    """Tell the people who hold the case (and with ``heads``, their heads) what the
    customer did; the notification is written with the change."""
    from station_portal.notify.escalation import Recipients
    from station_portal.notify.service import notify

    clocks = [c for c in order.clocks if c.stage != "total"]
    clock = next((c for c in clocks if c.ended_at is None), clocks[-1] if clocks else None)
    if clock is None:
        return 0
    recipients = Recipients(session)
    users = recipients.holder(order, clock)
    if heads:
        users += recipients.unit_head(order, clock)
    sent = 0
    for user in {u.id: u for u in users}.values():
        sent += notify(session, user, event, order_id=order.id,
                       params={"code": order.code, **params}) is not None
    return sent


def _reload(session: Session, order_id: int, version: object) -> WorkOrder:
    """The case as the customer's page showed it: a missing or stale version is a conflict."""
    if as_id(version) is None:
        raise wo._conflict()
    return wo._load_order(session, None, order_id, lock_version=version)


def add_documents(session: Session, order_id: int, version: object, uploads: list[Upload], *,
                  upload_dir: Path, now: datetime | None = None,
                  files: list[Path] | None = None) -> Submitted:
    """Documents the customer sends later (one was missing, or the utility asked for more)."""
    now = now or utcnow()
    order = _reload(session, order_id, version)
    if order.kind != Kind.APPLICATION or not order.is_open:
        raise ValidationFailed({"documents": _("This case takes no more documents.")})
    errors: dict[str, str] = {}
    rules = document_rules()
    checked: list[tuple[Upload, str]] = []
    for upload in uploads:
        if upload.purpose not in rules.kinds:
            errors["documents"] = _("This kind of document is not asked for.")
        elif upload.data:
            try:
                checked.append((upload, attachments.check_document(upload.data, rules.max_bytes)))
            except ValueError as exc:
                errors[f"doc_{upload.purpose}"] = str(exc)
    if not checked and not errors:
        errors["documents"] = _("Choose a file to upload.")
    if errors:
        raise ValidationFailed(errors)
    submitted = Submitted(order, "", files if files is not None else [])
    stored = _store(session, order, checked, upload_dir, now, submitted.files)
    if not stored:
        raise ValidationFailed({"documents": _("We already have this file as this document.")})
    wo._claim(session, order)
    _tell(session, order, "customer_update", what="documents", count=stored)
    return submitted


def finish_own_works(session: Session, order_id: int, version: object, *, note: object = "",
                     now: datetime | None = None) -> WorkOrder:
    """The customer's own stage (their construction) is done: they ask for the inspection."""
    order = _reload(session, order_id, version)
    if order.kind != Kind.APPLICATION or order.status != ApplicationStatus.IN_PROGRESS \
            or order.paused or stage_book().stages[order.current_stage or ""].holder != CUSTOMER:
        raise ValidationFailed({"action": _("Your case is not waiting for your works now.")})
    errors: dict[str, str] = {}
    text = wo._text(note, "note", 300, errors)
    if errors:
        raise ValidationFailed(errors)
    wo.advance_stage(session, None, order.id, order.version,
                     note=text or _("The customer reported their works finished."), now=now)
    _tell(session, order, "customer_update", what="works")
    return order


def sign_contract(session: Session, order_id: int, version: object, *, signer: object,
                  accept: bool, shown: object = None, ip: str = "", user_agent: str = "",
                  now: datetime | None = None) -> WorkOrder:
    """The customer accepts the supply contract online; the contract stage is done.
    ``shown`` is the SHA-256 of the text their page showed: it must be today's text."""
    now = now or utcnow()
    order = _reload(session, order_id, version)
    if order.kind != Kind.APPLICATION or order.status != ApplicationStatus.IN_PROGRESS \
            or order.current_stage != CONTRACT_STAGE or order.paused:
        raise ValidationFailed({"action": _("The contract is not ready for signing.")})
    errors: dict[str, str] = {}
    name = wo._text(signer, "signer", 80, errors, required=True)
    if not accept:
        errors["accept"] = _("Tick the box to accept the contract.")
    if errors:
        raise ValidationFailed(errors)
    signature = _signature(session, order, name, "contract", ip, user_agent, now)
    if not isinstance(shown, str) or not hmac.compare_digest(shown, signature.contract_sha256):
        raise Conflict(_("The contract changed since your page showed it. Read it again, "
                         "then sign."))
    session.add(signature)
    wo.advance_stage(session, None, order.id, order.version,
                     note=_("Supply contract signed online by %(name)s.", name=name), now=now)
    wo._event(session, order, None, "contract_signed", now, to_value=signature.contract_version,
              details={"by": "customer", "signer": name, "sha256": signature.contract_sha256,
                       "ip": ip[:64]})
    _tell(session, order, "customer_update", what="contract")
    return order


def rate(session: Session, order_id: int, *, stars: object, comment: object,
         now: datetime | None = None) -> ServiceRating:
    """1 to 5 stars and a comment, once, when the case is closed."""
    now = now or utcnow()
    order = wo._load_order(session, None, order_id, need_version=False)
    errors: dict[str, str] = {}
    if order.status not in RATEABLE.get(order.kind, set()):
        errors["action"] = _("You can rate the service once your case is done.")
    elif session.get(ServiceRating, order.id) is not None:
        errors["action"] = _("You have already rated this case. Thank you.")
    value = as_id(stars)
    if value is None or not 1 <= value <= 5:
        errors["stars"] = _("Give 1 to 5 stars.")
    text = comment if isinstance(comment, str) else ""
    if has_control_chars(text) or len(text.strip()) > 500:
        errors["comment"] = _("At most %(n)s characters of plain text.", n=500)
    if errors:
        raise ValidationFailed(errors)
    wo._claim(session, order)  # two ratings sent at once: one wins, the other is a conflict
    assert value is not None
    rating = ServiceRating(work_order_id=order.id, stars=value, comment=text.strip(),
                           rated_at=now, unit_id=order.unit_id, kind=order.kind)
    session.add(rating)
    wo._event(session, order, None, "rated", now, to_value=str(value),
              reason=text.strip()[:300], details={"by": "customer"})
    if rating.stars <= LOW_RATING:
        _tell(session, order, "customer_rating_low", heads=True, stars=rating.stars,
              comment=rating.comment[:200])
    return rating


# -- staff side -------------------------------------------------------------------------

def issue_code(session: Session, actor: User, order_id: object, *,
               now: datetime | None = None) -> tuple[WorkOrder, str]:
    """A new verification code for a case taken at a counter or on the phone, for staff to
    hand to the customer (shown once; an earlier code stops working)."""
    wo._require_action(actor, "issue_tracking_code")
    now = now or utcnow()
    order = wo._load_order(session, actor, order_id, need_version=False)
    if order.kind not in (Kind.REPAIR, Kind.APPLICATION):
        raise ValidationFailed({"action": _("Customers track repairs and applications only.")})
    code = grant_access(session, order, channel="staff", now=now)
    wo._event(session, order, actor, "tracking_code", now)
    return order, code


def count_counter_visit(session: Session, actor: User, order: WorkOrder, *, note: str = "",
                        details: dict[str, object] | None = None, field: str = "action",
                        now: datetime | None = None) -> WorkOrder:
    """One more counter visit on an open application: its version claimed, its timeline
    event written (the hall's finished tickets and the order page both come here)."""
    now = now or utcnow()
    if order.kind != Kind.APPLICATION or not order.is_open:
        raise ValidationFailed({field: _("Counter visits are counted on open connection "
                                         "applications only.")})
    wo._claim(session, order)
    order.counter_visits += 1
    wo._event(session, order, actor, "counter_visit", now, to_value=str(order.counter_visits),
              reason=note, details=details)
    return order


def record_counter_visit(session: Session, actor: User, order_id: object, version: object, *,
                         note: object = "", now: datetime | None = None) -> WorkOrder:
    """The applicant had to come to a counter for this case (the KPI counts each visit)."""
    wo._require_action(actor, "record_counter_visit")
    order = wo._load_order(session, actor, order_id, Kind.APPLICATION, lock_version=version)
    errors: dict[str, str] = {}
    text = wo._text(note, "note", 300, errors)
    if errors:
        raise ValidationFailed(errors)
    return count_counter_visit(session, actor, order, note=text, now=now)


# -- taken by staff for a walk-in or phone customer (the counter intake page) ------------

COUNTER_CHANNELS = (RepairSource.COUNTER.value, RepairSource.HOTLINE.value)  # came / phoned


@dataclass(frozen=True)
class CounterApplication:
    """An application staff take for a customer who came to the counter or phoned, as
    typed: what the customer states (the utility classifies it as it does an online one)."""

    channel: object  # "counter" (a counter visit is counted) or "hotline_95598"
    business_type: object
    customer_type: object
    load_kw: object
    small_firm: object
    customer_name: object
    customer_phone: object
    address: object
    lat: object
    lon: object
    description: object = ""
    capacity_kva: object = None


@dataclass(frozen=True)
class CounterFault:
    """A fault reported to staff at the counter or on the 95598 hotline, as typed."""

    channel: object
    category: object
    urgency: object
    customer_name: object
    customer_phone: object
    address: object
    lat: object
    lon: object
    description: object = ""


def _channel(value: object, errors: dict[str, str]) -> str:
    if value not in COUNTER_CHANNELS:
        errors["source"] = _("Choose how the customer reached us.")
        return RepairSource.COUNTER.value
    return str(value)


def _phone_given(phone: object, errors: dict[str, str]) -> None:
    if not isinstance(phone, str) or not phone.strip():
        errors["customer_phone"] = _("Give a phone number we can call the customer on.")


def take_application(session: Session, actor: User, form: CounterApplication,
                     uploads: list[Upload], *, upload_dir: Path, now: datetime | None = None,
                     files: list[Path] | None = None) -> Submitted:
    """A connection application taken by staff (the actor, whose role and area the work-order
    service checks), checked as the online form is and accepted at once. A customer at the
    counter counts one counter visit. The documents they brought are checked and kept as
    online ones are; none is required here (the rest can follow on the order page or online).
    No verification code: staff give one on request (:func:`issue_code`)."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    channel = _channel(form.channel, errors)
    checked = _checked_uploads(uploads, "", errors)  # no class: nothing required at a counter
    _phone_given(form.customer_phone, errors)
    data = _application_input(form, at_counter=channel == RepairSource.COUNTER.value)
    try:
        order = wo.create_application(session, actor, data, accept=True, now=now)
    except ValidationFailed as exc:
        raise ValidationFailed({**exc.fields, **errors}) from None
    if errors:
        raise ValidationFailed(errors)
    submitted = Submitted(order, "", files if files is not None else [])
    stored = _store(session, order, checked, upload_dir, now, submitted.files)
    if data.at_counter:
        wo._event(session, order, actor, "counter_visit", now, to_value=str(order.counter_visits),
                  reason=_("Application taken at the counter."),
                  details={"channel": channel, "documents": stored})
    else:
        wo._event(session, order, actor, "note", now,
                  reason=_("Application taken on the phone (95598)."),
                  details={"channel": channel, "documents": stored})
    return submitted


def take_fault(session: Session, actor: User, form: CounterFault, *,
               now: datetime | None = None) -> WorkOrder:
    """A fault repair registered by staff for a caller or a walk-in: routed, its arrival
    clock running from now (the work-order service checks the actor's role and area)."""
    errors: dict[str, str] = {}
    channel = _channel(form.channel, errors)
    _phone_given(form.customer_phone, errors)
    urgency = as_id(form.urgency)
    data = wo.RepairInput(
        source=channel, category=form.category if isinstance(form.category, str) else "",
        urgency=urgency if urgency is not None else 0,
        lat=_number(form.lat), lon=_number(form.lon),  # type: ignore[arg-type]
        address=form.address, customer_name=form.customer_name,  # type: ignore[arg-type]
        customer_phone=form.customer_phone, description=form.description)  # type: ignore[arg-type]
    try:
        order = wo.create_repair(session, actor, data, now=now)
    except ValidationFailed as exc:
        raise ValidationFailed({**exc.fields, **errors}) from None
    if errors:
        raise ValidationFailed(errors)
    return order

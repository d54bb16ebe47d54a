"""The customer's use cases, with no staff sign-in: apply online, report a fault,
prove they hold a case, add documents, finish their own works, sign, rate.

Every case a customer can reach has a :class:`CaseAccess` row: a verification
code, kept only as a salted hash, given to the customer once (on the page after
they applied, or by staff for a case taken at a counter or on the phone).
``find_case`` answers the same (None) for an unknown number and a wrong code.

Changes go through the work-order services (``services.applications``,
``services.repairs``, ``services.changes``) with ``actor=None`` and write their
own timeline event marked ``"by": "customer"`` in the same transaction.
The staff side is here too: a code for a case taken at a counter or on the phone,
counter visits, and the counter intake (``take_application``, ``take_fault``: staff
register for a walk-in or phone customer, as the actor whose role and area are checked).
The site of an application or a fault is where the form puts it (:func:`find_site`): the
coordinates given (a map pick, the phone's location) win; else the address typed, resolved by
the gazetteer (``org/addresses.py``). A refused online application keeps its checked
documents for an hour under a random token (:func:`keep_uploads`), so the customer need not
upload them again.
No Flask here: the web face passes the address, the agent and the store of uploads.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.customer.contract import VERSION, contract_text, digest
from station_portal.customer.documents import document_rules
from station_portal.customer.models import CaseAccess, ContractSignature, ServiceRating
from station_portal.customer.tracking import RATEABLE
from station_portal.db import utcnow
from station_portal.errors import Conflict, ValidationFailed
from station_portal.i18n import _, get_locale
from station_portal.org import addresses
from station_portal.org.models import Unit, UnitKind
from station_portal.org.territory import TerritoryIndex
from station_portal.services import applications, attachments, changes, orders, repairs
from station_portal.sla.classes import CUSTOMER_TYPES
from station_portal.sla.stages import CUSTOMER, stage_book
from station_portal.storage import Entry, KeyMissing, Storage, Written, as_storage
from station_portal.validate import as_id, has_control_chars
from station_portal.workorders.models import (
    ApplicationStatus,
    Attachment,
    Kind,
    RepairCategory,
    RepairSource,
    WorkOrder,
)

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 8
# The channel of the demo seed's cases: their codes are derived from their numbers
# (demo/customers.py CHANNEL).
DEMO_CHANNEL = "demo"
CONTRACT_STAGE = "contract"
# What a customer may say is wrong → (repair category, urgency). Dispatchers reclassify.
FAULT_KINDS: dict[str, tuple[str, int]] = {
    "danger": (RepairCategory.HIGH_VOLTAGE.value, 1),  # fallen wire, sparks, fire
    "area": (RepairCategory.HIGH_VOLTAGE.value, 2),  # the whole street or village is dark
    "premises": (RepairCategory.LOW_VOLTAGE.value, 2),  # only my home or shop
    "quality": (RepairCategory.POWER_QUALITY.value, 2),  # low voltage, flicker
    "meter": (RepairCategory.METERING.value, 3),
}


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


def find_case(session: Session, number: object, code: object, *,
              demo_codes: bool = True) -> WorkOrder | None:
    """The case with this number if the code is its code; None for any other answer.

    Without ``demo_codes`` (a portal not in demo mode) the demo seed's codes, which anyone
    can derive from the case number (``demo/customers.py``), open nothing."""
    number, code = normalise_number(number), normalise_code(code)
    order = session.scalar(select(WorkOrder).where(WorkOrder.code == number)) if number else None
    access = session.get(CaseAccess, order.id) if order is not None else None
    if access is not None and access.channel == DEMO_CHANNEL and not demo_codes:
        access = None
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
class ApplicationForm:
    """An application form as typed (online or at the counter): the customer states who they
    are and the load they need; the utility decides the class (``StageBook.classify``)."""

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
    district: object = ""  # the address in parts (else ``address`` in one line)
    street: object = ""
    house_number: object = ""


@dataclass(frozen=True)
class OnlineApplication(ApplicationForm):
    """The customer's own online form: they accept the terms to apply."""

    accept_terms: bool = False


@dataclass
class Submitted:
    order: WorkOrder
    code: str  # the verification code, formatted, to show once
    files: list[Written] = field(default_factory=list)  # to remove if the commit fails


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


def _over_quota(session: Session, order_id: int | None,
                checked: list[tuple[Upload, str]]) -> str | None:
    """Why storing ``checked`` would overfill the case's documents (``max_files_per_case``,
    ``max_mb_per_case`` of the documents' rules), or None. A file the case already holds
    as the same document is not counted again (it is not stored twice)."""
    rules = document_rules()
    held: set[tuple[str, str]] = set()
    have_bytes = 0
    if order_id is not None:
        for purpose, digest_, size in session.execute(
                select(Attachment.purpose, Attachment.sha256, Attachment.size).where(
                    Attachment.work_order_id == order_id,
                    Attachment.purpose != attachments.PHOTO)):
            held.add((purpose, digest_))
            have_bytes += size
    have_files = len(held)
    new: dict[tuple[str, str], int] = {}
    for upload, _type in checked:
        key = (upload.purpose, hashlib.sha256(upload.data).hexdigest())
        if key not in held:
            new[key] = len(upload.data)
    if not new:
        return None
    mb = 1024 * 1024
    if have_files + len(new) > rules.max_files_per_case:
        return _("A case holds at most %(max)s documents: this one has %(have)s and you sent "
                 "%(sent)s. Nothing was stored. If we need more from you, call 95598.",
                 max=rules.max_files_per_case, have=have_files, sent=len(new))
    if have_bytes + sum(new.values()) > rules.max_bytes_per_case:
        have_mb, sent_mb = (format(n / mb, ".1f") for n in (have_bytes, sum(new.values())))
        return _("A case holds at most %(max)s MB of documents: this one has %(have)s MB and "
                 "you sent %(sent)s MB. Nothing was stored. If we need more from you, call "
                 "95598.", max=rules.max_bytes_per_case // mb, have=have_mb, sent=sent_mb)
    return None


def _store(session: Session, order: WorkOrder, checked: list[tuple[Upload, str]],
           upload_dir: Storage | Path, now: datetime, files: list[Written]) -> int:
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
    company = orders.holder_unit(session, order.unit_id, (UnitKind.COUNTY_COMPANY.value,
                                                      UnitKind.CITY_COMPANY.value))
    unit = session.get(Unit, company or order.unit_id)
    return unit.name() if unit is not None else ""


# -- where the site is ------------------------------------------------------------------

@dataclass(frozen=True)
class SiteLookup:
    """Where a form puts the site, and the address to keep on the case."""

    lat: object
    lon: object
    address: object
    located: addresses.Located | None = None  # the address resolved (not with coordinates)
    errors: dict[str, str] = field(default_factory=dict)  # why the address was not placed
    by_coordinates: bool = False


def _given(value: object) -> bool:
    return (isinstance(value, str) and bool(value.strip())) or isinstance(value, int | float)


def _text_of(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def find_site(form: object, index: TerritoryIndex) -> SiteLookup:
    """The coordinates given (a map pick, the phone's location) win; else the address is
    resolved: in parts (district, street, number) or in one line. An address that cannot be
    placed gives a message on its field, naming what was not found."""
    line = getattr(form, "address", "")
    district, street, number = (getattr(form, k, "") for k in ("district", "street",
                                                               "house_number"))
    parts = " ".join(t for t in (_text_of(district), _text_of(street), _text_of(number)) if t)
    typed = line if _given(line) else parts if _text_of(street) else line
    lat, lon = getattr(form, "lat", None), getattr(form, "lon", None)
    if _given(lat) or _given(lon):
        return SiteLookup(lat, lon, typed, by_coordinates=True)
    if not _given(line) and not _text_of(street):
        if _text_of(district) or _text_of(number):  # the address begun in parts
            return SiteLookup(None, None, typed, errors={"street": _(
                "Give the street, road or village, and the house number.")})
        return SiteLookup(None, None, typed, errors={"address": _(
            "Give the address (district, street and number), or mark the place on the map.")})
    try:
        located = addresses.locate(addresses.gazetteer(), index, line, district=district,
                                   street=street, number=number)
    except addresses.AddressNotFound as exc:
        return SiteLookup(None, None, typed, errors={exc.field: exc.message})
    if not _given(line):
        typed = addresses.gazetteer().city + located.match.label()
    return SiteLookup(located.lat, located.lon, typed, located)


def look_up_site(session: Session, form: object) -> SiteLookup:
    """:func:`find_site` with the territories read from the database (for showing a form)."""
    return find_site(form, TerritoryIndex.load(session))


def _sited(form, site: SiteLookup):  # type: ignore[no-untyped-def]
    """The form with the site's coordinates and address."""
    return replace(form, lat=site.lat, lon=site.lon, address=site.address)


def _merge(exc: ValidationFailed, errors: dict[str, str], site: SiteLookup) -> ValidationFailed:
    """Every problem at once; an address not placed replaces "give the coordinates"."""
    fields = dict(exc.fields)
    if site.errors:
        fields.pop("location", None)
    return ValidationFailed({**fields, **site.errors, **errors})


def _application_input(form: ApplicationForm, *,
                       at_counter: bool) -> applications.ApplicationInput:
    """A form as typed → the service's input; a value that is not a number becomes one the
    service refuses with its own message (every problem is reported at once)."""
    load = _number(form.load_kw)
    capacity = None if form.capacity_kva in (None, "") else _number(form.capacity_kva)
    return applications.ApplicationInput(
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
                       upload_dir: Storage | Path, ip: str = "", user_agent: str = "",
                       now: datetime | None = None, files: list[Written] | None = None) -> Submitted:
    """An online application: checked as a whole (every problem reported at once), routed,
    accepted at once (the online form is the acceptance: zero counter visits), its
    documents stored, a verification code issued."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    index = TerritoryIndex.load(session)
    site = find_site(form, index)
    data = _application_input(_sited(form, site), at_counter=False)
    klass = stage_book().classify(customer_type=data.customer_type, load_kw=data.load_kw,
                                  small_firm=data.small_firm) \
        if data.load_kw > 0 and data.customer_type in CUSTOMER_TYPES else ""
    checked = _checked_uploads(uploads, klass, errors)
    quota = _over_quota(session, None, checked)
    if quota:
        errors["documents"] = quota
    if not form.accept_terms:
        errors["accept_terms"] = _("Confirm the information and accept the terms to apply.")
    if not isinstance(form.customer_phone, str) or not form.customer_phone.strip():
        errors["customer_phone"] = _("Give a phone number we can call you on.")
    try:
        order = applications.create_application(session, None, data, accept=True, now=now, index=index)
    except ValidationFailed as exc:
        raise _merge(exc, errors, site) from None
    if errors:
        raise ValidationFailed(errors)
    submitted = Submitted(order, grant_access(session, order, channel="online", now=now),
                          files if files is not None else [])
    stored = _store(session, order, checked, upload_dir, now, submitted.files)
    signer = order.customer_name
    if CONTRACT_STAGE not in {c.stage for c in order.clocks}:
        session.add(_signature(session, order, signer, "application", ip, user_agent, now))
    changes.record_event(session, order, None, "submitted_online", now, to_value=order.status,
                         details={"by": "customer", "channel": "online", "documents": stored,
                                  "ip": ip[:64]})
    return submitted


# -- documents of a refused application, kept for the next try --------------------------

PENDING_FOLDER = "pending"  # under the upload folder: never served, never an attachment
PENDING_SECONDS = 3600  # kept this long after the refusal
PENDING_TOTAL_BYTES = 256 * 1024 * 1024  # the whole pending area: beyond it nothing is kept
PENDING_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
_PENDING_FILE_RE = re.compile(r"^[0-9a-f]{32}\.bin$")
_MANIFEST = "kept.json"


@dataclass(frozen=True)
class Kept:
    """A document kept from a refused application: shown as "kept: <file name>"."""

    purpose: str
    filename: str


def new_pending_token() -> str:
    """A random, unguessable key for one visitor's kept documents (32 characters)."""
    return secrets.token_urlsafe(24)


def _pending_prefix(token: object) -> str | None:
    if not isinstance(token, str) or not PENDING_TOKEN_RE.match(token):
        return None
    return f"{PENDING_FOLDER}/{token}/"


def _read_manifest(store: Storage, prefix: str) -> object:
    try:
        return json.loads(store.get(prefix + _MANIFEST).decode("utf-8"))
    except (KeyMissing, ValueError):
        return None


def _manifest(store: Storage, prefix: str, now: float) -> list[dict]:
    """The kept files under a token, if they have not expired (else none)."""
    raw = _read_manifest(store, prefix)
    if not isinstance(raw, dict) or not isinstance(raw.get("at"), int | float) \
            or now - raw["at"] > PENDING_SECONDS or not isinstance(raw.get("files"), list):
        return []
    rules = document_rules()
    return [f for f in raw["files"] if isinstance(f, dict) and f.get("purpose") in rules.kinds
            and isinstance(f.get("file"), str) and _PENDING_FILE_RE.match(f["file"])
            and isinstance(f.get("name"), str) and isinstance(f.get("sha256"), str)]


def kept_uploads(upload_dir: Storage | Path, token: object, *, now: float | None = None
                 ) -> list[tuple[Kept, Upload]]:
    """The documents kept under ``token`` (none once expired or for a token not ours)."""
    prefix = _pending_prefix(token)
    if prefix is None:
        return []
    store = as_storage(upload_dir)
    out = []
    for entry in _manifest(store, prefix, now if now is not None else time.time()):
        try:
            data = store.get(prefix + entry["file"])
        except KeyMissing:
            continue
        out.append((Kept(entry["purpose"], entry["name"]),
                    Upload(entry["purpose"], entry["name"], data)))
    return out


def keep_uploads(upload_dir: Storage | Path, token: str, uploads: list[Upload], *,
                 now: float | None = None) -> list[Kept]:
    """Keep the documents of a refused application that passed the checks (PDF, JPEG or
    PNG within the size limit), replacing what was kept under ``token`` before, for
    :data:`PENDING_SECONDS`. Nothing more is kept once the pending area is full."""
    prefix = _pending_prefix(token)
    if prefix is None:
        return []
    store = as_storage(upload_dir)
    moment = now if now is not None else time.time()
    prune_pending(store, now=moment)
    rules = document_rules()
    before = {(f["purpose"], f["sha256"]): f for f in _manifest(store, prefix, moment)}
    entries, fresh = [], 0
    for upload in uploads:
        if upload.purpose not in rules.kinds:
            continue
        try:
            attachments.check_document(upload.data, rules.max_bytes)
        except ValueError:
            continue
        digest = hashlib.sha256(upload.data).hexdigest()
        if any(e["purpose"] == upload.purpose and e["sha256"] == digest for e in entries):
            continue
        entry = before.get((upload.purpose, digest))
        if entry is None:
            entry = {"purpose": upload.purpose, "sha256": digest, "data": upload.data,
                     "file": secrets.token_hex(16) + ".bin"}
            fresh += len(upload.data)
        entries.append({**entry, "name": attachments.clean_filename(upload.filename)
                        or entry.get("name") or upload.purpose})
    pending_bytes = sum(e.size for e in store.list(f"{PENDING_FOLDER}/"))
    if fresh and pending_bytes + fresh > PENDING_TOTAL_BYTES:
        entries = [e for e in entries if "data" not in e]  # full: keep only what was kept
    if not entries:
        forget_kept(store, token)
        return []
    for entry in entries:
        data = entry.pop("data", None)
        if data is not None:
            store.put(prefix + entry["file"], data)
    store.put(prefix + _MANIFEST, json.dumps({"at": moment, "files": entries}).encode())
    used = {e["file"] for e in entries}
    for item in store.list(prefix):
        name = item.key[len(prefix):]
        if _PENDING_FILE_RE.match(name) and name not in used:
            store.delete(item.key)
    return [Kept(e["purpose"], e["name"]) for e in entries]


def forget_kept(upload_dir: Storage | Path, token: object) -> None:
    """Drop the documents kept under ``token`` (the application was made)."""
    prefix = _pending_prefix(token)
    if prefix is not None:
        store = as_storage(upload_dir)
        for item in store.list(prefix):
            store.delete(item.key)


def prune_pending(upload_dir: Storage | Path, *, now: float | None = None) -> int:
    """Remove kept documents older than :data:`PENDING_SECONDS`; the tokens removed.

    A token's age is the time its manifest says it was kept, or, without a readable
    manifest (a keep broken off), the newest of its files."""
    store = as_storage(upload_dir)
    moment = now if now is not None else time.time()
    groups: dict[str, list[Entry]] = {}
    for item in store.list(f"{PENDING_FOLDER}/"):
        parts = item.key.split("/")
        if len(parts) == 3 and PENDING_TOKEN_RE.match(parts[1]):
            groups.setdefault(parts[1], []).append(item)
    removed = 0
    for token, items in groups.items():
        prefix = f"{PENDING_FOLDER}/{token}/"
        raw = _read_manifest(store, prefix)
        at = raw.get("at") if isinstance(raw, dict) else None
        age = moment - (at if isinstance(at, int | float) else max(i.modified for i in items))
        if age > PENDING_SECONDS and not _manifest(store, prefix, moment):
            for item in items:
                store.delete(item.key)
            removed += 1
    return removed


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
    district: object = ""  # the address in parts (else ``address`` in one line)
    street: object = ""
    house_number: object = ""


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
    index = TerritoryIndex.load(session)
    site = find_site(form, index)
    data = repairs.RepairInput(
        source="app", category=category, urgency=urgency,
        lat=_number(site.lat), lon=_number(site.lon),  # type: ignore[arg-type]
        address=site.address, customer_name=form.customer_name,  # type: ignore[arg-type]
        customer_phone=form.customer_phone, description=form.description)  # type: ignore[arg-type]
    try:
        order = repairs.create_repair(session, None, data, now=now, index=index)
    except ValidationFailed as exc:
        raise _merge(exc, errors, site) from None
    if errors:
        raise ValidationFailed(errors)
    submitted = Submitted(order, grant_access(session, order, channel="online", now=now))
    changes.record_event(session, order, None, "reported_online", now, to_value=order.status,
                         details={"by": "customer", "channel": "online", "kind": form.kind, "ip": ip[:64]})
    return submitted


# -- on the tracked case ----------------------------------------------------------------

LOW_RATING = 2  # this many stars or fewer: the unit's heads hear of it


DOCUMENTS_QUIET = timedelta(minutes=30)  # a burst of documents: one notification


def _told_lately(session: Session, user_id: int, order: WorkOrder, event: str, what: object,
                 since: datetime) -> bool:
    """The user already has a notification of ``event`` about ``what`` on this case that
    is unread in the app or was made after ``since``."""
    from station_portal.notify.models import Notification

    rows = session.scalars(select(Notification.params).where(
        Notification.user_id == user_id, Notification.work_order_id == order.id,
        Notification.event == event,
        or_(Notification.in_app.is_(True) & Notification.read_at.is_(None),
            Notification.created_at > since))).all()
    return any(isinstance(p, dict) and p.get("what") == what for p in rows)


def _tell(session: Session, order: WorkOrder, event: str, *, heads: bool = False,
          quiet: timedelta | None = None, now: datetime | None = None,
          **params: object) -> int:
    """Tell the people who hold the case (and with ``heads``, their heads) what the
    customer did; the notification is written with the change. With ``quiet``, someone who
    has an unread one of the same event and ``what`` on this case, or got one within
    ``quiet``, is not told again."""
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
    since = (now or utcnow()) - quiet if quiet is not None else None
    for user in {u.id: u for u in users}.values():
        if since is not None and _told_lately(session, user.id, order, event,
                                              params.get("what"), since):
            continue
        sent += notify(session, user, event, order_id=order.id, now=now,
                       params={"code": order.code, **params}) is not None
    return sent


def _reload(session: Session, order_id: int, version: object) -> WorkOrder:
    """The case as the customer's page showed it: a missing or stale version is a conflict."""
    if as_id(version) is None:
        raise changes.stale_order()
    return changes.load_order(session, None, order_id, lock_version=version)


def add_documents(session: Session, order_id: int, version: object, uploads: list[Upload], *,
                  upload_dir: Storage | Path, now: datetime | None = None,
                  files: list[Written] | None = None) -> Submitted:
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
    quota = _over_quota(session, order.id, checked) if not errors else None
    if quota:
        errors["documents"] = quota
    if errors:
        raise ValidationFailed(errors)
    submitted = Submitted(order, "", files if files is not None else [])
    stored = _store(session, order, checked, upload_dir, now, submitted.files)
    if not stored:
        raise ValidationFailed({"documents": _("We already have this file as this document.")})
    changes.claim_version(session, order)
    # One notification per burst: not again while the last one is unread or recent.
    _tell(session, order, "customer_update", quiet=DOCUMENTS_QUIET, now=now, what="documents",
          count=stored)
    return submitted


def finish_own_works(session: Session, order_id: int, version: object, *, note: object = "",
                     now: datetime | None = None) -> WorkOrder:
    """The customer's own stage (their construction) is done: they ask for the inspection."""
    order = _reload(session, order_id, version)
    if order.kind != Kind.APPLICATION or order.status != ApplicationStatus.IN_PROGRESS \
            or order.paused or stage_book().stages[order.current_stage or ""].holder != CUSTOMER:
        raise ValidationFailed({"action": _("Your case is not waiting for your works now.")})
    errors: dict[str, str] = {}
    text = changes.plain_text(note, "note", 300, errors)
    if errors:
        raise ValidationFailed(errors)
    applications.advance_stage(session, None, order.id, order.version,
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
    name = changes.plain_text(signer, "signer", 80, errors, required=True)
    if not accept:
        errors["accept"] = _("Tick the box to accept the contract.")
    if errors:
        raise ValidationFailed(errors)
    signature = _signature(session, order, name, "contract", ip, user_agent, now)
    if not isinstance(shown, str) or not hmac.compare_digest(shown, signature.contract_sha256):
        raise Conflict(_("The contract changed since your page showed it. Read it again, "
                         "then sign."))
    session.add(signature)
    applications.advance_stage(session, None, order.id, order.version,
                     note=_("Supply contract signed online by %(name)s.", name=name), now=now)
    changes.record_event(session, order, None, "contract_signed", now, to_value=signature.contract_version,
                         details={"by": "customer", "signer": name, "sha256": signature.contract_sha256,
                                  "ip": ip[:64]})
    _tell(session, order, "customer_update", what="contract")
    return order


def rate(session: Session, order_id: int, *, stars: object, comment: object,
         now: datetime | None = None) -> ServiceRating:
    """1 to 5 stars and a comment, once, when the case is closed."""
    now = now or utcnow()
    order = changes.load_order(session, None, order_id, need_version=False)
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
    changes.claim_version(session, order)  # two ratings sent at once: one wins, the other is a conflict
    assert value is not None
    rating = ServiceRating(work_order_id=order.id, stars=value, comment=text.strip(),
                           rated_at=now, unit_id=order.unit_id, kind=order.kind)
    session.add(rating)
    changes.record_event(session, order, None, "rated", now, to_value=str(value),
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
    changes.require_action(actor, "issue_tracking_code")
    now = now or utcnow()
    order = changes.load_order(session, actor, order_id, need_version=False)
    if order.kind not in (Kind.REPAIR, Kind.APPLICATION):
        raise ValidationFailed({"action": _("Customers track repairs and applications only.")})
    code = grant_access(session, order, channel="staff", now=now)
    changes.record_event(session, order, actor, "tracking_code", now)
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
    changes.claim_version(session, order)
    order.counter_visits += 1
    changes.record_event(session, order, actor, "counter_visit", now, to_value=str(order.counter_visits),
                         reason=note, details=details)
    return order


def record_counter_visit(session: Session, actor: User, order_id: object, version: object, *,
                         note: object = "", now: datetime | None = None) -> WorkOrder:
    """The applicant had to come to a counter for this case (the KPI counts each visit)."""
    changes.require_action(actor, "record_counter_visit")
    order = changes.load_order(session, actor, order_id, Kind.APPLICATION, lock_version=version)
    errors: dict[str, str] = {}
    text = changes.plain_text(note, "note", 300, errors)
    if errors:
        raise ValidationFailed(errors)
    return count_counter_visit(session, actor, order, note=text, now=now)


# -- taken by staff for a walk-in or phone customer (the counter intake page) ------------

COUNTER_CHANNELS = (RepairSource.COUNTER.value, RepairSource.HOTLINE.value)  # came / phoned


@dataclass(frozen=True)
class CounterApplication(ApplicationForm):
    """An application staff take for a customer who came to the counter or phoned."""

    channel: object = ""  # "counter" (a counter visit is counted) or "hotline_95598"


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
                     uploads: list[Upload], *, upload_dir: Storage | Path, now: datetime | None = None,
                     files: list[Written] | None = None) -> Submitted:
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
    index = TerritoryIndex.load(session)
    site = find_site(form, index)
    data = _application_input(_sited(form, site),
                              at_counter=channel == RepairSource.COUNTER.value)
    try:
        order = applications.create_application(session, actor, data, accept=True, now=now, index=index)
    except ValidationFailed as exc:
        raise _merge(exc, errors, site) from None
    if errors:
        raise ValidationFailed(errors)
    submitted = Submitted(order, "", files if files is not None else [])
    stored = _store(session, order, checked, upload_dir, now, submitted.files)
    if data.at_counter:
        changes.record_event(session, order, actor, "counter_visit", now, to_value=str(order.counter_visits),
                             reason=_("Application taken at the counter."),
                             details={"channel": channel, "documents": stored})
    else:
        changes.record_event(session, order, actor, "note", now,
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
    index = TerritoryIndex.load(session)
    site = find_site(form, index)
    data = repairs.RepairInput(
        source=channel, category=form.category if isinstance(form.category, str) else "",
        urgency=urgency if urgency is not None else 0,
        lat=_number(site.lat), lon=_number(site.lon),  # type: ignore[arg-type]
        address=site.address, customer_name=form.customer_name,  # type: ignore[arg-type]
        customer_phone=form.customer_phone, description=form.description)  # type: ignore[arg-type]
    try:
        order = repairs.create_repair(session, actor, data, now=now, index=index)
    except ValidationFailed as exc:
        raise _merge(exc, errors, site) from None
    if errors:
        raise ValidationFailed(errors)
    return order

"""The customer's pages (no staff sign-in): start, apply online, report a fault,
track a case, and on the case: add documents, finish own works, sign, rate.

The site of an application or a fault is given by its address (district, street,
number, or one line), resolved by the gazetteer; a map pick or the phone's location wins
when given. A refused application shows what the address resolved to (or why not) and
keeps its checked documents for an hour (a random token in the form, honoured only for the
session that holds it). Over a rate limit the two forms show themselves again with what was
typed, the real wait and the 95598 hotline (status 429).

A visitor proves they hold a case once (number + verification code, typed or
from the link they were given); its id is then kept in their signed session
cookie for the visit. Every answer about a case someone does not hold is the
same, whether the case exists or not. Wrong codes are counted per network, and per
network and typed case number, which keeps guessing slow without letting anyone lock the
real customer out of their case from elsewhere (``web/public.py``).
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, redirect, request, session, url_for
from sqlalchemy import select

from station_portal.customer.contract import contract_text, digest
from station_portal.customer.documents import document_rules
from station_portal.customer.tracking import case_view
from station_portal.db import utcnow
from station_portal.errors import Conflict, ValidationFailed
from station_portal.i18n import _
from station_portal.labels import BUSINESS_TYPES, CUSTOMER_CLASSES, CUSTOMER_TYPES
from station_portal.org.addresses import gazetteer
from station_portal.org.models import ROUTABLE_KINDS, Unit
from station_portal.ratelimit import allow, count, retry_after
from station_portal.services import attachments
from station_portal.services import customer as svc
from station_portal.sla import classes
from station_portal.sla.stages import stage_book
from station_portal.storage import Storage, Written, for_config
from station_portal.timefmt import format_deadline, format_local, local
from station_portal.web.context import client_ip, portal, read_session, write_session
from station_portal.web.public import (
    address_key,
    hit,
    limit_message,
    limited,
    pick_language,
    render_public,
    too_many,
    wait_header,
    wait_text,
)
from station_portal.workorders.models import WorkOrder

bp = Blueprint("customer", __name__, url_prefix="/service")

CASES = "customer_cases"  # session key: ids of the cases this visitor proved to hold
MAX_CASES = 10
JUST_MADE = "customer_new_case"  # session key: the number and code to show once
PENDING = "customer_pending"  # session key: tokens of this visitor's kept documents
MAX_PENDING = 3


def _discard(files: list[Written]) -> None:
    for path in files:
        attachments.discard(path)


def _upload_dir() -> Storage:
    return for_config(portal().config)


def _ip() -> str:
    return client_ip() or ""


def _agent() -> str:
    return request.headers.get("User-Agent", "")[:200]


def _held_cases() -> list[list[Any]]:
    held = session.get(CASES, [])
    return [h for h in held if isinstance(h, list) and len(h) == 2] if isinstance(held, list) else []


def _remember(order_id: int, tag: str | None) -> None:
    """Keep the case (with its code's tag: a new code shuts this browser out) for the visit."""
    if tag is None:
        return
    held = [h for h in _held_cases() if h[0] != order_id]
    session[CASES] = [[order_id, tag], *held][:MAX_CASES]


def _held(number: str) -> Any:
    """The case with this number if this visitor proved to hold it, else None."""
    number = svc.normalise_number(number)
    reader = read_session()
    for order_id, tag in _held_cases():
        order = svc.case_by_id(reader, order_id, tag)
        if order is not None and order.code == number:
            return order
    return None


def territory_map() -> dict[str, Any]:
    """The service territory as SVG paths for the site picker (offline: no tiles)."""
    reader = read_session()
    units = reader.scalars(select(Unit).where(Unit.kind.in_([k.value for k in ROUTABLE_KINDS]),
                                              Unit.territory.is_not(None))).all()
    rings: list[tuple[Unit, list[list[float]]]] = []
    for unit in units:
        geometry = unit.territory or {}
        polygons = geometry.get("coordinates", [])
        if geometry.get("type") == "Polygon":
            polygons = [polygons]
        for polygon in polygons:
            if polygon:
                rings.append((unit, polygon[0]))
    if not rings:
        return {"paths": [], "viewbox": "0 0 100 100", "lon0": 0, "lat1": 0, "kx": 1, "scale": 1}
    lons = [p[0] for _u, ring in rings for p in ring]
    lats = [p[1] for _u, ring in rings for p in ring]
    lon0, lat0, lat1 = min(lons), min(lats), max(lats)
    kx = math.cos(math.radians((lat0 + lat1) / 2))
    scale = 1000 / max((max(lons) - lon0) * kx, lat1 - lat0)

    def xy(p: list[float]) -> str:
        return f"{(p[0] - lon0) * kx * scale:.1f},{(lat1 - p[1]) * scale:.1f}"

    paths = [{"d": "M" + " L".join(xy(p) for p in ring) + " Z", "name": unit.name(),
              "kind": unit.kind} for unit, ring in rings]
    width, height = (max(lons) - lon0) * kx * scale, (lat1 - lat0) * scale
    return {"paths": paths, "viewbox": f"0 0 {width:.0f} {height:.0f}", "lon0": lon0,
            "lat1": lat1, "kx": kx, "scale": scale}


def _districts() -> list[tuple[str, str]]:
    return [(d.name, d.label()) for d in gazetteer().districts.values()]


def _site_note(form: Any) -> dict[str, Any] | None:
    """What the address typed resolved to (the street, the number, the unit), for a form
    shown again; None when coordinates were given or nothing was typed."""
    reader = read_session()
    lookup = svc.look_up_site(reader, form)
    if lookup.by_coordinates or lookup.located is None:
        return None
    match, unit = lookup.located.match, lookup.located.unit
    owner = reader.get(Unit, unit.unit_id) if unit is not None else None
    return {"label": match.label(), "typed": match.typed, "exact": match.exact,
            "number": match.number, "unit": owner.name() if owner is not None else None}


def _form_page(template: str, errors: dict[str, str] | None = None, status: int = 200,
               **extra: Any) -> tuple[str, int]:
    return render_public(template, status=status, errors=errors or {}, form=request.form,
                         map=territory_map(), districts=_districts(), **extra)


def _refused_form(template: str, wait_seconds: int, message: str, **extra: Any) -> Any:
    """A form over a rate limit: shown again with what was typed, the real wait and the
    hotline; nothing is checked or kept."""
    html, status = _form_page(template, status=429, limited=message, **extra)
    return html, status, wait_header(wait_seconds)
@bp.get("")
def start() -> tuple[str, int]:
    pick_language()
    demo = []
    if portal().config.is_demo:
        from station_portal.demo.customers import demo_cases

        demo = demo_cases(read_session())
    return render_public("customer/start.html", demo_cases=demo)


# -- applying online --------------------------------------------------------------------

def _kw(value: float) -> str:
    return f"{value:g}"


def document_notes() -> dict[str, str]:
    """Who needs each document, shown next to it (the form works without JavaScript):
    everyone, high voltage only, or the classes by name."""
    rules, book = document_rules(), stage_book()
    every = set(classes.CUSTOMER_CLASSES)
    notes = {}
    for code in rules.kinds:
        needing = {k for k in every if code in rules.required_for(k)}
        if not needing:
            notes[code] = _("Optional")
        elif needing == every:
            notes[code] = _("Required")
        elif needing == set(classes.HV_CLASSES):
            notes[code] = _("Required for high voltage (a load over %(kw)s kW)",
                            kw=_kw(book.lv_max_kw))
        else:
            notes[code] = _("Required for: %(classes)s", classes=", ".join(
                str(CUSTOMER_CLASSES[k]) for k in classes.CUSTOMER_CLASSES if k in needing))
    return notes


def _apply_choices() -> dict[str, Any]:
    rules, book = document_rules(), stage_book()
    return {"business_types": [(c, str(n)) for c, n in BUSINESS_TYPES.items()],
            "customer_types": [(c, str(n)) for c, n in CUSTOMER_TYPES.items()],
            "class_names": {c: str(n) for c, n in CUSTOMER_CLASSES.items()},
            "lv_max_kw": _kw(book.lv_max_kw), "small_firm_max_kw": _kw(book.small_firm_max_kw),
            "hv_class": book.hv_default_class,
            "documents": list(rules.kinds.values()),
            "document_notes": document_notes(),
            "required": {k: list(v) for k, v in rules.required.items()},
            "max_mb": rules.max_bytes // (1024 * 1024)}


def _uploads() -> list[svc.Upload]:
    out = []
    for purpose in document_rules().kinds:
        for storage in request.files.getlist(f"doc_{purpose}"):
            if storage and storage.filename:
                out.append(svc.Upload(purpose, storage.filename,
                                      storage.read(document_rules().max_bytes + 1)))
    return out


def _pending_token() -> str | None:
    """The form's token for kept documents, if this session was given it."""
    token = request.form.get("pending", "")
    held = session.get(PENDING, [])
    return token if isinstance(held, list) and token and token in held else None


def _hold_pending(token: str) -> None:
    held = session.get(PENDING, [])
    held = [t for t in held if isinstance(t, str) and t != token] if isinstance(held, list) else []
    session[PENDING] = [token, *held][:MAX_PENDING]


def _drop_pending(token: str | None) -> None:
    if token is None:
        return
    svc.forget_kept(_upload_dir(), token)
    held = session.get(PENDING, [])
    if isinstance(held, list):
        session[PENDING] = [t for t in held if t != token]


def _with_kept(uploads: list[svc.Upload], token: str | None) -> list[svc.Upload]:
    """The files sent now, and the kept ones of the documents not sent again (nor removed)."""
    if token is None:
        return uploads
    replaced = {u.purpose for u in uploads}
    removed = {p for p in document_rules().kinds if request.form.get(f"forget_doc_{p}") == "yes"}
    return uploads + [u for kept, u in svc.kept_uploads(_upload_dir(), token)
                      if kept.purpose not in replaced | removed]


def _kept_names(token: str | None) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    if token is not None:
        for kept, _u in svc.kept_uploads(_upload_dir(), token):
            names.setdefault(kept.purpose, []).append(kept.filename)
    return names


def _apply_refused(wait_seconds: int) -> Any:
    token = _pending_token()
    return _refused_form("customer/apply.html", wait_seconds, limit_message(wait_seconds),
                         pending=token or "", kept=_kept_names(token), **_apply_choices())


REPORTS_PER_PHONE = 3  # faults reported online per phone number and hour
PHONE_WINDOW = 3600


@bp.route("/apply", methods=["GET", "POST"])
@limited("apply", limit=10, per_seconds=3600, methods=("POST",), refused=_apply_refused)
def apply() -> Any:
    pick_language()
    if request.method == "GET":
        return _form_page("customer/apply.html", pending="", kept={}, **_apply_choices())
    f = request.form
    form = svc.OnlineApplication(
        business_type=f.get("business_type"), customer_type=f.get("customer_type"),
        load_kw=f.get("load_kw", "").strip(), small_firm=f.get("small_firm") == "yes",
        capacity_kva=f.get("capacity_kva", "").strip(), customer_name=f.get("customer_name"),
        customer_phone=f.get("customer_phone"), address=f.get("address"), lat=f.get("lat"),
        lon=f.get("lon"), description=f.get("description", ""),
        accept_terms=f.get("accept_terms") == "yes", district=f.get("district", ""),
        street=f.get("street", ""), house_number=f.get("house_number", ""))
    token = _pending_token()
    sent = _uploads()
    uploads = _with_kept(sent, token)
    files: list[Written] = []  # written so far; removed if the transaction does not commit
    try:
        with write_session() as writer:
            made = svc.submit_application(writer, form, uploads, upload_dir=_upload_dir(),
                                          ip=_ip(), user_agent=_agent(), files=files)
            number, order_id, code = made.order.code, made.order.id, made.code
            tag = svc.access_tag(writer, order_id)
    except ValidationFailed as exc:
        _discard(files)
        token = token or svc.new_pending_token()
        kept = svc.keep_uploads(_upload_dir(), token, uploads)
        if kept:
            _hold_pending(token)
        names: dict[str, list[str]] = {}
        for k in kept:
            names.setdefault(k.purpose, []).append(k.filename)
        lost = any(u.data and u.purpose not in names for u in sent)
        return _form_page("customer/apply.html", errors=exc.fields, status=422,
                          site=_site_note(form), pending=token if kept else "", kept=names,
                          files_lost=lost, **_apply_choices())
    except BaseException:
        _discard(files)
        raise
    _drop_pending(token)
    _remember(order_id, tag)
    session[JUST_MADE] = {"number": number, "code": code}
    return redirect(url_for("customer.made"))


@bp.get("/made")
def made() -> Any:
    """The number and verification code of the case just made, shown once."""
    new = session.pop(JUST_MADE, None)
    if not isinstance(new, dict):
        return redirect(url_for("customer.start"))
    link = url_for("customer.track", n=new["number"], c=new["code"], _external=True)
    return render_public("customer/made.html", number=new["number"], code=new["code"], link=link)


# -- reporting a fault ------------------------------------------------------------------

def _report_refused(wait_seconds: int, message: str | None = None) -> Any:
    return _refused_form("customer/report.html", wait_seconds,
                         message or limit_message(wait_seconds), kinds=_fault_kinds())


@bp.route("/report", methods=["GET", "POST"])
@limited("report", limit=6, per_seconds=3600, methods=("POST",), refused=_report_refused)
def report() -> Any:
    pick_language()
    if request.method == "GET":
        return _form_page("customer/report.html", kinds=_fault_kinds())
    f = request.form
    phone = "".join(ch for ch in str(f.get("customer_phone", "")) if ch.isdigit())[-11:]
    if phone and not hit("report_phone", phone, limit=REPORTS_PER_PHONE,
                         per_seconds=PHONE_WINDOW):
        wait = retry_after(PHONE_WINDOW)
        return _report_refused(wait, _("Too many fault reports from this phone number. Try "
                                       "again in %(wait)s.", wait=wait_text(wait)))
    form = svc.OnlineFault(kind=f.get("kind"), lat=f.get("lat"), lon=f.get("lon"),
                           address=f.get("address"), customer_name=f.get("customer_name", ""),
                           customer_phone=f.get("customer_phone"),
                           description=f.get("description", ""),
                           district=f.get("district", ""), street=f.get("street", ""),
                           house_number=f.get("house_number", ""))
    try:
        with write_session() as writer:
            made = svc.report_fault(writer, form, ip=_ip())
            number, order_id, code = made.order.code, made.order.id, made.code
            tag = svc.access_tag(writer, order_id)
    except ValidationFailed as exc:
        return _form_page("customer/report.html", errors=exc.fields, status=422,
                          kinds=_fault_kinds(), site=_site_note(form))
    _remember(order_id, tag)
    session[JUST_MADE] = {"number": number, "code": code}
    return redirect(url_for("customer.made"))


def _fault_kinds() -> list[tuple[str, str]]:
    return [("danger", _("Danger: a fallen wire, sparks or fire")),
            ("area", _("The whole street or village has no power")),
            ("premises", _("Only my home or shop has no power")),
            ("quality", _("The voltage is low or the lights flicker")),
            ("meter", _("A problem with my meter"))]


# -- tracking ---------------------------------------------------------------------------

@bp.route("/track", methods=["GET", "POST"])
@limited("track", limit=30, per_seconds=600)
def track() -> Any:
    pick_language()
    values = request.form if request.method == "POST" else request.args
    number, code = values.get("n", ""), values.get("c", "")
    if not number and not code:
        return render_public("customer/track.html", number="", error=None)
    reader = read_session()
    # Failed codes are counted per network, and per network and case number; a correct
    # code is never counted, and other networks' failures never hold up this one.
    keys = _guess_keys(number)
    if any(count(reader, bucket, key, per_seconds=GUESS_WINDOW) >= limit
           for bucket, key, limit in keys):
        wait = retry_after(GUESS_WINDOW)
        return too_many(wait, _("Too many wrong case numbers or codes from your network. "
                                "Try again in %(wait)s.", wait=wait_text(wait)))
    order = svc.find_case(reader, number, code, demo_codes=portal().config.is_demo)
    if order is None:
        with write_session() as writer:
            for bucket, key, limit in keys:
                allow(writer, bucket, key, limit=limit, per_seconds=GUESS_WINDOW)
        return render_public("customer/track.html", number=svc.normalise_number(number),
                             error=_("We found no case with this number and code. Check both "
                                     "and try again."), status=404)
    _remember(order.id, svc.access_tag(read_session(), order.id))
    return redirect(url_for("customer.case", number=order.code))


GUESS_WINDOW = 3600
# Failed codes an hour from one network (IPv4 /24, IPv6 /48): for one case number, and for
# all of them. No budget is kept per case from anywhere: spent from many networks, it
# would lock the real customer out of their own case.
GUESSES_PER_CASE_NETWORK = 8
GUESSES_PER_NETWORK = 30


def _guess_keys(number: str) -> list[tuple[str, str, int]]:
    number = svc.normalise_number(number) or "-"
    network = address_key(client_ip(), v4_prefix=24, v6_prefix=48)
    return [("track_net", network, GUESSES_PER_NETWORK),
            ("track_case_net", f"{number}:{network}", GUESSES_PER_CASE_NETWORK)]


@bp.get("/case/<number>")
def case(number: str) -> Any:
    pick_language()
    order = _held(number)
    if order is None:
        return redirect(url_for("customer.track", n=svc.normalise_number(number)))
    return _case_page(order, message=session.pop("customer_message", None))


def _case_page(order: Any, errors: dict[str, str] | None = None, message: str | None = None,
               status: int = 200) -> tuple[str, int]:
    reader = read_session()
    view = case_view(reader, order, utcnow())
    contract = contract_text(order, supplier=svc.supplier_name(reader, order)) \
        if view.can_sign else ""
    return render_public(
        "customer/case.html", status=status, view=view, contract=contract,
        contract_digest=digest(contract) if contract else "",
        errors=errors or {}, message=message, documents=list(document_rules().kinds.values()),
        max_mb=document_rules().max_bytes // (1024 * 1024), when=format_local,
        deadline=format_deadline, local=local)


def _case_action(number: str, action: Any) -> Any:
    order = _held(number)
    if order is None:
        return redirect(url_for("customer.track", n=svc.normalise_number(number)))
    files: list[Written] = []
    try:
        with write_session() as writer:
            message = action(writer, order.id, files)
    except (ValidationFailed, Conflict) as exc:
        _discard(files)
        read_session().expire_all()
        fields = exc.fields if isinstance(exc, ValidationFailed) else {"action": exc.message}
        return _case_page(read_session().get(WorkOrder, order.id), errors=fields,
                          status=exc.status)
    except BaseException:
        _discard(files)
        raise
    session["customer_message"] = message
    return redirect(url_for("customer.case", number=order.code) + "#top")


def _version() -> object:
    return request.form.get("version")


@bp.post("/case/<number>/documents")
@limited("case_action", limit=30, per_seconds=600)
def documents(number: str) -> Any:
    def act(writer, order_id, files):
        svc.add_documents(writer, order_id, _version(), _uploads(), upload_dir=_upload_dir(),
                          files=files)
        return _("Thank you: your documents were received.")
    return _case_action(number, act)


@bp.post("/case/<number>/works")
@limited("case_action", limit=30, per_seconds=600)
def works(number: str) -> Any:
    def act(writer, order_id, _files):
        svc.finish_own_works(writer, order_id, _version(), note=request.form.get("note", ""))
        return _("Thank you: we will come for the inspection.")
    return _case_action(number, act)


@bp.post("/case/<number>/sign")
@limited("case_action", limit=30, per_seconds=600)
def sign(number: str) -> Any:
    def act(writer, order_id, _files):
        svc.sign_contract(writer, order_id, _version(), signer=request.form.get("signer"),
                          accept=request.form.get("accept") == "yes",
                          shown=request.form.get("shown"), ip=_ip(), user_agent=_agent())
        return _("Thank you: the contract is signed. No visit to a counter is needed.")
    return _case_action(number, act)


@bp.post("/case/<number>/rate")
@limited("case_action", limit=30, per_seconds=600)
def rating(number: str) -> Any:
    def act(writer, order_id, _files):
        svc.rate(writer, order_id, stars=request.form.get("stars"),
                 comment=request.form.get("comment", ""))
        return _("Thank you for your rating.")
    return _case_action(number, act)


@bp.get("/forget")
def forget() -> Response:
    """Forget the cases held in this browser (a shared computer)."""
    session.pop(CASES, None)
    return redirect(url_for("customer.start"))

"""Customer self-service over HTTP: apply online with documents, track with number and
code, finish own works, sign, rate, report a fault; the same answer for every wrong
guess, limits on guessing, nothing of another customer's case."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from station_portal.customer.models import CaseAccess, ContractSignature, ServiceRating
from station_portal.db import utcnow
from station_portal.org.models import Crew, Unit
from station_portal.services import applications, repairs
from station_portal.workorders.models import Attachment, WorkOrder, WorkOrderEvent
from tests.helpers import PDF, PNG, csrf_of, made, site, visitor


def application_form(db, **overrides):
    lat, lon = site(db)
    form = {"business_type": "new_connection", "customer_type": "resident",
            "load_kw": "8", "customer_name": "王丽", "customer_phone": "13800001111",
            "address": "吉林市船营区解放路 12 号", "lat": str(lat), "lon": str(lon),
            "accept_terms": "yes"}
    form.update(overrides)
    return form


def apply(client, form, files=None):
    page = client.get("/service/apply")
    assert page.status_code == 200
    data = {**form, "csrf": csrf_of(page.text)}
    for name, (content, filename) in (files or {}).items():
        from io import BytesIO
        data[name] = (BytesIO(content), filename)
    return client.post("/service/apply", data=data, content_type="multipart/form-data")


def test_a_resident_applies_online_and_needs_no_counter_visit(app, db):
    client = visitor(app)
    answer = apply(client, application_form(db), {"doc_identity": (PDF, "id.pdf"),
                                                  "doc_property": (PNG, "deed.png")})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/service/made")
    number, code = made(client)
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    assert client.get("/service/made").status_code == 302, "the code is shown only once"
    with db.read() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        assert order.status == "in_progress" and order.counter_visits == 0
        assert order.current_stage == "connection", "accepted online: the clocks run"
        assert any(c.due_at is not None for c in order.clocks if c.stage == "connection")
        docs = s.scalars(select(Attachment).where(Attachment.work_order_id == order.id)).all()
        assert sorted(d.purpose for d in docs) == ["identity", "property"]
        assert {d.content_type for d in docs} == {"application/pdf", "image/png"}
        upload_dir = Path(app.extensions["station_portal"].config.upload_dir)
        assert all((upload_dir / d.stored_name).read_bytes() in (PDF, PNG) for d in docs)
        assert "static" not in str(upload_dir) and "assets" not in str(upload_dir)
        sign = s.scalar(select(ContractSignature).where(ContractSignature.work_order_id == order.id))
        assert sign.occasion == "application" and len(sign.contract_sha256) == 64
        assert s.get(CaseAccess, order.id).code_hash != code.replace("-", "")
        actions = s.scalars(select(WorkOrderEvent.action)
                            .where(WorkOrderEvent.work_order_id == order.id)).all()
        assert "submitted_online" in actions
    page = client.get(f"/service/case/{number}")
    assert page.status_code == 200
    assert "Metering and connection" in page.text and "due by" in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_bad_applications_are_refused_whole_with_every_reason(app, db):
    client = visitor(app)
    with db.read() as s:
        before = s.scalar(select(func.count()).select_from(WorkOrder))
        files_before = s.scalar(select(func.count()).select_from(Attachment))
    answer = apply(client, application_form(db, capacity_kva="lots", accept_terms="",
                                            lat="10", lon="10"),
                   {"doc_identity": (b"MZ\x90\x00 not a pdf", "id.pdf")})
    assert answer.status_code == 422
    text = answer.text
    assert "Only PDF, JPEG or PNG files can be uploaded." in text
    assert "Upload this document." in text  # the proof of property is missing
    assert "outside the service territory" in text
    assert "Give the transformer capacity in kVA" in text
    assert "Confirm the information and accept the terms" in text
    assert 'value="王丽"' in text, "what was typed is kept"
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(WorkOrder)) == before
        assert s.scalar(select(func.count()).select_from(Attachment)) == files_before


def test_the_form_asks_what_the_customer_needs_not_a_class(app):
    """Who applies, a small firm or not, the load in kW and an optional transformer capacity;
    the thresholds come from the stage book and every document says who needs it."""
    from station_portal.sla.stages import stage_book

    page = visitor(app).get("/service/apply?lang=en")
    assert page.status_code == 200
    text = page.text
    assert 'name="customer_class"' not in text
    assert 'name="customer_type" id="customer_type_resident"' in text
    assert 'name="customer_type" id="customer_type_non_resident"' in text
    assert 'id="small_firm"' in text and 'id="load_kw"' in text and 'id="capacity_kva"' in text
    small = f"{stage_book().small_firm_max_kw:g}"
    assert f"needing at most {small} kW" in text and "three zeros" in text
    assert "single and dual supply" in text, "the form says the utility decides"
    assert re.search(r'id="note-doc_identity">\(Required\)', text)
    assert re.search(r'id="note-doc_load_list">\(Required for high voltage', text)


def _created(db, number):
    with db.read() as s:
        return s.scalar(select(WorkOrder).where(WorkOrder.code == number))


def test_the_utility_classifies_from_the_load_and_the_small_firm_box(app, db):
    """500 kW for a business is high voltage (single supply until the plan says otherwise);
    a small firm at 80 kW takes the three-zeros path with the documents of its class."""
    big = visitor(app)
    answer = apply(big, application_form(db, customer_type="non_resident", load_kw="500",
                                         customer_name="吉林市永丰机械厂"),
                   {"doc_identity": (PDF, "licence.pdf"), "doc_property": (PDF, "land.pdf"),
                    "doc_load_list": (PDF, "load.pdf")})
    assert answer.status_code == 302, answer.text[:500]
    order = _created(db, made(big)[0])
    assert order.customer_class == "hv_single" and order.load_kw == 500
    assert order.capacity_kva is None
    small = visitor(app)
    answer = apply(small, application_form(db, customer_type="non_resident", load_kw="80",
                                           small_firm="yes", customer_name="小林面馆"),
                   {"doc_identity": (PDF, "licence.pdf"), "doc_property": (PNG, "lease.png")})
    assert answer.status_code == 302, answer.text[:500]
    order = _created(db, made(small)[0])
    assert order.customer_class == "lv_small_firm" and order.load_kw == 80


def test_high_voltage_needs_the_equipment_list(app, db):
    client = visitor(app)
    answer = apply(client, application_form(db, customer_type="non_resident", load_kw="500"),
                   {"doc_identity": (PDF, "licence.pdf"), "doc_property": (PDF, "land.pdf")})
    assert answer.status_code == 422
    assert re.search(r'id="error-doc_load_list">Upload this document\.', answer.text)


@pytest.mark.parametrize("load", ["0", "-5", "lots", "1e9", "inf", ""])
def test_a_bad_load_is_refused_on_its_field_and_nothing_is_made(app, db, load):
    client = visitor(app)
    with db.read() as s:
        before = s.scalar(select(func.count()).select_from(WorkOrder))
    answer = apply(client, application_form(db, load_kw=load, small_firm="yes",
                                            customer_type="non_resident"),
                   {"doc_identity": (PDF, "a.pdf"), "doc_property": (PDF, "b.pdf")})
    assert answer.status_code == 422
    assert re.search(r'id="error-load_kw">Give the load in kW', answer.text), load
    assert 'id="customer_type_non_resident" value="non_resident" checked' in answer.text
    assert re.search(r'id="small_firm" name="small_firm"\s+checked', answer.text), \
        "what was typed is kept"
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(WorkOrder)) == before


def test_who_applies_must_be_chosen(app, db):
    form = application_form(db)
    del form["customer_type"]
    answer = apply(visitor(app), form)
    assert answer.status_code == 422
    assert re.search(r'id="error-customer_type">Choose one of the listed values', answer.text)
    assert 'value="8"' in answer.text, "the load typed is kept"


def test_a_form_without_its_token_changes_nothing(app, db):
    client = visitor(app)
    with db.read() as s:
        before = s.scalar(select(func.count()).select_from(WorkOrder))
    answer = client.post("/service/report", data={"kind": "premises", "address": "x"})
    assert answer.status_code == 400 and "<html" in answer.text
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(WorkOrder)) == before


def _track(client, number, code):
    page = client.get("/service/track")
    return client.post("/service/track", data={"n": number, "c": code, "csrf": csrf_of(page.text)})


def test_a_wrong_code_and_an_unknown_number_get_the_same_answer(app, db):
    owner = visitor(app)
    apply(owner, application_form(db), {"doc_identity": (PDF, "a.pdf"), "doc_property": (PDF, "b.pdf")})
    number, code = made(owner)
    stranger = visitor(app)
    wrong = _track(stranger, number, "AAAA-AAAA")
    missing = _track(stranger, "A20990101" + number[-7:], "AAAA-AAAA")
    assert wrong.status_code == missing.status_code == 404
    strip = lambda t: t.replace(number, "N").replace("A20990101" + number[-7:], "N")  # noqa: E731
    assert re.sub(r'name="csrf" value="[^"]+"', "", strip(wrong.text)) == \
        re.sub(r'name="csrf" value="[^"]+"', "", strip(missing.text))
    assert stranger.get(f"/service/case/{number}").status_code == 302, "no access without the code"
    right = _track(stranger, number, code.lower().replace("-", " "))
    assert right.status_code == 302 and right.headers["Location"].endswith(f"/service/case/{number}")
    link = visitor(app).get(f"/service/track?n={number}&c={code}")
    assert link.status_code == 302, "the tracking link opens the case"


def _from(client, address: str):
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_guessing_codes_is_stopped_but_the_owner_gets_in(app, db):
    """Failed codes count per case number and network (and per network); a right code is
    never counted, failures elsewhere never hold the owner up, and a new code from staff
    opens the case."""
    from station_portal.services import customer

    owner = visitor(app)
    apply(owner, application_form(db), {"doc_identity": (PDF, "a.pdf"), "doc_property": (PDF, "b.pdf")})
    number, code = made(owner)
    answers = [_track(_from(visitor(app), f"10.88.1.{i}"), number, f"AAAA-AAA{i % 10}").status_code
               for i in range(9)]
    assert answers == [404] * 8 + [429], "one network: 8 failed codes an hour"
    assert _track(_from(visitor(app), "10.88.1.200"), number, code).status_code == 429
    assert _track(_from(visitor(app), "10.89.0.1"), number, code).status_code == 302, \
        "the owner elsewhere still gets in"
    for n in range(30):  # a spread-out attack: 30 failures for the number from anywhere
        _track(_from(visitor(app), f"10.{100 + n}.0.1"), number, "BBBB-BBBB")
    assert _track(_from(visitor(app), "10.200.0.1"), number, code).status_code == 302, \
        "failures from other networks never refuse the right code"
    with db.write() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        fresh = customer.grant_access(s, order, channel="staff")
    assert _track(_from(visitor(app), "10.201.0.1"), number, fresh).status_code == 302, \
        "a new code from staff opens the case"


def test_a_new_code_or_forgetting_shuts_out_a_browser_that_held_the_case(app, db):
    from station_portal.services import customer

    client = visitor(app)
    apply(client, application_form(db), {"doc_identity": (PDF, "a.pdf"), "doc_property": (PDF, "b.pdf")})
    number, _code = made(client)
    assert client.get(f"/service/case/{number}").status_code == 200
    with db.write() as s:
        customer.grant_access(s, s.scalar(select(WorkOrder).where(WorkOrder.code == number)),
                              channel="staff")
    assert client.get(f"/service/case/{number}").status_code == 302, "the old code's holder is out"


def test_odd_paths_under_the_public_prefixes_are_not_found(app):
    for path in ("/service/xyz", "/service/case/A1/documents", "/kiosk/x/y/z"):
        answer = visitor(app).get(path)
        assert answer.status_code in (404, 405), path
        assert "_dash-config" not in answer.text


def _advance_to(db, number, stage):
    with db.write() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        while order.current_stage != stage:
            applications.advance_stage(s, None, order.id, order.version)


def test_a_high_voltage_customer_finishes_works_signs_and_rates_online(app, db):
    client = visitor(app)
    answer = apply(client, application_form(db, customer_type="non_resident", load_kw="800",
                                            capacity_kva="1000", customer_name="吉林化纤配套厂"),
                   {"doc_identity": (PDF, "licence.pdf"), "doc_property": (PDF, "land.pdf"),
                    "doc_load_list": (PDF, "load.pdf")})
    assert answer.status_code == 302
    number, _code = made(client)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(ContractSignature).join(
            WorkOrder, WorkOrder.id == ContractSignature.work_order_id)
            .where(WorkOrder.code == number)) == 0, "high voltage signs at the contract stage"
    _advance_to(db, number, "customer_construction")
    page = client.get(f"/service/case/{number}")
    assert "Your own works" in page.text and 'id="works-form"' in page.text
    done = client.post(f"/service/case/{number}/works", data={
        "csrf": csrf_of(page.text), "version": re.search(r'name="version" value="(\d+)"', page.text)[1],
        "note": "变压器已安装"})
    assert done.status_code == 302
    with db.read() as s:
        assert s.scalar(select(WorkOrder.current_stage).where(WorkOrder.code == number)) \
            == "completion_inspection"
    _advance_to(db, number, "contract")
    page = client.get(f"/service/case/{number}")
    assert 'id="contract-text"' in page.text and "Supply contract" in page.text
    version = re.search(r'id="sign-form">\s*<input type="hidden" name="csrf" value="[^"]+">'
                        r'<input type="hidden" name="version" value="(\d+)"', page.text)[1]
    refused = client.post(f"/service/case/{number}/sign", data={
        "csrf": csrf_of(page.text), "version": version, "signer": "张伟"})
    assert refused.status_code == 422 and "Tick the box" in refused.text
    shown = re.search(r'name="shown" value="([0-9a-f]{64})"', page.text)[1]
    changed = client.post(f"/service/case/{number}/sign", data={
        "csrf": csrf_of(page.text), "version": version, "signer": "张伟", "accept": "yes",
        "shown": "0" * 64})
    assert changed.status_code == 409 and "The contract changed" in changed.text
    no_version = client.post(f"/service/case/{number}/sign", data={
        "csrf": csrf_of(page.text), "version": "abc", "signer": "张伟", "accept": "yes",
        "shown": shown})
    assert no_version.status_code == 409
    signed = client.post(f"/service/case/{number}/sign", data={
        "csrf": csrf_of(page.text), "version": version, "signer": "张伟", "accept": "yes",
        "shown": shown})
    assert signed.status_code == 302
    with db.read() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        assert order.current_stage == "connection"
        signature = s.scalar(select(ContractSignature).where(
            ContractSignature.work_order_id == order.id))
        assert signature.signer_name == "张伟" and signature.occasion == "contract"
        assert signature.ip.startswith("10.77.")
    page = client.get(f"/service/case/{number}")
    assert "Contract signed online by 张伟" in page.text and 'id="rate-form"' not in page.text
    with db.write() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        while order.status == "in_progress":
            applications.advance_stage(s, None, order.id, order.version)
    page = client.get(f"/service/case/{number}")
    assert 'id="rate-form"' in page.text
    for stars in ("9", "²", "1" * 5000, ""):
        bad = client.post(f"/service/case/{number}/rate", data={"csrf": csrf_of(page.text),
                                                                "stars": stars})
        assert bad.status_code == 422 and "Give 1 to 5 stars." in bad.text, stars
    good = client.post(f"/service/case/{number}/rate", data={
        "csrf": csrf_of(page.text), "stars": "5", "comment": "一次都没跑营业厅"})
    assert good.status_code == 302
    again = client.post(f"/service/case/{number}/rate", data={"csrf": csrf_of(page.text), "stars": "1"})
    assert again.status_code == 422 and "already rated" in again.text
    with db.read() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        rating = s.get(ServiceRating, order.id)
        assert rating.stars == 5 and rating.unit_id == order.unit_id
        assert order.counter_visits == 0


def test_a_stale_form_gets_the_conflict_message(app, db):
    client = visitor(app)
    apply(client, application_form(db, customer_type="non_resident", load_kw="500"),
          {"doc_identity": (PDF, "a.pdf"), "doc_property": (PDF, "b.pdf"),
           "doc_load_list": (PDF, "c.pdf")})
    number, _code = made(client)
    _advance_to(db, number, "customer_construction")
    page = client.get(f"/service/case/{number}")
    version = re.search(r'name="version" value="(\d+)"', page.text)[1]
    with db.write() as s:  # staff add a note meanwhile? no: staff pause the case
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        order.version += 1
    answer = client.post(f"/service/case/{number}/works", data={"csrf": csrf_of(page.text),
                                                                 "version": version})
    assert answer.status_code == 409 and "Someone else changed" in answer.text


def test_a_fault_reported_online_shows_the_crew_coming(app, db):
    client = visitor(app)
    lat, lon = site(db)
    page = client.get("/service/report")
    answer = client.post("/service/report", data={
        "csrf": csrf_of(page.text), "kind": "premises", "address": "船营区德胜路 3 号",
        "lat": str(lat), "lon": str(lon), "customer_phone": "13900002222"})
    assert answer.status_code == 302
    number, _code = made(client)
    with db.write() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        assert order.source == "app" and order.category == "low_voltage"
        crew = s.scalar(select(Crew).where(Crew.unit_id.in_(
            select(Unit.id).where(Unit.parent_id == order.unit_id))).limit(1))
        crew.last_lat, crew.last_lon, crew.last_seen_at = lat + 0.02, lon, utcnow()
        repairs.repair_action(s, None, order.id, order.version, "dispatch", crew_id=crew.id)
    page = client.get(f"/service/case/{number}")
    assert "Estimated arrival" in page.text and "Our promise: on site by" in page.text
    assert "Crew " in page.text
    assert "1390000" not in page.text.replace("13900002222", ""), "no staff phone numbers"


def test_public_pages_speak_chinese(app, db):
    client = visitor(app)
    page = client.get("/service?lang=zh_CN")
    assert "跟踪" in page.text or "查询" in page.text


@pytest.mark.parametrize("path", ["/service/case/A2026", "/service/case/%00", "/service/track?n=%ff&c=1"])
def test_odd_addresses_get_a_page_not_an_error(app, path):
    answer = visitor(app).get(path)
    assert answer.status_code in (302, 404)


def test_limits_are_shared_and_pruned(db):
    from station_portal import ratelimit

    now = utcnow()
    with db.write() as s:
        assert all(ratelimit.allow(s, "t", "k", limit=3, per_seconds=60, now=now) for _ in range(3))
        assert not ratelimit.allow(s, "t", "k", limit=3, per_seconds=60, now=now)
        assert ratelimit.allow(s, "t", "k", limit=3, per_seconds=60, now=now + timedelta(seconds=61))
        assert ratelimit.prune(s, now + timedelta(seconds=200)) >= 2


def test_a_limit_says_how_long_is_left_of_its_window():
    """The wait shown is until the window ends, not a fixed minute: an hour's window refused
    ten minutes in has fifty minutes to go."""
    from datetime import UTC, datetime

    from station_portal import ratelimit
    from station_portal.web.public import wait_text

    ten_past = datetime(2026, 3, 2, 8, 10, 0, tzinfo=UTC)
    assert ratelimit.retry_after(3600, ten_past) == 50 * 60
    assert ratelimit.retry_after(60, ten_past) == 60
    assert ratelimit.retry_after(3600, datetime(2026, 3, 2, 8, 59, 59, 500_000, tzinfo=UTC)) == 1
    assert [wait_text(s) for s in (1, 59, 61, 50 * 60, 3600, 3660, 7500)] == [
        "1 minute", "1 minute", "2 minutes", "50 minutes", "1 hour", "1 hour and 1 minute",
        "2 hours and 5 minutes"]


def test_the_demo_lists_cases_a_visitor_can_open_and_act_on(engine_name, tmp_path):
    from station_portal import create_app
    from station_portal.demo.city import build_demo_city
    from station_portal.demo.customers import seed_demo_cases
    from station_portal.demo.orders import seed_history
    from tests.helpers import app_config, fresh_database

    database = fresh_database(engine_name, tmp_path)
    with database.write() as s:
        build_demo_city(s, seed=3)
        seed_history(s, n_orders=600, seed=3)
    with database.write() as s:
        cases = seed_demo_cases(s)
    whats = {what for _n, _c, what in cases}
    assert "sign the supply contract" in whats and "rate the service" in whats
    demo = create_app(app_config(database))
    client = visitor(demo)
    start = client.get("/service")
    for number, code, _what in cases:
        assert number in start.text and code in start.text
    number = next(n for n, _c, what in cases if what == "sign the supply contract")
    code = next(c for n, c, _w in cases if n == number)
    assert client.get(f"/service/track?n={number}&c={code}").status_code == 302
    assert 'id="sign-form"' in client.get(f"/service/case/{number}").text
    from sqlalchemy import update

    from station_portal.auth.models import User

    with database.write() as s:  # production refuses to start with demo passwords
        s.execute(update(User).values(active=False))
    production = create_app(app_config(database, env="production", secret_key="x" * 40))
    assert "demo-cases" not in visitor(production).get("/service").text
    database.dispose()


def test_staff_see_the_customer_part_give_a_code_and_count_counter_visits(app, db, as_user):
    """The head sees the online applicant's files, signature and channel on the order page;
    gives a counter customer a tracking code that opens the case; records a counter visit."""
    from tests.dash_calls import call, order_fields

    client = visitor(app)
    apply(client, application_form(db), {"doc_identity": (PDF, "身份证.pdf"),
                                         "doc_property": (PNG, "deed.png")})
    number, _code = made(client)
    with db.read() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        station = s.get(Unit, order.unit_id)
    assert station.code == "JL-CY-S"
    head = as_user("head")
    shown = call(head, app, "order-content", "children", [str(order.id), 0])
    page = json.dumps(shown.json, ensure_ascii=False)
    assert "身份证.pdf" in page and "applied or reported online" in page
    assert "customer, online" in page, "the timeline names the customer, not the system"
    file_link = re.search(r'/api/v1/attachments/(\d+)', page)[0]
    download = head.get(file_link)
    assert download.status_code == 200 and download.data == PDF
    assert visitor(app).get(file_link).status_code == 401, "files are not public"
    options = [o["value"] for o in shown.json["response"]["order-action"]["options"]]
    assert "tracking_code" in options and "counter_visit" in options
    version = shown.json["response"]["order-version"]["data"]
    fields = order_fields(note="来营业厅补签授权书")
    counted = call(head, app, "order-feedback", "children", [1],
                   ["counter_visit", str(order.id), version, 0, *fields])
    assert "Done" in counted.text
    issued = call(head, app, "order-feedback", "children", [1],
                  ["tracking_code", str(order.id), None, 0, *order_fields()])
    new_code = re.search(r"the code ([A-Z0-9]{4}-[A-Z0-9]{4})", issued.text)[1]
    assert _track(visitor(app), number, _code).status_code == 404, "the old code stops working"
    assert _track(visitor(app), number, new_code).status_code == 302
    with db.read() as s:
        refreshed = s.get(WorkOrder, order.id)
        assert refreshed.counter_visits == 1
        actions = s.scalars(select(WorkOrderEvent.action).where(
            WorkOrderEvent.work_order_id == order.id)).all()
        assert {"counter_visit", "tracking_code"} <= set(actions)
    crew = as_user("crew")
    forged = call(crew, app, "order-feedback", "children", [1],
                  ["tracking_code", str(order.id), None, 0, *order_fields()])
    assert forged.status_code == 200 and '"color":"danger"' in forged.text.replace(" ", "")
    assert "Your role may not do this." in forged.text


def test_ratings_and_online_applications_feed_the_company_kpis(app, db):
    from station_portal.analytics.customers import satisfaction
    from station_portal.analytics.dashboards import Filters, Names
    from station_portal.pages.charts import satisfaction_table
    from station_portal.services import customer
    from station_portal.timefmt import local

    client = visitor(app)
    apply(client, application_form(db), {"doc_identity": (PDF, "a.pdf"), "doc_property": (PDF, "b.pdf")})
    number, _code = made(client)
    today = local(utcnow()).date()
    with db.write() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        while order.status == "in_progress":
            applications.advance_stage(s, None, order.id, order.version)
        customer.rate(s, order.id, stars="2", comment="接电慢")
        station = s.get(Unit, order.unit_id)
    with db.read() as s:
        names = Names.load(s)
        frame = satisfaction(s, Filters(today, today, None), names, "en")
    row = frame[frame["unit"] == station.name_en].iloc[0]
    assert row["ratings"] >= 1 and row["low"] >= 1 and 1 <= row["avg_stars"] <= 5
    assert row["applications"] >= 1 and 0 < row["online"] <= 1
    assert row["counter_visits"] is not None
    table = satisfaction_table(frame)
    assert any(r["unit"] == station.name_en for r in table.rows)
    with db.read() as s:  # the station head heard of the low rating
        from station_portal.notify.models import Notification
        events = s.scalars(select(Notification.event).where(
            Notification.work_order_id == order.id)).all()
    assert "customer_rating_low" in events


def test_the_same_file_twice_is_refused_and_a_new_one_is_told_to_the_holder(app, db):
    from station_portal.notify.models import Notification

    client = visitor(app)
    apply(client, application_form(db), {"doc_identity": (PDF, "a.pdf"), "doc_property": (PNG, "b.png")})
    number, _code = made(client)
    page = client.get(f"/service/case/{number}")
    version = re.search(r'name="version" value="(\d+)"', page.text)[1]
    from io import BytesIO
    again = client.post(f"/service/case/{number}/documents", data={
        "csrf": csrf_of(page.text), "version": version, "doc_identity": (BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data")
    assert again.status_code == 422 and "We already have this file" in again.text
    new = client.post(f"/service/case/{number}/documents", data={
        "csrf": csrf_of(page.text), "version": version,
        "doc_authorisation": (BytesIO(PDF + b"%new"), "\u202eauth.pdf")},
        content_type="multipart/form-data")
    assert new.status_code == 302
    with db.read() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        names = s.scalars(select(Attachment.original_name).where(
            Attachment.work_order_id == order.id, Attachment.purpose == "authorisation")).all()
        assert names == ["auth.pdf"], "format characters are taken out of file names"
        told = s.scalars(select(Notification.event).where(
            Notification.work_order_id == order.id)).all()
    assert "customer_update" in told


def test_tracking_codes_are_for_repairs_and_applications_only(db):
    from station_portal.errors import ValidationFailed
    from station_portal.services import customer
    from tests.helpers import account

    with db.write() as s:
        manager = account(s, "account")  # the account manager sees their clients' park cases
        park = s.scalar(select(WorkOrder).where(WorkOrder.kind == "park_case",
                                                WorkOrder.owner_user_id == manager.id).limit(1))
        with pytest.raises(ValidationFailed):
            customer.issue_code(s, manager, park.id)
        s.rollback()


def test_kiosk_tickets_can_be_kept_to_the_halls_network(db):
    from station_portal import create_app
    from station_portal.hall.demo import build_halls
    from station_portal.hall.models import ServiceHall
    from tests.helpers import app_config

    with db.write() as s:
        if not s.scalar(select(ServiceHall.id).limit(1)):
            build_halls(s, seed=7)
    halls_only = create_app(app_config(db, kiosk_networks="10.20.0.0/16, 192.168.7.9"))
    outside = visitor(halls_only)
    page = outside.get("/kiosk/JL-A01")
    answer = outside.post("/kiosk/JL-A01/ticket", data={"csrf": csrf_of(page.text),
                                                        "business": "payment"})
    assert answer.status_code == 403 and "kiosk" in answer.text

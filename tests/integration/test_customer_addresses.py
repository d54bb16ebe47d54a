"""A customer gives an address, not coordinates: the fault or the application is routed to
the station or grid that owns the street; an address we cannot place is refused with what
was not found and close names, and nothing is made; a map point given wins; a refused
application keeps its documents for the next try; a visitor over a limit keeps the form and
is told the real wait and the hotline."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from station_portal.org.models import Unit
from station_portal.services import customer as svc
from station_portal.workorders.models import Attachment, WorkOrder
from tests.helpers import PDF, PNG, csrf_of, made, site, visitor

_phones = iter(range(10_000, 99_999))


def phone() -> str:
    return f"1390{next(_phones):07d}"


def count_orders(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(WorkOrder))


def unit_of(db, number: str) -> str:
    with db.read() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        return s.get(Unit, order.unit_id).code


def report(client, **fields):
    page = client.get("/service/report")
    data = {"csrf": csrf_of(page.text), "kind": "premises", "customer_phone": phone(), **fields}
    return client.post("/service/report", data=data)


def apply(client, fields, files=None):
    page = client.get("/service/apply")
    data = {"csrf": csrf_of(page.text), "business_type": "new_connection",
            "customer_type": "resident", "load_kw": "8", "customer_name": "赵敏",
            "customer_phone": phone(), "accept_terms": "yes", **fields}
    for name, (content, filename) in (files or {}).items():
        data[name] = (BytesIO(content), filename)
    return client.post("/service/apply", data=data, content_type="multipart/form-data")


DOCS = {"doc_identity": (PDF, "身份证.pdf"), "doc_property": (PNG, "房产证.png")}


@pytest.mark.parametrize(("address", "unit"), [
    ("吉林市昌邑区重庆街8号", "JL-CY-S"),
    ("船营区德胜路 3 号", "JL-CH-S"),
    ("吉林市丰满区吉林大街300号", "JL-FM-S"),
    ("永吉县岔路河镇黄榆村3号", "JL-YJ-CLH-G3"),
])
def test_a_fault_reported_with_only_an_address_goes_to_the_unit_of_its_street(app, db, address,
                                                                             unit):
    client = visitor(app)
    answer = report(client, address=address)
    assert answer.status_code == 302, answer.text[:800]
    number, _code = made(client)
    assert unit_of(db, number) == unit
    with db.read() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        assert order.address == address and order.lat and order.lon


def test_an_application_with_district_street_and_number_is_routed_and_made(app, db):
    client = visitor(app)
    answer = apply(client, {"district": "船营区", "street": "北京路", "house_number": "20"}, DOCS)
    assert answer.status_code == 302, answer.text[:800]
    number, _code = made(client)
    assert unit_of(db, number) == "JL-CH-S"
    with db.read() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        assert order.address == "吉林市船营区北京路20号", "the address kept as it was read"
        assert order.status == "in_progress"


@pytest.mark.parametrize("fields", [
    {"address": "吉林市昌邑区重庆街８号"},
    {"address": "昌邑区　重庆街　8 号"},
    {"address": "昌邑区 重庆路 8号"},
    {"district": "昌邑区", "street": " 重庆 ", "house_number": "８号"},
])
def test_full_width_digits_spaces_and_the_road_suffix_find_the_same_house(app, db, fields):
    client = visitor(app)
    assert report(client, **fields).status_code == 302
    number, _code = made(client)
    place = svc.find_site(svc.OnlineFault(kind="premises", lat="", lon="", customer_name="",
                                          customer_phone="", address="昌邑区重庆街8号"),
                          _index(db))
    with db.read() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        assert (order.lat, order.lon) == (place.lat, place.lon)
        assert s.get(Unit, order.unit_id).code == "JL-CY-S"


def _index(db):
    from station_portal.org.territory import TerritoryIndex

    with db.read() as s:
        return TerritoryIndex.load(s)


def test_an_unknown_street_is_refused_with_a_suggestion_and_nothing_is_made(app, db):
    before = count_orders(db)
    client = visitor(app)
    answer = report(client, address="船营区重庆路8号", customer_name="钱多多")
    assert answer.status_code == 422
    assert re.search(r'id="error-address">We did not find 重庆路 in 船营区\. Did you mean: '
                     r"昌邑区重庆街\?", answer.text)
    assert "latitude and longitude" not in answer.text, "no talk of coordinates"
    assert 'value="钱多多"' in answer.text and 'value="船营区重庆路8号"' in answer.text
    parts = apply(visitor(app), {"district": "昌邑区", "street": "重仸街", "house_number": "8"},
                  DOCS)
    assert parts.status_code == 422
    assert re.search(r'id="error-street">We did not find 重仸街 in 昌邑区\. Did you mean: 重庆街\?',
                     parts.text)
    assert re.search(r'<option value="昌邑区"\s+selected', parts.text), "the district kept"
    nowhere = apply(visitor(app), {"district": "昌邑区", "street": "重庆街",
                                   "house_number": "999"}, DOCS)
    assert re.search(r'id="error-house_number">重庆街 has the numbers 1 to 120', nowhere.text)
    empty = report(visitor(app), address="  ")
    assert empty.status_code == 422 and "Give the address (district, street and number)" \
        in empty.text
    assert count_orders(db) == before


def test_coordinates_given_win_over_the_address(app, db):
    lat, lon = site(db, "JL-LT-S")
    client = visitor(app)
    answer = report(client, address="吉林市昌邑区重庆街8号", lat=str(lat), lon=str(lon))
    assert answer.status_code == 302
    number, _code = made(client)
    assert unit_of(db, number) == "JL-LT-S"
    bad = report(visitor(app), address="吉林市昌邑区重庆街8号", lat="x", lon="")
    assert bad.status_code == 422 and "Give the location as latitude and longitude." in bad.text


def test_a_refused_form_shows_what_the_address_was_read_as(app, db):
    answer = apply(visitor(app), {"address": "昌邑区重庆路8号", "accept_terms": ""}, DOCS)
    assert answer.status_code == 422
    found = re.search(r'id="address-found"[^>]*>(.*?)</div>', answer.text, re.S)[1]
    assert "We found your address: 昌邑区重庆街8号." in found and "You wrote 重庆路." in found
    assert "Served by: Changyi Urban Service Station." in found


def _pending(html: str) -> str:
    return re.search(r'name="pending" value="([^"]+)"', html)[1]


def test_a_refused_application_keeps_its_files_and_the_next_try_stores_them(app, db):
    client = visitor(app)
    before = count_orders(db)
    first = apply(client, {"address": "昌邑区重庆街8号", "load_kw": "lots"}, DOCS)
    assert first.status_code == 422
    assert 'id="kept-doc_identity"' in first.text and "Kept: 身份证.pdf" in first.text
    assert "Kept: 房产证.png" in first.text and "Choose your files again" not in first.text
    token = _pending(first.text)
    assert count_orders(db) == before
    stranger = apply(visitor(app), {"address": "昌邑区重庆街8号", "pending": token})
    assert stranger.status_code == 422 and "Upload this document." in stranger.text, \
        "another browser cannot use the kept files"
    second = apply(client, {"address": "昌邑区重庆街8号", "pending": token})
    assert second.status_code == 302, second.text[:800]
    number, _code = made(client)
    with db.read() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        docs = s.scalars(select(Attachment).where(Attachment.work_order_id == order.id)).all()
    assert sorted((d.purpose, d.original_name) for d in docs) == [
        ("identity", "身份证.pdf"), ("property", "房产证.png")]
    upload_dir = Path(app.extensions["station_portal"].config.upload_dir)
    assert {(upload_dir / d.stored_name).read_bytes() for d in docs} == {PDF, PNG}
    assert not (upload_dir / svc.PENDING_FOLDER / token).exists(), "kept files are dropped"


def test_a_new_file_replaces_the_kept_one_and_a_removed_one_is_asked_for(app, db):
    client = visitor(app)
    first = apply(client, {"address": "昌邑区重庆街8号", "accept_terms": ""}, DOCS)
    token = _pending(first.text)
    second = apply(client, {"address": "昌邑区重庆街8号", "accept_terms": "",
                            "pending": token, "forget_doc_property": "yes"},
                   {"doc_identity": (PDF + b"%v2", "新身份证.pdf")})
    assert second.status_code == 422
    assert "Kept: 新身份证.pdf" in second.text and "Kept: 身份证.pdf" not in second.text
    assert re.search(r'id="error-doc_property">Upload this document\.', second.text)
    bad = apply(client, {"address": "昌邑区重庆街8号", "accept_terms": "", "pending": token},
                {"doc_property": (b"MZ not a picture", "x.png")})
    assert "Only PDF, JPEG or PNG files can be uploaded." in bad.text
    assert "Kept: x.png" not in bad.text and "Choose your files again." in bad.text


def test_kept_files_expire_after_an_hour(tmp_path):
    token = svc.new_pending_token()
    kept = svc.keep_uploads(tmp_path, token, [svc.Upload("identity", "a.pdf", PDF),
                                              svc.Upload("property", "b.exe", b"MZ"),
                                              svc.Upload("nonsense", "c.pdf", PDF)], now=1000.0)
    assert kept == [svc.Kept("identity", "a.pdf")], "only checked documents of known kinds"
    assert [u.data for _k, u in svc.kept_uploads(tmp_path, token, now=1000.0 + 3599)] == [PDF]
    assert svc.kept_uploads(tmp_path, token, now=1000.0 + 3601) == []
    assert svc.kept_uploads(tmp_path, "../" + token[3:], now=1000.0) == []
    assert svc.prune_pending(tmp_path, now=10**10) == 1
    assert not any((tmp_path / svc.PENDING_FOLDER).iterdir())


def _over_the_limit(client, path: str, limit: int, fields: dict) -> object:
    """Send ``limit`` refused posts, then one more with ``fields``."""
    page = client.get(path)
    for _i in range(limit):
        client.post(path, data={"csrf": csrf_of(page.text)})
    return client.post(path, data={"csrf": csrf_of(page.text), **fields})


def _waits() -> set[str]:
    from station_portal.ratelimit import retry_after
    from station_portal.web.public import wait_text

    return {wait_text(retry_after(3600) + d) for d in (-60, 0, 60)}


def test_a_rate_limited_report_keeps_the_form_and_tells_the_real_wait_and_95598(app, db):
    before = count_orders(db)
    answer = _over_the_limit(visitor(app), "/service/report", 6, {
        "kind": "area", "address": "昌邑区重庆街8号", "customer_name": "孙悦",
        "customer_phone": "13912345678", "description": "整栋楼没电"})
    assert answer.status_code == 429
    banner = re.search(r'id="rate-limited">(.*?)</div>', answer.text, re.S)[1]
    assert "Wait a minute" not in banner
    assert any(f"Try again in {wait}." in banner for wait in _waits()), banner
    assert "For an urgent fault call 95598, day and night." in banner
    assert 0 < int(answer.headers["Retry-After"]) <= 3600
    assert 'value="孙悦"' in answer.text and 'value="13912345678"' in answer.text
    assert 'value="昌邑区重庆街8号"' in answer.text and "整栋楼没电" in answer.text
    assert 'id="kind-area" value="area" checked' in answer.text
    assert count_orders(db) == before


def test_too_many_reports_from_one_phone_are_told_so_with_the_wait(app, db):
    number = phone()
    answers = [report(visitor(app), customer_phone=number, kind="") for _i in range(4)]
    assert [a.status_code for a in answers] == [422, 422, 422, 429]
    assert "Too many fault reports from this phone number. Try again in" in answers[-1].text
    assert "95598" in answers[-1].text


def test_a_rate_limited_application_keeps_what_was_typed(app, db):
    answer = _over_the_limit(visitor(app), "/service/apply", 10, {
        "customer_name": "周杰", "load_kw": "12", "street": "重庆街", "district": "昌邑区"})
    assert answer.status_code == 429 and 'id="rate-limited"' in answer.text
    assert 'value="周杰"' in answer.text and 'value="12"' in answer.text
    assert 'value="重庆街"' in answer.text


def test_too_many_tracking_guesses_get_the_real_wait_and_the_hotline(app, db):
    client = visitor(app)
    client.environ_base["REMOTE_ADDR"] = "10.250.9.9"
    page = client.get("/service/track")
    for _i in range(30):
        client.post("/service/track", data={"csrf": csrf_of(page.text), "n": "A1", "c": "x"})
    answer = client.post("/service/track", data={"csrf": csrf_of(page.text), "n": "A1", "c": "x"})
    assert answer.status_code == 429
    assert "Try again in" in answer.text and "Wait a minute" not in answer.text
    assert 'id="error-hotline"' in answer.text and 'href="/service"' in answer.text

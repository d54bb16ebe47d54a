"""Counter intake over HTTP: staff at a counter register an application or a fault for a
walk-in or phone customer, through the page's own callbacks, with the role, the area and
every field checked on the server (nothing is created when anything is wrong)."""

from __future__ import annotations

import base64
import json
import re

from sqlalchemy import func, select

from station_portal.auth.models import User
from station_portal.auth.roles import Role
from station_portal.org.models import Unit
from station_portal.pages import intake as page
from station_portal.pages import nav_pages
from station_portal.workorders.models import Attachment, WorkOrder, WorkOrderEvent
from tests.dash_calls import DASH_UPDATE, body_for, call, callback_id_for, dash_app_of, text_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CLERK_STATION = "JL-CH-S"  # the demo clerk's station (and its hall)
HEAD_STATION = "JL-CY-S"  # the demo station head's
STATES = ("channel", "name", "phone", "address", "lat", "lon", "business", "customer_type",
          "small_firm", "load_kw", "capacity", "app_note", "category", "urgency", "fault_note")


def site(db, code: str) -> tuple[float, float]:
    with db.read() as s:
        unit = s.scalar(select(Unit).where(Unit.code == code))
        return unit.lat, unit.lon


def data_url(content: bytes, kind: str = "application/pdf") -> str:
    return f"data:{kind};base64,{base64.b64encode(content).decode()}"


def register(client, app, kind: str, *, docs: dict[str, tuple[str, str]] | None = None,
             **fields):
    """Press "Register the application" (or "… the fault") with these entries."""
    entries = {"channel": "counter", "name": "李强", "phone": "13600001111",
               "address": "吉林市昌邑区重庆路 8 号", "business": "new_connection",
               "customer_type": "resident", "small_firm": False, "load_kw": 8, "capacity": None,
               "app_note": "", "category": "low_voltage", "urgency": "2", "fault_note": "",
               **fields}
    codes = page.document_codes()
    docs = docs or {}
    state = [entries[k] for k in STATES] + [docs.get(c, (None, None))[0] for c in codes] \
        + [docs.get(c, (None, None))[1] for c in codes]
    values, changed = ([1, None], 0) if kind == page.APPLICATION else ([None, 1], 1)
    answer = call(client, app, page.FEEDBACK, "children", values, state, changed=changed)
    assert answer.status_code == 200, answer.text[:500]
    return answer.json["response"]


def give_code(client, app, made):
    """Press "Give the customer a tracking code" for the order the page registered."""
    key = next(k for k, entry in dash_app_of(app).callback_map.items()
               if any(i["id"] == page.GIVE_CODE for i in entry["inputs"]))
    return client.post(DASH_UPDATE, json=body_for(app, key, [1], [made]))


def error(response: dict, tab: str, field: str) -> str:
    return response[page.error_id(tab, field)]["children"]


def text_of_response(response: dict) -> str:
    return json.dumps(response, ensure_ascii=False)


def uploaded_id_pdfs(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Attachment).where(
            Attachment.original_name == "id.pdf", Attachment.uploaded_at.is_not(None)))


def orders(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(WorkOrder))


def made_order(db, response: dict) -> WorkOrder:
    order_id = response[page.MADE]["data"]["id"]
    with db.read() as s:
        order = s.get(WorkOrder, order_id)
        s.expunge(order)
        return order


def events(db, order_id: int) -> list[tuple[str, int | None]]:
    with db.read() as s:
        return [(e.action, e.actor_id) for e in s.scalars(select(WorkOrderEvent).where(
            WorkOrderEvent.work_order_id == order_id).order_by(WorkOrderEvent.id))]


def user_id(db, username: str) -> int:
    with db.read() as s:
        return s.scalar(select(User.id).where(User.username == username))


def test_the_page_is_in_the_menu_of_the_counter_roles_only(app, as_user):
    for role in (Role.CLERK, Role.STATION_HEAD, Role.GRID_MANAGER):
        assert page.PAGE in nav_pages(role)
    for role in (Role.CREW, Role.ACCOUNT_MANAGER, Role.COMPANY_MANAGER, Role.ADMIN):
        assert page.PAGE not in nav_pages(role)
    shown = text_of(call(as_user("gridmgr"), app, "page-content", "children", ["/intake"], [""]))
    for part in (page.REGISTER_APPLICATION, page.REGISTER_FAULT, page.MAP, page.CUSTOMER_TYPE,
                 page.doc_upload_id("identity"), "Counter intake"):
        assert part in shown, part
    assert "customer_class" not in shown, "the utility classifies: no class to choose"


def test_a_clerk_registers_a_walk_in_application_the_utility_classifies(app, db, as_user):
    """500 kW for a business: high voltage, single supply until the plan says otherwise;
    routed to the station that owns the site, accepted, one counter visit, the scanned
    document kept, the form cleared for the next customer, a tracking code on request."""
    lat, lon = site(db, CLERK_STATION)
    clerk = as_user("clerk")
    response = register(clerk, app, page.APPLICATION, customer_type="non_resident",
                        load_kw=500, name="吉林市昌邑区建材厂", lat=lat, lon=lon,
                        docs={"identity": (data_url(PDF), "营业执照.pdf")})
    text = text_of_response(response)
    assert "HV single source" in text and "intake-order-link" in text, text[:800]
    order = made_order(db, response)
    with db.read() as s:
        station = s.scalar(select(Unit).where(Unit.code == CLERK_STATION))
        docs = s.scalars(select(Attachment.purpose).where(
            Attachment.work_order_id == order.id)).all()
    assert f"/order?id={order.id}" in text and order.code in text
    assert order.customer_class == "hv_single" and order.load_kw == 500
    assert order.unit_id == station.id
    assert order.status == "in_progress" and order.accepted_at is not None
    assert order.counter_visits == 1
    assert docs == ["identity"]
    timeline = events(db, order.id)
    clerk_id = user_id(db, "clerk")
    assert ("created", clerk_id) in timeline and ("accepted", clerk_id) in timeline
    assert ("counter_visit", clerk_id) in timeline
    assert response[page.NAME]["value"] == "" and response[page.LAT]["value"] is None
    assert response[page.CODE_ROW]["hidden"] is False
    given = give_code(clerk, app, {"id": order.id})
    code = re.search(r"the code ([A-Z0-9]{4}-[A-Z0-9]{4})", text_of(given))[1]
    assert f"/service/track?n={order.code}" in text_of(given)
    tracked = app.test_client().get(f"/service/track?n={order.code}&c={code}")
    assert tracked.status_code == 302, "the customer follows the case online"



def test_a_small_firm_on_the_phone_takes_the_three_zeros_path_without_a_counter_visit(
        app, db, as_user):
    lat, lon = site(db, CLERK_STATION)
    response = register(as_user("clerk"), app, page.APPLICATION, channel="hotline_95598",
                        customer_type="non_resident", small_firm=True, load_kw=80,
                        name="小林面馆", lat=lat, lon=lon)
    order = made_order(db, response)
    assert order.customer_class == "lv_small_firm" and order.counter_visits == 0
    assert "Counter visit counted" not in text_of_response(response)
    assert "counter_visit" not in [a for a, _u in events(db, order.id)]


def test_a_head_registers_a_fault_and_its_arrival_clock_runs(app, db, as_user):
    lat, lon = site(db, HEAD_STATION)
    response = register(as_user("head"), app, page.FAULT, name="", lat=lat, lon=lon,
                        category="low_voltage", urgency="1", fault_note="整栋楼停电")
    assert "the arrival clock is running" in text_of_response(response)
    order = made_order(db, response)
    with db.read() as s:
        station = s.scalar(select(Unit).where(Unit.code == HEAD_STATION))
        fresh = s.get(WorkOrder, order.id)
        arrival = next(c for c in fresh.clocks if c.stage == "arrival")
        assert arrival.started_at is not None and arrival.ended_at is None
        assert arrival.due_at is not None
    assert order.kind == "repair" and order.source == "counter" and order.urgency == 1
    assert order.status == "reported" and order.unit_id == station.id
    assert order.description == "整栋楼停电"
    assert ("created", user_id(db, "head")) in events(db, order.id)


def test_a_site_given_by_its_address_alone_is_found_and_an_unknown_street_named(app, db,
                                                                                as_user):
    """No map click: the address the caller gives routes the fault (and the application)
    to the station of its street; an address we cannot place is refused on its field."""
    clerk = as_user("clerk")
    for kind in (page.FAULT, page.APPLICATION):
        response = register(clerk, app, kind, address="船营区德胜路３号", lat=None, lon=None)
        order = made_order(db, response)
        with db.read() as s:
            assert s.get(Unit, order.unit_id).code == CLERK_STATION
    before = orders(db)
    refused = register(clerk, app, page.FAULT, address="船营区德胜街道长江路5号", lat=None,
                       lon=None)
    assert error(refused, "", "address").startswith("We did not find 长江路 in 船营区.")
    assert error(refused, "", "location") == "", "no talk of coordinates"
    elsewhere = register(clerk, app, page.FAULT, address="昌邑区重庆街8号", lat=None, lon=None)
    assert error(elsewhere, "", "location") == "This location lies outside your area."
    assert orders(db) == before


def test_a_caller_on_the_hotline_is_recorded_as_such(app, db, as_user):
    lat, lon = site(db, CLERK_STATION)
    response = register(as_user("clerk"), app, page.FAULT, channel="hotline_95598", lat=lat,
                        lon=lon, category="metering", urgency="3")
    assert made_order(db, response).source == "hotline_95598"


def test_bad_entries_get_a_message_on_each_field_and_nothing_is_created(app, db, as_user):
    clerk = as_user("clerk")
    lat, lon = site(db, CLERK_STATION)
    before, files_before = orders(db), uploaded_id_pdfs(db)
    response = register(clerk, app, page.APPLICATION, channel="letter", name="", phone="",
                        address="  ", customer_type=None, load_kw=0, capacity=-3,
                        business="caviar", lat=lat, lon=lon,
                        docs={"identity": (data_url(b"MZ\x90 not a pdf"), "id.pdf"),
                              "property": ("data:application/pdf;base64,%%%", "x.pdf")})
    assert "Nothing was registered" in text_of_response(response)
    assert error(response, "", "source") == "Choose how the customer reached us."
    assert error(response, "", "customer_name") == "This field is required."
    assert error(response, "", "customer_phone").startswith("Give a phone number")
    assert error(response, "", "address") == "This field is required."
    assert error(response, page.APPLICATION, "business_type") == "Choose one of the listed values."
    assert error(response, page.APPLICATION, "customer_type") == "Choose one of the listed values."
    assert error(response, page.APPLICATION, "load_kw").startswith("Give the load in kW")
    assert error(response, page.APPLICATION, "capacity_kva").startswith("Give the transformer")
    assert error(response, page.APPLICATION, "doc_identity") == \
        "Only PDF, JPEG or PNG files can be uploaded."
    assert error(response, page.APPLICATION, "doc_property") == \
        "Only PDF, JPEG or PNG files can be uploaded."
    assert error(response, page.FAULT, "description") == "", "the other tab stays clean"
    invalid = {cid: response[cid]["invalid"] for cid, _t, _f in page.INVALIDATABLE}
    assert invalid[page.LOAD_KW] and invalid[page.NAME] and not invalid[page.LAT]
    assert page.NAME not in response or "value" not in response[page.NAME], "entries kept"
    for load in ("lots", 10**9, float("nan")):
        again = register(clerk, app, page.APPLICATION, load_kw=load, lat=lat, lon=lon)
        assert error(again, page.APPLICATION, "load_kw").startswith("Give the load in kW")
    nowhere = register(clerk, app, page.FAULT, lat="x", lon=None, category="moon",
                       urgency="9", fault_note="a\x00b")
    assert error(nowhere, "", "location") == "Give the location as latitude and longitude."
    assert error(nowhere, page.FAULT, "category") == "Choose one of the listed values."
    assert error(nowhere, page.FAULT, "urgency") == "Choose one of the listed values."
    assert error(nowhere, page.FAULT, "description").startswith("At most 500 characters")
    assert orders(db) == before
    assert uploaded_id_pdfs(db) == files_before  # (other test files upload an id.pdf too)


def test_a_site_outside_the_users_area_is_refused_with_a_message(app, db, as_user):
    clerk = as_user("clerk")
    lat, lon = site(db, HEAD_STATION)  # another station's territory
    before = orders(db)
    for kind in (page.APPLICATION, page.FAULT):
        response = register(clerk, app, kind, lat=lat, lon=lon)
        assert error(response, "", "location") == "This location lies outside your area."
    assert orders(db) == before
    hint = call(clerk, app, page.SITE_HINT, "children", [lat, lon])
    assert "outside your area" in text_of(hint)
    outside = register(clerk, app, page.FAULT, lat=10.0, lon=10.0)
    assert error(outside, "", "location") == "This location lies outside the service territory."


def test_other_roles_and_anonymous_callers_are_refused(app, db, as_user):
    lat, lon = site(db, CLERK_STATION)
    before = orders(db)
    key = callback_id_for(app, page.FEEDBACK, "children")
    state = ["counter", "x", "13600001111", "路", lat, lon, "new_connection", "resident", False,
             8, None, "", "low_voltage", "2", ""] + [None] * (2 * len(page.document_codes()))
    body = body_for(app, key, [1, None], state)
    assert app.test_client().post(DASH_UPDATE, json=body).status_code == 401
    for username in ("crew", "account", "manager"):
        assert as_user(username).post(DASH_UPDATE, json=body).status_code == 403, username
    assert give_code(as_user("crew"), app, {"id": 1}).status_code == 403
    assert orders(db) == before
    shown = call(as_user("crew"), app, "page-content", "children", ["/intake"], [""])
    assert "page-forbidden" in shown.text


def test_a_tracking_code_only_for_an_order_in_the_users_area(app, db, as_user):
    with db.read() as s:
        other = s.scalar(select(WorkOrder.id).join(Unit, Unit.id == WorkOrder.unit_id).where(
            Unit.code == HEAD_STATION, WorkOrder.kind == "repair").limit(1))
    answer = give_code(as_user("clerk"), app, {"id": other})
    assert "There is no such work order in your area." in text_of(answer)
    forged = give_code(as_user("clerk"), app, "x")
    assert forged.status_code == 200 and "no such work order" in text_of(forged)


def test_a_map_click_fills_the_coordinates_and_names_the_unit(app, db, as_user):
    lat, lon = site(db, CLERK_STATION)
    clerk = as_user("clerk")
    picked = call(clerk, app, page.LAT, "value", [{"latlng": {"lat": lat, "lng": lon}}])
    assert picked.json["response"][page.LAT]["value"] == round(lat, 6)
    assert picked.json["response"][page.LON]["value"] == round(lon, 6)
    with db.read() as s:
        station = s.scalar(select(Unit).where(Unit.code == CLERK_STATION))
    hint = call(clerk, app, page.SITE_HINT, "children", [lat, lon])
    assert station.name_en in text_of(hint) and "intake-site-marker" in text_of(hint)
    junk = call(clerk, app, page.LAT, "value", [{"latlng": "x"}])
    assert junk.status_code == 204


def test_the_form_shows_the_class_the_entries_lead_to(app, as_user):
    clerk = as_user("clerk")
    small = call(clerk, app, page.CLASS_HINT, "children", ["non_resident", True, 80])
    assert "LV small or micro firm" in text_of(small)
    big = call(clerk, app, page.CLASS_HINT, "children", ["non_resident", True, 500])
    assert "HV single source" in text_of(big)
    assert "List of electrical equipment" in text_of(big), "the documents its class needs"
    none = call(clerk, app, page.CLASS_HINT, "children", [None, None, "x"])
    assert "to see the class" in text_of(none)


def test_messages_come_in_the_users_language(app, db, as_user):
    from station_portal.services.users import set_locale

    clerk = as_user("clerk")
    lat, lon = site(db, HEAD_STATION)
    with db.write() as s:
        set_locale(s, s.scalar(select(User).where(User.username == "clerk")), "zh_CN")
    try:
        response = register(clerk, app, page.APPLICATION, name="", lat=lat, lon=lon)
    finally:
        with db.write() as s:
            set_locale(s, s.scalar(select(User).where(User.username == "clerk")), "en")
    assert error(response, "", "customer_name") == "此项必填。"

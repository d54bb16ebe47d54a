"""The REST API v1 through the real app: tokens, roles and scope, every endpoint, errors."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from station_portal.audit import AuditEvent
from station_portal.auth.models import ApiToken, AuthSession, User
from station_portal.db import utcnow
from station_portal.org.models import CrewMember
from station_portal.resources import resource_dir
from station_portal.services import repairs
from station_portal.services.users import UserInput, create_user, reset_password, set_active
from station_portal.workorders.models import Attachment, OrderAssignment, WorkOrderEvent
from tests.helpers import (
    API,
    CHANGYI,
    PASSWORD,
    PNG,
    TEST_SECRET,
    address,
    app_config,
    crews_of,
    fresh_database,
    head_of,
    make_user,
    new_repair,
    token,
    unique,
    unit_of,
)

CHANGBEI = "JL-CH-S"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8


# -- helpers ------------------------------------------------------------------------------

def bearer(value: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}", **headers}


def crew_of_user(db, username: str) -> int:
    with db.read() as s:
        staff_id = s.scalar(select(User.staff_id).where(User.username == username))
        return s.scalar(select(CrewMember.crew_id).where(CrewMember.staff_id == staff_id))


def assign(client, head_token: str, order_id: int, crew_id: int, version: int, role: str = "lead"):
    return client.post(f"{API}/work-orders/{order_id}/assignments", headers=bearer(head_token),
                       json={"crew_id": crew_id, "version": version, "role": role})


def events_of(db, order_id: int, action: str | None = None) -> list[WorkOrderEvent]:
    with db.read() as s:
        stmt = select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == order_id)
        if action:
            stmt = stmt.where(WorkOrderEvent.action == action)
        return list(s.scalars(stmt.order_by(WorkOrderEvent.id)))


@pytest.fixture
def head(client, db) -> str:
    """A token of a fresh station head of Changyi (no saved language)."""
    return token(client, head_of(db))


@pytest.fixture
def upload_dir(app, tmp_path, monkeypatch):
    """Photos of this test go to a folder of its own."""
    portal = app.extensions["station_portal"]
    monkeypatch.setattr(portal, "config", replace(portal.config, upload_dir=str(tmp_path / "up")))
    return tmp_path / "up"


# -- the document and the docs ---------------------------------------------------------------

def test_the_openapi_document_is_public_generated_and_declares_bearer_auth(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": f"A token from POST {API}/tokens."}
    assert {"bearerAuth": []} in spec["security"]
    for path in ("/work-orders", "/work-orders/{order_id}", "/repairs", "/applications",
                 "/work-orders/{order_id}/assignments", "/work-orders/{order_id}/events",
                 "/work-orders/{order_id}/attachments", "/attachments/{attachment_id}",
                 "/crews", "/crews/me/pings", "/crews/me/work-orders", "/me", "/tokens",
                 "/tokens/current"):
        assert f"{API}{path}" in spec["paths"], path
    assert spec["paths"][f"{API}/tokens"]["post"]["security"] == []
    assert "Roles: crew." in spec["paths"][f"{API}/crews/me/pings"]["post"]["description"]
    errors = spec["components"]["schemas"]["Error"]["properties"]
    assert set(errors) == {"error", "message", "fields"}


def test_the_docs_page_and_its_scripts_are_served_locally(client):
    page = client.get(f"{API}/docs")
    assert page.status_code == 200
    assert f"{API}/docs/static/swagger-ui-bundle.js" in page.text
    assert "http" not in page.text.split("<body>")[1].split("config")[0]  # no CDN
    script = client.get(f"{API}/docs/static/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.data) > 100_000


# -- tokens ----------------------------------------------------------------------------------

def test_a_token_is_issued_used_and_stored_only_as_a_hash(client, db):
    name = head_of(db)
    response = client.post(f"{API}/tokens", json={"username": name, "password": PASSWORD,
                                                  "name": "phone 7"},
                           environ_base={"REMOTE_ADDR": address()})
    assert response.status_code == 201
    body = response.json
    assert body["user"] == {"username": name, "role": "station_head", "display_name": name}
    me = client.get(f"{API}/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.json["username"] == name and me.json["authenticated_by"] == "bearer"
    with db.read() as s:
        row = s.scalar(select(ApiToken).join(User).where(User.username == name))
        audited = s.scalar(select(func.count()).where(AuditEvent.action == "api_token_issued",
                                                      AuditEvent.subject == name))
        signed_in = s.scalar(select(func.count()).where(AuditEvent.action == "sign_in",
                                                        AuditEvent.subject == name))
        web_sessions = s.scalar(select(func.count()).select_from(AuthSession).join(User)
                                .where(User.username == name))
    assert row.token_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    assert row.name == "phone 7"
    assert timedelta(hours=11, minutes=59) < row.expires_at - utcnow() <= timedelta(hours=12)
    assert (audited, signed_in, web_sessions) == (1, 1, 0)


def test_an_expired_token_is_refused(client, db, head):
    assert client.get(f"{API}/me", headers=bearer(head)).status_code == 200
    with db.write() as s:
        s.execute(update(ApiToken).where(ApiToken.token_hash == hashlib.sha256(
            head.encode()).hexdigest()).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.get(f"{API}/me", headers=bearer(head))
    assert response.status_code == 401
    assert response.json["error"] == "token_expired"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_stops_working_at_once(client, db, head):
    assert client.delete(f"{API}/tokens/current", headers=bearer(head)).status_code == 204
    response = client.get(f"{API}/me", headers=bearer(head))
    assert response.status_code == 401 and response.json["error"] == "token_invalid"
    assert set(response.json) == {"error", "message", "fields"}


def test_disabling_a_user_or_resetting_the_password_revokes_their_tokens(client, db):
    name = head_of(db)
    first, second = token(client, name), token(client, name)
    with db.write() as s:
        s.execute(update(User).where(User.username == name).values(active=False))
    assert client.get(f"{API}/me", headers=bearer(first)).status_code == 401  # at once
    with db.write() as s:
        s.execute(update(User).where(User.username == name).values(active=True))
        uid = s.scalar(select(User.id).where(User.username == name))
    assert client.get(f"{API}/me", headers=bearer(first)).status_code == 200
    with db.write() as s:
        set_active(s, None, uid, None, False)
        set_active(s, None, uid, None, True)
    assert client.get(f"{API}/me", headers=bearer(first)).status_code == 401
    assert client.get(f"{API}/me", headers=bearer(second)).status_code == 401
    third = token(client, name)
    with db.write() as s:
        reset_password(s, None, uid, None)
    assert client.get(f"{API}/me", headers=bearer(third)).status_code == 401


def test_a_one_time_password_gets_no_token(client, db):
    name = head_of(db)
    with db.write() as s:
        _user, temporary = reset_password(s, None, s.scalar(select(User.id).where(
            User.username == name)), None)
    response = client.post(f"{API}/tokens", json={"username": name, "password": temporary},
                           environ_base={"REMOTE_ADDR": address()})
    assert response.status_code == 403 and response.json["error"] == "password_change_required"


def test_wrong_passwords_are_audited_and_throttled_like_the_sign_in_page(client, db):
    name, ip = head_of(db), address()

    def attempt(password: str):
        return client.post(f"{API}/tokens", json={"username": name, "password": password},
                           environ_base={"REMOTE_ADDR": ip})

    codes = [attempt(f"guess-{i}").status_code for i in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    locked = attempt(PASSWORD)  # even the right password waits for the lock
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert locked.json["error"] == "too_many_failures"
    with db.read() as s:
        failures = s.scalar(select(func.count()).where(AuditEvent.action == "sign_in_failed",
                                                       AuditEvent.subject == name))
        locks = s.scalar(select(func.count()).where(AuditEvent.action == "sign_in_locked",
                                                    AuditEvent.subject == name))
    assert failures == 5 and locks == 1


@pytest.mark.slow
def test_the_demo_password_gets_no_token_outside_demo_mode(tmp_path):
    from station_portal import create_app

    database = fresh_database("sqlite", tmp_path)
    with database.write() as s:
        create_user(s, None, username="boss", password="portal-demo",
                    data=UserInput(display_name="Boss", role="admin"), allow_demo_password=True)
        s.execute(update(User).values(password_is_demo=False))  # slipped past the start check
    prod = create_app(app_config(database, env="production", secret_key=TEST_SECRET))
    response = prod.test_client().post(f"{API}/tokens",
                                       json={"username": "boss", "password": "portal-demo"})
    assert response.status_code == 401
    assert "Demo passwords are not accepted" in response.json["message"]
    database.dispose()


def test_the_last_use_is_written_at_most_once_a_minute(client, db, head):
    digest = hashlib.sha256(head.encode()).hexdigest()

    def last_used():
        with db.read() as s:
            return s.scalar(select(ApiToken.last_used_at).where(ApiToken.token_hash == digest))

    client.get(f"{API}/me", headers=bearer(head))
    first = last_used()
    client.get(f"{API}/me", headers=bearer(head))
    assert first is not None and last_used() == first
    with db.write() as s:
        s.execute(update(ApiToken).where(ApiToken.token_hash == digest)
                  .values(last_used_at=first - timedelta(minutes=2)))
    client.get(f"{API}/me", headers=bearer(head))
    assert last_used() > first


def test_a_bad_bearer_is_refused_even_with_a_valid_cookie(as_user, client, db):
    browser = as_user("admin")
    assert browser.get(f"{API}/me").json["authenticated_by"] == "cookie"
    refused = browser.get(f"{API}/me", headers=bearer("not-a-token"))
    assert refused.status_code == 401 and refused.json["error"] == "token_invalid"
    other = token(client, head_of(db))
    assert browser.get(f"{API}/me", headers=bearer(other)).json["role"] == "station_head"


def test_anonymous_calls_get_401_json(client):
    response = client.get(f"{API}/work-orders")
    assert response.status_code == 401
    assert response.json == {"error": "unauthenticated", "message": "Please sign in first.",
                             "fields": {}}


def test_token_lifetime_and_upload_folder_are_configured_and_checked(tmp_path):
    from station_portal.config import Config, ConfigError

    config = Config.from_env(environ={"PORTAL_API_TOKEN_HOURS": "2",
                                      "PORTAL_UPLOAD_DIR": str(tmp_path / "photos")})
    assert config.api_token_hours == 2 and config.upload_path() == tmp_path / "photos"
    with pytest.raises(ConfigError, match="PORTAL_API_TOKEN_HOURS"):
        Config.from_env(environ={"PORTAL_API_TOKEN_HOURS": "0"})
    with pytest.raises(ConfigError, match="PORTAL_UPLOAD_DIR"):
        Config.from_env(environ={"PORTAL_UPLOAD_DIR": str(resource_dir("assets") / "uploads")})


# -- the portal's own pages: cookie, CSRF header, activity -------------------------------

def test_cookie_calls_need_the_csrf_header_for_changes_but_bearer_calls_do_not(as_user, client, db):
    order_id, _version = new_repair(db)
    browser = as_user("head")
    body = {"action": "note", "note": "from the page", "client_key": unique("csrf-")}
    refused = browser.post(f"{API}/work-orders/{order_id}/events", json=body)
    assert refused.status_code == 403 and refused.json["error"] == "csrf_header_missing"
    assert events_of(db, order_id, "note") == []
    done = browser.post(f"{API}/work-orders/{order_id}/events", json=body,
                        headers={"X-Requested-With": "station-portal"})
    assert done.status_code == 201
    by_token = client.post(f"{API}/work-orders/{order_id}/events", headers=bearer(token(
        client, head_of(db))), json={**body, "client_key": unique("csrf-")})
    assert by_token.status_code == 201


def test_polling_the_api_does_not_keep_a_web_session_alive(as_user, db):
    browser = as_user("admin")
    browser.get(f"{API}/me")
    with db.read() as s:
        session_id = s.scalar(select(AuthSession.id).join(User).where(
            User.username == "admin", AuthSession.ended_at.is_(None))
            .order_by(AuthSession.id.desc()))
    earlier = utcnow() - timedelta(minutes=5)

    def seen():
        with db.read() as s:
            return s.get(AuthSession, session_id).last_seen_at

    with db.write() as s:
        s.execute(update(AuthSession).where(AuthSession.id == session_id)
                  .values(last_seen_at=earlier))
    assert browser.get(f"{API}/work-orders?per_page=1").status_code == 200
    assert seen() == earlier
    order_id, _v = new_repair(db)
    browser.post(f"{API}/work-orders/{order_id}/events", json={
        "action": "note", "note": "typed", "client_key": unique("act-")},
        headers={"X-Requested-With": "station-portal"})
    assert seen() > earlier


# -- scope: 404 for who sees everything, 403 for the rest ---------------------------------

def test_a_head_cannot_read_another_stations_order_and_cannot_tell_if_it_exists(client, db):
    order_id, _v = new_repair(db, CHANGYI)
    other = token(client, head_of(db, CHANGBEI))
    foreign = client.get(f"{API}/work-orders/{order_id}", headers=bearer(other))
    unknown = client.get(f"{API}/work-orders/2000000000", headers=bearer(other))
    assert foreign.status_code == unknown.status_code == 403
    assert foreign.json == unknown.json
    for path in (f"/work-orders/{order_id}/events", f"/work-orders/{order_id}/assignments"):
        response = client.post(f"{API}{path}", headers=bearer(other), json={
            "action": "note", "note": "x", "client_key": unique("scope-"), "version": 1}
            if path.endswith("events") else {"crew_id": 1, "version": 1})
        assert response.status_code == 403, path
    listed = client.get(f"{API}/work-orders", query_string={"q": str(order_id)},
                        headers=bearer(other))
    assert order_id not in [i["id"] for i in listed.json["items"]]


def test_who_sees_everything_gets_404_for_an_unknown_id_and_reads_any_order(client, db):
    admin = token(client, make_user(db, "admin"))
    response = client.get(f"{API}/work-orders/2000000000", headers=bearer(admin))
    assert response.status_code == 404 and response.json["error"] == "not_found"
    order_id, _v = new_repair(db, CHANGBEI)
    assert client.get(f"{API}/work-orders/{order_id}", headers=bearer(admin)).status_code == 200
    attachment = client.get(f"{API}/attachments/2000000000", headers=bearer(admin))
    assert attachment.status_code == 404


def test_a_crew_sees_only_its_own_orders(client, db, head):
    crew = token(client, "crew", "portal-demo")
    own_crew = crew_of_user(db, "crew")
    other_crew = next(c for c in crews_of(db) if c != own_crew)
    mine, version = new_repair(db)
    theirs, their_version = new_repair(db)
    assert assign(client, head, mine, own_crew, version).status_code == 201
    assert assign(client, head, theirs, other_crew, their_version).status_code == 201
    assert client.get(f"{API}/work-orders/{mine}", headers=bearer(crew)).status_code == 200
    assert client.get(f"{API}/work-orders/{theirs}", headers=bearer(crew)).status_code == 403
    listed = client.get(f"{API}/work-orders", query_string={"per_page": 200, "status": "dispatched"},
                        headers=bearer(crew)).json
    assert {o["crew"]["id"] for o in listed["items"]} == {own_crew}
    assert mine in [o["id"] for o in listed["items"]]
    queue = client.get(f"{API}/crews/me/work-orders", headers=bearer(crew)).json["items"]
    assert mine in [o["id"] for o in queue] and theirs not in [o["id"] for o in queue]


def test_roles_are_checked_before_the_body_is_read(client, db):
    crew = token(client, "crew", "portal-demo")
    for path in ("/repairs", "/applications", "/work-orders/1/assignments"):
        response = client.post(f"{API}{path}", headers=bearer(crew), json={})
        assert response.status_code == 403, path
        assert response.json["message"] == "Your role may not use this."
    account = token(client, "account", "portal-demo")
    assert client.get(f"{API}/crews", headers=bearer(account)).status_code == 403
    head = token(client, head_of(db))
    assert client.post(f"{API}/crews/me/pings", headers=bearer(head),
                       json={"lat": 43.88, "lon": 126.57}).status_code == 403


# -- listing -----------------------------------------------------------------------------

def test_the_list_filters_sorts_and_pages_on_the_server(client, db, head):
    first, v1 = new_repair(db, urgency=1)
    second, _v2 = new_repair(db, urgency=3)
    crew_id = crews_of(db)[0]
    assert assign(client, head, first, crew_id, v1).status_code == 201

    def listing(**params):
        response = client.get(f"{API}/work-orders", query_string=params, headers=bearer(head))
        assert response.status_code == 200, response.json
        return response.json

    page = listing(kind="repair", per_page=2, sort="-created_at")
    assert page["per_page"] == 2 and len(page["items"]) == 2 and page["total"] > 2
    assert [i["id"] for i in page["items"]] == [second, first]
    assert listing(kind="repair", per_page=2, page=2)["items"][0]["id"] not in (first, second)
    both = listing(status=["reported", "dispatched"], per_page=200, q="R")
    comma = listing(status="reported,dispatched", per_page=200, q="R")
    assert both["total"] == comma["total"] and {first, second} <= {i["id"] for i in both["items"]}
    assert {i["status"] for i in both["items"]} <= {"reported", "dispatched"}
    assert [i["id"] for i in listing(crew_id=crew_id, status="dispatched")["items"]][:1] == [first]
    code = listing(crew_id=crew_id, status="dispatched")["items"][0]["code"]
    assert [i["id"] for i in listing(q=code.lower())["items"]] == [first]
    today = utcnow().date().isoformat()
    assert first in [i["id"] for i in listing(created_from=today, per_page=200)["items"]]
    assert listing(created_to="2001-01-01")["total"] == 0
    assert listing(unit_id=unit_of(db, CHANGBEI).id)["total"] == 0  # outside: nothing
    on_track = listing(sla="on_track", per_page=200, kind="repair")
    assert {i["sla"] for i in on_track["items"]} == {"on_track"}
    due = listing(sort="due_at", kind="repair", status="reported,dispatched", per_page=50)["items"]
    times = [i["due_at"] for i in due if i["due_at"]]
    assert times == sorted(times)
    summary = next(i for i in listing(q=code)["items"])
    assert summary["unit"]["code"] == CHANGYI and summary["crew"]["id"] == crew_id
    assert summary["version"] == v1 + 1


def test_list_parameters_are_validated_with_a_message_each(client, head):
    response = client.get(f"{API}/work-orders", headers=bearer(head), query_string={
        "per_page": 201, "page": 0, "status": "reported,nonsense", "sla": "late", "kind": "x",
        "created_from": "yesterday", "unit_id": "-3", "sort": "code", "q": "a\x01b"})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"per_page", "page", "status", "sla", "kind",
                                            "created_from", "unit_id", "sort", "q"}
    assert response.json["fields"]["per_page"] == "Give a value from 1 to 200."
    assert response.json["fields"]["status"] == "Choose one of the listed values."


# -- one order in full --------------------------------------------------------------------

def test_the_detail_has_clocks_version_crew_assignments_and_timeline(client, db, head):
    order_id, version = new_repair(db)
    crew_id = crews_of(db)[1]
    assign(client, head, order_id, crew_id, version)
    detail = client.get(f"{API}/work-orders/{order_id}", headers=bearer(head)).json
    assert detail["version"] == version + 1 and detail["status"] == "dispatched"
    assert detail["crew"]["id"] == crew_id
    arrival = next(c for c in detail["clocks"] if c["stage"] == "arrival")
    assert arrival["due_at"] and arrival["status"] == "on_track" and arrival["limit_unit"] == "minute"
    assert [a["role"] for a in detail["assignments"]] == ["lead"]
    assert [e["action"] for e in detail["events"]] == ["created", "dispatch"]
    assert "accept" in detail["actions"]


# -- creating -------------------------------------------------------------------------------

def test_a_head_creates_a_repair_and_gets_its_location(client, db, head):
    where = unit_of(db, CHANGYI)
    response = client.post(f"{API}/repairs", headers=bearer(head), json={
        "source": "app", "category": "metering", "urgency": 2, "lat": where.lat,
        "lon": where.lon, "address": "吉林市昌邑区测试路8号", "customer_name": "李女士",
        "customer_phone": "13900000001", "reported_at": utcnow().isoformat()})
    assert response.status_code == 201, response.json
    assert response.headers["Location"] == f"{API}/work-orders/{response.json['id']}"
    assert response.json["status"] == "reported" and response.json["unit"]["code"] == CHANGYI
    assert response.json["clocks"][0]["stage"] == "arrival"


def test_repair_fields_are_validated_one_message_each(client, head):
    response = client.post(f"{API}/repairs", headers=bearer(head), json={
        "source": "pigeon", "category": "low_voltage", "urgency": "1", "lat": 91, "lon": "east",
        "address": "x" * 201, "reported_at": "2026-03-02T08:00:00", "surprise": True})
    assert response.status_code == 422
    assert response.json["fields"] == {
        "source": "Choose one of the listed values.", "urgency": "Enter a whole number.",
        "lat": "Give a value from -90 to 90.", "lon": "Enter a number.",
        "address": "At most 200 characters.",
        "reported_at": "Give a date and time in ISO 8601 with its time zone, "
                       "e.g. 2026-03-02T08:30:00+08:00.",
        "surprise": "This field is not known."}


def test_validation_messages_follow_accept_language(client, head):
    response = client.post(f"{API}/repairs", json={"source": "pigeon"},
                           headers=bearer(head, **{"Accept-Language": "zh-CN,zh;q=0.9"}))
    assert response.status_code == 422
    assert response.json["message"] == "部分内容需要更正。"
    assert response.json["fields"]["category"] == "此项必填。"
    assert response.json["fields"]["source"] == "请从列出的选项中选择。"
    before_rules = client.post(f"{API}/repairs", headers=bearer(head, **{"Accept-Language": "zh-CN"}),
                               json={"source": "app", "category": "metering", "urgency": 2,
                                     "lat": 43.8817, "lon": 126.5744, "address": "测试路",
                                     "reported_at": "2000-01-01T00:00:00+14:00"})
    assert before_rules.status_code == 422  # no rule set then: refused, not a 500
    assert set(before_rules.json["fields"]) == {"reported_at"}
    outside = client.post(f"{API}/repairs", headers=bearer(head, **{"Accept-Language": "zh-CN"}),
                          json={"source": "app", "category": "metering", "urgency": 2, "lat": 30.0,
                                "lon": 120.0, "address": "杭州"})
    assert outside.json["fields"] == {"location": "该位置不在供电服务区域内。"}


def test_a_head_creates_a_connection_application(client, db, head):
    where = unit_of(db, CHANGYI)
    body = {"business_type": "new_connection", "customer_type": "resident",
            "load_kw": 8, "customer_name": "张三", "lat": where.lat, "lon": where.lon,
            "address": "吉林市昌邑区测试路9号"}
    response = client.post(f"{API}/applications", headers=bearer(head), json=body)
    assert response.status_code == 201, response.json
    assert response.json["kind"] == "application" and response.json["status"] == "in_progress"
    assert response.json["customer_class"] == "lv_resident" and response.json["load_kw"] == 8
    # the utility decides the class: a firm asking for 500 kW is high voltage, single supply
    firm = client.post(f"{API}/applications", headers=bearer(head), json={
        **body, "customer_type": "non_resident", "load_kw": 500, "capacity_kva": 630})
    assert firm.status_code == 201 and firm.json["customer_class"] == "hv_single"
    pending = client.post(f"{API}/applications", headers=bearer(head), json={**body, "accept": False})
    assert pending.json["status"] == "pending_acceptance"
    too_early = client.post(f"{API}/applications", headers=bearer(head), json={
        **body, "applied_at": "2001-01-01T09:00:00+08:00"})
    assert too_early.status_code == 422 and set(too_early.json["fields"]) == {"applied_at"}
    bad = client.post(f"{API}/applications", headers=bearer(head), json={
        **body, "load_kw": -1, "customer_type": "giant", "important": "maybe"})
    assert bad.status_code == 422
    assert set(bad.json["fields"]) == {"load_kw", "customer_type", "important"}
    # a class is not the customer's to choose: an unknown field is refused, not obeyed
    chosen = client.post(f"{API}/applications", headers=bearer(head), json={
        **body, "customer_class": "hv_dual"})
    assert chosen.status_code == 422 and set(chosen.json["fields"]) == {"customer_class"}


# -- dispatching ------------------------------------------------------------------------------

def test_a_stale_version_gets_409_with_the_fresh_order(client, db, head):
    order_id, version = new_repair(db)
    first, second = crews_of(db)[:2]
    assert assign(client, head, order_id, first, version).status_code == 201
    stale = assign(client, head, order_id, second, version)
    assert stale.status_code == 409 and stale.json["error"] == "conflict"
    assert "Someone else changed this work order" in stale.json["message"]
    assert stale.json["order"]["version"] == version + 1
    assert stale.json["order"]["status"] == "dispatched"
    assert stale.json["order"]["crew"]["id"] == first
    assert len(events_of(db, order_id, "dispatch")) == 1


def test_support_crews_join_and_foreign_crews_are_refused(client, db, head):
    order_id, version = new_repair(db)
    lead, support = crews_of(db)[:2]
    assign(client, head, order_id, lead, version)
    joined = assign(client, head, order_id, support, version + 1, role="support")
    assert joined.status_code == 201
    assert sorted(a["role"] for a in joined.json["assignments"]) == ["lead", "support"]
    foreign = assign(client, head, order_id, crews_of(db, CHANGBEI)[0], version + 2, "support")
    assert foreign.status_code == 422 and "crew_id" in foreign.json["fields"]
    missing = client.post(f"{API}/work-orders/{order_id}/assignments", headers=bearer(head),
                          json={"role": "boss"})
    assert set(missing.json["fields"]) == {"crew_id", "version", "role"}


# -- field steps -------------------------------------------------------------------------------

def test_a_crew_runs_its_repair_from_the_phone_and_retries_are_not_applied_twice(client, db, head):
    crew = token(client, "crew", "portal-demo")
    order_id, version = new_repair(db)
    assign(client, head, order_id, crew_of_user(db, "crew"), version)
    keys = {step: unique(f"{step}-") for step in ("accept", "depart", "arrive", "restore")}
    for step, key in keys.items():
        sent = {"action": step, "client_key": key, "at": utcnow().isoformat()}
        first = client.post(f"{API}/work-orders/{order_id}/events", headers=bearer(crew), json=sent)
        assert first.status_code == 201, first.json
        assert first.json["replayed"] is False
        again = client.post(f"{API}/work-orders/{order_id}/events", headers=bearer(crew), json=sent)
        assert again.status_code == 200 and again.json["replayed"] is True
    assert again.json["order"]["status"] == "restored"
    actions = [e.action for e in events_of(db, order_id)]
    assert actions == ["created", "dispatch", "accept", "depart", "arrive", "restore"]
    close = client.post(f"{API}/work-orders/{order_id}/events", headers=bearer(crew),
                        json={"action": "close", "client_key": unique("close-")})
    assert close.status_code == 403  # closing is the station's


def test_step_requests_are_validated(client, db, head):
    order_id, version = new_repair(db)
    url = f"{API}/work-orders/{order_id}/events"
    neither = client.post(url, headers=bearer(head), json={"action": "accept"})
    assert neither.status_code == 422
    assert set(neither.json["fields"]) == {"version", "client_key"}
    wrong = client.post(url, headers=bearer(head), json={"action": "arrive", "version": version})
    assert wrong.status_code == 422 and "action" in wrong.json["fields"]
    future = client.post(url, headers=bearer(head), json={
        "action": "cancel", "reason": "duplicate", "version": version,
        "at": (utcnow() + timedelta(hours=1)).isoformat()})
    assert future.json["fields"] == {"at": "This time lies in the future."}
    transfer = client.post(url, headers=bearer(head), json={"action": "transfer", "version": version})
    assert set(transfer.json["fields"]) == {"reason", "unit_id"}
    key = client.post(url, headers=bearer(head), json={"action": "note", "note": "x",
                                                       "client_key": "short"})
    assert set(key.json["fields"]) == {"client_key"}
    moved = client.post(url, headers=bearer(head), json={
        "action": "transfer", "version": version, "reason": "their street",
        "unit_id": unit_of(db, CHANGBEI).id})
    assert moved.status_code == 201 and moved.json["order"]["status"] == "transferred"


def test_a_note_on_an_application_and_no_repair_steps_on_it(client, db, head):
    where = unit_of(db, CHANGYI)
    created = client.post(f"{API}/applications", headers=bearer(head), json={
        "business_type": "new_connection", "customer_type": "resident", "load_kw": 8,
        "customer_name": "赵四", "lat": where.lat, "lon": where.lon, "address": "测试路10号"})
    url = f"{API}/work-orders/{created.json['id']}/events"
    key = unique("note-")
    note = client.post(url, headers=bearer(head), json={"action": "note", "note": "called",
                                                        "client_key": key})
    assert note.status_code == 201
    assert client.post(url, headers=bearer(head), json={"action": "note", "note": "called",
                                                        "client_key": key}).json["replayed"]
    assert len(events_of(db, created.json["id"], "note")) == 1
    step = client.post(url, headers=bearer(head), json={"action": "accept", "version": 1})
    assert step.status_code == 422 and "action" in step.json["fields"]


# -- photos ------------------------------------------------------------------------------------

def upload(client, headers, order_id, data: bytes, name: str = "photo.jpg", **form):
    return client.post(f"{API}/work-orders/{order_id}/attachments", headers=headers,
                       data={"file": (io.BytesIO(data), name), **form},
                       content_type="multipart/form-data")


def test_a_photo_is_stored_outside_served_folders_and_read_back_in_scope(client, db, head,
                                                                          upload_dir):
    order_id, _v = new_repair(db)
    response = upload(client, bearer(head), order_id, JPEG, "现场.jpg", note="the pole")
    assert response.status_code == 201, response.json
    photo = response.json
    assert photo["content_type"] == "image/jpeg" and photo["size"] == len(JPEG)
    assert photo["sha256"] == hashlib.sha256(JPEG).hexdigest()
    with db.read() as s:
        row = s.get(Attachment, photo["id"])
    stored = upload_dir / row.stored_name
    assert stored.read_bytes() == JPEG and row.stored_name != "现场.jpg"
    assert resource_dir("assets") not in stored.resolve().parents
    assert client.get(f"/assets/{row.stored_name}").status_code == 404
    timeline = events_of(db, order_id, "photo_added")
    assert len(timeline) == 1 and timeline[0].reason == "the pole"
    again = upload(client, bearer(head), order_id, JPEG)
    assert again.status_code == 200 and again.json["id"] == photo["id"]  # a retried upload
    back = client.get(photo["url"], headers=bearer(head))
    assert back.status_code == 200 and back.data == JPEG
    assert back.headers["Content-Type"] == "image/jpeg"
    assert back.headers["X-Content-Type-Options"] == "nosniff"
    assert back.headers["Content-Disposition"].startswith("inline;")
    other = token(client, head_of(db, CHANGBEI))
    foreign = client.get(photo["url"], headers=bearer(other))
    assert foreign.status_code == 403
    assert client.get(f"{API}/attachments/2000000000", headers=bearer(other)).json == foreign.json


def test_a_photo_is_checked_by_its_bytes_and_its_size(client, db, head, upload_dir):
    order_id, _v = new_repair(db)
    html = upload(client, bearer(head), order_id, b"<html><script>alert(1)</script></html>")
    assert html.status_code == 422
    assert html.json["fields"] == {"file": "Only JPEG, PNG or WebP photos can be uploaded."}
    png = upload(client, bearer(head), order_id, PNG, "p.jpg")
    assert png.status_code == 201 and png.json["content_type"] == "image/png"
    big = upload(client, bearer(head), order_id, JPEG[:4] + b"\x00" * (10 * 1024 * 1024))
    assert big.status_code == 413 and big.json["error"] == "too_large"
    empty = client.post(f"{API}/work-orders/{order_id}/attachments", headers=bearer(head),
                        data={"note": "no file"}, content_type="multipart/form-data")
    assert empty.status_code == 422 and set(empty.json["fields"]) == {"file"}
    text = client.post(f"{API}/work-orders/{order_id}/attachments", headers=bearer(head),
                       data={"file": "not a file"}, content_type="multipart/form-data")
    assert text.status_code == 422 and text.json["fields"] == {"file": "Send a file here."}
    with db.read() as s:
        count = s.scalar(select(func.count()).where(Attachment.work_order_id == order_id))
    assert count == 1 and len(list(upload_dir.iterdir())) == 1


def test_a_photo_can_document_a_step_sent_with_its_key(client, db, head, upload_dir):
    order_id, version = new_repair(db)
    key = unique("cancel-")
    client.post(f"{API}/work-orders/{order_id}/events", headers=bearer(head), json={
        "action": "cancel", "reason": "duplicate", "version": version, "client_key": key})
    linked = upload(client, bearer(head), order_id, JPEG + b"1", event_client_key=key)
    assert linked.status_code == 201
    with db.read() as s:
        event_id = s.scalar(select(Attachment.event_id).where(Attachment.id == linked.json["id"]))
        cancel_id = s.scalar(select(WorkOrderEvent.id).where(WorkOrderEvent.client_key == key))
    assert event_id == cancel_id
    unknown = upload(client, bearer(head), order_id, JPEG + b"2", event_client_key=unique("no-"))
    assert unknown.status_code == 422 and set(unknown.json["fields"]) == {"event_client_key"}


# -- crews -------------------------------------------------------------------------------------

def test_a_crew_reports_positions_one_at_a_time_or_in_a_batch(client, db, head):
    crew = token(client, "crew", "portal-demo")
    url = f"{API}/crews/me/pings"
    one = client.post(url, headers=bearer(crew), json={"lat": 43.881, "lon": 126.574,
                                                       "accuracy_m": 12})
    assert one.status_code == 201 and one.json == {"accepted": 1, "rejected": []}
    now = utcnow()
    batch = client.post(url, headers=bearer(crew), json={"pings": [
        {"lat": 43.882, "lon": 126.575, "at": (now - timedelta(minutes=3)).isoformat()},
        {"lat": 43.883, "lon": 126.576, "at": (now - timedelta(days=2)).isoformat()},
        {"lat": 43.884, "lon": 126.577}]})  # now: the latest
    assert batch.status_code == 201
    assert batch.json["accepted"] == 2 and [r["index"] for r in batch.json["rejected"]] == [1]
    crews = client.get(f"{API}/crews", headers=bearer(head)).json["items"]
    mine = next(c for c in crews if c["id"] == crew_of_user(db, "crew"))
    assert mine["position"]["lat"] == pytest.approx(43.884) and mine["position"]["fresh"]
    assert mine["members"] and mine["unit"]["code"].startswith(CHANGYI)
    assert {c["unit"]["code"][:len(CHANGYI)] for c in crews} == {CHANGYI}  # only the own station
    too_many = client.post(url, headers=bearer(crew), json={"pings": [{"lat": 43.8, "lon": 126.5}] * 51})
    assert too_many.status_code == 422 and set(too_many.json["fields"]) == {"pings"}
    bad = client.post(url, headers=bearer(crew), json={"pings": [{"lat": 99, "lon": 126.5}]})
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"pings.0.lat"}
    neither = client.post(url, headers=bearer(crew), json={})
    assert neither.status_code == 422 and set(neither.json["fields"]) == {"lat", "lon"}


def test_the_crews_queue_is_in_working_order(client, db, head):
    crew = token(client, "crew", "portal-demo")
    crew_id = crew_of_user(db, "crew")
    low, v_low = new_repair(db, urgency=3)
    urgent, v_urgent = new_repair(db, urgency=1)
    assign(client, head, low, crew_id, v_low)
    assign(client, head, urgent, crew_id, v_urgent)
    queue = client.get(f"{API}/crews/me/work-orders", headers=bearer(crew)).json["items"]
    ids = [o["id"] for o in queue]
    assert ids.index(urgent) < ids.index(low)
    # The job it is on, the one it drives to, then by urgency and deadline; restored ones last.
    step = {"on_site": 0, "en_route": 1}
    keys = [(o["status"] == "restored", step.get(o["status"], 2), o["urgency"] or 9, o["due_at"] or "9")
            for o in queue]
    assert keys == sorted(keys)
    me = client.get(f"{API}/me", headers=bearer(crew)).json
    assert me["crew_id"] == crew_id and me["role"] == "crew"


# -- errors for anything else -----------------------------------------------------------------

def test_unknown_routes_wrong_methods_and_big_bodies_answer_json(client, head):
    unknown = client.get(f"{API}/no-such-thing", headers=bearer(head))
    assert unknown.status_code == 404 and unknown.json["error"] == "not_found"
    wrong = client.put(f"{API}/work-orders", headers=bearer(head), json={})
    assert wrong.status_code == 405 and wrong.json["error"] == "method_not_allowed"
    assert wrong.headers["Allow"] == "GET"
    huge = client.post(f"{API}/repairs", headers=bearer(head),
                       data=b'{"address": "' + b"x" * (2 * 1024 * 1024) + b'"}',
                       content_type="application/json")
    assert huge.status_code == 413 and huge.json["error"] == "too_large"


@pytest.mark.parametrize("body, content_type", [
    (b"", "application/json"),
    (b"null", "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b"{\"source\": ", "application/json"),
    (b"\xff\xfe\x00", "application/json"),
    (b"[" * 50_000 + b"]" * 50_000, "application/json"),
    (b"9" * 5000, "application/json"),
    (b'{"urgency": ' + b"9" * 5000 + b"}", "application/json"),
    (b'{"urgency": 1e999, "lat": NaN, "lon": Infinity, "client_id": 99999999999999999999}',
     "application/json"),
    (b'{"address": "\\u0000\\ud800", "customer_name": {"a": [1]}}', "application/json"),
    (b"source=app&category=metering", "application/x-www-form-urlencoded"),
    (b"<xml/>", "text/xml"),
])
def test_bad_bodies_are_refused_never_a_500(client, head, body, content_type):
    response = client.post(f"{API}/repairs", headers=bearer(head), data=body,
                           content_type=content_type)
    assert response.status_code in (400, 415, 422), response.json
    assert set(response.json) == {"error", "message", "fields"}
    assert "Missing data" not in response.text and "Not a valid" not in response.text


# -- assignments follow the life cycle; support crews; step times -----------------------------

def open_assignments(db, order_id: int) -> list[tuple[int, str]]:
    with db.read() as s:
        return sorted((a.crew_id, a.role) for a in s.scalars(select(OrderAssignment).where(
            OrderAssignment.work_order_id == order_id, OrderAssignment.released_at.is_(None))))


def test_a_support_crew_sees_the_repair_only_while_it_helps_and_never_drives_its_steps(client, db, head):
    crew = token(client, "crew", "portal-demo")
    mine = crew_of_user(db, "crew")
    order_id, version = new_repair(db)
    lead = next(c for c in crews_of(db) if c != mine)
    assign(client, head, order_id, lead, version)
    assert assign(client, head, order_id, mine, version + 1, role="support").status_code == 201
    url = f"{API}/work-orders/{order_id}"
    assert client.get(url, headers=bearer(crew)).status_code == 200
    step = client.post(f"{url}/events", headers=bearer(crew),
                       json={"action": "accept", "client_key": unique("support-")})
    assert step.status_code == 403  # only the lead crew reports the steps
    note = client.post(f"{url}/events", headers=bearer(crew),
                       json={"action": "note", "note": "cable cut at the pole", "client_key": unique("n-")})
    assert note.status_code == 201
    # Handed to another station: every assignment ends, the support crew loses the order.
    other = unit_of(db, CHANGBEI)
    moved = client.post(f"{url}/events", headers=bearer(head), json={
        "action": "transfer", "unit_id": other.id, "reason": "wrong territory", "version": version + 2})
    assert moved.status_code == 201, moved.json
    assert open_assignments(db, order_id) == []
    assert client.get(url, headers=bearer(crew)).status_code == 403


def test_a_support_crew_made_lead_has_one_open_assignment(client, db, head):
    order_id, version = new_repair(db)
    first, second = crews_of(db)[:2]
    assign(client, head, order_id, first, version)
    assign(client, head, order_id, second, version + 1, role="support")
    assert open_assignments(db, order_id) == sorted([(first, "lead"), (second, "support")])
    assert assign(client, head, order_id, second, version + 2).status_code == 201
    assert open_assignments(db, order_id) == [(second, "lead")]


def test_a_key_used_for_one_step_cannot_stand_for_another(client, db, head):
    crew = token(client, "crew", "portal-demo")
    order_id, version = new_repair(db)
    assign(client, head, order_id, crew_of_user(db, "crew"), version)
    url = f"{API}/work-orders/{order_id}/events"
    key = unique("k-")
    first = client.post(url, headers=bearer(crew), json={"action": "accept", "client_key": key})
    assert first.status_code == 201
    reused = client.post(url, headers=bearer(crew), json={"action": "depart", "client_key": key})
    assert reused.status_code == 422 and "client_key" in reused.json["fields"]


def test_the_age_of_a_step_sets_its_time_whatever_the_phones_clock(client, db, head):
    crew = token(client, "crew", "portal-demo")
    where = unit_of(db, CHANGYI)
    with db.write() as s:  # reported ten minutes ago, dispatched five minutes ago
        order = repairs.create_repair(s, None, repairs.RepairInput(
            source="hotline_95598", category="low_voltage", urgency=2, lat=where.lat, lon=where.lon,
            address="吉林市昌邑区测试路2号", reported_at=utcnow() - timedelta(minutes=10)))
        repairs.repair_action(s, None, order.id, order.version, "dispatch", crew_id=crew_of_user(db, "crew"),
                              now=utcnow() - timedelta(minutes=5))
        order_id = order.id
    url = f"{API}/work-orders/{order_id}/events"
    sent = client.post(url, headers=bearer(crew), json={"action": "accept", "client_key": unique("a-"),
                                                         "age_s": 90})
    assert sent.status_code == 201, sent.json
    accepted = events_of(db, order_id, "accept")[0]
    lag = (accepted.recorded_at - accepted.at).total_seconds()
    assert 85 <= lag <= 120
    both = client.post(url, headers=bearer(crew), json={"action": "depart", "client_key": unique("d-"),
                                                         "age_s": 5, "at": utcnow().isoformat()})
    assert both.status_code == 422 and {"at", "age_s"} <= set(both.json["fields"])
    too_old = client.post(url, headers=bearer(crew), json={
        "action": "depart", "client_key": unique("d-"), "at": (utcnow() - timedelta(days=2)).isoformat()})
    assert too_old.status_code == 422 and "at" in too_old.json["fields"]

"""Deny by default: every route and every callback, enumerated from the app itself."""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import select

from station_portal.auth.roles import Role
from station_portal.org.models import Staff, Unit
from station_portal.pages import registry
from tests.dash_calls import DASH_UPDATE, body_for, call, dash_app_of, text_of

# The only routes an anonymous caller may use, and why.
PUBLIC = {
    "/login": "the sign-in page",
    "/logout": "signing out an expired session must still land on the sign-in page",
    "/healthz": "load balancer health check, reveals nothing",
    "/readyz": "readiness probe: which check failed, no versions, paths or errors",
    "/metrics": "Prometheus; answers only its token or networks (web/metrics.py)",
    "/assets/<path:filename>": "CSS, fonts, icons",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": "library JS",
    "/_favicon.ico": "icon",
    "/api/v1/openapi.json": "the REST API's OpenAPI document (describes, reveals no data)",
    "/api/v1/docs": "the REST API's Swagger UI page",
    "/api/v1/docs/static/<path:filename>": "Swagger UI's JavaScript and CSS",
    "/api/v1/tokens": "exchanging a password for a bearer token (throttled like sign-in)",
    "/service": "customer self-service: the start page",
    "/service/apply": "customer: apply online (rate-limited, CSRF)",
    "/service/made": "customer: the number and code of the case just made, once",
    "/service/report": "customer: report a fault (rate-limited, CSRF)",
    "/service/track": "customer: open a case with its number and code (rate-limited)",
    "/service/case/<number>": "customer: a case this browser proved to hold",
    "/service/case/<number>/documents": "customer: documents for a held case",
    "/service/case/<number>/works": "customer: own works finished on a held case",
    "/service/case/<number>/sign": "customer: sign the contract of a held case",
    "/service/case/<number>/rate": "customer: rate a held case",
    "/service/forget": "customer: forget the held cases in this browser",
    "/service/outages": "public outage notices and the lookup by account, case number or address "
                        "(public by rule; rate-limited)",
    "/kiosk/<code>": "hall kiosk: take a queue ticket (no account; the hall's touch screen)",
    "/kiosk/<code>/ticket": "hall kiosk: the ticket form (rate-limited per address, CSRF)",
    "/kiosk/<code>/slip": "hall kiosk: the slip of the ticket this browser took",
    "/kiosk/<code>/display": "hall TV: the numbers called and their counters",
}


def _concrete(rule: str) -> str:
    out = rule
    for placeholder, value in (("<path:filename>", "portal.css"), ("<string:package_name>", "dash"),
                               ("<path:fingerprinted_path>", "x.js"), ("<path:path>", "org")):
        out = out.replace(placeholder, value)
    return "/" + out.lstrip("/") if out else "/"


def test_every_route_refuses_an_anonymous_caller(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.rule in PUBLIC or rule.rule.startswith("/static"):
            continue
        url = _concrete(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, json={} if method == "POST" else None)
            checked += 1
            if method == "GET" and not url.startswith(("/_dash-", "/_reload", "/api/")):
                assert response.status_code == 302, (method, url)
                assert response.headers["Location"].startswith("/login"), (method, url)
            else:
                assert response.status_code == 401, (method, url, response.status_code)
                assert response.json["error"] == "unauthenticated"
    assert checked >= 6


def test_the_public_list_is_exactly_what_the_app_serves_publicly(app):
    rules = {r.rule for r in app.url_map.iter_rules()}
    assert set(PUBLIC) <= rules
    # The guard lets the customer pages and hall kiosks through by prefix: each such route
    # must be listed here on purpose (it checks its own caller).
    from station_portal.web.guard import PUBLIC_HTML_PREFIXES

    by_prefix = {r for r in rules if r == "/service" or r.startswith(PUBLIC_HTML_PREFIXES)}
    assert by_prefix <= set(PUBLIC), sorted(by_prefix - set(PUBLIC))


def test_every_callback_declares_its_roles(app):
    callbacks = dash_app_of(app).callback_map
    policies = app.extensions["station_portal"].callback_policies
    assert len(callbacks) >= 10
    assert set(callbacks) == set(policies), "register callbacks with secure_callback()"


def test_every_callback_refuses_an_anonymous_caller(app, client):
    for callback_id in dash_app_of(app).callback_map:
        response = client.post(DASH_UPDATE, json=body_for(app, callback_id))
        assert response.status_code == 401, callback_id
        assert response.json["error"] == "unauthenticated"
        assert "children" not in response.text


def test_admin_callbacks_refuse_other_roles(app, as_user):
    head = as_user("head")
    admin_only = [k for k, p in app.extensions["station_portal"].callback_policies.items()
                  if p.roles == frozenset({Role.ADMIN})]
    assert admin_only
    for callback_id in admin_only:
        response = head.post(DASH_UPDATE, json=body_for(app, callback_id))
        assert response.status_code == 403, callback_id


def test_unknown_and_malformed_callback_calls_are_refused_not_crashed(app, as_user):
    head = as_user("head")
    key = next(iter(dash_app_of(app).callback_map))
    good = body_for(app, key)
    bad_bodies = [
        {}, [], "x", {"output": 5}, {**good, "output": "nope.children"},
        {**good, "inputs": "x"}, {**good, "inputs": [{"id": 1}]}, {**good, "inputs": []},
        {**good, "outputs": None}, {**good, "state": [{"id": "a", "property": "b"}] * 9},
        {**good, "changedPropIds": [{"x": 1}]}, {**good, "changedPropIds": [7]},
        {**good, "changedPropIds": ["someone-else.value"]},
        {**good, "outputs": [good["outputs"]]},  # a list for a single output
        {**good, "outputs": {"id": "users-table", "property": "rowData"}},  # another output
        {**good, "inputs": [{**i, "id": "other"} for i in good["inputs"]]},
    ]
    for bad in bad_bodies:
        response = head.post(DASH_UPDATE, json=bad)
        assert response.status_code in (400, 404), (bad, response.status_code)
    assert head.post(DASH_UPDATE, data="{not json", content_type="application/json") \
        .status_code == 400


GARBAGE = [None, "", "x" * 500, -1, 0, 2**40, 3.5, True, [], [1, "a", None], {"a": 1},
           {"rowId": "1 OR 1=1"}, {"rowId": 2**40}, "?unit=1'--", "?unit=99999999999",
           "../../etc/passwd", "<script>", "a\x00b", "0001-01-01", "9999-12-31", "中文", "x\ud83d",
           {"sortModel": 5, "filterModel": {"code": {"type": {}}}}]


@pytest.mark.parametrize("username", ["admin", "head", "crew"])
def test_no_callback_input_produces_a_server_error(app, as_user, username):
    """Fuzz every callback the role may call with garbage in every input and state."""
    client = as_user(username)
    rng = random.Random(11)
    policies = app.extensions["station_portal"].callback_policies
    for callback_id, entry in dash_app_of(app).callback_map.items():
        policy = policies[callback_id]
        if policy.clientside:
            continue
        for _round in range(6):
            values = [rng.choice(GARBAGE) for _ in entry["inputs"]]
            state = [rng.choice(GARBAGE) for _ in entry.get("state", [])]
            response = client.post(DASH_UPDATE, json=body_for(
                app, callback_id, values, state, changed=rng.randrange(len(entry["inputs"]))))
            assert response.status_code < 500, (callback_id, values, state, response.text[:300])


def test_a_station_head_gets_nothing_from_another_stations_unit(app, db, as_user):
    with db.read() as s:
        other = s.scalar(select(Unit).where(Unit.code == "JL-CH-S"))
        other_names = [n for (n,) in s.execute(
            select(Staff.name_latin).join(Unit).where(Unit.path.startswith(other.path)))]
        own = s.scalar(select(Unit).where(Unit.code == "JL-CY-S"))
    head = as_user("head")
    forged = call(head, app, "org-details", "children", [f"?unit={other.id}"])
    assert forged.status_code == 200
    text = text_of(forged)
    assert "portal-out-of-scope" in text
    assert other.name_en not in text and other.name_zh not in text
    assert not any(name in text for name in other_names)
    # the map and tree in the same answer show only the head's own station
    figure = forged.json["response"]["org-map"]["figure"]
    locations = [loc for trace in figure["data"] for loc in trace.get("locations", [])]
    assert locations == [own.id]
    assert str(other.id) not in json.dumps(forged.json["response"]["org-tree"])


def test_a_station_head_sees_their_own_units_details(app, db, as_user):
    with db.read() as s:
        own = s.scalar(select(Unit).where(Unit.code == "JL-CY-S"))
        staff = s.scalar(select(Staff.name_latin).join(Unit).where(Unit.parent_id == own.id))
    response = call(as_user("head"), app, "org-details", "children", [f"?unit={own.id}"])
    assert response.status_code == 200
    assert own.name_en in text_of(response) and staff in text_of(response)


def test_roles_only_reach_their_pages(app, as_user):
    for username in ("admin", "head", "crew", "clerk"):
        client = as_user(username)
        for page in registry():
            response = call(client, app, "page-content", "children", [page.path], [""])
            assert response.status_code == 200
            forbidden = "page-forbidden" in response.text
            role = Role({"admin": "admin", "head": "station_head", "crew": "crew",
                         "clerk": "clerk"}[username])
            assert forbidden == (role not in page.roles), (username, page.path)


def test_the_editor_sends_a_users_area_with_the_areas_of_their_role(app, db, as_user):
    """The area dropdown drops a value it has no option for: both must arrive together."""
    from station_portal.auth.models import User

    with db.read() as s:
        manager = s.scalar(select(User).where(User.username == "manager"))
        uid, scope = manager.id, manager.scope_unit_id
    response = call(as_user("admin"), app, "users-editor", "is_open",
                    [{"rowId": str(uid)}, None])
    answer = response.json["response"]
    assert answer["users-f-scope"]["value"] == scope
    assert scope in [o["value"] for o in answer["users-f-scope"]["options"]]

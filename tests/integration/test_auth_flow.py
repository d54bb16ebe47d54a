"""Signing in and out over HTTP: fixation, replay after logout, idle timeout, throttling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from station_portal import create_app
from station_portal.audit import AuditEvent
from station_portal.auth.models import AuthSession, User
from station_portal.config import ConfigError
from station_portal.db import utcnow
from station_portal.services.users import UserInput, create_user
from tests.dash_calls import DASH_UPDATE, body_for, call, callback_id_for
from tests.helpers import TEST_SECRET, app_config, csrf_of, fresh_database, sign_in, unique

PASSWORD = "correct horse battery"


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("portal_session")
    return cookie.value if cookie else None


def make_user(db, role="admin") -> str:
    name = unique("f")
    with db.write() as s:
        create_user(s, None, username=name, password=PASSWORD,
                    data=UserInput(display_name="Flow", role=role), allow_demo_password=False)
    return name


def test_signing_in_lands_on_the_home_page(app):
    client = app.test_client()
    response = sign_in(client, "head")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    home = call(client, app, "page-content", "children", ["/"], [""])
    assert "home-content" in home.text


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(app):
    client = app.test_client()
    page = client.get("/login?next=/org")
    response = client.post("/login", data={"username": "head", "password": "portal-demo",
                                           "csrf": csrf_of(page.text), "next": "/org"})
    assert response.headers["Location"] == "/org"
    client = app.test_client()
    page = client.get("/login")
    response = client.post("/login", data={"username": "head", "password": "portal-demo",
                                           "csrf": csrf_of(page.text),
                                           "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


def test_a_session_cookie_from_before_sign_in_is_not_reused(app):
    """Session fixation: the cookie planted before sign-in is not the one that is signed in."""
    client = app.test_client()
    client.get("/login")
    planted = session_cookie(client)
    sign_in(client, "head")
    assert session_cookie(client) != planted
    attacker = app.test_client()
    attacker.set_cookie("portal_session", planted)
    assert attacker.get("/").status_code == 302


def test_a_cookie_copied_before_logout_no_longer_works(app, db):
    name = make_user(db)
    client = app.test_client()
    sign_in(client, name, PASSWORD, ip="10.3.0.1")
    copied = session_cookie(client)
    assert call(client, app, "page-content", "children", ["/"], [""]).status_code == 200
    response = client.post("/logout", data={"csrf": csrf_of_shell(client, app)})
    assert response.status_code == 302
    replay = app.test_client()
    replay.set_cookie("portal_session", copied)
    assert replay.get("/").status_code == 302
    assert call(replay, app, "page-content", "children", ["/"], [""]).status_code == 401
    with db.read() as s:
        assert s.scalar(select(AuditEvent.action).where(AuditEvent.subject == name)
                        .order_by(AuditEvent.id.desc()).limit(1)) == "sign_out"


def csrf_of_shell(client, app) -> str:
    """The CSRF token the navigation bar's sign-out form carries."""
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200
    return csrf_of_layout(layout.json)


def csrf_of_layout(node) -> str:
    if isinstance(node, dict):
        props = node.get("props", {})
        if props.get("name") == "csrf":
            return props["value"]
        for value in [*list(props.values()), node.get("children")]:
            found = csrf_of_layout(value)
            if found:
                return found
    if isinstance(node, list):
        for item in node:
            found = csrf_of_layout(item)
            if found:
                return found
    return ""


def test_logout_needs_the_forms_token(app):
    client = app.test_client()
    sign_in(client, "head")
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_an_idle_session_ends_and_says_why(app, db):
    name = make_user(db)
    client = app.test_client()
    sign_in(client, name, PASSWORD, ip="10.3.1.1")
    assert client.get("/").status_code == 200
    with db.write() as s:
        uid = s.scalar(select(User.id).where(User.username == name))
        s.execute(update(AuthSession).where(AuthSession.user_id == uid)
                  .values(last_seen_at=utcnow() - timedelta(minutes=31)))
    response = client.get("/org")
    assert response.status_code == 302 and "reason=idle" in response.headers["Location"]
    with db.read() as s:
        row = s.scalar(select(AuthSession).where(AuthSession.user_id == uid))
        assert row.end_reason == "idle"


def test_polling_does_not_keep_a_session_alive(app, db):
    name = make_user(db)
    client = app.test_client()
    sign_in(client, name, PASSWORD, ip="10.3.2.1")
    with db.write() as s:
        uid = s.scalar(select(User.id).where(User.username == name))
        s.execute(update(AuthSession).where(AuthSession.user_id == uid)
                  .values(last_seen_at=utcnow() - timedelta(minutes=10)))
    key = callback_id_for(app, "page-content", "children")
    body = body_for(app, key, ["/"], [""])
    body["changedPropIds"] = ["live-interval.n_intervals"]
    client.post(DASH_UPDATE, json=body)
    with db.read() as s:
        seen = s.scalar(select(AuthSession.last_seen_at).where(AuthSession.user_id == uid))
    assert utcnow() - seen > timedelta(minutes=9)
    client.get("/")  # a real page view does
    with db.read() as s:
        seen = s.scalar(select(AuthSession.last_seen_at).where(AuthSession.user_id == uid))
    assert utcnow() - seen < timedelta(minutes=1)


def test_repeated_failures_are_locked_with_a_clear_message(app, db):
    name = make_user(db)
    client = app.test_client()
    for _i in range(4):
        assert sign_in(client, name, "wrong", ip="10.3.3.1").status_code == 401
    locked = sign_in(client, name, "wrong", ip="10.3.3.1")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.text and int(locked.headers["Retry-After"]) > 0
    assert sign_in(client, name, PASSWORD, ip="10.3.3.2").status_code == 429
    with db.read() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.subject == name)).all()
    assert actions.count("sign_in_failed") == 5 and "sign_in_locked" in actions


def test_wrong_credentials_say_so_in_chinese_too(app):
    client = app.test_client()
    page = client.get("/login?lang=zh_CN")
    response = client.post("/login", data={"username": unique("x"), "password": "nope",
                                           "csrf": csrf_of(page.text)},
                           environ_base={"REMOTE_ADDR": "10.3.4.1"})
    assert response.status_code == 401 and "用户名或密码错误" in response.text


def test_a_sign_in_form_without_its_token_is_refused(app):
    client = app.test_client()
    response = client.post("/login", data={"username": "head", "password": "portal-demo"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_production_refuses_to_start_while_demo_passwords_exist(db):
    with pytest.raises(ConfigError, match="demo password"):
        create_app(app_config(db, env="production"))


def test_production_refuses_the_demo_password_at_sign_in(tmp_path):
    database = fresh_database("sqlite", tmp_path)
    with database.write() as s:
        create_user(s, None, username="boss", password="portal-demo",
                    data=UserInput(display_name="Boss", role="admin"), allow_demo_password=True)
        s.execute(update(User).values(password_is_demo=False))  # slipped past the start check
    prod = create_app(app_config(database, env="production", secret_key=TEST_SECRET))
    client = prod.test_client()
    response = sign_in(client, "boss", "portal-demo")
    assert response.status_code == 401 and "Demo passwords are not accepted" in response.text


def test_a_reset_account_must_change_its_password_before_anything_else(app, db):
    from station_portal.services.users import reset_password

    name = make_user(db, role="admin")
    with db.write() as s:
        uid = s.scalar(select(User.id).where(User.username == name))
        _user, temporary = reset_password(s, None, uid, None)
    client = app.test_client()
    response = sign_in(client, name, temporary, ip="10.3.5.1")
    assert response.headers["Location"] == "/account"
    page = call(client, app, "page-content", "children", ["/admin/users"], [""])
    assert "account-must-change" in page.text
    blocked = call(client, app, "users-table", "rowData", [None, None, 0])
    assert blocked.status_code == 403


def test_changing_ones_password_ends_the_other_sessions_but_not_this_one(app, db):
    name = make_user(db)
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, name, PASSWORD, ip="10.3.6.1")
    sign_in(elsewhere, name, PASSWORD, ip="10.3.6.2")
    new = "another long passphrase"
    response = call(here, app, "account-feedback", "children", [1], [PASSWORD, new, new])
    assert "account-changed" in response.text
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302


def test_guessing_the_current_password_counts_like_failed_sign_ins(app, db):
    name = make_user(db)
    client = app.test_client()
    sign_in(client, name, PASSWORD, ip="10.3.7.1")
    new = "another long passphrase"
    for _i in range(5):
        wrong = call(client, app, "account-feedback", "children", [1], ["guess", new, new])
        assert "current password is wrong" in wrong.text or "Too many" in wrong.text
    locked = call(client, app, "account-feedback", "children", [1], [PASSWORD, new, new])
    assert "Too many wrong passwords" in locked.text  # even the right one, while locked
    with db.read() as s:
        failures = s.scalar(select(func.count()).where(
            AuditEvent.action == "sign_in_failed", AuditEvent.subject == name))
    assert failures == 5


def test_a_username_with_control_characters_is_just_wrong(app):
    client = app.test_client()
    page = client.get("/login")
    response = client.post("/login", data={"username": "adm\x00in", "password": "portal-demo",
                                           "csrf": csrf_of(page.text)},
                           environ_base={"REMOTE_ADDR": "10.3.8.1"})
    assert response.status_code == 401


def test_a_next_address_with_line_breaks_is_ignored(app):
    client = app.test_client()
    sign_in(client, "head")
    response = client.get("/login?next=/a%0D%0ASet-Cookie:x=1")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_signing_out_of_an_expired_session_lands_on_sign_in(app):
    client = app.test_client()
    response = client.post("/logout", data={"csrf": "whatever"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]

"""The interface language is chosen in the navigation bar and sticks for that user."""

from __future__ import annotations

from sqlalchemy import select

from station_portal.auth.models import User
from station_portal.org.models import Unit
from station_portal.services.users import UserInput, create_user
from tests.dash_calls import call, text_of
from tests.helpers import sign_in, unique


def test_switching_language_sticks_for_the_user(app, db):
    name = unique("lang")
    with db.write() as s:
        station = s.scalar(select(Unit.id).where(Unit.code == "JL-FM-S"))
        create_user(s, None, username=name, password="correct horse battery",
                    data=UserInput(display_name="Lang", role="station_head", scope_unit_id=station),
                    allow_demo_password=False)
    client = app.test_client()
    sign_in(client, name, "correct horse battery", ip="10.4.0.1")
    english = client.get("/_dash-layout")
    assert "Organisation" in text_of(english)

    response = call(client, app, "reload-signal", "data", [1, None], changed=0)
    assert response.status_code == 200 and response.json["response"]["reload-signal"]["data"] \
        == "zh_CN"
    with db.read() as s:
        assert s.scalar(select(User.locale).where(User.username == name)) == "zh_CN"
    assert "组织机构" in text_of(client.get("/_dash-layout"))

    # a new sign-in (another browser) keeps the choice
    other = app.test_client()
    sign_in(other, name, "correct horse battery", ip="10.4.0.2")
    assert "组织机构" in text_of(other.get("/_dash-layout"))

    call(client, app, "reload-signal", "data", [None, 1], changed=1)
    assert "Organisation" in text_of(client.get("/_dash-layout"))


def test_the_sign_in_page_follows_the_browser_then_the_choice(app):
    client = app.test_client()
    assert "登录" in client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert "Sign in" in client.get("/login", headers={"Accept-Language": "en-US"}).text
    assert "登录" in client.get("/login?lang=zh_CN", headers={"Accept-Language": "en-US"}).text
    assert "登录" in client.get("/login", headers={"Accept-Language": "en-US"}).text

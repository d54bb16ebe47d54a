"""The hall's public kiosk and calling display over HTTP, and the staff pages' callbacks
(counter, hall dashboard) with their scope checks."""

from __future__ import annotations

import re
from datetime import time

import pytest
from sqlalchemy import select

from station_portal.auth.models import User
from station_portal.hall.demo import build_halls
from station_portal.hall.models import HallTicket, ServiceHall
from station_portal.org.models import Unit
from tests.conftest import csrf_of
from tests.dash_calls import call, text_of

KIOSK = "T-KIOSK"


@pytest.fixture(scope="module")
def kiosk_hall(db):
    """The demo halls and an all-day test hall at the clerk's station (once per database)."""
    with db.write() as s:
        if not s.scalar(select(ServiceHall.id).limit(1)):
            build_halls(s, seed=7)
        hall = s.scalar(select(ServiceHall).where(ServiceHall.code == KIOSK))
        if hall is None:
            unit = s.scalar(select(Unit).where(Unit.code == "JL-CH-S"))
            hall = ServiceHall(code=KIOSK, name_zh="全天测试营业厅", name_en="All-day test hall",
                               level="B", unit_id=unit.id, address="测试路9号", lat=unit.lat,
                               lon=unit.lon, counters=4, counter_groups=None, opens_at=time(0, 0),
                               closes_at=time(23, 59, 59), open_days="1111111",
                               open_on_holidays=True)
            s.add(hall)
            s.flush()
        return hall.id


def ip(n: int) -> dict:
    return {"REMOTE_ADDR": f"10.77.{n}.{n}"}


def test_the_kiosk_shows_a_button_per_business_with_people_waiting(client, kiosk_hall):
    page = client.get(f"/kiosk/{KIOSK}?lang=en", environ_base=ip(1))
    assert page.status_code == 200
    for code in ("resident_case", "business_case", "payment", "enquiry"):
        assert f'id="take-{code}"' in page.text
    assert "Waiting:" in page.text and "All-day test hall" in page.text
    chinese = client.get(f"/kiosk/{KIOSK}?lang=zh_CN", environ_base=ip(1))
    assert "全天测试营业厅" in chinese.text and 'lang="zh-CN"' in chinese.text


def test_taking_a_ticket_shows_the_slip_and_a_reload_takes_no_second_number(app, db, client,
                                                                              kiosk_hall):
    page = client.get(f"/kiosk/{KIOSK}?lang=en", environ_base=ip(2))
    posted = client.post(f"/kiosk/{KIOSK}/ticket", environ_base=ip(2),
                         data={"csrf": csrf_of(page.text), "business": "resident_case"})
    assert posted.status_code == 302 and posted.headers["Location"].endswith(f"/kiosk/{KIOSK}/slip")
    slip = client.get(f"/kiosk/{KIOSK}/slip", environ_base=ip(2))
    label = re.search(r'id="ticket-label">([A-Z]\d{3})<', slip.text).group(1)
    assert label.startswith("A") and "Resident business case" in slip.text
    assert "People ahead of you" in slip.text and "window.print()" in slip.text
    assert "Service standard: 20 min" in slip.text
    again = client.get(f"/kiosk/{KIOSK}/slip", environ_base=ip(2))
    assert label in again.text
    with db.read() as s:
        assert s.scalar(select(HallTicket).where(HallTicket.hall_id == kiosk_hall,
                                                 HallTicket.label == label)).business == "resident_case"


def test_a_ticket_without_the_forms_token_or_for_no_business_is_refused(db, client, kiosk_hall):
    with db.read() as s:
        before = len(s.scalars(select(HallTicket.id).where(HallTicket.hall_id == kiosk_hall)).all())
    forged = client.post(f"/kiosk/{KIOSK}/ticket", data={"business": "payment"},
                         environ_base=ip(3))
    assert forged.status_code == 400 and "form expired" in forged.text
    page = client.get(f"/kiosk/{KIOSK}", environ_base=ip(3))
    for business in ("", "caviar", "x" * 5000):
        wrong = client.post(f"/kiosk/{KIOSK}/ticket", environ_base=ip(3),
                            data={"csrf": csrf_of(page.text), "business": business})
        assert wrong.status_code == 422 and "Choose one of the listed businesses" in wrong.text
    with db.read() as s:
        after = len(s.scalars(select(HallTicket.id).where(HallTicket.hall_id == kiosk_hall)).all())
    assert after == before


def test_an_unknown_hall_is_a_404_page_in_the_visitors_language(client):
    english = client.get("/kiosk/NO-SUCH-HALL", headers={"Accept-Language": "en"})
    assert english.status_code == 404 and "There is no service hall" in english.text
    assert "<html" in english.text
    chinese = client.get("/kiosk/NO-SUCH-HALL/display", headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 404 and 'lang="zh-CN"' in chinese.text
    assert "返回首页" in chinese.text  # the page's own words (the message follows the catalog)


def test_taking_tickets_is_rate_limited_per_address(client, kiosk_hall):
    page = client.get(f"/kiosk/{KIOSK}", environ_base=ip(4))
    token = csrf_of(page.text)
    answers = [client.post(f"/kiosk/{KIOSK}/ticket", environ_base=ip(4),
                           data={"csrf": token, "business": "enquiry"}).status_code
               for _i in range(25)]
    assert answers.count(302) == 20 and answers[-1] == 429


def test_the_display_shows_the_called_number_and_its_counter(app, db, client, kiosk_hall, as_user):
    page = client.get(f"/kiosk/{KIOSK}", environ_base=ip(5))
    client.post(f"/kiosk/{KIOSK}/ticket", environ_base=ip(5),
                data={"csrf": csrf_of(page.text), "business": "payment"})
    clerk = as_user("clerk")
    answer = call(clerk, app, "counter-refresh", "data", [1, None, None, None, None, None],
                  state=[kiosk_hall, 3, ["B"], None, None, None])
    assert answer.status_code == 200, answer.text
    assert "called to counter 3" in text_of(answer)
    display = client.get(f"/kiosk/{KIOSK}/display?lang=en")
    now = re.search(r'id="display-now">([A-Z]\d{3})<', display.text).group(1)
    assert now.startswith("B") and "Please go to counter 3" in display.text
    assert 'http-equiv="refresh"' in display.text


def test_the_counter_shows_only_halls_in_the_clerks_area(app, db, as_user, kiosk_hall):
    options = call(as_user("clerk"), app, "counter-hall", "options", [1])
    codes = text_of(options)
    assert "All-day test hall" in codes and "Jilin Central Service Hall" in codes
    assert "Changyi District Service Hall" not in codes
    with db.read() as s:
        changyi = s.scalar(select(ServiceHall.id).where(ServiceHall.code == "JL-CY-B01"))
    forged = call(as_user("clerk"), app, "counter-refresh", "data",
                  [1, None, None, None, None, None], state=[changyi, 1, ["A", "B", "C"], None,
                                                           None, None])
    assert "There is no such service hall in your area" in text_of(forged)
    assert call(as_user("crew"), app, "counter-hall", "options", [1]).status_code == 403


def test_the_hall_dashboard_gives_a_forged_hall_nothing(app, db, as_user, kiosk_hall):
    with db.read() as s:
        changyi = s.scalar(select(ServiceHall.id).where(ServiceHall.code == "JL-CY-B01"))
        gdz = s.scalar(select(ServiceHall.id).where(ServiceHall.code == "JL-CY-GDZ-C01"))
    head = as_user("head")  # Changyi station: its B hall only
    mine = text_of(call(head, app, "halls-message", "children", [None, None, None]))
    assert "Changyi District Service Hall" in mine and "Gudianzi" not in mine
    forged = text_of(call(head, app, "halls-message", "children", [None, gdz, None]))
    assert "outside your area" in forged and "Gudianzi" not in forged.split("halls-message")[-1]
    bad_day = text_of(call(head, app, "halls-message", "children", ["2020-13-45", changyi, None]))
    assert "This is not a date" in bad_day
    manager = text_of(call(as_user("manager"), app, "halls-message", "children",
                           [None, None, None]))
    assert "Level A" in manager and "Gudianzi" in manager
    assert call(as_user("clerk"), app, "halls-message", "children", [None, None, None]
                ).status_code == 403


def test_the_clerk_is_a_demo_account_scoped_to_the_city_centre_station(db):
    with db.read() as s:
        clerk = s.scalar(select(User).where(User.username == "clerk"))
        assert clerk.role == "clerk" and clerk.scope_unit.code == "JL-CH-S"


def test_before_opening_the_dashboard_shows_the_last_day_with_tickets(db, kiosk_hall):
    """No day chosen and no ticket yet today: the board says so and shows the last busy day."""
    from datetime import timedelta

    from station_portal.auth.scope import scope_for
    from station_portal.callbacks.hall_dashboard import load_board
    from station_portal.db import utcnow
    from station_portal.hall.queue import local_day
    from station_portal.services import hall as service

    now = utcnow()
    today = local_day(now)
    with db.write() as s:
        hall = s.get(ServiceHall, kiosk_hall)
        scope = scope_for(s, s.scalar(select(User).where(User.username == "manager")))
        s.execute(HallTicket.__table__.delete().where(HallTicket.hall_id == kiosk_hall,
                                                      HallTicket.day >= today - timedelta(days=2)))
        service.take_ticket(s, hall, "resident_case", now=now - timedelta(days=2))
        board = load_board(s, scope, None, kiosk_hall, now, with_year=False)
        assert board.fallback and board.day == local_day(now - timedelta(days=2))
        assert board.headline["waiting"] == 1
        chosen = load_board(s, scope, today.isoformat(), kiosk_hall, now, with_year=False)
        assert not chosen.fallback and chosen.day == today
        s.rollback()

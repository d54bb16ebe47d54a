"""The hall's public kiosk and calling display over HTTP, and the staff pages' callbacks
(counter, hall dashboard) with their scope checks."""

from __future__ import annotations

import logging
import re
import time as clock
from datetime import UTC, datetime, time

import pytest
from sqlalchemy import select, text

from station_portal import create_app
from station_portal.auth.models import User
from station_portal.db import utcnow
from station_portal.demo.city import build_demo_city
from station_portal.hall.demo import TIME_COLUMNS, build_halls, seed_demo_halls
from station_portal.hall.models import HallTicket, ServiceHall
from station_portal.hall.queue import local_day
from station_portal.org.models import Unit
from station_portal.ratelimit import retry_after
from station_portal.timefmt import SHANGHAI
from tests.dash_calls import call, text_of
from tests.helpers import app_config, csrf_of, fresh_database

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
    assert "People ahead of you" in slip.text and 'id="print-slip"' in slip.text
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
    # The limit is per minute of the clock (a fixed window): 25 posts that straddle
    # a minute's end would meet two windows, so start in a fresh one.
    if retry_after(60) < 20:
        clock.sleep(retry_after(60) + 0.5)
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


# -- the demo halls' seeded year ---------------------------------------------------------------

@pytest.fixture(scope="module")
def seeded(engine_name, tmp_path_factory):
    """A database of its own: the demo city and its 16 halls with the seeded tickets up to
    16:00 today (Jilin time), so today's queues hold numbers called, waiting and cancelled;
    and an app on it (the display is a plain Flask page)."""
    database = fresh_database(engine_name, tmp_path_factory.mktemp("seeded-halls"))
    until = datetime.combine(local_day(utcnow()), time(16, 0), tzinfo=SHANGHAI).astimezone(UTC)
    with database.write() as s:
        build_demo_city(s, seed=7)
        report = seed_demo_halls(s, days=3, now=until)
    assert report.halls == 16 and report.tickets > 0
    flask_app = create_app(app_config(database))
    flask_app.config["TESTING"] = True
    yield database, flask_app
    database.dispose()


def test_the_calling_display_of_every_seeded_demo_hall_opens(seeded):
    """The seed once stored missing times as the text "Na ", and 9 of the 16 displays
    answered 500. Every display opens, and an open hall shows the number called last."""
    database, flask_app = seeded
    with database.read() as s:
        codes = s.scalars(select(ServiceHall.code).order_by(ServiceHall.code)).all()
    assert len(codes) == 16
    browser = flask_app.test_client()
    answers = {code: browser.get(f"/kiosk/{code}/display?lang=en") for code in codes}
    assert {code: r.status_code for code, r in answers.items()} == dict.fromkeys(codes, 200)
    assert 'id="display-now"' in answers["JL-A01"].text  # the A hall opens every day


def test_the_seed_leaves_a_missing_time_empty(seeded):
    """A ticket still waiting has no call time, a cancelled one was never served: the
    seed leaves those times NULL, and every time it wrote reads back as a time."""
    database, _app = seeded
    with database.read() as s:
        waiting = s.scalars(select(HallTicket).where(HallTicket.status == "waiting")).all()
        cancelled = s.scalars(select(HallTicket).where(HallTicket.status == "cancelled")).all()
        assert waiting and cancelled
        assert all(t.called_at is None and t.finished_at is None for t in waiting)
        assert all(t.started_at is None and t.first_called_at is None for t in cancelled)
        done = s.scalars(select(HallTicket).where(HallTicket.status == "done")).all()
        assert all(t.called_at <= t.started_at <= t.finished_at for t in done)
        if database.backend == "sqlite":
            for column in TIME_COLUMNS:
                odd = s.execute(text(
                    f"SELECT count(*) FROM hall_tickets WHERE typeof({column}) = 'text' "  # noqa: S608
                    f"AND {column} NOT GLOB '[12][0-9][0-9][0-9]-*'")).scalar()
                assert odd == 0, column


def test_a_ticket_row_with_an_unreadable_time_is_skipped_and_logged(seeded, caplog):
    """A row left by the old seed (its call time the text "Na "): the display still opens,
    shows the other numbers, and the log names the ticket and the column."""
    database, flask_app = seeded
    if database.backend != "sqlite":
        pytest.skip("PostgreSQL's timestamp columns refuse such text")
    today = local_day(utcnow())
    with database.write() as s:
        hall_id = s.scalar(select(ServiceHall.id).where(ServiceHall.code == "JL-A01"))
        s.execute(text(
            'INSERT INTO hall_tickets (hall_id, day, seq, label, "group", business, hour, '
            "taken_at, first_called_at, called_at, recalls, counter, status, transfers, version) "
            "VALUES (:hall, :day, 9999, 'Z999', 'A', 'payment', 9, :taken, :taken, 'Na ', 0, 1, "
            "'called', 0, 1)"),
            {"hall": hall_id, "day": today.isoformat(),
             "taken": f"{today.isoformat()} 01:00:00.000000"})
        bad_id = s.scalar(select(HallTicket.id).where(HallTicket.hall_id == hall_id,
                                                      HallTicket.label == "Z999"))
    caplog.set_level(logging.WARNING, logger="station_portal.hall.stats")
    display = flask_app.test_client().get("/kiosk/JL-A01/display?lang=en")
    assert display.status_code == 200
    assert "Z999" not in display.text and 'id="display-now"' in display.text
    lines = [r.getMessage() for r in caplog.records if str(bad_id) in r.getMessage()]
    assert lines == [f"Hall ticket {bad_id} skipped: its called_at holds 'Na ', "
                     "not a time."]

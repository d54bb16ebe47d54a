"""Trying to keep a customer out of their own case, and to guess case numbers.

Before: 30 wrong codes for one case number in an hour, from anywhere, refused the right
code too, so anyone could lock a customer out of tracking from many networks; and case
numbers were the day and the order's id, so the next one was the last one plus one.
"""

from __future__ import annotations

import itertools
import re

from station_portal.services import applications, customer
from tests.helpers import csrf_of, site


def _case(db, channel: str = "online", code: str | None = None) -> tuple[str, str, int]:
    """A new open application the customer tracks: (number, code, id)."""
    lat, lon = site(db)
    with db.write() as s:
        order = applications.create_application(s, None, applications.ApplicationInput(
            business_type="new_connection", customer_type="resident", load_kw=8,
            customer_name="王丽", lat=lat, lon=lon, address="吉林市船营区解放路 12 号"))
        given = customer.grant_access(s, order, channel=channel, code=code)
        return order.code, given, order.id


def _track(app, number: str, code: str, ip: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    page = client.get("/service/track")
    return client.post("/service/track", data={"n": number, "c": code,
                                               "csrf": csrf_of(page.text)})


def test_forty_networks_of_wrong_codes_do_not_keep_the_customer_out(app, db):
    number, code, _id = _case(db)
    answers = [_track(app, number, "AAAA-AAAA", f"10.{120 + n}.3.1").status_code
               for n in range(40)]
    assert answers == [404] * 40, "each network has its own budget"
    right = _track(app, number, code, "192.168.30.5")
    assert right.status_code == 302 and right.headers["Location"].endswith(f"/case/{number}")


def test_one_network_guessing_one_case_waits_and_the_customer_elsewhere_gets_in(app, db):
    number, code, _id = _case(db)
    answers = [_track(app, number, f"AAAA-AAA{i}", f"10.60.4.{i + 1}").status_code
               for i in range(8)]
    assert answers == [404] * 8
    held = _track(app, number, code, "10.60.4.99")  # even the right code, from that network
    assert held.status_code == 429 and int(held.headers["Retry-After"]) > 0
    assert "Too many wrong case numbers or codes from your network" in held.text
    assert 'id="error-hotline"' in held.text
    assert _track(app, number, code, "10.60.5.1").status_code == 302


def test_one_network_guessing_many_cases_is_stopped_there_only(app, db):
    number, code, _id = _case(db)
    answers = [_track(app, f"A20260101{n:08d}", "AAAA-AAAA", f"10.61.4.{n + 1}").status_code
               for n in range(30)]
    assert answers == [404] * 30
    assert _track(app, number, code, "10.61.4.200").status_code == 429
    assert _track(app, number, code, "10.61.5.1").status_code == 302


def test_case_numbers_do_not_follow_the_order_id(db):
    numbers = [_case(db) for _i in range(5)]
    for number, _code, order_id in numbers:
        assert re.fullmatch(r"A\d{8}\d{8}", number), number
        assert not number.endswith(f"{order_id:07d}")
    tails = [int(number[-8:]) for number, _c, _i in numbers]
    assert len(set(tails)) == 5
    assert [b - a for a, b in itertools.pairwise(tails)] != [1] * 4


def test_demo_codes_open_nothing_outside_demo_mode(db):
    """The demo seed's codes are derived from the case numbers with a published key."""
    number, code, order_id = _case(db, channel="demo", code="DEMO-CASE")
    with db.read() as s:
        assert customer.find_case(s, number, code, demo_codes=False) is None
        assert customer.find_case(s, number, code, demo_codes=True).id == order_id
    online, online_code, online_id = _case(db)
    with db.read() as s:
        assert customer.find_case(s, online, online_code, demo_codes=False).id == online_id

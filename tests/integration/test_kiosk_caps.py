"""Emptying a hall's queue from a script, or from outside the hall.

Before: a kiosk handed out tickets without end (20 a minute per address, any number of
addresses), and in production from any address unless PORTAL_KIOSK_NETWORKS was set.
Now each hall gives out at most its level's daily cap (``data/service_hall.toml``), then
says so with the 95598 hotline; in production tickets come only from the configured
networks (none while PORTAL_KIOSK_NETWORKS is unset; ``0.0.0.0/0,::/0`` opens them all).
"""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import func, select, update

from station_portal import create_app
from station_portal.config import DEMO, PRODUCTION, Config
from station_portal.db import utcnow
from station_portal.demo.city import build_demo_city
from station_portal.hall.catalog import load_catalog
from station_portal.hall.demo import build_halls
from station_portal.hall.models import HallTicket, ServiceHall
from station_portal.hall.queue import local_day, local_hour
from station_portal.org.models import Unit
from station_portal.services import hall as service
from tests.helpers import TEST_SECRET, app_config, csrf_of, fresh_database

CAPPED, OTHER = "T-CAP", "T-NET"


def _all_day_hall(db, code: str, level: str) -> int:
    """A hall of its own, open all day (made once per database, active)."""
    with db.write() as s:
        if not s.scalar(select(ServiceHall.id).limit(1)):  # the demo halls first, as other
            build_halls(s, seed=7)  # tests expect them whenever any hall exists
        hall = s.scalar(select(ServiceHall).where(ServiceHall.code == code))
        if hall is None:
            unit = s.scalar(select(Unit).where(Unit.code == "JL-CH-S"))
            hall = ServiceHall(code=code, name_zh="测试营业厅", name_en="Test hall",
                               level=level, unit_id=unit.id, address="测试路10号", lat=unit.lat,
                               lon=unit.lon, counters=1, counter_groups=None,
                               opens_at=time(0, 0), closes_at=time(23, 59, 59),
                               open_days="1111111", open_on_holidays=True)
            s.add(hall)
            s.flush()
        hall.active = True
        return hall.id


@pytest.fixture(scope="module")
def capped_hall(db):
    """A hall of the shared database, closed again afterwards (the demo simulation of
    other tests takes tickets in every active hall)."""
    hall_id = _all_day_hall(db, CAPPED, "C")
    yield hall_id
    with db.write() as s:
        s.execute(update(ServiceHall).where(ServiceHall.id == hall_id).values(active=False))


def _fill(db, hall_id: int, up_to: int) -> None:
    """Today's tickets of the hall, numbered up to ``up_to`` (as if taken and served)."""
    now = utcnow()
    day = local_day(now)
    with db.write() as s:
        have = s.scalar(select(func.max(HallTicket.seq)).where(
            HallTicket.hall_id == hall_id, HallTicket.day == day)) or 0
        s.add_all(HallTicket(
            hall_id=hall_id, day=day, seq=n, label=f"B{n:03d}", group="B", business="payment",
            standard_minutes=5, hour=local_hour(now), taken_at=now, status="done", recalls=0,
            transfers=0, version=1) for n in range(have + 1, up_to + 1))


def _today(db, hall_id: int) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(HallTicket).where(
            HallTicket.hall_id == hall_id, HallTicket.day == local_day(utcnow())))


def _take(client, address: str, code: str = CAPPED):
    page = client.get(f"/kiosk/{code}?lang=en", environ_base={"REMOTE_ADDR": address})
    return client.post(f"/kiosk/{code}/ticket", environ_base={"REMOTE_ADDR": address},
                       data={"csrf": csrf_of(page.text), "business": "payment"})


def test_a_hall_gives_out_its_daily_cap_then_names_the_hotline(app, db, capped_hall):
    cap = load_catalog().daily_cap("C")
    assert cap == 400
    _fill(db, capped_hall, cap - 1)
    client = app.test_client()
    assert _take(client, "10.63.0.1").status_code == 302, "the last ticket of the day"
    refused = _take(client, "10.63.0.2")
    assert refused.status_code == 429
    assert "This hall has given out all 400 queue tickets it can serve today" in refused.text
    assert "95598" in refused.text and 'id="kiosk-message"' in refused.text
    assert _today(db, capped_hall) == cap, "nothing taken past the cap"
    with db.write() as s, pytest.raises(service.NoTicketsLeft):
        service.take_ticket(s, s.get(ServiceHall, capped_hall), "payment")


def test_which_addresses_may_take_tickets():
    demo, production = Config(env=DEMO), Config(env=PRODUCTION, secret_key=TEST_SECRET)
    assert demo.kiosk_allows("203.0.113.9"), "demo: any address while none is set"
    assert not production.kiosk_allows("10.20.1.1"), "production: none while none is set"
    halls = Config(env=PRODUCTION, secret_key=TEST_SECRET,
                   kiosk_networks="10.20.0.0/16, 2001:db8:20::/48")
    assert halls.kiosk_allows("10.20.1.1") and halls.kiosk_allows("::ffff:10.20.9.9")
    assert halls.kiosk_allows("2001:db8:20:1::5")
    assert not halls.kiosk_allows("10.21.0.1") and not halls.kiosk_allows("2001:db8:21::5")
    assert not halls.kiosk_allows(None) and not halls.kiosk_allows("not-an-address")
    anyone = Config(env=PRODUCTION, secret_key=TEST_SECRET, kiosk_networks="0.0.0.0/0,::/0")
    assert anyone.kiosk_allows("203.0.113.9") and anyone.kiosk_allows("2001:db8::1")


def test_a_production_kiosk_outside_the_halls_networks_gives_no_ticket(tmp_path):
    database = fresh_database("sqlite", tmp_path)  # production: no demo accounts
    with database.write() as s:
        build_demo_city(s, seed=7, demo_mode=False)
    hall_id = _all_day_hall(database, OTHER, "C")
    for networks, address, status in (("", "10.20.1.1", 403),
                                      ("10.20.0.0/16", "10.64.0.1", 403),
                                      ("10.20.0.0/16", "10.20.1.2", 302)):
        prod = create_app(app_config(database, env=PRODUCTION, secret_key=TEST_SECRET,
                                     kiosk_networks=networks, upload_dir=str(tmp_path / "up")))
        answer = _take(prod.test_client(), address, OTHER)
        assert answer.status_code == status, (networks, address, answer.text[:300])
        if status == 403:
            assert "Queue tickets are taken at the hall" in answer.text
    assert _today(database, hall_id) == 1
    database.dispose()

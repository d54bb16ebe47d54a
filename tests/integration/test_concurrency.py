"""Many requests at once over real HTTP: no pool exhaustion, no lock bypass, no 500."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from station_portal.audit import AuditEvent
from station_portal.services.users import UserInput, create_user
from tests.dash_calls import DASH_UPDATE, body_for, callback_id_for
from tests.helpers import http_sign_in, unique

PASSWORD = "correct horse battery"


def make_admin(db) -> str:
    name = unique("c")
    with db.write() as s:
        create_user(s, None, username=name, password=PASSWORD,
                    data=UserInput(display_name="Busy", role="admin"), allow_demo_password=False)
    return name


def test_many_concurrent_writes_neither_exhaust_the_pool_nor_fail(app, db, live_app):
    """Each request reads, then writes: it must never hold two connections at once."""
    name = make_admin(db)
    client, response = http_sign_in(live_app.url, name, PASSWORD)
    assert response.status_code == 302
    switch = body_for(app, callback_id_for(app, "reload-signal", "data"), [1, None])
    home = body_for(app, callback_id_for(app, "home-content", "children"), ["admin"])

    def work(i: int) -> int:
        body = switch if i % 2 else home
        return client.post(f"{live_app.url}{DASH_UPDATE}", json=body, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        codes = list(pool.map(work, range(80)))
    assert codes.count(200) == 80, codes


def test_concurrent_sign_ins_to_one_account_all_succeed(db, live_app):
    name = make_admin(db)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: http_sign_in(live_app.url, name, PASSWORD)[1].status_code,
                                range(8)))
    assert results == [302] * 8


def test_parallel_guesses_do_not_get_past_the_lock(db, live_app):
    name = make_admin(db)
    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(lambda i: http_sign_in(live_app.url, name, f"guess-{i}")[1].status_code,
                              range(30)))
    assert set(codes) <= {401, 429}
    with db.read() as s:
        failures = s.scalar(select(func.count()).where(
            AuditEvent.action == "sign_in_failed", AuditEvent.subject == name))
    assert failures == 5  # PORTAL_LOGIN_MAX_FAILURES: every further guess met the lock

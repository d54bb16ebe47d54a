"""The live polls' shared cache and fingerprints (callbacks/_live.py, dispatch/live.py, the
dashboards' one-statement fingerprint), on every engine: a change always shows on the next
poll, boards of one scope share a computation, and two scopes never share an entry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from station_portal.analytics.dashboards import common
from station_portal.auth.models import User
from station_portal.auth.roles import Role
from station_portal.auth.scope import scope_for
from station_portal.callbacks import dashboards as dashboard_callbacks
from station_portal.callbacks import dispatch as dispatch_callbacks
from station_portal.db import utcnow
from station_portal.dispatch.live import board_stamp
from station_portal.org.models import Crew, Unit
from station_portal.services import dispatch as dispatch_service
from station_portal.services import orders
from station_portal.services.users import UserInput, create_user
from station_portal.workorders.models import WorkOrder
from tests.dash_calls import call
from tests.helpers import board_repair as new_repair

CHANGYI, OTHER = "JL-CY-S", "JL-CH-S"


def head_of(db, station: str) -> str:
    """A station head account for ``station`` (made once per database)."""
    username = f"live-head-{station.lower()}"
    with db.write() as s:
        if s.scalar(select(User.id).where(User.username == username)) is None:
            unit = s.scalar(select(Unit).where(Unit.code == station))
            create_user(s, None, username=username, password="portal-demo",
                        data=UserInput(display_name=username, role=Role.STATION_HEAD.value,
                                       scope_unit_id=unit.id),
                        allow_demo_password=True, password_is_demo=True)
    return username


def scope_of(db, username: str):
    with db.read() as s:
        return scope_for(s, s.scalar(select(User).where(User.username == username)))


def dispatch_poll(client, app, known):
    response = call(client, app, "board-delta", "data", [1], [known])
    assert response.status_code == 200, response.text[:300]
    return response.json["response"]["board-delta"]["data"]


def merged(known: dict, delta: dict) -> dict:
    known = {k: v for k, v in known.items() if k not in delta["remove"]}
    known.update(delta["prints"])
    return known


def test_boards_of_one_scope_share_one_computation_and_see_every_change(app, db, as_user):
    """Two heads of the same station: after a new repair, the first poll builds the board's
    features, the second takes them from the cache, and both show the repair."""
    first, second = as_user(head_of(db, CHANGYI)), as_user("head")
    assert scope_of(db, head_of(db, CHANGYI)).unit_ids == scope_of(db, "head").unit_ids
    known_a = merged({}, dispatch_poll(first, app, None))
    known_b = merged({}, dispatch_poll(second, app, None))
    order = new_repair(db, address="Shared cache street 1")
    cache = dispatch_callbacks.LIVE
    misses, hits = cache.misses, cache.hits
    delta_a = dispatch_poll(first, app, known_a)
    delta_b = dispatch_poll(second, app, known_b)
    assert f"o{order.id}" in {f["id"] for f in delta_a["upsert"]}
    assert f"o{order.id}" in {f["id"] for f in delta_b["upsert"]}
    assert (cache.misses - misses, cache.hits - hits) == (1, 1)
    # and quiet again for both, from the same entry
    assert dispatch_poll(first, app, merged(known_a, delta_a))["upsert"] == []
    assert dispatch_poll(second, app, merged(known_b, delta_b))["upsert"] == []


def test_two_scopes_never_share_an_entry(app, db, as_user):
    """A head of another station polls right after the Changyi head: its answer holds its
    own station's orders only, never the cached Changyi board."""
    mine, other = as_user("head"), as_user(head_of(db, OTHER))
    order = new_repair(db, address="Scoped cache street 2")
    here = dispatch_poll(mine, app, None)
    there = dispatch_poll(other, app, None)
    assert f"o{order.id}" in {f["id"] for f in here["upsert"]}
    assert f"o{order.id}" not in {f["id"] for f in there["upsert"]}
    with db.read() as s:
        other_units = scope_of(db, head_of(db, OTHER)).unit_ids
        theirs = set(s.scalars(select(WorkOrder.id).where(WorkOrder.unit_id.in_(other_units))))
    shown = {f["properties"]["id"] for f in there["upsert"] if f["id"].startswith("o")}
    assert shown and shown <= theirs


def test_a_dashboard_of_one_scope_is_computed_once_per_change(app, db, as_user):
    """Two heads of one station on the operations board: one computation after a change,
    both get the new data; a head of another station gets its own."""
    from station_portal.analytics.dashboards import default_range

    start, end = default_range(utcnow(), 1)
    clients = [as_user("head"), as_user(head_of(db, CHANGYI)), as_user(head_of(db, OTHER))]
    knowns = []
    for client in clients:
        answer = call(client, app, "dash-ops-map", "figure", [start.isoformat(),
                                                              end.isoformat(), None])
        knowns.append(answer.json["response"]["dash-ops-known"]["data"])
    new_repair(db, address="Dashboard cache street 3")
    cache = dashboard_callbacks.LIVE
    misses = cache.misses
    answers = []
    for client, known in zip(clients, knowns, strict=True):
        response = call(client, app, "dash-ops-live", "children", [1],
                        [start.isoformat(), end.isoformat(), None, known])
        assert response.status_code == 200, response.text[:300]
        answers.append(response.json["response"])
    assert "dash-ops-map" in answers[0] and "dash-ops-map" in answers[1]
    assert answers[0]["dash-ops-known"] == answers[1]["dash-ops-known"]
    # the other station's board: its own fingerprint changed? only if the repair were there
    assert "dash-ops-map" not in answers[2]
    assert cache.misses - misses == 1


def test_the_dashboards_fingerprint_is_one_statement_and_agrees_with_the_orders(db):
    now = utcnow()
    with db.read() as s:
        for username in ("head", "gridmgr", "manager"):
            scope = scope_for(s, s.scalar(select(User).where(User.username == username)))
            filters = common.make_filters(s, scope, None, None, None, now)
            stamp = common.fingerprint(s, filters, now)
            query = select(func.max(WorkOrder.updated_at))
            opened = select(func.count(WorkOrder.id)).where(WorkOrder.closed_at.is_(None))
            if filters.unit_ids is not None:
                query = query.where(WorkOrder.unit_id.in_(filters.unit_ids))
                opened = opened.where(WorkOrder.unit_id.in_(filters.unit_ids))
            latest = s.scalar(query)
            assert stamp == f"{latest.timestamp():.3f}:{s.scalar(opened)}:" \
                            f"{int(now.timestamp() // 60)}"


def without_minute(stamp: str) -> list[str]:
    parts = stamp.split("|")
    return parts[:4] + parts[5:]


def test_the_dispatch_fingerprint_moves_with_every_change_the_board_shows(db):
    scope = scope_of(db, "head")
    now = utcnow()

    def stamp(at=None) -> str:
        with db.read() as s:
            return board_stamp(s, scope, at or now)

    before = stamp()
    assert stamp() == before  # nothing changed
    order = new_repair(db, address="Fingerprint street 4")
    after_new = stamp()
    assert after_new != before
    with db.write() as s:
        orders.add_note(s, None, order.id, "a remark on the timeline")
    after_note = stamp()
    assert after_note != after_new
    with db.read() as s:
        crew = s.scalar(select(Crew).where(Crew.unit_id.in_(scope.unit_ids),
                                           Crew.active.is_(True)).order_by(Crew.id))
        crew_id, on_duty = crew.id, crew.on_duty
        lat, lon = crew.last_lat or 43.85, crew.last_lon or 126.55
    with db.write() as s:
        dispatch_service.record_ping(s, None, lat + 0.001, lon, crew_id=crew_id, now=now)
    after_ping = stamp()
    assert after_ping != after_note
    with db.write() as s:
        head = s.scalar(select(User).where(User.username == "head"))
        dispatch_service.set_on_duty(s, head, crew_id, not on_duty)
    assert stamp() != after_ping
    with db.write() as s:
        head = s.scalar(select(User).where(User.username == "head"))
        dispatch_service.set_on_duty(s, head, crew_id, on_duty)
    # a change at another station leaves this board's fingerprint alone
    unchanged = stamp()
    new_repair(db, address="Elsewhere street 5", station_code=OTHER)
    assert stamp() == unchanged


def test_the_dispatch_fingerprint_moves_when_a_time_limit_warns(db):
    """Time changes the board too (an order turns at risk): the fingerprint moves the moment
    it does, not only at the next minute."""
    scope = scope_of(db, "head")
    now = utcnow()
    with db.read() as s:
        warn_at = s.scalar(select(func.min(WorkOrder.warn_at)).where(
            WorkOrder.closed_at.is_(None), WorkOrder.unit_id.in_(scope.unit_ids),
            WorkOrder.warn_at > now))
    if warn_at is None:
        pytest.skip("no open order with a warning time ahead in this station")
    if warn_at.tzinfo is None:
        from datetime import UTC

        warn_at = warn_at.replace(tzinfo=UTC)
    with db.read() as s:
        just_before = board_stamp(s, scope, warn_at - timedelta(milliseconds=500))
        just_after = board_stamp(s, scope, warn_at + timedelta(milliseconds=500))
    assert without_minute(just_before) != without_minute(just_after)

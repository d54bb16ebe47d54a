"""The dispatch board over HTTP: scoped board, live deltas, assign with conflicts, dispatch all,
and the crew's phone list."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from station_portal.auth.models import User
from station_portal.auth.scope import scope_for
from station_portal.db import utcnow
from station_portal.dispatch.board import load_board
from station_portal.org.models import Crew, Unit
from station_portal.workorders.models import WorkOrder, WorkOrderEvent
from tests.dash_calls import body_for, call, callback_id_for, dash_app_of, text_of
from tests.helpers import board_repair as new_repair

STATION = "JL-CY-S"


def poll(client, app, known):
    response = call(client, app, "board-delta", "data", [1], [known])
    assert response.status_code == 200, response.text[:300]
    return response.json["response"]["board-delta"]["data"]


def merged(known: dict, delta: dict) -> dict:
    known = {k: v for k, v in known.items() if k not in delta["remove"]}
    known.update(delta["prints"])
    return known


def test_the_board_holds_only_the_callers_orders_and_crews(app, db):
    order = new_repair(db)
    with db.read() as s:
        head = s.scalar(select(User).where(User.username == "head"))
        gridmgr = s.scalar(select(User).where(User.username == "gridmgr"))
        station = s.scalar(select(Unit).where(Unit.code == STATION))
        board = load_board(s, scope_for(s, head), utcnow())
        other = load_board(s, scope_for(s, gridmgr), utcnow())
        station_crews = set(s.scalars(select(Crew.id).join(Unit, Unit.id == Crew.unit_id)
                                      .where(Unit.parent_id == station.id)))
    assert order.id in {o.id for o in board.orders}
    assert order.id in {o.id for o in board.queue()}
    assert {c.id for c in board.crews} == station_crews
    assert order.id not in {o.id for o in other.orders}
    assert not station_crews & {c.id for c in other.crews}
    queue = board.queue()
    assert [o.due_at for o in queue] == sorted(o.due_at for o in queue)
    # Ranked suggestions: every crew of the station, those who may take it first.
    suggestions = board.suggestions(board.order(order.id))
    assert {s.crew_id for s in suggestions} == station_crews
    ok = [s.on_duty and s.skills_ok and s.in_territory for s in suggestions]
    assert ok == sorted(ok, reverse=True) and ok[0]


def test_polls_send_only_what_changed(app, db, as_user):
    head = as_user("head")
    first = poll(head, app, {})
    assert first["upsert"] and not first["remove"]
    known = merged({}, first)
    assert poll(head, app, known)["upsert"] == []
    order = new_repair(db)
    change = poll(head, app, known)
    assert [f["id"] for f in change["upsert"]] == [f"o{order.id}"]
    assert change["upsert"][0]["properties"]["free"] is True
    known = merged(known, change)
    # A key the browser holds that is gone (or forged) is removed; malformed state means "everything".
    assert poll(head, app, {**known, "o999999999": "x"})["remove"] == ["o999999999"]
    assert len(poll(head, app, ["not", "a", "dict"])["upsert"]) == len(known)


def test_two_heads_assigning_at_once_one_wins_and_the_other_sees_the_fresh_state(app, db, as_user):
    order = new_repair(db, address="Conflict lane 7")
    with db.read() as s:
        crews = s.scalars(select(Crew).where(Crew.code.like("JL-CY-S-R%")).order_by(Crew.code)).all()
    first, second = as_user("head"), as_user("head")
    seen = {"id": order.id, "version": order.version}  # both pages show the same version
    body_first = assign_body(app, crews[0].id, seen)
    body_second = assign_body(app, crews[1].id, seen)
    a = first.post("/_dash-update-component", json=body_first)
    b = second.post("/_dash-update-component", json=body_second)
    assert a.status_code == 200 and b.status_code == 200
    assert f"is dispatched to crew {crews[0].code}" in text_of(a)
    loser = text_of(b)
    assert "Someone else changed" in loser and crews[0].code in loser
    with db.read() as s:
        fresh = s.get(WorkOrder, order.id)
        dispatches = s.scalar(select(func.count()).where(WorkOrderEvent.work_order_id == order.id,
                                                         WorkOrderEvent.action == "dispatch"))
    assert fresh.crew_id == crews[0].id and fresh.version == order.version + 1 and dispatches == 1


def assign_body(app, crew_id: int, seen: dict) -> dict:
    """A click on a crew's "Assign" button, as the browser sends it (a pattern-matched input)."""
    key = callback_id_for(app, "board-message", "children")
    entry = dash_app_of(app).callback_map[key]
    button = {"type": "board-assign", "crew": crew_id, "role": "lead"}
    return {
        "output": key, "outputs": [{"id": "board-message", "property": "children"},
                                   {"id": "board-refresh", "property": "data"}],
        "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]],
        "state": [{"id": s["id"], "property": s["property"], "value": v}
                  for s, v in zip(entry["state"], [seen, 0], strict=True)],
        "changedPropIds": [f'{{"crew":{crew_id},"role":"lead","type":"board-assign"}}.n_clicks'],
    }


def test_an_order_outside_the_heads_area_cannot_be_assigned(app, db, as_user):
    with db.read() as s:
        other = s.scalar(select(Unit.code).where(Unit.kind == "service_station", Unit.code != STATION)
                         .order_by(Unit.code).limit(1))
        crew = s.scalar(select(Crew).where(Crew.code.like("JL-CY-S-R%")).limit(1))
    foreign = new_repair(db, station_code=other)
    seen = {"id": foreign.id, "version": foreign.version}
    answer = as_user("head").post("/_dash-update-component", json=assign_body(app, crew.id, seen))
    assert answer.status_code == 200 and "no such work order in your area" in text_of(answer)
    with db.read() as s:
        assert s.get(WorkOrder, foreign.id).version == foreign.version


def test_dispatch_all_proposes_and_applies_only_the_checked_rows(app, db, as_user):
    mine = [new_repair(db, address=f"Proposal road {i}") for i in range(3)]
    head = as_user("head")
    proposal = call(head, app, "board-proposal-body", "children", [1])
    assert proposal.status_code == 200, proposal.text[:300]
    outputs = proposal.json["response"]
    versions = outputs["board-proposal-versions"]["data"]
    assert {str(o.id) for o in mine} <= set(versions)
    rows = find_rows(outputs["board-proposal-body"]["children"])
    wanted = {str(o.id) for o in mine[:2]}
    for row in rows:
        row["apply"] = row["id"] in wanted
    key = next(k for k, v in dash_app_of(app).callback_map.items()
               if [i["id"] for i in v["inputs"]] == ["board-proposal-apply"])
    applied = head.post("/_dash-update-component", json=body_for(app, key, [1], [rows, versions, 0]))
    assert applied.status_code == 200 and "2 repairs dispatched" in text_of(applied)
    with db.read() as s:
        status = {o.id: s.get(WorkOrder, o.id).status for o in mine}
    assert status == {mine[0].id: "dispatched", mine[1].id: "dispatched", mine[2].id: "reported"}


def find_rows(tree) -> list[dict]:
    if isinstance(tree, dict):
        props = tree.get("props", {})
        if props.get("id") == "board-proposal-grid":
            return props["rowData"]
        for value in props.values():
            found = find_rows(value)
            if found:
                return found
    elif isinstance(tree, list):
        for item in tree:
            found = find_rows(item)
            if found:
                return found
    return []


def test_the_crew_page_lists_the_crews_own_repairs(app, db, as_user):
    order = new_repair(db, address="Crew page road 3")
    with db.write() as s:
        crew_user = s.scalar(select(User).where(User.username == "crew"))
        crew_id = scope_for(s, crew_user).crew_id
        from station_portal.services.dispatch import assign_lead
        assign_lead(s, None, order.id, order.version, crew_id)
    response = call(as_user("crew"), app, "crew-list", "children", [None, 0], [None])
    assert response.status_code == 200
    text = text_of(response)
    assert order.code in text and "Crew page road 3" in text and '"data-action": "accept"' in text
    assert call(as_user("head"), app, "crew-list", "children", [None, 0], [None]).status_code == 403


def test_malformed_pattern_ids_are_refused_not_crashed_on(app, as_user):
    head = as_user("head")
    for changed in ("{bad.n_clicks", '{"crew":1}x.n_clicks', '{"crew":1,"role":"lead"}.n_clicks',
                    '{"crew":1,"role":"lead","type":"other"}.n_clicks',
                    '{"crew":{"a":1},"role":"lead","type":"board-assign"}.n_clicks'):
        body = assign_body(app, 1, {"id": 1, "version": 1})
        body["changedPropIds"] = [changed]
        assert head.post("/_dash-update-component", json=body).status_code == 400, changed
    body = assign_body(app, 1, {"id": 1, "version": 1})
    body["inputs"][0][0]["id"]["role"] = ["lead"]  # a list where the button's role goes
    body["changedPropIds"] = ['{"crew":1,"role":["lead"],"type":"board-assign"}.n_clicks']
    assert head.post("/_dash-update-component", json=body).status_code in (200, 204, 400)


def test_the_boards_polling_does_not_keep_the_session_alive(app, db, as_user):
    from datetime import timedelta

    from sqlalchemy import update

    from station_portal.auth.models import AuthSession

    head = as_user("head")
    with db.write() as s:
        user_id = s.scalar(select(User.id).where(User.username == "head"))
        stale = utcnow() - timedelta(minutes=5)
        s.execute(update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.ended_at.is_(None))
                  .values(last_seen_at=stale))
    poll(head, app, {})
    order = new_repair(db)
    call(head, app, "board-panel", "children", [{"id": order.id}, "print"], changed=1)  # by the print
    with db.read() as s:
        seen = s.scalars(select(AuthSession.last_seen_at).where(AuthSession.user_id == user_id,
                                                                AuthSession.ended_at.is_(None))).all()
    assert seen and all(abs((t - stale).total_seconds()) < 1 for t in seen)


def test_a_crew_is_live_stale_or_unknown_and_the_suggestions_say_so(app, db, as_user):
    """A ping minutes old places a crew; an older one is only "last seen"; without one the crew
    is at its office, perhaps. Crews placed at their office no longer rank first with an ETA."""
    from datetime import timedelta

    order = new_repair(db, address="Provenance road 5")
    seen = utcnow() - timedelta(minutes=40)
    with db.write() as s:
        head = s.scalar(select(User).where(User.username == "head"))
        station = s.scalar(select(Unit).where(Unit.code == STATION))
        board = load_board(s, scope_for(s, head), utcnow())
        free = next(c for c in board.crews if c.on_duty and not c.order_ids and "lv_line" in c.skills)
        crew = s.get(Crew, free.id)
        before = (crew.last_lat, crew.last_lon, crew.last_seen_at)
        ping = (round(station.lat + 0.03, 6), station.lon)  # about 3 km from the office and the order
        crew.last_lat, crew.last_lon, crew.last_seen_at = *ping, seen
    try:
        with db.read() as s:
            scope = scope_for(s, s.scalar(select(User).where(User.username == "head")))
            boards = {age: load_board(s, scope, seen + timedelta(minutes=age)) for age in (5, 40, 180)}
        mine = {age: next(c for c in b.crews if c.id == free.id) for age, b in boards.items()}
        assert [mine[a].position for a in (5, 40, 180)] == ["live", "stale", "unknown"]
        assert (mine[5].lat, mine[5].lon) == ping and (mine[40].lat, mine[40].lon) == ping
        assert (mine[180].lat, mine[180].lon) != ping  # hours old: back to the office
        live = boards[5]
        ranked = live.suggestions(live.order(order.id))
        place = next(i for i, s in enumerate(ranked) if s.crew_id == free.id)
        # Only crews with a live position may rank above it; every crew placed at its office,
        # though the office is next to the order, ranks below it.
        assert all(s.position == "live" for s in ranked[:place])
        assert all(i > place for i, s in enumerate(ranked) if s.may_take and s.position == "unknown")
        assert any(s.may_take and s.position == "unknown" for s in ranked)

        # The panel, now: this crew was seen 40 minutes ago, the others never reported.
        panel = call(as_user("head"), app, "board-panel", "children", [{"id": order.id}, "print"])
        assert panel.status_code == 200, panel.text[:300]
        text = text_of(panel)
        assert re.search(r"last seen 4\d min ago", text) and "position unknown — at the office?" in text
        assert "Above " in text
    finally:
        with db.write() as s:
            crew = s.get(Crew, free.id)
            crew.last_lat, crew.last_lon, crew.last_seen_at = before

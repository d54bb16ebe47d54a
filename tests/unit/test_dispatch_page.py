"""Pure builders of the dispatch board: map features, fingerprints, deltas, reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from station_portal.dispatch.board import BoardCrew, BoardOrder
from station_portal.dispatch.model import CrewState
from station_portal.pages import dispatch as page

NOW = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)


def order(**changes) -> BoardOrder:
    base = dict(id=7, code="R2026070100007", kind="repair", status="reported", sla="at_risk", lat=43.85,
                lon=126.56, unit_id=3, area_type="urban", address="<b>Jiefang Rd 1</b>",
                due_at=NOW + timedelta(minutes=12), version=2, crew_id=None, urgency=1,
                category="metering", current_stage=None, paused=False)
    base.update(changes)
    return BoardOrder(**base)


def crew(**changes) -> BoardCrew:
    state = CrewState(crew_id=4, code="JL-CY-S-R4", lat=43.8, lon=126.5, skills=frozenset({"lv_line"}))
    base = dict(id=4, code="JL-CY-S-R4", unit_id=5, status="free", on_duty=True, members=("Li Ping",),
                skills=frozenset({"lv_line"}), lat=43.8, lon=126.5, reported=False, last_seen_at=None,
                fresh=False, order_ids=(), state=state)
    base.update(changes)
    return BoardCrew(**base)


def test_an_order_feature_carries_kind_sla_place_and_plain_text():
    feature = page.order_feature(order(), {})
    assert feature["id"] == "o7"
    assert feature["geometry"] == {"type": "Point", "coordinates": [126.56, 43.85]}
    props = feature["properties"]
    assert (props["k"], props["sla"], props["free"]) == ("repair", "at_risk", True)
    assert props["u_label"] == "Urgent"
    assert props["due"] == int((NOW + timedelta(minutes=12)).timestamp() * 1000)
    # Addresses are drawn with textContent by the browser: kept as typed, never as HTML.
    assert "<b>Jiefang Rd 1</b>" in props["tip"]
    assigned = page.order_feature(order(status="dispatched", crew_id=4, support_crew_ids=(5,)),
                                  {4: "JL-CY-S-R4", 5: "JL-CY-S-R5"})["properties"]
    assert assigned["free"] is False
    assert any("JL-CY-S-R4, JL-CY-S-R5" in line for line in assigned["tip"])


def test_a_crew_without_a_report_is_marked_as_shown_at_its_office():
    props = page.crew_feature(crew())["properties"]
    assert props["reported"] is False and props["seen"] is None and props["st"] == "free"
    seen = NOW - timedelta(minutes=3)
    props = page.crew_feature(crew(reported=True, last_seen_at=seen, fresh=True,
                                   status="en_route"))["properties"]
    assert props["seen"] == int(seen.timestamp() * 1000) and props["st"] == "en_route" and props["fresh"]


def test_the_delta_sends_new_and_changed_features_and_removes_gone_ones():
    features = {"o7": page.order_feature(order(), {}), "c4": page.crew_feature(crew())}
    first = page.delta(features, {})
    assert {f["id"] for f in first["upsert"]} == {"o7", "c4"} and first["remove"] == []
    known = first["prints"]
    assert page.delta(features, known)["upsert"] == []
    features["o7"] = page.order_feature(order(sla="overdue"), {})
    changed = page.delta(features, known)
    assert [f["id"] for f in changed["upsert"]] == ["o7"]
    del features["c4"]
    assert page.delta(features, known)["remove"] == ["c4"]
    # Whatever the browser sends as its state, the answer is well-formed.
    for junk in (None, [], "x", {"o7": 5, 3: "y"}):
        assert {f["id"] for f in page.delta(features, junk)["upsert"]} == {"o7"}


def test_fingerprints_are_stable_and_sensitive():
    a = page.order_feature(order(), {})
    assert page.fingerprint(a) == page.fingerprint(page.order_feature(order(), {}))
    assert page.fingerprint(a) != page.fingerprint(page.order_feature(order(lat=43.86), {}))


def test_reasons_read_as_words():
    assert page.reason_text("eta", {"minutes": 7}) == "arrives in 7 min"
    assert page.reason_text("late_by", {"minutes": 3}) == "3 min late"
    assert page.reason_text("missing_skills", {"skills": ["hv_line"]}).startswith("lacks ")
    assert page.reason_text("load", {"orders": 2}) == "2 open jobs"


def texts_in(component) -> list[str]:
    """Every piece of text of a Dash component tree, in order."""
    if component is None:
        return []
    if isinstance(component, str | int | float):
        return [str(component)]
    if isinstance(component, list | tuple):
        return [t for c in component for t in texts_in(c)]
    return texts_in(getattr(component, "children", None))


def items_of(panel) -> list[str]:
    """The suggestion list's items, each as one line of text."""
    ol = next(c for c in panel.children if getattr(c, "className", "") and "sp-suggestions"
              in c.className)
    return [" ".join(texts_in(li)) for li in ol.children]


def test_a_crew_without_a_live_position_shows_where_it_may_be_instead_of_an_eta():
    from station_portal.dispatch import DispatchSettings, rank_crews
    from station_portal.dispatch.travel import LIVE, STALE, UNKNOWN

    settings = DispatchSettings.load()
    near = dict(lat=43.855, lon=126.56, skills=frozenset({"metering"}))
    crews = [CrewState(1, "R1", position=UNKNOWN, **near),  # at its office, next door
             CrewState(2, "R2", position=STALE, seen_min_ago=130.0, **near),
             CrewState(3, "R3", lat=43.87, lon=126.56, skills=frozenset({"metering"}), position=LIVE)]
    board_order = order(due_at=NOW + timedelta(minutes=60))
    state = order_state_of(board_order)
    rows = page.suggestion_rows(rank_crews(state, crews, settings))
    assert [r["code"] for r in rows] == ["R3", "R2", "R1"]
    assert [r["where"] for r in rows] == ["", "last seen 2 h ago", "position unknown — at the office?"]
    lines = items_of(page.order_panel(board_order, rows, {}, can_reassign=False, can_support=False))
    assert "ETA" in lines[0] and "Above R2: its position is live, the next one's is not" in lines[0]
    assert "ETA" not in lines[1] and "last seen 2 h ago" in lines[1]
    assert "about 2 min if it is still where it was last seen" in lines[1]
    assert "Above R1: its position is more recent" in lines[1]
    assert "ETA" not in lines[2] and "position unknown — at the office?" in lines[2]
    assert "if it is at the office" in lines[2] and "Above" not in lines[2]


def order_state_of(board_order: BoardOrder):
    from station_portal.dispatch import DispatchSettings
    from station_portal.dispatch.board import Board

    return Board(now=NOW, orders=(board_order,), crews=(), settings=DispatchSettings.load()) \
        .order_state(board_order)


def test_ties_read_as_words_in_the_panel():
    rows = [dict(crew_id=i, code=f"R{i}", eta=4, slack=8, late=False, ok=True, load=i, position="live",
                 where="", reasons=[], above=a) for i, a in ((1, "Above R2: same ETA; fewer open jobs"),
                                                             (2, ""))]
    lines = items_of(page.order_panel(order(), rows, {}, can_reassign=False, can_support=False))
    assert "Above R2: same ETA; fewer open jobs" in lines[0]
    assert page.above_text("same_eta", {}) + "; " + page.above_text("fewer_jobs", {}) == \
        "same ETA; fewer open jobs"
    assert page.above_text("sooner", {"minutes": 6}) == "arrives 6 min sooner"


def test_how_long_ago_a_crew_was_seen_reads_naturally():
    assert page.seen_ago(40) == "last seen 40 min ago"
    assert page.seen_ago(125) == "last seen 2 h ago"
    assert page.seen_ago(3 * 24 * 60) == "last seen 3 days ago"


def test_a_stale_crew_on_the_map_says_when_it_was_seen():
    seen = NOW - timedelta(minutes=40)
    props = page.crew_feature(crew(reported=True, fresh=False, last_seen_at=seen))["properties"]
    assert props["reported"] is True and props["fresh"] is False
    assert any(line.startswith("Last seen at ") and "may have moved" in line for line in props["tip"])

"""Every page answers what a user just did with pages.ui.feedback: an alert of its kind's
colour with an icon (so the colour is not the only sign), under the ids the pages and the
browser tests rely on. Refusals are worded by error_text."""

from __future__ import annotations

from typing import Any

from station_portal.pages import intake
from tests.dash_calls import DASH_UPDATE, body_for, call, callback_id_for, dash_app_of

ICONS = {"success": "bi-check-circle", "info": "bi-info-circle",
         "warning": "bi-exclamation-triangle", "danger": "bi-x-octagon"}


def alert(component: Any, kind: str) -> dict[str, Any]:
    """The props of a feedback alert of ``kind`` (its icon checked), for further checks."""
    assert component["type"] == "Alert", component
    props = component["props"]
    icon, _message = props["children"]
    assert props["color"] == kind and props["dismissable"] is True
    assert ICONS[kind] in icon["props"]["className"]
    return props


def callback_key(app, input_id: str) -> str:
    return next(k for k, entry in dash_app_of(app).callback_map.items()
                if any(i["id"] == input_id for i in entry["inputs"]))


def test_the_board_says_pick_an_order_first_under_its_alert_id(app, as_user):
    key = callback_id_for(app, "board-message", "children")
    button = {"type": "board-assign", "crew": 1, "role": "lead"}
    body = {
        "output": key, "outputs": [{"id": "board-message", "property": "children"},
                                   {"id": "board-refresh", "property": "data"}],
        "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]],
        "state": [{"id": "board-panel-version", "property": "data", "value": None},
                  {"id": "board-refresh", "property": "data", "value": 0}],
        "changedPropIds": ['{"crew":1,"role":"lead","type":"board-assign"}.n_clicks'],
    }
    answer = as_user("head").post(DASH_UPDATE, json=body)
    assert answer.status_code == 200, answer.text[:300]
    props = alert(answer.json["response"]["board-message"]["children"], "warning")
    assert props["id"] == "board-alert" and props["children"][1] == "Pick an order first."


def test_dispatch_all_without_a_proposal_is_refused_under_its_own_id(app, as_user):
    key = callback_key(app, "board-proposal-apply")
    answer = as_user("head").post(DASH_UPDATE, json=body_for(app, key, [1], ["rows?", None, 0]))
    assert answer.status_code == 200, answer.text[:300]
    props = alert(answer.json["response"]["board-proposal-result"]["children"], "warning")
    assert props["id"] == "board-proposal-alert"


def test_a_refused_registration_at_the_counter_says_what_to_correct(app, as_user):
    key = callback_key(app, intake.REGISTER_FAULT)
    entry = dash_app_of(app).callback_map[key]
    state = [None] * len(entry["state"])
    answer = as_user("clerk").post(DASH_UPDATE, json=body_for(app, key, [None, 1], state,
                                                              changed=1))
    assert answer.status_code == 200, answer.text[:300]
    props = alert(answer.json["response"][intake.FEEDBACK]["children"], "danger")
    assert "Nothing was registered" in str(props["children"][1])


def test_an_account_form_with_errors_is_refused_with_a_danger_alert(app, as_user):
    key = callback_key(app, "users-save")
    fields = ["", "", "station_head", None, [], None, "", ""]
    answer = as_user("admin").post(DASH_UPDATE, json=body_for(
        app, key, [1], [{"id": None, "version": None, "active": True}, 0, *fields]))
    assert answer.status_code == 200, answer.text[:300]
    props = alert(answer.json["response"]["users-feedback"]["children"], "danger")
    assert props["children"][1] == "Some fields need correcting."


def test_a_forged_dashboard_filter_and_briefing_week_get_a_warning(app, as_user):
    board = call(as_user("admin"), app, "dash-kpi-league", "rowData", ["yesterday", None, None])
    assert board.status_code == 200
    alert(board.json["response"]["dash-kpi-alert"]["children"], "warning")
    week = call(as_user("head"), app, "brief-body", "children", ["2026-13-01", "1"])
    assert week.status_code == 200
    props = alert(week.json["response"]["brief-alert"]["children"], "warning")
    assert "not in your area" in props["children"][1]

"""The Organisation page arrives filled, in one answer, and keeps to the caller's scope.

The page's layout holds the tree, the selected unit and the territory map, so the
browser does not wait for a second round trip (and for Plotly) before it can show
them; the tree's callback answers only a click in the tree.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from station_portal.org.matrix import parse_matrix
from station_portal.org.models import Staff, Unit
from station_portal.pages import org
from tests.dash_calls import call, text_of


def open_org(client, app, search: str = ""):
    """The router's answer for /org with the given query: the page as it arrives."""
    response = call(client, app, "page-content", "children", ["/org"], [search])
    assert response.status_code == 200
    return response


def components(node: Any):
    """Every Dash component in a JSON layout, depth first."""
    if isinstance(node, dict):
        if "type" in node and "namespace" in node:
            yield node
        for value in node.values():
            yield from components(value)
    elif isinstance(node, list):
        for value in node:
            yield from components(value)


def by_id(layout: Any, id_: str) -> dict[str, Any]:
    return next(c for c in components(layout) if c["props"].get("id") == id_)


def test_a_station_head_sees_their_station_as_the_page_arrives(app, db, as_user):
    with db.read() as s:
        own = s.scalar(select(Unit).where(Unit.code == "JL-CY-S"))
        other = s.scalar(select(Unit).where(Unit.code == "JL-CH-S"))
        staff = s.scalar(select(Staff.name_latin).join(Unit).where(Unit.parent_id == own.id))
    page = open_org(as_user("head"), app)
    layout = page.json["response"]["page-content"]["children"]
    assert own.name_en in json.dumps(by_id(layout, org.TREE), ensure_ascii=False)
    details = json.dumps(by_id(layout, org.DETAILS), ensure_ascii=False)
    assert own.name_en in details and staff in details
    figure = by_id(layout, org.MAP)["props"]["figure"]
    assert [loc for trace in figure["data"] for loc in trace.get("locations", [])] == [own.id]
    assert other.name_en not in text_of(page) and other.name_zh not in text_of(page)


def test_another_stations_unit_in_the_address_shows_nothing_of_it(app, db, as_user):
    with db.read() as s:
        other = s.scalar(select(Unit).where(Unit.code == "JL-CH-S"))
        other_names = [n for (n,) in s.execute(
            select(Staff.name_latin).join(Unit).where(Unit.path.startswith(other.path)))]
    page = open_org(as_user("head"), app, f"?unit={other.id}")
    text = text_of(page)
    assert "portal-out-of-scope" in text
    assert other.name_en not in text and other.name_zh not in text
    assert not any(name in text for name in other_names)


def test_a_group_in_the_address_is_selected_as_the_page_arrives(app, db, as_user):
    with db.read() as s:
        station = s.scalar(select(Unit).where(Unit.code == "JL-CY-S"))
        group = s.scalar(select(Unit).where(Unit.parent_id == station.id,
                                            Unit.kind == "lv_repair_group"))
        staff = s.scalar(select(Staff.name_latin).where(Staff.unit_id == group.id))
    layout = open_org(as_user("head"), app, f"?unit={group.id}").json["response"]
    details = json.dumps(by_id(layout, org.DETAILS), ensure_ascii=False)
    assert group.name_en in details and staff in details


def test_the_tree_callback_answers_clicks_only(app, as_user):
    """Dash must not ask the server again for what the page already holds."""
    dependencies = as_user("head").get("/_dash-dependencies").json
    entry = next(d for d in dependencies if f"{org.DETAILS}.children" in d["output"])
    assert entry["prevent_initial_call"] is True


def test_the_responsibility_matrix_is_one_component(app, as_user):
    layout = open_org(as_user("gridmgr"), app).json["response"]
    matrix = by_id(layout, org.MATRIX)
    inside = list(components(matrix["props"]["children"]))
    assert len(inside) == 1
    text = inside[0]["props"]["children"]
    assert 'id="matrix-business"' in text and 'id="matrix-actions"' in text
    assert "Lead" in text and "Support" in text


def test_the_matrix_escapes_its_texts(app):
    matrix = parse_matrix("""
[[business]]
code = "x"
name_zh = "<b>甲</b>"
name_en = "<script>alert(1)</script>"
lead = ["grid"]
""")
    with app.test_request_context():
        text = org.matrix_html(matrix, "en")
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text

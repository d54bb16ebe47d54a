"""The grid-works pages over HTTP: the scoped list, a project, acting on it, the order's card."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from station_portal.db import utcnow
from station_portal.gridworks.models import MILESTONES, GridWorksProject
from station_portal.org.models import Unit
from station_portal.services import applications
from station_portal.services import gridworks as gw
from station_portal.timefmt import local
from station_portal.workorders.models import WorkOrder
from tests.dash_calls import call, text_of
from tests.helpers import account

CHANGYI = (43.8817, 126.5744)


def make_project(db) -> tuple[int, int, str]:
    """A station project with one application of the head's waiting on it."""
    today = local(utcnow()).date()
    when = utcnow() - timedelta(hours=2)
    with db.write() as s:
        order = applications.create_application(s, account(s, "head"), applications.ApplicationInput(
            business_type="new_connection", customer_type="non_resident", load_kw=400.0,
            customer_name="吉林页面测试有限公司", lat=CHANGYI[0], lon=CHANGYI[1],
            address="昌邑区测试路1号", applied_at=when), accept=True, now=when)
        p = gw.create_project(s, account(s, "manager"), gw.ProjectInput(
            name="页面测试配套工程", unit_id=s.scalar(select(Unit.id).where(Unit.code == "JL-CY-S")),
            planned={c: (today + timedelta(days=3 + 7 * i)).isoformat()
                     for i, c in enumerate(MILESTONES)}, funds_expected=120))
        gw.link_application(s, account(s, "head"), p.id, p.version, order.code)
        return p.id, order.id, order.code


def test_the_project_page_shows_the_plan_and_the_waiting_application_in_scope_only(app, db, as_user):
    project_id, order_id, code = make_project(db)
    shown = call(as_user("head"), app, "gwp-content", "children", [str(project_id), 0])
    text = text_of(shown)
    assert "页面测试配套工程" in text and code in text and f"/order?id={order_id}" in text
    assert "gwp-chart" in text and "gwp-milestones" in text
    forged = text_of(call(as_user("gridmgr"), app, "gwp-content", "children", [str(project_id), 0]))
    assert "portal-out-of-scope" in forged and code not in forged
    listed = call(as_user("gridmgr"), app, "gw-grid", "rowData", [None]).json
    assert str(project_id) not in {r["id"] for r in listed["response"]["gw-grid"]["rowData"]}


def test_a_manager_completes_a_milestone_from_the_page_and_a_stale_form_is_refused(app, db, as_user):
    project_id, _order_id, _code = make_project(db)
    manager = as_user("manager")
    shown = call(manager, app, "gwp-content", "children", [str(project_id), 0]).json["response"]
    version = shown["gwp-version"]["data"]
    assert shown["gwp-ms-code"]["value"] == "approval"
    today = local(utcnow()).date().isoformat()
    state = [str(project_id), version, "approval", today, "批复已下达", None, None, None, None,
             None, None]
    done = call(manager, app, "gwp-feedback", "children", [1, None, None, None, None, None], state)
    assert "Approval done on" in done.text
    stale = call(manager, app, "gwp-feedback", "children", [1, None, None, None, None, None], state)
    assert "Someone else changed this project" in stale.text
    with db.read() as s:
        p = s.get(GridWorksProject, project_id)
        assert p.status == "in_progress" and p.milestones[0].actual_on is not None


def test_the_application_page_names_the_project_it_waits_on(app, db, as_user):
    project_id, order_id, _code = make_project(db)
    text = text_of(call(as_user("head"), app, "order-content", "children", [str(order_id), 0]))
    assert "order-gridworks" in text and "页面测试配套工程" in text
    assert f"/gridworks/project?id={project_id}" in text
    assert "order-grid-works-rule" in text and "Waiting on grid works" in text
    with db.read() as s:
        assert not s.get(WorkOrder, order_id).paused  # waiting on grid works is no pause


def test_the_company_dashboard_has_the_grid_works_section(app, as_user):
    answer = call(as_user("manager"), app, "dash-kpi-gw_late", "rowData",
                  [None, None, None])
    assert answer.status_code == 200, answer.text[:300]
    response = answer.json["response"]
    assert "dash-kpi-gw_waiting" in response and "dash-kpi-gw_funds" in response

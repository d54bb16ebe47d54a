"""Opening a park case from its page and through the API: who may, the choices offered,
field messages, nothing written on a refusal."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from station_portal.auth.models import User
from station_portal.db import utcnow
from station_portal.org.models import Client
from station_portal.pages import park_case as page
from station_portal.timefmt import local
from station_portal.workorders.models import ParkVisit, WorkOrder, WorkOrderEvent
from tests.dash_calls import call, text_of
from tests.helpers import API, account, head_of, token


def today():
    return local(utcnow()).date()


def cases_of(db, client_id: int) -> list[WorkOrder]:
    with db.read() as s:
        return list(s.scalars(select(WorkOrder).where(WorkOrder.kind == "park_case",
                                                      WorkOrder.client_id == client_id)
                              .order_by(WorkOrder.id)))


def own_client(db) -> tuple[int, int]:
    """The demo account manager's first client and the manager's id."""
    with db.read() as s:
        manager = account(s, "account")
        return manager.clients[0].id, manager.id


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


# -- the API -------------------------------------------------------------------------------

def test_an_account_manager_opens_a_case_through_the_api(client, db):
    client_id, manager_id = own_client(db)
    before = len(cases_of(db, client_id))
    auth = bearer(token(client, "account", "portal-demo"))
    response = client.post(f"{API}/park-cases", headers=auth, json={
        "client_id": client_id, "projected_load_kw": 3200,
        "projected_date": (today() + timedelta(days=400)).isoformat(),
        "description": "二期扩建", "visit_planned_for": (today() + timedelta(days=3)).isoformat(),
        "milestone_plan": {"first_contact": (today() + timedelta(days=7)).isoformat()}})
    assert response.status_code == 201, response.json
    body = response.json
    assert response.headers["Location"] == f"{API}/work-orders/{body['id']}"
    assert (body["kind"], body["status"], body["projected_load_kw"]) == ("park_case", "open", 3200)
    assert [c["stage"] for c in body["clocks"]] == [
        "first_contact", "load_survey", "supply_preplan", "formal_application"]
    assert body["clocks"][0]["planned_at"] is not None and body["clocks"][1]["planned_at"] is None
    assert body["events"][0]["action"] == "created"
    assert len(cases_of(db, client_id)) == before + 1
    with db.read() as s:
        case = s.get(WorkOrder, body["id"])
        assert case.owner_user_id == manager_id
        assert s.scalar(select(func.count()).select_from(ParkVisit).where(
            ParkVisit.work_order_id == case.id)) == 1


def test_park_case_fields_get_a_message_each(client, db):
    client_id, _manager = own_client(db)
    auth = bearer(token(client, "account", "portal-demo"))
    before = len(cases_of(db, client_id))
    typed = client.post(f"{API}/park-cases", headers=auth, json={
        "client_id": "first", "projected_load_kw": -1, "projected_date": "2026-02-30",
        "milestone_plan": {"groundbreaking": "2027-01-01", "load_survey": "soon"}})
    assert typed.status_code == 422
    assert typed.json["fields"] == {
        "client_id": "Enter a whole number.", "projected_load_kw": "Give a value from 0 to 1000000.",
        "projected_date": "Give a date as YYYY-MM-DD.",
        "milestone_plan.groundbreaking": "This field is not known.",
        "milestone_plan.load_survey": "Give a date as YYYY-MM-DD."}
    with db.read() as s:
        others = s.scalar(select(Client.id).where(Client.id.not_in(
            [c.id for c in account(s, "account").clients])).order_by(Client.id))
    meant = client.post(f"{API}/park-cases", headers=auth, json={
        "client_id": others, "projected_load_kw": 0,
        "projected_date": (today() - timedelta(days=1)).isoformat(),
        "milestone_plan": {"supply_preplan": (today() - timedelta(days=2)).isoformat()}})
    assert meant.status_code == 422
    assert meant.json["fields"] == {
        "client_id": "Choose one of your clients.",
        "projected_load_kw": "Give the projected load in kW (more than 0, at most 1,000,000).",
        "projected_date": "Give the day the load is expected, today or later.",
        "milestone_plan.supply_preplan": "Plan it for today or later."}
    assert len(cases_of(db, client_id)) == before


def test_a_role_that_does_not_follow_park_cases_gets_403(client, db):
    client_id, _manager = own_client(db)
    before = len(cases_of(db, client_id))
    for auth in (bearer(token(client, head_of(db))), bearer(token(client, "crew", "portal-demo"))):
        refused = client.post(f"{API}/park-cases", headers=auth, json={
            "client_id": client_id, "projected_load_kw": 100,
            "projected_date": (today() + timedelta(days=30)).isoformat()})
        assert refused.status_code == 403 and refused.json["error"] == "forbidden"
    assert len(cases_of(db, client_id)) == before


def test_the_endpoint_is_in_the_openapi_document_with_its_roles(client):
    spec = client.get(f"{API}/openapi.json").json
    post = spec["paths"][f"{API}/park-cases"]["post"]
    assert {"201", "403", "422"} <= set(post["responses"])
    assert "manage_park_cases" in post["description"]
    assert set(spec["components"]["schemas"]["MilestonePlan"]["properties"]) == {
        "first_contact", "load_survey", "supply_preplan", "formal_application"}


# -- the page -----------------------------------------------------------------------------

def form(client_id, manager_id, load_kw, projected, *, description="", visit=None,
         plan=(None, None, None, None), clients=(), managers=()):
    """The submit callback's state, in its order."""
    return [client_id, manager_id, load_kw, projected, description, visit, list(clients),
            list(managers), *plan]


def test_the_page_is_the_account_and_company_managers_and_in_the_work_orders_menu(app, as_user):
    for name, allowed in (("account", True), ("manager", True), ("head", False), ("crew", False)):
        shown = call(as_user(name), app, "page-content", "children", [page.PATH], [""])
        assert ("page-forbidden" not in shown.text) == allowed, name
    menu = text_of(as_user("account").get("/_dash-layout"))
    assert '"nav-orders-parks-new"' in menu and "New park case" in menu
    assert '"nav-orders-parks-new"' not in text_of(as_user("head").get("/_dash-layout"))
    refused = call(as_user("head"), app, page.CLIENT, "options", [1])
    assert refused.status_code == 403


def test_the_park_case_list_leads_those_who_open_cases_to_the_form(app, as_user):
    for name, shown in (("account", True), ("manager", True), ("head", False)):
        page_text = call(as_user(name), app, "page-content", "children", ["/orders/parks"],
                         [""]).text
        assert ('"new-park-case"' in page_text) == shown, name
        href = page.PATH.replace("/", "\\u002f")  # Dash escapes slashes in its JSON
        assert (f'"href":"{href}"' in page_text) == shown, name


def test_an_account_manager_chooses_among_their_clients_and_opens_a_case(app, db, as_user):
    manager = as_user("account")
    with db.read() as s:
        own = account(s, "account")
        own_ids = {c.id for c in own.clients}
        manager_id, display = own.id, own.display_name
    options = call(manager, app, page.CLIENT, "options", [1]).json["response"][page.CLIENT]["options"]
    assert {o["value"] for o in options} == own_ids
    client_id = options[0]["value"]
    followers = call(manager, app, page.MANAGER, "options", [client_id]).json["response"][page.MANAGER]
    assert followers["value"] == manager_id
    assert manager_id in [o["value"] for o in followers["options"]]
    before = len(cases_of(db, client_id))
    planned = (today() + timedelta(days=10)).isoformat()
    answer = call(manager, app, page.FEEDBACK, "children", [1], form(
        client_id, manager_id, 1800, (today() + timedelta(days=200)).isoformat(),
        description="新建厂房", visit=planned, plan=(planned, None, None, None),
        clients=options, managers=followers["options"]))
    assert answer.status_code == 200, answer.text[:300]
    response = answer.json["response"]
    made = text_of(answer)
    assert "park-new-made" in made and options[0]["label"] in made and display in made
    assert response[page.LOAD_KW]["value"] is None and response[page.CLIENT]["value"] is None
    cases = cases_of(db, client_id)
    assert len(cases) == before + 1
    case = cases[-1]
    assert f"/order?id={case.id}" in made and case.code in made
    assert case.owner_user_id == manager_id and case.projected_load_kw == 1800
    with db.read() as s:
        assert s.scalar(select(WorkOrderEvent.actor_id).where(
            WorkOrderEvent.work_order_id == case.id, WorkOrderEvent.action == "created")) == manager_id


def test_the_page_shows_each_refusal_under_its_field_and_keeps_the_form(app, db, as_user):
    manager = as_user("account")
    with db.read() as s:
        own = account(s, "account")
        client_id = own.clients[0].id
        foreign = s.scalar(select(Client.id).where(
            Client.id.not_in([c.id for c in own.clients])).order_by(Client.id))
    before = len(cases_of(db, client_id))
    answer = call(manager, app, page.FEEDBACK, "children", [1], form(
        client_id, None, "lots", "someday", description="x" * 600,
        plan=("2001-01-01", None, None, None)))
    response = answer.json["response"]
    shown = {f: response[page.error_id(f)]["children"] for f in page.FIELDS}
    assert shown["projected_load_kw"].startswith("Give the projected load in kW")
    assert shown["projected_date"] == "Give the day the load is expected, today or later."
    assert shown["description"] == "At most 500 characters of plain text."
    assert shown["milestone_plan.first_contact"] == "Plan it for today or later."
    assert shown["client_id"] == shown["account_manager_id"] == ""  # the manager is the caller
    assert "Nothing was registered" in text_of(answer)
    assert page.LOAD_KW not in response, "the form is kept for correcting"
    assert len(cases_of(db, client_id)) == before
    foreign_before = len(cases_of(db, foreign))
    forged = call(manager, app, page.FEEDBACK, "children", [1], form(
        foreign, None, 500, (today() + timedelta(days=90)).isoformat()))
    assert forged.json["response"][page.error_id("client_id")]["children"] == \
        "Choose one of your clients."
    assert len(cases_of(db, foreign)) == foreign_before
    empty = call(manager, app, page.MANAGER, "options", [foreign]).json["response"][page.MANAGER]
    assert empty == {"options": [], "value": None}


def test_a_company_manager_names_the_account_manager(app, db, as_user):
    with db.read() as s:
        own = account(s, "account")
        client_id, follower = own.clients[0].id, own.id
        city_manager = s.scalar(select(User.id).where(User.username == "manager"))
    boss = as_user("manager")
    followers = call(boss, app, page.MANAGER, "options", [client_id]).json["response"][page.MANAGER]
    assert follower in [o["value"] for o in followers["options"]]
    projected = (today() + timedelta(days=120)).isoformat()
    unnamed = call(boss, app, page.FEEDBACK, "children", [1], form(client_id, None, 900, projected))
    assert unnamed.json["response"][page.error_id("account_manager_id")]["children"] == \
        "Choose the account manager who follows the case."
    named = call(boss, app, page.FEEDBACK, "children", [1], form(
        client_id, follower, 900, projected))
    assert "park-new-made" in text_of(named)
    case = cases_of(db, client_id)[-1]
    assert case.owner_user_id == follower
    with db.read() as s:
        assert s.scalar(select(WorkOrderEvent.actor_id).where(
            WorkOrderEvent.work_order_id == case.id)) == city_manager

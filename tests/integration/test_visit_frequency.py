"""Each client is visited at its own frequency: the next visit is due that many days after
the last one made, a due day that passed without a visit is overdue (with its days), and
the account manager's and the admin's boards count the same clients' overdue visits alike."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from station_portal.auth.models import User
from station_portal.auth.passwords import hash_password
from station_portal.db import utcnow
from station_portal.jobs import visits as visit_job
from station_portal.notify.models import Notification
from station_portal.org.models import Client
from station_portal.services import parks, visits
from station_portal.timefmt import SHANGHAI
from station_portal.workorders.models import ParkVisit
from station_portal.workorders.visit_due import due_day, next_visits, overdue_days
from tests.dash_calls import call

PASSWORD = "visit-frequency-test"


def local_day(at) -> date:
    return at.astimezone(SHANGHAI).date()


def test_the_due_day_follows_the_clients_own_frequency():
    last = utcnow() - timedelta(days=20)
    due = due_day(14, last, None, None)
    assert due == local_day(last) + timedelta(days=14)
    assert overdue_days(due, local_day(last) + timedelta(days=20)) == 6
    assert overdue_days(due, due) == 0  # on the due day itself it is not overdue yet
    # never visited: the frequency runs from the relationship's start
    assert due_day(14, None, last, None) == due
    # a visit planned since the last one made is due on its own day, if that comes first
    sooner = last + timedelta(days=3)
    assert due_day(14, last, None, sooner) == local_day(sooner)
    assert due_day(14, last, None, last + timedelta(days=30)) == due
    assert due_day(None, None, None, None) is None


@pytest.fixture(scope="module")
def portfolio(db):
    """An account manager of their own (own username, own clients in the demo city):

    - A, every 14 days, visited 20 days ago;
    - B, every 14 days, visited 3 days ago;
    - D, every 30 days, visited 100 days ago;
    - E, every 14 days, never visited, its park case opened 40 days ago.
    """
    now = utcnow()
    tag = uuid.uuid4().hex[:8]
    with db.write() as s:
        model = s.scalar(select(Client).order_by(Client.id))
        manager = User(username=f"am-{tag}", display_name=f"Visit tester {tag}",
                       password_hash=hash_password(PASSWORD), role="account_manager",
                       locale="en")
        s.add(manager)
        clients = {}
        for key in "ABDE":
            clients[key] = Client(
                code=f"VF{tag}{key}", name_zh=f"走访测试{key}{tag}",
                name_en=f"Visit test {key} {tag}", kind="vip", industry=model.industry,
                unit_id=model.unit_id, lat=model.lat, lon=model.lon, contact_name="测试",
                contact_phone="13900000000")
            manager.clients.append(clients[key])
        s.flush()
        ids = {key: c.id for key, c in clients.items()}
        name = manager.username

    def visited(key: str, every: int, days_ago: int) -> None:
        then = now - timedelta(days=days_ago)
        with db.write() as s:
            person = s.scalar(select(User).where(User.username == name))
            visits.set_frequency(s, person, ids[key], every, now=then)  # plans the first one
            first = s.scalar(select(ParkVisit.id).where(ParkVisit.client_id == ids[key]))
            visits.record(s, person, first, note="走访", at=then, now=then)

    visited("A", 14, 20)
    visited("B", 14, 3)
    visited("D", 30, 100)
    with db.write() as s:
        person = s.scalar(select(User).where(User.username == name))
        parks.create_park_case(s, person, parks.ParkCaseInput(
            client_id=ids["E"], projected_load_kw=2000,
            projected_date=local_day(now) + timedelta(days=200)),
            now=now - timedelta(days=40))
        visits.set_frequency(s, person, ids["E"], 14, now=now)
    return name, ids


def names_of(db, ids: dict[str, int]) -> dict[str, str]:
    with db.read() as s:
        return {key: s.get(Client, cid).name_en for key, cid in ids.items()}


def test_a_14_day_client_visited_20_days_ago_is_6_days_overdue(db, portfolio):
    _name, ids = portfolio
    now = utcnow()
    with db.read() as s:
        status = next_visits(s, ids.values(), now)
    a = status[ids["A"]]
    assert a.due == local_day(a.last_done) + timedelta(days=14)
    assert (a.overdue, a.overdue_days) == (True, 6)
    assert not status[ids["B"]].overdue and status[ids["B"]].overdue_days == 0
    assert status[ids["D"]].overdue_days == 70
    assert status[ids["E"]].overdue_days == 26  # 40 days since the case opened, every 14


def test_the_job_plans_the_next_visit_its_frequency_after_the_last(db, portfolio):
    name, ids = portfolio
    now = utcnow()
    with db.write() as s:
        visit_job.run(s, now)
    with db.write() as s:
        assert visit_job.run(s, now) == {"planned": 0, "missed": 0}, "planned once"
    with db.read() as s:
        def open_visit(key: str) -> ParkVisit:
            return s.scalar(select(ParkVisit).where(ParkVisit.client_id == ids[key],
                                                    ParkVisit.done_at.is_(None)))

        def last_done(key: str):
            return max(v.done_at for v in s.scalars(
                select(ParkVisit).where(ParkVisit.client_id == ids[key],
                                        ParkVisit.done_at.is_not(None))))

        for key, every in (("A", 14), ("B", 14), ("D", 30)):
            assert local_day(open_visit(key).planned_for) == \
                local_day(last_done(key)) + timedelta(days=every), key
        # A's day has passed: flagged at once, and its manager hears it was missed
        assert open_visit("A").missed_at is not None and open_visit("B").missed_at is None
        manager = s.scalar(select(User).where(User.username == name))
        told = {(n.event, n.params.get("client_id")) for n in s.scalars(
            select(Notification).where(Notification.user_id == manager.id))}
        assert ("visit_missed", ids["A"]) in told and ("visit_planned", ids["B"]) in told
    # a new frequency moves the visit the job planned
    with db.write() as s:
        manager = s.scalar(select(User).where(User.username == name))
        visits.set_frequency(s, manager, ids["B"], 7)
    with db.read() as s:
        assert local_day(open_visit("B").planned_for) == \
            local_day(last_done("B")) + timedelta(days=7)


def test_the_visits_page_shows_overdue_clients_with_their_days(app, db, as_user, portfolio):
    name, ids = portfolio
    with db.write() as s:
        visit_job.run(s, utcnow())
    names = names_of(db, ids)
    answer = call(as_user(name, PASSWORD), app, "visits-open", "children", [None])
    assert answer.status_code == 200, answer.text[:300]
    rows = {r["client"]: r for r in answer.json["response"]["visits-clients"]["rowData"]}
    assert rows[names["A"]]["state"] == "Overdue by 6 days"
    assert rows[names["A"]]["overdue"] == 6
    assert rows[names["D"]]["state"] == "Overdue by 70 days"
    assert rows[names["B"]]["state"] == "Visit planned" and rows[names["B"]]["overdue"] == ""
    a_due = date.fromisoformat(rows[names["A"]]["next"])
    assert a_due == local_day(utcnow()) - timedelta(days=6)
    listing = str(answer.json["response"]["visits-open"]["children"])
    assert "Overdue by 6 days" in listing and "Was due on " + a_due.isoformat() in listing


def stat(response: dict, label: str):
    """The value of a headline number on a board, found by its label."""
    def walk(node):
        if isinstance(node, dict):
            kids = node.get("props", node).get("children")
            if isinstance(kids, list) and len(kids) == 2 and label in str(kids[0]):
                return kids[1]["props"]["children"]
            return walk(kids)
        if isinstance(node, list):
            for kid in node:
                found = walk(kid)
                if found is not None:
                    return found
        return None

    return walk(response)


def clients_board(client, app) -> dict:
    answer = call(client, app, "dash-clients-visits", "rowData", [None, None, None])
    assert answer.status_code == 200, answer.text[:300]
    return answer.json["response"]


def test_the_account_managers_and_the_admins_boards_agree_on_overdue_visits(
        app, db, as_user, portfolio):
    name, ids = portfolio
    with db.write() as s:
        visit_job.run(s, utcnow())
    names = names_of(db, ids)
    own = clients_board(as_user(name, PASSWORD), app)
    overdue_here = {r["client"] for r in own["dash-clients-visits"]["rowData"]
                    if r["state"] == "Overdue"}
    assert overdue_here == {names["A"], names["D"], names["E"]}
    assert stat(own["dash-clients-stats"], "Visits overdue") == 3
    for boss in ("admin", "manager"):
        board = clients_board(as_user(boss), app)
        rows = board["dash-clients-visits"]["rowData"]
        theirs = [r["client"] for r in rows if r["state"] == "Overdue"
                  and r["client"] in set(names.values())]
        assert sorted(theirs) == sorted(overdue_here), boss  # once per client, the same ones
        with db.read() as s:
            everyone = sum(n.overdue for n in next_visits(s, None, utcnow()).values())
        assert stat(board["dash-clients-stats"], "Visits overdue") == everyone, boss

"""Opening a park case (services.parks.create_park_case): who may, for which clients, every
field checked with its own message, nothing written on a refusal, the timeline's record."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from station_portal.auth.models import User
from station_portal.auth.scope import scope_for
from station_portal.errors import Forbidden, ValidationFailed
from station_portal.org.matrix import load_matrix
from station_portal.org.models import Client, Staff, Unit, UnitKind
from station_portal.org.tree import ancestor_ids
from station_portal.services import parks
from station_portal.services.users import UserInput, create_user
from station_portal.timefmt import SHANGHAI
from station_portal.workorders.models import PARK_MILESTONES, ParkVisit, WorkOrder, WorkOrderEvent
from tests.helpers import unique

OPENED = datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)


def user(s, name: str) -> User:
    return s.scalar(select(User).where(User.username == name))


def park_cases(s) -> int:
    return s.scalar(select(func.count()).select_from(WorkOrder).where(WorkOrder.kind == "park_case"))


def case_input(client_id: object, **changes: object) -> parks.ParkCaseInput:
    values: dict[str, object] = {"projected_load_kw": 2500, "projected_date": date(2027, 6, 1)}
    values.update(changes)
    return parks.ParkCaseInput(**{"client_id": client_id, **values})


def new_account_manager(s, client_ids: tuple[int, ...]) -> User:
    """An account manager of these clients, linked to a staff member without an account."""
    name = unique("am")
    free = s.scalar(select(Staff.id).where(Staff.id.not_in(
        select(User.staff_id).where(User.staff_id.is_not(None)))).order_by(Staff.id))
    return create_user(s, None, username=name, password="correct horse battery",
                       allow_demo_password=False,
                       data=UserInput(display_name=name, role="account_manager", staff_id=free,
                                      client_ids=client_ids))


def county_of(s, client: Client) -> Unit:
    return s.scalar(select(Unit).where(Unit.id.in_(ancestor_ids(client.unit.path)),
                                       Unit.kind == UnitKind.COUNTY_COMPANY))


def test_the_roles_that_open_park_cases_are_the_matrix_roles_of_the_page():
    from station_portal.pages.park_case import ROLES

    assert {r.value for r in ROLES} == set(load_matrix().action("manage_park_cases").roles)


def test_an_account_manager_opens_a_case_for_their_client_with_plan_visit_and_record(db):
    with db.write() as s:
        account = user(s, "account")
        client = account.clients[0]
        case = parks.create_park_case(s, account, case_input(
            client.id, projected_date="2027-06-01", description="新厂房一期",
            visit_planned_for=date(2026, 3, 10),
            milestone_plan={"first_contact": date(2026, 3, 5), "load_survey": "2026-03-20",
                            "supply_preplan": None}), now=OPENED)
        assert case.code.startswith("P20260302") and case.kind == "park_case"
        assert (case.status, case.current_stage) == ("open", "first_contact")
        assert (case.client_id, case.park_id, case.unit_id) == (client.id, client.park_id,
                                                                client.unit_id)
        assert case.owner_user_id == account.id
        assert (case.projected_load_kw, case.projected_date) == (2500.0, date(2027, 6, 1))
        assert case.description == "新厂房一期"
        holder = s.get(Unit, case.holder_unit_id)
        assert holder.kind == UnitKind.COUNTY_COMPANY
        assert [c.stage for c in case.clocks] == list(PARK_MILESTONES)
        first, survey, preplan, formal = case.clocks
        assert first.entered_at == OPENED and survey.entered_at is None
        # a planned milestone is due at the end of its day (24:00 Beijing time)
        assert first.planned_at == datetime(2026, 3, 6, tzinfo=SHANGHAI) == first.due_at
        assert survey.planned_at == datetime(2026, 3, 21, tzinfo=SHANGHAI)
        assert preplan.planned_at is None and formal.planned_at is None
        assert case.due_at == first.planned_at and case.sla_status == "on_track"
        visit = s.scalar(select(ParkVisit).where(ParkVisit.work_order_id == case.id))
        assert visit.planned_for == datetime(2026, 3, 10, 9, tzinfo=SHANGHAI)
        assert visit.user_id == account.id and visit.client_id == client.id
        record = s.scalar(select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == case.id))
        assert (record.action, record.actor_id, record.to_value) == ("created", account.id, "open")
        assert record.details == {"client": client.code, "load_kw": 2500.0,
                                  "account_manager": "account"}


def test_every_field_is_checked_with_its_own_message_and_nothing_is_written(db):
    with db.write() as s:
        account = user(s, "account")
        client = account.clients[0]
        colleague = new_account_manager(s, ())  # looks after none of this client's cases
        before = park_cases(s)
        with pytest.raises(ValidationFailed) as caught:
            parks.create_park_case(s, account, parks.ParkCaseInput(
                client_id=client.id, projected_load_kw="2500", projected_date="2026-13-01",
                description="a\x00b", account_manager_id=colleague.id,
                visit_planned_for=date(2026, 3, 1),
                milestone_plan={"first_contact": "2026-02-27", "load_survey": "soon"}), now=OPENED)
        assert caught.value.fields == {
            "projected_load_kw": "Give the projected load in kW (more than 0, at most 1,000,000).",
            "projected_date": "Give the day the load is expected, today or later.",
            "description": "At most 500 characters of plain text.",
            "account_manager_id": "Choose an account manager who looks after this client.",
            "visit_planned_for": "Give the day of the first visit, today or later.",
            "milestone_plan.first_contact": "Plan it for today or later.",
            "milestone_plan.load_survey": "Plan it for today or later."}
        assert park_cases(s) == before


@pytest.mark.parametrize("field, value", [
    ("client_id", None), ("client_id", "abc"), ("client_id", 2**40),
    ("projected_load_kw", 0), ("projected_load_kw", -5), ("projected_load_kw", True),
    ("projected_load_kw", 1_000_001), ("projected_load_kw", float("nan")),
    ("projected_load_kw", None),
    ("projected_date", None), ("projected_date", "2026-03-01"), ("projected_date", "2099-01-01"),
    ("projected_date", ["2027-01-01"]),
    ("description", "x" * 501), ("description", 5),
    ("account_manager_id", "nobody"),
    ("visit_planned_for", "yesterday"), ("visit_planned_for", datetime(2026, 3, 10, 9)),
    ("milestone_plan", {"groundbreaking": date(2026, 5, 1)}), ("milestone_plan", ["first_contact"]),
])
def test_one_bad_field_is_named_and_the_case_not_opened(db, field, value):
    with db.write() as s:
        account = user(s, "account")
        before = park_cases(s)
        with pytest.raises(ValidationFailed) as caught:
            wrong = {"client_id": account.clients[0].id, field: value}
            parks.create_park_case(s, account, case_input(**wrong), now=OPENED)
        assert set(caught.value.fields) == {field}
        assert park_cases(s) == before


@pytest.mark.parametrize("role", ["head", "gridmgr", "crew", "clerk", "admin"])
def test_roles_that_do_not_follow_park_cases_may_not_open_one(db, role):
    with db.write() as s:
        client = user(s, "account").clients[0]
        before = park_cases(s)
        with pytest.raises(Forbidden):
            parks.create_park_case(s, user(s, role), case_input(client.id), now=OPENED)
        assert park_cases(s) == before


def test_an_account_manager_cannot_open_a_case_for_another_managers_client(db):
    with db.write() as s:
        account = user(s, "account")
        own = {c.id for c in account.clients}
        other = s.scalar(select(Client.id).where(Client.id.not_in(own)).order_by(Client.id))
        with pytest.raises(ValidationFailed) as caught:
            parks.create_park_case(s, account, case_input(other), now=OPENED)
        assert caught.value.fields == {"client_id": "Choose one of your clients."}


def test_a_county_manager_opens_cases_only_in_their_county_and_names_the_account_manager(db):
    with db.write() as s:
        clients = list(s.scalars(select(Client).order_by(Client.id)))
        counties = {c.id: county_of(s, c) for c in clients}
        inside = clients[0]
        outside = next(c for c in clients if counties[c.id].id != counties[inside.id].id)
        name = unique("cm")
        manager = create_user(s, None, username=name, password="correct horse battery",
                              allow_demo_password=False,
                              data=UserInput(display_name=name, role="company_manager",
                                             scope_unit_id=counties[inside.id].id))
        follower = new_account_manager(s, (inside.id, outside.id))
        assert not scope_for(s, manager).is_global
        with pytest.raises(ValidationFailed) as caught:  # another county's client
            parks.create_park_case(s, manager, case_input(outside.id,
                                                          account_manager_id=follower.id),
                                   now=OPENED)
        assert set(caught.value.fields) == {"client_id"}
        with pytest.raises(ValidationFailed) as caught:  # no account manager named
            parks.create_park_case(s, manager, case_input(inside.id), now=OPENED)
        assert caught.value.fields == {
            "account_manager_id": "Choose the account manager who follows the case."}
        case = parks.create_park_case(s, manager, case_input(
            inside.id, account_manager_id=str(follower.id)), now=OPENED)
        assert case.owner_user_id == follower.id
        choices = parks.account_manager_choices(s, scope_for(s, manager), inside.id)
        assert follower.id in [m.id for m in choices]
        assert parks.account_manager_choices(s, scope_for(s, manager), outside.id) == []
        record = s.scalar(select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == case.id))
        assert record.actor_id == manager.id and record.details["account_manager"] == follower.username


def test_a_case_refused_half_way_leaves_no_row_behind(db):
    """The order, its clocks, its visit and its record are one transaction."""
    with db.read() as s:
        before = park_cases(s)
        visits_before = s.scalar(select(func.count()).select_from(ParkVisit))
    with pytest.raises(RuntimeError), db.write() as s:
        account = user(s, "account")
        parks.create_park_case(s, account, case_input(
            account.clients[0].id, visit_planned_for=date(2026, 3, 10)), now=OPENED)
        raise RuntimeError("the request fails after the service")
    with db.read() as s:
        assert park_cases(s) == before
        assert s.scalar(select(func.count()).select_from(ParkVisit)) == visits_before


def test_a_visit_given_as_a_time_keeps_its_time(db):
    with db.write() as s:
        account = user(s, "account")
        when = OPENED + timedelta(days=3, hours=5)
        case = parks.create_park_case(s, account, case_input(account.clients[0].id,
                                                             visit_planned_for=when), now=OPENED)
        assert s.scalar(select(ParkVisit.planned_for).where(
            ParkVisit.work_order_id == case.id)) == when

"""Each role sees exactly its own part of the organisation."""

from sqlalchemy import select

from station_portal.auth.models import User
from station_portal.auth.scope import scope_for
from station_portal.org.models import Client, Unit
from station_portal.org.queries import client_rows, staff_rows, territories, unit_summary, unit_tree
from station_portal.org.tree import subtree_ids


def user(s, name) -> User:
    return s.scalar(select(User).where(User.username == name))


def unit(s, code) -> Unit:
    return s.scalar(select(Unit).where(Unit.code == code))


def test_admin_and_company_manager_see_everything(db):
    with db.read() as s:
        for name in ("admin", "manager"):
            scope = scope_for(s, user(s, name))
            assert scope.is_global and scope.sees_unit(unit(s, "JL-YJ-BDH-G1").id)


def test_station_head_sees_their_station_and_its_groups_only(db):
    with db.read() as s:
        scope = scope_for(s, user(s, "head"))
        station = unit(s, "JL-CY-S")
        assert scope.unit_ids == frozenset(subtree_ids(s, station.id))
        assert len(scope.unit_ids) == 4  # the station and its three groups
        assert not scope.sees_unit(unit(s, "JL-CH-S").id)
        assert not scope.sees_unit(unit(s, "JL-CY").id)  # not even its own county company


def test_grid_manager_sees_the_supply_office_and_its_grids(db):
    with db.read() as s:
        scope = scope_for(s, user(s, "gridmgr"))
        office = unit(s, "JL-CY-GDZ")
        grids = {u.id for u in office.children}
        assert scope.unit_ids == frozenset({office.id} | grids)


def test_account_manager_sees_their_clients_only(db):
    with db.read() as s:
        account = user(s, "account")
        scope = scope_for(s, account)
        assert scope.client_ids == frozenset(c.id for c in account.clients)
        others = s.scalars(select(Client.id).where(Client.id.not_in(scope.client_ids))).all()
        assert others and not any(scope.sees_client(c) for c in others)
        assert {r.id for r in client_rows(s, scope)} == scope.client_ids


def test_crew_member_sees_their_own_group(db):
    with db.read() as s:
        crew = user(s, "crew")
        scope = scope_for(s, crew)
        assert scope.unit_ids == frozenset({crew.staff.unit_id})
        # the map shows the station that holds the group
        assert [t.code for t in territories(s, scope)] == ["JL-CY-S"]


def test_a_disabled_user_sees_nothing(db):
    with db.read() as s:
        head = user(s, "head")
        head.active = False
        scope = scope_for(s, head)
        s.rollback()
    assert scope.unit_ids == frozenset() and scope.client_ids == frozenset()


def test_scoped_queries_return_nothing_for_a_unit_outside_the_scope(db):
    with db.read() as s:
        scope = scope_for(s, user(s, "head"))
        other = unit(s, "JL-CH-S").id
        assert unit_summary(s, scope, other) is None
        assert staff_rows(s, scope, other) == []
        assert unit_summary(s, scope, "7") is None  # ids from a browser must be ints


def test_the_tree_shows_the_path_to_the_scope_but_only_the_scope_is_selectable(db):
    with db.read() as s:
        roots = unit_tree(s, scope_for(s, user(s, "head")))
    city = roots[0]
    county = city.children[0]
    station = county.children[0]
    assert not city.in_scope and not county.in_scope and len(city.children) == 1
    assert station.in_scope and len(station.children) == 3

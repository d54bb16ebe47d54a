"""The read functions the pages' callbacks call (moved out of the callbacks): each answers
for the caller's scope only, on the seeded demo city."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from station_portal.auth.roles import Role
from station_portal.auth.scope import Scope
from station_portal.db import utcnow
from station_portal.org.models import Client
from station_portal.timefmt import local
from station_portal.workorders.models import ParkVisit
from station_portal.workorders.visit_due import client_visits
from tests.helpers import unique


def scope_of(role: Role, units=None, clients=None, roots=(), **extra) -> Scope:
    return Scope(0, role, None if units is None else frozenset(units),
                 None if clients is None else frozenset(clients), tuple(roots), **extra)


def test_client_visits_lists_the_scopes_clients_and_their_open_visits(db):
    """An overdue planned visit stands for its client's next visit: its state and the day
    it was due come with it; a client outside the scope is not read at all."""
    now = utcnow()
    planned = now - timedelta(days=3)
    with db.write() as s:  # a client of its own, never visited, removed again below
        model, other = s.scalars(select(Client).order_by(Client.id).limit(2)).all()
        mine = Client(code=unique("cl"), name_zh="读测客户", name_en="Read test client",
                      kind=model.kind, industry=model.industry, unit_id=model.unit_id,
                      lat=model.lat, lon=model.lon, contact_name="-", contact_phone="-",
                      visit_every_days=14)
        s.add(mine)
        s.flush()
        visit = ParkVisit(client_id=mine.id, planned_for=planned)
        s.add(visit)
        s.flush()
        mine_id, other_id, visit_id = mine.id, other.id, visit.id
    try:
        with db.read() as s:
            world = client_visits(s, scope_of(Role.ACCOUNT_MANAGER, clients=[mine_id]), now)
            assert [c.id for c in world.clients] == [mine_id] and set(world.next) == {mine_id}
            [row] = world.open
            assert (row.id, row.client_id, row.state, row.days) == (visit_id, mine_id, "overdue", 3)
            assert row.due == local(planned).date() == world.next[mine_id].due
            assert row.case_code is None and row.work_order_id is None
            nobody = client_visits(s, scope_of(Role.ACCOUNT_MANAGER, clients=[]), now)
            assert nobody.clients == [] and nobody.open == [] and nobody.next == {}
            everyone = client_visits(s, scope_of(Role.ADMIN), now)
            assert {mine_id, other_id} <= {c.id for c in everyone.clients}
    finally:
        with db.write() as s:  # leave the shared database as it was
            s.delete(s.get(ParkVisit, visit_id))
            s.delete(s.get(Client, mine_id))

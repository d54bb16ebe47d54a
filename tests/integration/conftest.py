"""Fixtures shared by the integration tests."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from station_portal.auth.models import User
from station_portal.demo.city import build_demo_city
from tests.helpers import fresh_database


@pytest.fixture(scope="module")
def city(engine_name, tmp_path_factory):
    """The demo organisation without history, every account with an email address: only
    the module's own orders have clocks (one database per test module and engine)."""
    database = fresh_database(engine_name, tmp_path_factory.mktemp("city"))
    with database.write() as session:
        build_demo_city(session, seed=7)
        for user in session.scalars(select(User)):
            user.email = f"{user.username}@example.cn"
    yield database
    database.dispose()


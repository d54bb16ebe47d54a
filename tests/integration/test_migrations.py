"""Alembic migrations are the only way the schema is made, and they match the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from station_portal import migrate
from station_portal.models import Base
from tests.helpers import ENGINES, fresh_database


@pytest.mark.parametrize("engine", ENGINES)
def test_the_migrated_schema_matches_the_models(engine, tmp_path):
    db = fresh_database(engine, tmp_path)
    assert migrate.current_revision(db) == migrate.head_revision(db)
    with db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], "run: station-portal db revision -m '...'"
    migrate.downgrade(db, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(db)
    assert "users" in inspect(db.engine).get_table_names()
    db.dispose()


@pytest.mark.parametrize("engine", ENGINES)
def test_migrations_run_on_a_database_full_of_data(engine, tmp_path):
    """Down one revision and up again with the demo city and orders in place."""
    from sqlalchemy import func, select

    from station_portal.demo.city import build_demo_city
    from station_portal.demo.orders import seed_history
    from station_portal.workorders.models import WorkOrder

    db = fresh_database(engine, tmp_path)
    with db.write() as s:
        build_demo_city(s, seed=2)
        seed_history(s, n_orders=300, seed=2)
    migrate.downgrade(db, "-1")
    migrate.upgrade(db)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(WorkOrder)) == 300
    db.dispose()

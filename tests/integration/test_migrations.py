"""Alembic migrations are the only way the schema is made, and they match the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from station_portal import migrate
from station_portal.models import Base
from tests.conftest import ENGINES, fresh_database


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

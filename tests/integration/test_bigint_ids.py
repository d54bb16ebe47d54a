"""64-bit ids for the tables that grow without bound (revision 060431279656): bigint columns
and sequences on PostgreSQL, ids beyond 2^31 stored and generated on both engines, and the
revision goes down (refusing while an id does not fit) and up again."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, select, text

from station_portal import migrate
from station_portal.audit import AuditEvent
from station_portal.cli import main
from station_portal.db import Database
from station_portal.demo.city import build_demo_city
from station_portal.org.models import Crew, CrewPing
from tests.helpers import ENGINES, fresh_database, postgres_schema_url, run_schema_prefix

PREVIOUS = "7c1a0c000004"  # the revision before 060431279656
WIDE = [("audit_events", "id"), ("audit_events", "entity_id"), ("crew_pings", "id"),
        ("notifications", "id"), ("work_order_events", "id"), ("attachments", "event_id"),
        ("hall_tickets", "id"), ("job_runs", "id"), ("auth_sessions", "id"),
        ("api_tokens", "id")]
SERIAL = [(t, c) for t, c in WIDE if c == "id"]
BIG = 2**31 + 10
AT = datetime(2026, 12, 1, tzinfo=UTC)

postgres_only = pytest.mark.skipif("postgresql" not in ENGINES,
                                   reason="needs TEST_DATABASE_URL (PostgreSQL)")


def column_types(db: Database) -> dict[tuple[str, str], str]:
    with db.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema()")).all()
    return {(t, c): d for t, c, d in rows if (t, c) in WIDE}


def sequence_types(db: Database) -> dict[str, str]:
    with db.engine.connect() as conn:
        return {t: conn.execute(text(
            "SELECT s.data_type FROM information_schema.sequences s WHERE s.sequence_schema = "
            "current_schema() AND s.sequence_name = :n"), {"n": f"{t}_id_seq"}).scalar()
            for t, _c in SERIAL}


@pytest.fixture
def pg_schema():
    """An empty PostgreSQL schema and its URL (the CLI migrates it)."""
    schema = run_schema_prefix() + uuid.uuid4().hex[:10]
    admin = Database(os.environ["TEST_DATABASE_URL"])
    with admin.engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return postgres_schema_url(schema)


@postgres_only
def test_upgraded_by_the_command_the_columns_and_sequences_are_bigint(pg_schema):
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"DATABASE_URL": pg_schema})
    assert result.exit_code == 0, result.output
    db = Database(pg_schema)
    try:
        assert set(column_types(db).values()) == {"bigint"} and len(column_types(db)) == 10
        assert set(sequence_types(db).values()) == {"bigint"}
        migrate.downgrade(db, PREVIOUS)
        assert set(column_types(db).values()) == {"integer"}
        assert set(sequence_types(db).values()) == {"integer"}
        migrate.upgrade(db)
        assert set(column_types(db).values()) == {"bigint"}
        assert migrate.current_revision(db) == migrate.head_revision(db)
    finally:
        db.dispose()


@pytest.mark.parametrize("engine", ENGINES)
def test_ids_beyond_two_to_the_31_are_stored_and_generated(engine, tmp_path):
    db = fresh_database(engine, tmp_path)
    with db.write() as s:
        build_demo_city(s, seed=4)
        crew = s.scalar(select(Crew.id).order_by(Crew.id).limit(1))
        s.execute(insert(CrewPing).values(id=BIG, crew_id=crew, lat=43.8, lon=126.5, at=AT,
                                          received_at=AT))
        if engine == "postgresql":  # the sequences themselves past 2^31 (SQLite: max + 1)
            for table in ("crew_pings", "audit_events"):
                s.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :n)"),
                          {"t": table, "n": BIG})
        s.add(AuditEvent(action="test", entity_type="crew_ping", entity_id=BIG, at=AT))
        s.add(CrewPing(crew_id=crew, lat=43.8, lon=126.5, at=AT, received_at=AT))
    with db.read() as s:
        assert s.scalar(select(func.max(CrewPing.id))) == BIG + 1  # generated after it
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "test")).one()
        assert event.entity_id == BIG
        if engine == "postgresql":
            assert event.id == BIG + 1
    db.dispose()


@postgres_only
def test_going_back_is_refused_while_an_id_does_not_fit(tmp_path):
    db = fresh_database("postgresql", tmp_path)
    try:
        with db.write() as s:
            build_demo_city(s, seed=4)
            crew = s.scalar(select(Crew.id).order_by(Crew.id).limit(1))
            s.execute(insert(CrewPing).values(id=BIG, crew_id=crew, lat=43.8, lon=126.5,
                                              at=AT, received_at=AT))
        with pytest.raises(RuntimeError, match=r"crew_pings\.id holds"):
            migrate.downgrade(db, PREVIOUS)
        assert migrate.current_revision(db) == migrate.head_revision(db)  # nothing changed
        assert column_types(db)[("crew_pings", "id")] == "bigint"
        with db.write() as s:
            s.execute(text("DELETE FROM crew_pings WHERE id = :n"), {"n": BIG})
            s.execute(text("SELECT setval(pg_get_serial_sequence('crew_pings', 'id'), 1)"))
        migrate.downgrade(db, PREVIOUS)
        assert migrate.current_revision(db) == PREVIOUS
        migrate.upgrade(db)
        assert migrate.current_revision(db) == migrate.head_revision(db)
        assert column_types(db)[("crew_pings", "id")] == "bigint"
    finally:
        db.dispose()

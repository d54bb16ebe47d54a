"""Alembic environment: runs against the Database handed over by station_portal.migrate."""

from alembic import context

from station_portal.db import Database
from station_portal.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    db = config.attributes.get("database")
    if db is None:  # plain `alembic` command line: read DATABASE_URL like the portal does
        from station_portal.config import Config

        db = Database(Config.from_env().database_url)
    with db.engine.connect() as connection:
        if db.is_sqlite:
            # SQLite rebuilds a table to alter it (batch mode); other tables' foreign
            # keys would refuse the drop. Checks are off while migrating and verified after.
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        with connection.begin():
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=db.is_sqlite,  # SQLite cannot ALTER most things in place
                compare_type=True,
            )
            context.run_migrations()
        if db.is_sqlite:
            raw = connection.connection.dbapi_connection
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
            raw.execute("PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
run_migrations_online()

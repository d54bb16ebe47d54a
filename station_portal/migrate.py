"""Schema migrations with Alembic: the only way the schema is made.

``station-portal db upgrade`` calls :func:`upgrade`; the application refuses to
serve a database whose schema is behind (:func:`check_current`).
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from station_portal.db import Database
from station_portal.resources import resource_dir


class SchemaNotCurrent(RuntimeError):
    """The database needs ``station-portal db upgrade`` first."""


def alembic_config(db: Database) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resource_dir("migrations")))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    cfg.attributes["database"] = db
    return cfg


def head_revision(db: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    command.upgrade(alembic_config(db), revision)


def downgrade(db: Database, revision: str) -> None:
    command.downgrade(alembic_config(db), revision)


def revision(db: Database, message: str, autogenerate: bool = True) -> None:
    command.revision(alembic_config(db), message=message, autogenerate=autogenerate)


def check_current(db: Database) -> None:
    current, head = current_revision(db), head_revision(db)
    if current != head:
        raise SchemaNotCurrent(
            f"The database schema is at {current or 'nothing'}, the code needs {head}. "
            "Run: station-portal db upgrade"
        )

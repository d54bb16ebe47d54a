"""Schema migrations with Alembic: the only way the schema is made; and which schema a
release can serve, so hosts can be rolled one by one.

``station-portal db upgrade`` calls :func:`upgrade`. The application refuses to serve
a database it cannot use (:func:`check_current`) and ``/readyz`` says why
(:func:`assess`):

- at this code's head: serves;
- behind it (a revision this code knows): refused, ``db upgrade`` first;
- newer (a revision this code does not know, migrated by a later release): served only
  when every newer revision declared that code at this head still runs on it.

**The declaration** is a module-level name in each revision file::

    compatibility = "expand"    # only adds (nullable columns, tables, indexes, wider types):
                                # serves every code its previous revision served
    compatibility = "contract"  # drops or tightens only what the previous revision's code
                                # no longer uses: serves that code, not older code
    # absent, or "breaking": serves only code at this revision

**Old code must read the declarations of revision files it does not have**, so they are
kept in the database: after every migration run ``migrations/env.py`` calls
:func:`record_compatibility`, which writes table ``schema_compat`` (one row per applied
revision: its previous revision, its declaration and the oldest code head it serves)
in the same transaction as ``alembic_version``. The code reads that table when the
database is ahead of it; it never needs the newer files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import to_tuple
from sqlalchemy import Column, Connection, String, Table, inspect, select

from station_portal.db import Base, Database
from station_portal.resources import resource_dir

log = logging.getLogger(__name__)

EXPAND = "expand"
CONTRACT = "contract"
BREAKING = "breaking"
COMPATIBILITY = (EXPAND, CONTRACT, BREAKING)

# /readyz reasons (short, no revision ids: the details go to the log)
NOT_MIGRATED = "database not migrated"
BEHIND = "database schema differs from this code's (behind it, or newer)"
NEWER_INCOMPATIBLE = "database schema newer than this code's and not declared compatible with it"

# Written by migrations/env.py after each run, read by older code (see the module doc).
# Bookkeeping beside alembic_version, not a domain table: no revision file makes it.
schema_compat = Table(
    "schema_compat",
    Base.metadata,
    Column("revision", String(32), primary_key=True),
    Column("down_revision", String(255), nullable=True),  # comma-separated for a merge
    Column("compatibility", String(16), nullable=False),
    Column("oldest_code", String(32), nullable=False),  # the oldest code head it serves
)


class SchemaNotCurrent(RuntimeError):
    """The database needs ``station-portal db upgrade`` first, or is newer than this code
    by a revision that does not serve it."""


def alembic_config(db: Database, script_location: Path | str | None = None) -> AlembicConfig:
    """``script_location``: another migrations folder than this code's (tests play a
    newer release with a copy that has one more revision)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(script_location or resource_dir("migrations")))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    cfg.attributes["database"] = db
    return cfg


@dataclass(frozen=True)
class CodeRevisions:
    """The revisions this code has: its head and every revision it knows."""

    head: str | None
    known: frozenset[str]


def code_revisions(script_location: Path | str | None = None) -> CodeRevisions:
    """Read from the migrations folder (this code's unless told); cached, files don't move."""
    return _code_revisions(str(script_location or resource_dir("migrations")))


@lru_cache(maxsize=8)
def _code_revisions(location: str) -> CodeRevisions:
    script = ScriptDirectory(location)
    return CodeRevisions(script.get_current_head(),
                         frozenset(s.revision for s in script.walk_revisions()))


def head_revision(db: Database | None = None) -> str | None:
    """The schema revision this code is written for (``db`` is not needed; kept for callers)."""
    return code_revisions().head


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head", script_location: Path | str | None = None) -> None:
    command.upgrade(alembic_config(db, script_location), revision)


def downgrade(db: Database, revision: str, script_location: Path | str | None = None) -> None:
    command.downgrade(alembic_config(db, script_location), revision)


def revision(db: Database, message: str, autogenerate: bool = True) -> None:
    command.revision(alembic_config(db), message=message, autogenerate=autogenerate)


# --- the declarations, written by the release that migrates ------------------------------


def declared_compatibility(script) -> str:
    """A revision file's ``compatibility`` (``breaking`` when it says nothing)."""
    kind = getattr(script.module, "compatibility", BREAKING)
    if kind not in COMPATIBILITY:
        raise ValueError(f"migration {script.revision}: compatibility must be one of "
                         f"{', '.join(COMPATIBILITY)}, not {kind!r}")
    return kind


def compatibility_rows(script: ScriptDirectory, heads: tuple[str, ...]) -> list[dict]:
    """One row per revision from base up to ``heads``: its previous revision, its
    declaration and the oldest code head that runs on the schema it leaves."""
    chain = list(script.iterate_revisions(heads, "base"))
    chain.reverse()  # base first: a revision's oldest code builds on its previous one's
    oldest: dict[str, str] = {}
    rows = []
    for sc in chain:
        downs = tuple(to_tuple(sc.down_revision, default=()))  # two or more: a merge
        kind = declared_compatibility(sc)
        if len(downs) != 1 or kind == BREAKING:
            served = sc.revision
        elif kind == EXPAND:
            served = oldest[downs[0]]
        else:  # CONTRACT
            served = downs[0]
        oldest[sc.revision] = served
        rows.append({"revision": sc.revision, "down_revision": ",".join(downs) or None,
                     "compatibility": kind, "oldest_code": served})
    return rows


def record_compatibility(connection: Connection, script: ScriptDirectory) -> None:
    """Keep ``schema_compat`` equal to the applied revisions' declarations (called by
    ``migrations/env.py`` inside the migration's transaction; dropped at base)."""
    heads = MigrationContext.configure(connection).get_current_heads()
    if not heads:
        schema_compat.drop(connection, checkfirst=True)
        return
    schema_compat.create(connection, checkfirst=True)
    connection.execute(schema_compat.delete())
    connection.execute(schema_compat.insert(), compatibility_rows(script, heads))


# --- the check, made by the release that serves --------------------------------------------


@dataclass(frozen=True)
class SchemaVerdict:
    """Whether this code can serve the database's schema."""

    database: str | None
    code: str | None
    problem: str | None  # for /readyz; None: this code can serve the database
    detail: str  # for the log and the command line, with the revisions

    @property
    def usable(self) -> bool:
        return self.problem is None


def _recorded(connection: Connection) -> dict[str, dict]:
    if not inspect(connection).has_table(schema_compat.name):
        return {}
    return {row.revision: row._asdict()
            for row in connection.execute(select(schema_compat))}


def _down_from(recorded: dict[str, dict], start: str, stop: str | None) -> list[str]:
    """Recorded revisions from ``start`` down their single previous revision, up to and
    including ``stop`` (or as far as the record goes)."""
    out: list[str] = []
    at: str | None = start
    while at is not None and at in recorded and at not in out:
        out.append(at)
        if at == stop:
            break
        down = recorded[at]["down_revision"]
        at = down if down and "," not in down else None
    return out


def assess(connection: Connection, code: CodeRevisions | None = None) -> SchemaVerdict:
    """Whether code with ``code``'s revisions (this code's unless told) can serve the
    database on ``connection``."""
    code = code or code_revisions()
    head = code.head
    current = MigrationContext.configure(connection).get_current_revision()
    if current == head:
        return SchemaVerdict(current, head, None, f"the database schema is at this code's {head}")
    if current is None:
        return SchemaVerdict(current, head, NOT_MIGRATED,
                             f"The database has no schema; the code needs {head}. "
                             "Run: station-portal db upgrade")
    if current in code.known:
        return SchemaVerdict(current, head, BEHIND,
                             f"The database schema is at {current}, the code needs {head}. "
                             "Run: station-portal db upgrade")
    recorded = _recorded(connection)
    if current not in recorded:
        return SchemaVerdict(current, head, NEWER_INCOMPATIBLE,
                             f"The database schema is at {current}, which this code (at {head}) "
                             "does not know, and the database records no compatibility for it: "
                             "run the release that migrated it")
    served = _down_from(recorded, current, recorded[current]["oldest_code"])
    newer = _down_from(recorded, current, head)
    if head in served:
        return SchemaVerdict(current, head, None,
                             f"The database schema is at {current}, newer than this code's {head} "
                             f"by revisions declared compatible: {', '.join(reversed(newer[:-1]))}")
    if head in newer:
        steps = ", ".join(f"{r} ({recorded[r]['compatibility']})" for r in reversed(newer[:-1]))
        why = (f"the newer revisions {steps} serve code from "
               f"{recorded[current]['oldest_code']} on, not this code")
    else:
        why = "this code's head is not among its recorded previous revisions"
    return SchemaVerdict(current, head, NEWER_INCOMPATIBLE,
                         f"The database schema is at {current}, newer than this code's {head}, "
                         f"and {why}: run a release at {current} or later")


def schema_verdict(db: Database) -> SchemaVerdict:
    """:func:`assess` for this code, on a connection of its own."""
    with db.engine.connect() as conn:
        return assess(conn)


def check_current(db: Database) -> SchemaVerdict:
    """Refuse (:class:`SchemaNotCurrent`) a database this code cannot serve: behind it, or
    newer by a revision not declared compatible. A newer, compatible one is accepted."""
    verdict = schema_verdict(db)
    if not verdict.usable:
        raise SchemaNotCurrent(verdict.detail)
    if verdict.database != verdict.code:
        log.info("schema check: %s", verdict.detail)
    return verdict

"""Database engine, sessions and the declarative base.

One :class:`Database` per application. Reads use :meth:`Database.read`; every
change goes through :meth:`Database.write`, which on SQLite starts the
transaction with ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout
instead of failing halfway. The same code runs on PostgreSQL through psycopg 3.

Nothing connects at import time. This module must not import Flask or Dash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import TypeDecorator

SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_CACHE_KB = 65_536
SQLITE_MMAP_BYTES = 1 << 30

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC on every engine.

    SQLite keeps no zone, so values are normalised to UTC on the way in and
    marked UTC on the way out. Naive datetimes are refused: they are a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON, list[str]: JSON}


def utcnow() -> datetime:
    return datetime.now(UTC)


def claim_next_version(session: Session, obj: Any) -> bool:
    """Compare-and-set ``obj.version`` to the next number; False if someone else did first.

    ``UPDATE … SET version = v + 1 WHERE id = :id AND version = v``: of two
    concurrent edits exactly one gets it, and on PostgreSQL the row stays locked
    until commit, so the loser waits and then finds the version moved on.
    """
    model = type(obj)
    seen = obj.version
    claimed = session.execute(
        update(model).where(model.id == obj.id, model.version == seen).values(version=seen + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return False
    set_committed_value(obj, "version", seen + 1)
    return True


def serialize_on(session: Session, *keys: str) -> None:
    """Make concurrent transactions that name the same key run one after the other.

    PostgreSQL: transaction-level advisory locks (taken in the order given).
    SQLite: write transactions are already serial (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in keys:
        digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big",
                                signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": digest})


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names (or none)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername != "postgresql+psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module, so that our
        # "begin" hook decides between BEGIN and BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA journal_mode = WAL")
        # Reads of a large history: a 64 MB page cache per connection and memory-mapped
        # reads (the default 2 MB cache makes every dashboard query go back to the OS).
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")
        cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("portal_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """An engine plus the two kinds of session the portal uses."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 5, max_overflow: int = 10,
                 pool_timeout: int = 30, pool_recycle: int = -1, pgbouncer: bool = False) -> None:
        """``pool_*``: each process's connection pool (PostgreSQL; SQLite keeps SQLAlchemy's).
        ``pgbouncer``: the server is PgBouncer in transaction mode, where a prepared statement
        made in one transaction may be missing in the next (another server connection), so
        psycopg prepares none (``prepare_threshold=None``)."""
        self.url = normalise_url(url)
        backend = make_url(self.url).get_backend_name()
        self.is_sqlite = backend == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": not self.is_sqlite}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 15}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=max_overflow,
                          pool_timeout=pool_timeout, pool_recycle=pool_recycle)
            if pgbouncer:
                kwargs["connect_args"] = {"prepare_threshold": None}
        self.engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        write_engine = self.engine.execution_options(portal_write=True)
        self._read_factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write_factory = sessionmaker(bind=write_engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def new_read_session(self) -> Session:
        """A session for reading; the caller closes it (see :meth:`read`)."""
        return self._read_factory()

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self._read_factory()
        try:
            yield session
        finally:
            session.close()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back on error."""
        session = self._write_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self, *, close: bool = True) -> None:
        """Drop the pool. ``close=False`` in a forked child: forget the parent's connections
        without touching them (they belong to the parent), and open new ones on demand."""
        self.engine.dispose(close=close)

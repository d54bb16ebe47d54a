"""Backups of an installation: the PostgreSQL database and the store of uploads, their
restore, and a restore drill (``station-portal backup create|verify|restore|drill``).

A backup is one folder::

    manifest.json    what it holds: when, the schema revision, the rows of every table,
                     the dump's size and SHA-256, every object's key, size and SHA-256
    database.dump    pg_dump in its custom format (pg_restore reads it)
    objects/<key>    every object of the store of uploads (local folder or S3 bucket)

It is written as ``<folder>.partial`` and renamed when complete, so a folder without that
suffix is a finished backup.

**Consistency.** The rows are counted and pg_dump reads the database in one exported
snapshot (``pg_export_snapshot``, REPEATABLE READ): the counts in the manifest are exactly
the dump's. The objects are copied *after* the snapshot. An upload writes its object
before its row commits, and objects are written once under random names and never
changed, so every object a dumped row names is already in the store when the copy starts;
the copy checks it (``attachments.stored_name``) and a missing one fails the backup.
Objects written after the snapshot are copied too, as unreferenced ones (harmless: no row
names them; documents kept for a refused application, ``pending/``, are never named).

**Restore** goes into an empty database and an empty store (``--force`` to restore over
what is there): the backup's checksums are verified before anything is written, then
pg_restore runs in one transaction, the objects are put, and the result is verified
against the manifest (every table's rows, the schema revision, every object read back and
hashed).

**The drill** backs up the running installation, restores into a scratch database and a
scratch store, verifies, opens a repair with a photo through the services against the
restored copy and reads it back, reports the timings and sizes, and drops the scratch copy.

PostgreSQL only: the embedded SQLite demo database is one file (see :data:`SQLITE_NOTE`).
pg_dump, pg_restore of the server's major version or newer must be on the PATH.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import NullPool

from station_portal import migrate
from station_portal.config import Config
from station_portal.db import Database, normalise_url
from station_portal.storage import (
    KeyMissing,
    LocalStorage,
    S3Storage,
    Storage,
    StorageError,
    check_key,
    for_config,
)

FORMAT = 1
KIND = "station-portal-backup"
MANIFEST = "manifest.json"
DUMP = "database.dump"
OBJECTS = "objects"
PARTIAL = ".partial"
CHUNK = 1024 * 1024
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")
SQLITE_NOTE = (
    "backups are made of PostgreSQL only; this installation runs on SQLite ({url}), the "
    "embedded demo database. Its backup is a copy of the file and of the upload folder "
    "while the portal is stopped (or `sqlite3 FILE \".backup COPY\"` while it runs); "
    "production runs PostgreSQL (docs/OPERATIONS.md).")
PGBOUNCER_NOTE = (
    "the backup needs a direct connection to PostgreSQL (pg_dump and its exported snapshot "
    "cannot go through PgBouncer's transaction pool): give --database-url, e.g. the "
    "installation's DEPLOY_MIGRATE_DATABASE_URL")

Echo = Callable[[str], None]


class BackupError(RuntimeError):
    """The backup, restore or drill cannot go on; the message says why."""


# -- PostgreSQL connections and tools ---------------------------------------------------------

def postgres_url(url: str) -> URL:
    """``url`` parsed, or :class:`BackupError` if it is not PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        raise BackupError(SQLITE_NOTE.format(url=url.split("?", 1)[0]))
    if parsed.get_backend_name() != "postgresql":
        raise BackupError(f"backups need PostgreSQL, not {parsed.get_backend_name()}")
    return make_url(normalise_url(url))


def shown(url: URL | str) -> str:
    """A URL to print: no password."""
    return (make_url(url) if isinstance(url, str) else url).render_as_string(hide_password=True)


_LIBPQ_QUERY = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
                "sslkey": "PGSSLKEY", "options": "PGOPTIONS", "host": "PGHOST",
                "connect_timeout": "PGCONNECT_TIMEOUT", "application_name": "PGAPPNAME"}


def libpq_env(url: URL) -> dict[str, str]:
    """The environment that points pg_dump, pg_restore at ``url`` (the password never on a
    command line)."""
    env = {"PGHOST": url.host or "", "PGPORT": str(url.port or ""), "PGUSER": url.username or "",
           "PGPASSWORD": url.password or "", "PGDATABASE": url.database or "",
           "PGAPPNAME": "station-portal-backup"}
    for name, value in url.query.items():
        if name in _LIBPQ_QUERY:
            env[_LIBPQ_QUERY[name]] = value if isinstance(value, str) else value[0]
    return {k: v for k, v in env.items() if v}


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on the PATH (Debian: apt-get install "
                          "postgresql-client-15, the server's major version or newer)")
    return found


def _run_tool(argv: list[str], url: URL) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(libpq_env(url))
    done = subprocess.run(argv, env=env, capture_output=True, text=True)  # noqa: S603 (pg tools, our argv)
    if done.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed ({done.returncode}): "
                          f"{done.stderr.strip()[-2000:]}")


def _engine(url: URL):
    return create_engine(url, poolclass=NullPool)


def user_tables(conn: Connection) -> list[tuple[str, str]]:
    """(schema, table) of every table outside PostgreSQL's own schemas."""
    rows = conn.execute(text(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname <> ALL(:system) "
        "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' "
        "ORDER BY 1, 2"), {"system": list(SYSTEM_SCHEMAS)})
    return [(schema, table) for schema, table in rows]


def _quoted(schema: str, table: str) -> str:
    return '"' + schema.replace('"', '""') + '"."' + table.replace('"', '""') + '"'


def row_counts(conn: Connection) -> dict[str, int]:
    """Rows of every table, ``schema.table`` → count, in the connection's snapshot."""
    return {f"{schema}.{table}": int(conn.execute(text(
        f"SELECT count(*) FROM {_quoted(schema, table)}")).scalar_one())  # noqa: S608 (catalog names, quoted)
        for schema, table in user_tables(conn)}


def _revision(conn: Connection, tables: dict[str, int]) -> str | None:
    names = [t for t in tables if t.endswith(".alembic_version")]
    if not names:
        return None
    schema, _dot, table = names[0].partition(".")
    return conn.execute(text(
        f"SELECT version_num FROM {_quoted(schema, table)}")).scalar()  # noqa: S608 (catalog names)


def _referenced_keys(conn: Connection, tables: dict[str, int]) -> set[str]:
    """The object keys the dumped rows name (``attachments.stored_name``)."""
    from station_portal.workorders.models import Attachment

    if not any(t.endswith(".attachments") for t in tables):
        return set()
    return set(conn.execute(select(Attachment.stored_name)).scalars())


# -- files and objects --------------------------------------------------------------------------

def _sha256_file(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def object_chunks(store: Storage, key: str) -> Iterator[bytes]:
    """The bytes of one object as a stream of chunks (a local file read in pieces, an S3
    object's body streamed), never whole in memory; :class:`KeyMissing` if it is gone."""
    check_key(key)
    if isinstance(store, LocalStorage):
        try:
            fh = (store.root / key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise KeyMissing(key) from None
        except OSError as exc:
            raise StorageError(f"cannot read {key}: {exc}") from exc
        with fh:
            while chunk := fh.read(CHUNK):
                yield chunk
        return
    if isinstance(store, S3Storage):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = store.client.get_object(Bucket=store.bucket, Key=store.prefix + key)
            yield from answer["Body"].iter_chunks(CHUNK)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                raise KeyMissing(key) from None
            raise StorageError(f"cannot read {key} in bucket {store.bucket}: {code}") from exc
        except BotoCoreError as exc:  # the connection, or the stream broke off
            raise StorageError(f"cannot read {key} in bucket {store.bucket}: {exc}") from exc
        return
    yield store.get(key)  # another kind of store: whole


def object_digest(store: Storage, key: str) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    for chunk in object_chunks(store, key):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def describe_store(store: Storage) -> str:
    if isinstance(store, S3Storage):
        return f"s3://{store.bucket}/{store.prefix}"
    if isinstance(store, LocalStorage):
        return str(store.root)
    return repr(store)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{folder} is not a backup: it has no {MANIFEST}") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        raise BackupError(f"{path} is not a Station Portal backup manifest")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} has format {manifest.get('format')!r}; this release reads "
                          f"format {FORMAT}")
    return manifest


# -- backup ---------------------------------------------------------------------------------------

@dataclass
class BackupReport:
    folder: Path
    manifest: dict
    timings: dict[str, float]
    missing: list[str]  # keys the dumped rows name that the store did not have

    @property
    def ok(self) -> bool:
        return not self.missing


def create_backup(database_url: str, store: Storage, dest: Path | str, *,
                  echo: Echo = lambda _line: None) -> BackupReport:
    """Dump the database (one snapshot, custom format) and copy every object of ``store``
    into the new folder ``dest``, with its manifest."""
    url = postgres_url(database_url)
    pg_dump = _tool("pg_dump")
    dest = Path(dest).expanduser().resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} exists and is not an empty folder; give a new one")
    work = dest.with_name(dest.name + PARTIAL)
    if work.exists():
        shutil.rmtree(work)  # left by a backup that did not finish
    work.mkdir(mode=0o700, parents=True)
    os.chmod(work, 0o700)
    timings: dict[str, float] = {}
    started_at = _now()
    engine = _engine(url)
    try:
        # 1. One snapshot: the rows are counted and pg_dump reads in it.
        began = time.monotonic()
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                snapshot_at = conn.execute(text(
                    "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
                ).scalar_one()
                tables = row_counts(conn)
                revision = _revision(conn, tables)
                referenced = _referenced_keys(conn, tables)
                server = conn.execute(text("SHOW server_version")).scalar_one()
                timings["count"] = time.monotonic() - began
                echo(f"snapshot {snapshot} at {snapshot_at}: {len(tables)} tables, "
                     f"{sum(tables.values()):,} rows, schema {revision or 'empty'}")
                began = time.monotonic()
                _run_tool([pg_dump, "--format=custom", "--compress=6", f"--snapshot={snapshot}",
                           "--no-password", f"--file={work / DUMP}"], url)
                timings["dump"] = time.monotonic() - began
        dump_size, dump_sha = _sha256_file(work / DUMP)
        echo(f"database dumped: {dump_size:,} bytes in {timings['dump']:.1f} s")
        # 2. The objects, after the snapshot: every one a dumped row names is there already.
        began = time.monotonic()
        objects, vanished = _copy_objects(store, work / OBJECTS)
        timings["objects"] = time.monotonic() - began
        copied = {o["key"] for o in objects}
        missing = sorted(referenced - copied)
        total = sum(o["size"] for o in objects)
        echo(f"objects copied: {len(objects):,} ({total:,} bytes) in {timings['objects']:.1f} s"
             + (f"; {len(vanished)} removed during the copy" if vanished else ""))
        manifest = {
            "kind": KIND, "format": FORMAT, "started_at": started_at, "finished_at": _now(),
            "database": {
                "backend": "postgresql", "server_version": server, "url": shown(url),
                "name": url.database, "snapshot_at": snapshot_at, "schema_revision": revision,
                "dump": {"file": DUMP, "format": "custom", "size": dump_size, "sha256": dump_sha},
                "tables": tables, "rows": sum(tables.values()),
            },
            "storage": {
                "backend": "s3" if isinstance(store, S3Storage) else "local",
                "source": describe_store(store), "objects": len(objects), "bytes": total,
                "referenced": len(referenced), "unreferenced": len(copied - referenced),
                "missing": missing, "vanished_during_copy": vanished,
            },
            "timings": {k: round(v, 3) for k, v in timings.items()},
            "objects": objects,
        }
        _write_json(work / MANIFEST, manifest)
        if dest.exists():
            dest.rmdir()
        os.replace(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        engine.dispose()
    return BackupReport(dest, manifest, timings, missing)


def _copy_objects(store: Storage, into: Path) -> tuple[list[dict], list[str]]:
    into.mkdir(mode=0o700)
    objects, vanished = [], []
    for entry in store.list():
        target = into / entry.key
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        try:
            with target.open("wb") as fh:
                for chunk in object_chunks(store, entry.key):
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
        except KeyMissing:  # deleted since the listing (an expired pending document)
            target.unlink(missing_ok=True)
            vanished.append(entry.key)
            continue
        objects.append({"key": entry.key, "size": size, "sha256": digest.hexdigest()})
    return objects, vanished


# -- verify a backup folder ---------------------------------------------------------------------

@dataclass
class Check:
    """What was compared, and every difference found."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_folder(folder: Path | str) -> tuple[dict, Check]:
    """The manifest and every difference between it and the files: the dump's and every
    object's size and SHA-256, and files the manifest does not name."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    check = Check()
    dump = manifest["database"]["dump"]
    try:
        size, sha = _sha256_file(folder / dump["file"])
        if (size, sha) != (dump["size"], dump["sha256"]):
            check.problems.append(f"{dump['file']}: size {size} sha256 {sha[:12]}…, the manifest "
                                  f"says size {dump['size']} sha256 {dump['sha256'][:12]}…")
    except OSError as exc:
        check.problems.append(f"{dump['file']}: cannot be read ({exc.strerror or exc})")
    check.checked += 1
    named = set()
    for item in manifest["objects"]:
        key = item["key"]
        named.add(key)
        check.checked += 1
        try:
            size, sha = _sha256_file(folder / OBJECTS / check_key(key))
        except OSError:
            check.problems.append(f"object {key}: missing from the backup")
            continue
        if (size, sha) != (item["size"], item["sha256"]):
            check.problems.append(f"object {key}: size {size} sha256 {sha[:12]}…, the manifest "
                                  f"says size {item['size']} sha256 {item['sha256'][:12]}…")
    root = folder / OBJECTS
    if root.is_dir():
        for path in root.rglob("*"):
            if path.is_file() and path.relative_to(root).as_posix() not in named:
                check.problems.append(f"object {path.relative_to(root).as_posix()}: in the "
                                      "backup but not in its manifest")
    return manifest, check


# -- restore ---------------------------------------------------------------------------------------

@dataclass
class RestoreReport:
    manifest: dict
    timings: dict[str, float]
    backup_check: Check
    rows: Check
    objects: Check

    @property
    def problems(self) -> list[str]:
        return self.backup_check.problems + self.rows.problems + self.objects.problems

    @property
    def ok(self) -> bool:
        return not self.problems


def database_tables(url: URL) -> list[str]:
    """The tables the database holds (an empty list: nothing to overwrite)."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return [f"{s}.{t}" for s, t in user_tables(conn)]
    finally:
        engine.dispose()


def restore_backup(folder: Path | str, database_url: str, store: Storage, *, force: bool = False,
                   echo: Echo = lambda _line: None) -> RestoreReport:
    """Restore the backup in ``folder`` into an empty database and an empty store, then verify
    it against the manifest. A backup whose files do not match their checksums is refused
    before anything is written."""
    url = postgres_url(database_url)
    pg_restore = _tool("pg_restore")
    folder = Path(folder).expanduser().resolve()
    read_manifest(folder)  # a backup at all, before anything else is looked at
    tables = database_tables(url)
    if tables and not force:
        raise BackupError(f"the database {shown(url)} is not empty ({len(tables)} tables, e.g. "
                          f"{tables[-1]}); restore into an empty one, or give --force to restore "
                          "over it (the backup's tables are dropped and made again)")
    present = store.list()
    if present and not force:
        raise BackupError(f"the store {describe_store(store)} is not empty ({len(present)} "
                          "objects); restore into an empty one, or give --force")
    timings: dict[str, float] = {}
    began = time.monotonic()
    manifest, backup_check = verify_folder(folder)
    timings["check_backup"] = time.monotonic() - began
    if not backup_check.ok:
        return RestoreReport(manifest, timings, backup_check, Check(), Check())
    echo(f"backup checked: the dump and {len(manifest['objects']):,} objects match their "
         f"checksums ({timings['check_backup']:.1f} s)")
    began = time.monotonic()
    argv = [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error",
            "--single-transaction", "--no-password", f"--dbname={url.database}"]
    if tables:
        argv += ["--clean", "--if-exists"]
    _run_tool([*argv, str(folder / manifest["database"]["dump"]["file"])], url)
    timings["restore_database"] = time.monotonic() - began
    echo(f"database restored into {shown(url)} in {timings['restore_database']:.1f} s")
    began = time.monotonic()
    for item in manifest["objects"]:
        store.put(item["key"], (folder / OBJECTS / item["key"]).read_bytes())
    timings["restore_objects"] = time.monotonic() - began
    echo(f"{len(manifest['objects']):,} objects put into {describe_store(store)} in "
         f"{timings['restore_objects']:.1f} s")
    began = time.monotonic()
    rows = verify_database(url, manifest)
    objects = verify_store(store, manifest)
    timings["verify"] = time.monotonic() - began
    database = Database(url.render_as_string(hide_password=False))
    try:
        head, revision = migrate.head_revision(database), manifest["database"]["schema_revision"]
    finally:
        database.dispose()
    if revision != head:
        echo(f"note: the backup's schema is {revision}, this release's is {head}: "
             "`station-portal db upgrade` brings an older one forward; a newer one needs the "
             "release that made it")
    return RestoreReport(manifest, timings, backup_check, rows, objects)


def verify_database(url: URL, manifest: dict) -> Check:
    """Every table's rows and the schema revision, against the manifest."""
    check = Check()
    want = manifest["database"]["tables"]
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            have = row_counts(conn)
            revision = _revision(conn, have)
    finally:
        engine.dispose()
    for name in sorted(set(want) | set(have)):
        check.checked += 1
        if want.get(name) != have.get(name):
            check.problems.append(f"table {name}: {have.get(name, 'absent')} rows, the backup "
                                  f"has {want.get(name, 'no such table')}")
    if revision != manifest["database"]["schema_revision"]:
        check.problems.append(f"schema revision {revision}, the backup has "
                              f"{manifest['database']['schema_revision']}")
    return check


def verify_store(store: Storage, manifest: dict) -> Check:
    """Every object of the manifest read back from ``store`` and hashed."""
    check = Check()
    for item in manifest["objects"]:
        check.checked += 1
        try:
            size, sha = object_digest(store, item["key"])
        except KeyMissing:
            check.problems.append(f"object {item['key']}: not in {describe_store(store)}")
            continue
        if (size, sha) != (item["size"], item["sha256"]):
            check.problems.append(f"object {item['key']}: size {size} sha256 {sha[:12]}… read "
                                  f"back, the backup has size {item['size']} sha256 "
                                  f"{item['sha256'][:12]}…")
    return check


# -- the drill --------------------------------------------------------------------------------------

@dataclass
class DrillReport:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _create_database(server: URL, name: str) -> None:
    engine = create_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


def _drop_database(server: URL, name: str) -> None:
    engine = create_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def scratch_store(config: Config, stamp: str, *, scratch_dir: Path | None,
                  scratch_bucket: str | None) -> Storage:
    """A new, empty store for the drill, never the installation's own."""
    if config.storage == "s3":
        bucket = scratch_bucket or config.s3_bucket
        if bucket == config.s3_bucket and not config.s3_prefix.strip("/"):
            raise BackupError(
                "the store is the whole bucket (no PORTAL_S3_PREFIX): the drill's scratch "
                "objects would mix with the installation's; give --scratch-bucket")
        return S3Storage(bucket, endpoint_url=config.s3_endpoint_url, region=config.s3_region,
                         access_key=config.s3_access_key, secret_key=config.s3_secret_key,
                         prefix=f"drill-{stamp}")
    root = Path(tempfile.mkdtemp(prefix=f"portal-drill-{stamp}-", dir=scratch_dir))
    return LocalStorage(root / "uploads")


def _empty_store(store: Storage) -> None:
    if isinstance(store, LocalStorage):
        shutil.rmtree(store.root.parent, ignore_errors=True)
        return
    for entry in store.list():
        store.delete(entry.key)


# A small JPEG (a valid header and a body of its own per drill).
def _drill_photo() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + \
        secrets.token_bytes(48 * 1024) + b"\xff\xd9"


def portal_check(url: URL, store: Storage) -> str:
    """Open a repair with a photo through the services against the restored copy and read
    the photo back; what was done, or :class:`BackupError`."""
    from station_portal.errors import PortalError
    from station_portal.org.models import Unit
    from station_portal.services import attachments, repairs

    photo = _drill_photo()
    database = Database(url.render_as_string(hide_password=False))
    try:
        migrate.check_current(database)
        with database.write() as session:
            units = session.scalars(select(Unit).where(Unit.territory.isnot(None),
                                                       Unit.lat.isnot(None)).order_by(Unit.id)
                                    .limit(20)).all()
            order, problem = None, "the restored database has no unit with a territory"
            for unit in units:
                try:
                    with session.begin_nested():
                        order = repairs.create_repair(session, None, repairs.RepairInput(
                            source="hotline_95598", category="low_voltage", urgency=2,
                            lat=unit.lat, lon=unit.lon, address="restore drill",
                            description="opened by station-portal backup drill"))
                        session.flush()
                    break
                except PortalError as exc:
                    problem = f"{unit.code}: {exc.message}"
            if order is None:
                raise BackupError(f"no repair could be opened in the restored copy ({problem})")
            stored = attachments.store_photo(session, None, order.id, photo,
                                             filename="drill.jpg", upload_dir=store,
                                             note="restore drill")
            code, attachment_id = order.code, stored.attachment.id
        with database.read() as session:
            attachment, data = attachments.open_photo(session, None, attachment_id, store)
        if data != photo or attachment.sha256 != hashlib.sha256(photo).hexdigest():
            raise BackupError(f"the photo of repair {code} did not read back byte-identical")
        return f"repair {code} opened with a photo ({len(photo):,} bytes), read back byte-identical"
    except (migrate.SchemaNotCurrent, PortalError, StorageError) as exc:
        raise BackupError(f"the portal's own code failed on the restored copy: {exc}") from exc
    finally:
        database.dispose()


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GB"


def run_drill(config: Config, *, database_url: str | None = None, scratch_url: str | None = None,
              work_dir: Path | None = None, keep: Path | None = None,
              scratch_bucket: str | None = None, echo: Echo = lambda _line: None) -> DrillReport:
    """Back up the installation ``config`` names, restore it into a scratch database and
    store, verify it, use it through the portal's code, drop the scratch copy."""
    source = postgres_url(database_url or config.database_url)
    if database_url is None and config.database_pgbouncer:
        raise BackupError(PGBOUNCER_NOTE)
    server = postgres_url(scratch_url) if scratch_url else source
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(2)
    scratch_name = f"portal_drill_{stamp}"
    scratch = server.set(database=scratch_name)
    report = DrillReport()
    say = report.lines.append
    store = for_config(config)
    parent = Path(tempfile.mkdtemp(prefix="portal-drill-backup-", dir=work_dir))
    folder = keep.expanduser().resolve() if keep else parent / "backup"
    made_db = False
    target: Storage | None = None
    total = time.monotonic()
    try:
        say(f"drill {_now()}: {shown(source)} and {describe_store(store)}")
        backup = create_backup(source.render_as_string(hide_password=False), store, folder,
                               echo=echo)
        m = backup.manifest
        report.timings.update(count=backup.timings["count"], dump=backup.timings["dump"],
                              objects=backup.timings["objects"])
        report.sizes.update(dump=m["database"]["dump"]["size"], objects=m["storage"]["objects"],
                            object_bytes=m["storage"]["bytes"], rows=m["database"]["rows"],
                            tables=len(m["database"]["tables"]))
        say(f"  count rows   {backup.timings['count']:7.1f} s  {len(m['database']['tables'])} "
            f"tables, {m['database']['rows']:,} rows (schema {m['database']['schema_revision']})")
        say(f"  dump         {backup.timings['dump']:7.1f} s  {_size(m['database']['dump']['size'])}"
            " (pg_dump custom format, compressed)")
        say(f"  objects      {backup.timings['objects']:7.1f} s  {m['storage']['objects']:,} "
            f"objects, {_size(m['storage']['bytes'])} ({m['storage']['referenced']:,} named by "
            f"rows, {m['storage']['unreferenced']:,} not)")
        if backup.missing:
            report.problems += [f"object {k}: named by a row, not in the store"
                                for k in backup.missing]
        _create_database(server, scratch_name)
        made_db = True
        target = scratch_store(config, stamp, scratch_dir=work_dir, scratch_bucket=scratch_bucket)
        restored = restore_backup(folder, scratch.render_as_string(hide_password=False), target,
                                  echo=echo)
        t = restored.timings
        report.timings.update(check_backup=t.get("check_backup", 0.0),
                              restore_database=t.get("restore_database", 0.0),
                              restore_objects=t.get("restore_objects", 0.0),
                              verify=t.get("verify", 0.0))
        say(f"  check backup {t.get('check_backup', 0):7.1f} s  dump and objects against their "
            "SHA-256")
        say(f"  restore db   {t.get('restore_database', 0):7.1f} s  into {scratch_name}")
        say(f"  restore obj  {t.get('restore_objects', 0):7.1f} s  into {describe_store(target)}")
        say(f"  verify       {t.get('verify', 0):7.1f} s  {restored.rows.checked} tables' rows, "
            f"{restored.objects.checked:,} objects read back and hashed")
        report.problems += restored.problems
        if restored.ok:
            began = time.monotonic()
            done = portal_check(scratch, target)
            report.timings["portal_check"] = time.monotonic() - began
            say(f"  portal check {report.timings['portal_check']:7.1f} s  {done}")
            engine = _engine(scratch)
            with engine.connect() as conn:
                report.sizes["restored_database"] = int(conn.execute(text(
                    "SELECT pg_database_size(current_database())")).scalar_one())
            engine.dispose()
            say(f"  restored database on disk: {_size(report.sizes['restored_database'])}")
    except BackupError as exc:
        report.problems.append(str(exc))
    finally:
        began = time.monotonic()
        if made_db:
            with contextlib.suppress(Exception):
                _drop_database(server, scratch_name)
        if target is not None:
            with contextlib.suppress(Exception):
                _empty_store(target)
        if keep is None:
            shutil.rmtree(parent, ignore_errors=True)
        report.timings["cleanup"] = time.monotonic() - began
        report.timings["total"] = time.monotonic() - total
    say(f"  cleanup      {report.timings['cleanup']:7.1f} s  scratch database and store dropped"
        + (f"; backup kept in {folder}" if keep else ""))
    rto = sum(report.timings.get(k, 0.0) for k in ("check_backup", "restore_database",
                                                   "restore_objects", "verify"))
    say(f"  total        {report.timings['total']:7.1f} s  (restore and verify: {rto:.1f} s)")
    return report


def manifest_summary(manifest: dict[str, Any]) -> str:
    db, st = manifest["database"], manifest["storage"]
    return (f"{manifest['finished_at']}: schema {db['schema_revision']}, {len(db['tables'])} "
            f"tables, {db['rows']:,} rows, dump {_size(db['dump']['size'])}; "
            f"{st['objects']:,} objects, {_size(st['bytes'])} from {st['source']}")

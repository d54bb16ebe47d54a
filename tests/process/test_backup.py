"""Backup, restore and the restore drill (``station-portal backup …``), as real processes
against real PostgreSQL databases and a real object store.

A demo city with a small year of work is seeded once into a template database; every test
clones it (``CREATE DATABASE … TEMPLATE``) and adds photos through the services to a store
of uploads, on local disk and on s3rver. Then ``station-portal backup create`` and
``restore`` run as processes: the restored database has every table's rows and the store
every object byte for byte; a corrupted object in a backup is found and nothing is
restored; a database or store that holds data is refused; photos uploaded while the dump
runs leave a consistent backup; the drill exits 0; SQLite is refused with a clear message.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from station_portal import migrate
from station_portal.config import Config
from station_portal.db import Database
from station_portal.demo.city import build_demo_city
from station_portal.demo.orders import seed_history
from station_portal.services import attachments
from station_portal.services import customer as customer_svc
from station_portal.services.backup import create_backup, restore_backup, row_counts
from station_portal.storage import Storage, for_config
from station_portal.workorders.models import Attachment, WorkOrder
from tests.s3rver import ACCESS_KEY, BUCKET, REGION, SECRET_KEY, running_s3rver

ROOT = Path(__file__).resolve().parents[2]
ORDERS = 300
PHOTOS = 6


def skip_reason() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return "backups are of PostgreSQL: set TEST_DATABASE_URL to a PostgreSQL server"
    return None


pytestmark = pytest.mark.slow


# -- databases: one seeded template, a clone per test -------------------------------------------

def server():
    return make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")


def admin(statement: str) -> None:
    engine = create_engine(server(), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def url_of(name: str) -> str:
    return server().set(database=name).render_as_string(hide_password=False)


class Databases:
    """Databases made by one test module, all dropped at its end."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.prefix = f"portal_backup_{os.environ.get('PORTAL_TEST_RUN', 'x')}_"

    def new(self, template: str | None = None) -> str:
        name = self.prefix + uuid.uuid4().hex[:8]
        try:
            admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        except Exception as exc:  # no CREATEDB right on the test server
            pytest.skip(f"the backup tests need databases of their own: {exc}")
        self.names.append(name)
        return name

    def drop_all(self) -> None:
        for name in self.names:
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def databases():
    if skip_reason():
        pytest.skip(skip_reason())
    made = Databases()
    yield made
    made.drop_all()


@pytest.fixture(scope="module")
def template(databases) -> str:
    """The demo city with a small year of work (as tests/conftest.py seeds it)."""
    name = databases.new()
    db = Database(url_of(name))
    migrate.upgrade(db)
    with db.write() as session:
        build_demo_city(session, seed=7)
        seed_history(session, n_orders=ORDERS, seed=7)
    db.dispose()
    return name


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    with running_s3rver(tmp_path_factory.mktemp("s3rver")) as endpoint:
        yield endpoint


def s3_settings(endpoint: str) -> dict[str, str]:
    return {"storage": "s3", "s3_bucket": BUCKET, "s3_endpoint_url": endpoint,
            "s3_region": REGION, "s3_access_key": ACCESS_KEY, "s3_secret_key": SECRET_KEY,
            "s3_prefix": f"backup-{secrets.token_hex(6)}"}


ENV_NAMES = {"storage": "PORTAL_STORAGE", "s3_bucket": "PORTAL_S3_BUCKET",
             "s3_endpoint_url": "PORTAL_S3_ENDPOINT_URL", "s3_region": "PORTAL_S3_REGION",
             "s3_access_key": "PORTAL_S3_ACCESS_KEY", "s3_secret_key": "PORTAL_S3_SECRET_KEY",
             "s3_prefix": "PORTAL_S3_PREFIX", "upload_dir": "PORTAL_UPLOAD_DIR"}


class Site:
    """One installation: a database cloned from the template and a store of uploads."""

    def __init__(self, databases: Databases, template: str, settings: dict[str, str]) -> None:
        self.name = databases.new(template) if template else databases.new()
        self.url = url_of(self.name)
        self.settings = settings
        self.config = Config.from_env(settings, environ={})
        self.store: Storage = for_config(self.config)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PORTAL_", "PG")) and k != "DATABASE_URL"}
        env.update({ENV_NAMES[k]: v for k, v in self.settings.items()})
        env["DATABASE_URL"] = self.url
        return env

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "station_portal.cli", "backup", *args],
                              env=self.env(), cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def counts(self) -> dict[str, int]:
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                return row_counts(conn)
        finally:
            engine.dispose()

    def objects(self) -> dict[str, bytes]:
        return {e.key: self.store.get(e.key) for e in self.store.list()}


def jpeg(size: int = 20_000) -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + secrets.token_bytes(size)


def add_photos(site: Site, n: int = PHOTOS) -> list[str]:
    """n photos on repairs through the services, and one document kept for a refused
    application (``pending/``, named by no row); the photos' keys."""
    db = Database(site.url)
    keys = []
    try:
        with db.read() as session:
            orders = list(session.scalars(select(WorkOrder.id).where(WorkOrder.kind == "repair")
                                          .order_by(WorkOrder.id).limit(n)))
        for order_id in orders:
            with db.write() as session:
                stored = attachments.store_photo(session, None, order_id, jpeg(),
                                                 filename="pole.jpg", upload_dir=site.store)
                keys.append(stored.attachment.stored_name)
    finally:
        db.dispose()
    customer_svc.keep_uploads(site.store, customer_svc.new_pending_token(),
                              [customer_svc.Upload("identity", "id.pdf", b"%PDF-1.4\n%%EOF\n")])
    return keys


@pytest.fixture(params=["local", "s3"])
def settings_for(request, tmp_path):
    """A function giving the settings of a new, empty store of the parametrised backend."""
    if request.param == "local":
        return lambda: {"upload_dir": str(tmp_path / f"uploads-{secrets.token_hex(4)}")}
    endpoint = request.getfixturevalue("s3_endpoint")
    return lambda: s3_settings(endpoint)


def new_site(databases, template, settings_for, *, empty: bool = False) -> Site:
    return Site(databases, "" if empty else template, settings_for())


# -- the tests ------------------------------------------------------------------------------------

def test_a_backup_restores_every_row_and_object(databases, template, settings_for, tmp_path):
    source = new_site(databases, template, settings_for)
    keys = add_photos(source)
    made = source.cli("create", str(tmp_path / "b1"))
    assert made.returncode == 0, made.stderr
    manifest = json.loads((tmp_path / "b1" / "manifest.json").read_text())
    assert not (tmp_path / "b1.partial").exists()
    before = source.counts()
    assert manifest["database"]["tables"] == before
    assert manifest["database"]["tables"]["public.attachments"] == PHOTOS
    assert manifest["database"]["schema_revision"] == migrate.head_revision(Database(source.url))
    objects = source.objects()
    assert {o["key"]: o["sha256"] for o in manifest["objects"]} == {
        k: hashlib.sha256(v).hexdigest() for k, v in objects.items()}
    assert set(keys) < set(objects) and any(k.startswith("pending/") for k in objects)
    assert manifest["storage"]["referenced"] == PHOTOS
    assert manifest["storage"]["unreferenced"] == 2  # the pending document and its kept.json

    target = new_site(databases, template, settings_for, empty=True)
    restored = target.cli("restore", str(tmp_path / "b1"))
    assert restored.returncode == 0, restored.stderr
    assert "restored and verified" in restored.stdout
    assert target.counts() == before, "every table has the same rows"
    assert target.objects() == objects, "every object byte for byte"
    db = Database(target.url)
    try:
        migrate.check_current(db)
        with db.read() as session:
            photo = session.scalar(select(Attachment).where(Attachment.stored_name == keys[0]))
            _a, data = attachments.open_photo(session, None, photo.id, target.store)
        assert hashlib.sha256(data).hexdigest() == photo.sha256
    finally:
        db.dispose()
    checked = source.cli("verify", str(tmp_path / "b1"))
    assert checked.returncode == 0 and "match the manifest" in checked.stdout


def test_a_corrupted_object_is_reported_and_nothing_is_restored(databases, template,
                                                                settings_for, tmp_path):
    source = new_site(databases, template, settings_for)
    keys = add_photos(source, 2)
    assert source.cli("create", str(tmp_path / "b")).returncode == 0
    victim = tmp_path / "b" / "objects" / keys[1]
    data = bytearray(victim.read_bytes())
    data[100] ^= 0xFF  # one flipped byte, same size
    victim.write_bytes(bytes(data))
    checked = source.cli("verify", str(tmp_path / "b"))
    assert checked.returncode == 1
    assert f"MISMATCH: object {keys[1]}: size" in checked.stderr
    assert "1 of" in checked.stderr and keys[0] not in checked.stderr

    target = new_site(databases, template, settings_for, empty=True)
    refused = target.cli("restore", str(tmp_path / "b"))
    assert refused.returncode == 1
    assert f"object {keys[1]}" in refused.stderr
    assert "nothing was restored" in refused.stderr
    assert target.counts() == {}, "the database was not touched"
    assert target.store.list() == []


def test_restoring_over_data_is_refused(databases, template, settings_for, tmp_path):
    source = new_site(databases, template, settings_for)
    add_photos(source, 1)
    assert source.cli("create", str(tmp_path / "b")).returncode == 0
    before, objects = source.counts(), source.objects()
    refused = source.cli("restore", str(tmp_path / "b"))  # into the live database itself
    assert refused.returncode == 1
    assert "is not empty" in refused.stderr and "--force" in refused.stderr
    assert source.counts() == before and source.objects() == objects

    # An empty database but a store that holds objects: refused too.
    other = Site(databases, "", settings_for())
    other.store.put("3f" * 16 + ".jpg", jpeg(100))
    refused = other.cli("restore", str(tmp_path / "b"))
    assert refused.returncode == 1 and "store" in refused.stderr and "not empty" in refused.stderr
    assert other.counts() == {}


def test_a_row_whose_object_is_gone_fails_the_backup(databases, template, tmp_path):
    source = Site(databases, template, {"upload_dir": str(tmp_path / "uploads")})
    keys = add_photos(source, 2)
    source.store.delete(keys[0])
    made = source.cli("create", str(tmp_path / "b"))
    assert made.returncode == 1
    assert f"MISSING: object {keys[0]}" in made.stderr
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["storage"]["missing"] == [keys[0]]


def test_photos_uploaded_while_the_dump_runs_leave_a_consistent_backup(databases, template,
                                                                       tmp_path):
    """A writer adds photos (object first, then the row) all through the backup: the
    manifest's rows are the dump's, and every photo a dumped row names was copied."""
    source = Site(databases, template, {"upload_dir": str(tmp_path / "uploads")})
    db = Database(source.url)
    with db.read() as session:
        orders = list(session.scalars(select(WorkOrder.id).where(WorkOrder.kind == "repair")
                                      .order_by(WorkOrder.id).limit(50)))
    stop, written = threading.Event(), []

    def writer() -> None:
        n = 0
        while not stop.is_set():
            with db.write() as session:
                attachments.store_photo(session, None, orders[n % len(orders)], jpeg(5_000),
                                        filename="w.jpg", upload_dir=source.store)
            written.append(n)
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 3:
            stop.wait(0.05)
        report = create_backup(source.url, source.store, tmp_path / "b")
        at_end = len(written)
    finally:
        stop.set()
        thread.join(30)
        db.dispose()
    assert report.ok, report.missing
    dumped = report.manifest["database"]["tables"]["public.attachments"]
    assert 3 <= dumped <= at_end
    assert report.manifest["storage"]["referenced"] == dumped
    target = Site(databases, "", {"upload_dir": str(tmp_path / "restored")})
    restored = restore_backup(tmp_path / "b", target.url, target.store)
    assert restored.ok, restored.problems
    assert target.counts()["public.attachments"] == dumped
    restored_db = Database(target.url)
    try:
        with restored_db.read() as session:
            named = set(session.scalars(select(Attachment.stored_name)))
    finally:
        restored_db.dispose()
    assert named <= {e.key for e in target.store.list()}, "every restored row has its photo"


def test_the_drill_restores_checks_and_drops_its_copy(databases, template, settings_for,
                                                      tmp_path):
    source = new_site(databases, template, settings_for)
    add_photos(source, 3)
    before = source.objects()
    work = tmp_path / "work"
    work.mkdir()
    drill = source.cli("drill", "--work-dir", str(work))
    assert drill.returncode == 0, drill.stdout + drill.stderr
    out = drill.stdout
    for step in ("dump", "objects", "restore db", "restore obj", "verify", "portal check",
                 "cleanup", "total"):
        assert f"  {step} " in out, step
    assert "read back byte-identical" in out and "DRILL OK" in out
    assert source.objects() == before, "the installation's store is untouched"
    engine = create_engine(server(), poolclass=NullPool)
    with engine.connect() as conn:
        left = conn.execute(text(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'portal_drill_%'")).scalar()
    engine.dispose()
    assert left == 0, "the scratch database is dropped"
    assert list(work.iterdir()) == [], "the drill's backup and scratch folder are gone"


def test_the_nightly_script_backs_up_rotates_and_drills_a_whole_bucket_store(
        databases, template, s3_endpoint, tmp_path):
    """deploy/bin/portal-backup as the timer runs it, with the drill, for a store that is a
    whole bucket (compose's, the topology's): the drill needs a scratch bucket of its own."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION,
                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    whole, scratch = f"whole-{secrets.token_hex(4)}", f"drill-{secrets.token_hex(4)}"
    for bucket in (whole, scratch):
        client.create_bucket(Bucket=bucket)
    settings = {**s3_settings(s3_endpoint), "s3_bucket": whole}
    del settings["s3_prefix"]
    source = Site(databases, template, settings)
    add_photos(source, 2)
    folder = tmp_path / "backups"
    env = {**source.env(), "DEPLOY_BACKUP_DIR": str(folder), "DEPLOY_BACKUP_KEEP": "1",
           "DEPLOY_BACKUP_DRILL": "1",
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}

    def nightly(**more: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(ROOT / "deploy" / "bin" / "portal-backup")], cwd=ROOT,
                              env={**env, **more}, capture_output=True, text=True, timeout=600,
                              check=False)

    refused = nightly()
    assert refused.returncode != 0 and "PORTAL_S3_PREFIX" in refused.stderr, refused
    done = nightly(DEPLOY_BACKUP_DRILL_BUCKET=scratch)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "DRILL OK" in done.stdout and "1 backups kept" in done.stdout, done.stdout
    kept = [p for p in folder.iterdir() if p.name.startswith("portal-")]
    assert len(kept) == 1 and (kept[0] / "manifest.json").exists(), kept
    assert client.list_objects_v2(Bucket=scratch).get("KeyCount", 0) == 0, "scratch emptied"


def test_sqlite_is_refused_with_a_clear_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    for args in (["create", str(tmp_path / "b")], ["drill"]):
        done = subprocess.run([sys.executable, "-m", "station_portal.cli", "backup", *args],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 1
        assert "backups are made of PostgreSQL only" in done.stderr
        assert "copy of the file and of the upload folder" in done.stderr
    assert not (tmp_path / "b").exists() and not (tmp_path / "b.partial").exists()


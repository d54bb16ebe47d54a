"""Rolling deploys: this code against a database that a newer release has migrated.

A newer release is played for real: a copy of this code's migrations folder with the
newer release's revision files added, run through ``migrate.upgrade`` (Alembic and
``migrations/env.py``, which records each revision's ``compatibility`` declaration in the
database). This code then checks the database without those files, as an older host
would during a rolling deploy: it serves a schema that is newer by declared-compatible
revisions, and refuses (start-up, ``/readyz``, ``db check``, ``db upgrade``) one that is
not, saying why.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select, text

from station_portal import create_app, migrate
from station_portal.cli import main as cli
from station_portal.resources import resource_dir
from tests.helpers import ENGINES, app_config, fresh_database

EXPAND_ID, SECOND_ID = "fe0000000001", "fe0000000002"
ADD_NICKNAME = ('op.add_column("users", sa.Column("nickname", sa.String(40), nullable=True))',
                'with op.batch_alter_table("users") as b:\n        b.drop_column("nickname")')
DROP_NICKNAME = (ADD_NICKNAME[1], ADD_NICKNAME[0])
ADD_TABLE = ('op.create_table("newer_notes", sa.Column("id", sa.Integer, primary_key=True))',
             'op.drop_table("newer_notes")')


def newer_release(folder: Path, *steps: tuple[str, str | None, tuple[str, str]]) -> Path:
    """This code's migrations plus the revision files of a later release, each step
    ``(revision id, compatibility declaration or None, (upgrade body, downgrade body))``
    on top of the previous one."""
    shutil.copytree(resource_dir("migrations"), folder,
                    ignore=shutil.ignore_patterns("__pycache__"))
    down = migrate.head_revision()
    for revision, compatibility, (upgrade, downgrade) in steps:
        declared = f"compatibility = {compatibility!r}\n" if compatibility else ""
        (folder / "versions" / f"{revision}_newer.py").write_text(
            f'"""A later release\'s revision {revision}."""\n'
            "import sqlalchemy as sa\nfrom alembic import op\n\n"
            f"revision = {revision!r}\ndown_revision = {down!r}\n"
            "branch_labels = None\ndepends_on = None\n"
            f"{declared}\n\n"
            f"def upgrade():\n    {upgrade}\n\n\n"
            f"def downgrade():\n    {downgrade}\n")
        down = revision
    return folder


def recorded(db) -> dict[str, dict]:
    with db.engine.connect() as conn:
        return {r.revision: r._asdict() for r in conn.execute(select(migrate.schema_compat))}


def cli_run(db, *args: str):
    return CliRunner().invoke(cli, list(args), env={"DATABASE_URL": db.url,
                                                    "PORTAL_DATABASE_URL": None})


@pytest.mark.parametrize("engine", ENGINES)
def test_old_code_serves_a_database_a_newer_release_expanded_and_refuses_a_breaking_one(
        engine, tmp_path, caplog):
    db = fresh_database(engine, tmp_path)
    head = migrate.head_revision()
    served_by_head = recorded(db)[head]["oldest_code"]  # this code's own declarations
    assert served_by_head in migrate.code_revisions().known
    expand = newer_release(tmp_path / "expand", (EXPAND_ID, "expand", ADD_NICKNAME))
    migrate.upgrade(db, script_location=expand)  # the newer release's `db upgrade`
    assert "nickname" in {c["name"] for c in inspect(db.engine).get_columns("users")}
    row = recorded(db)[EXPAND_ID]
    assert (row["down_revision"], row["compatibility"], row["oldest_code"]) == (head, "expand",
                                                                               served_by_head)

    # This (older) code has no file for EXPAND_ID, and serves the database all the same.
    verdict = migrate.check_current(db)
    assert verdict.usable and verdict.database == EXPAND_ID and verdict.code == head
    assert f"by revisions declared compatible: {EXPAND_ID}" in verdict.detail
    app = create_app(app_config(db, ready_scheduler_seconds=0, upload_dir=str(tmp_path / "up")))
    client = app.test_client()
    assert client.get("/readyz").json == {"status": "ready"}
    assert client.get("/login").status_code == 200
    # old code writes a row of the widened table (it knows nothing of the new column)
    made = cli_run(db, "create-user", "rolling-admin", "--role", "admin",
                   "--password", "a-long-enough-password-1")
    assert made.exit_code == 0, made.output
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT nickname FROM users WHERE username = 'rolling-admin'")
                            ).one() == (None,)
    checked = cli_run(db, "db", "check")
    assert checked.exit_code == 0 and EXPAND_ID in checked.output
    upgraded = cli_run(db, "db", "upgrade")  # old code's upgrade: nothing to do, not a crash
    assert upgraded.exit_code == 0 and "nothing to do" in upgraded.output
    assert migrate.current_revision(db) == EXPAND_ID

    # The next release adds a revision that declares nothing: breaking for older code.
    breaking = newer_release(tmp_path / "breaking", (EXPAND_ID, "expand", ADD_NICKNAME),
                             (SECOND_ID, None, ADD_TABLE))
    migrate.upgrade(db, script_location=breaking)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="station_portal"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["failed"] == [{"check": "schema", "reason": migrate.NEWER_INCOMPATIBLE}]
    assert SECOND_ID not in response.text  # revisions go to the log, not to the caller
    logged = [r.getMessage() for r in caplog.records if r.name == "station_portal.web.health"]
    assert any(f"{SECOND_ID} (breaking)" in m and f"{EXPAND_ID} (expand)" in m for m in logged)

    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="station_portal"), \
            pytest.raises(migrate.SchemaNotCurrent, match=f"{SECOND_ID} \\(breaking\\)"):
        create_app(app_config(db, ready_scheduler_seconds=0, upload_dir=str(tmp_path / "up")))
    assert any(m.startswith("Station Portal refuses to start: The database schema is at "
                            f"{SECOND_ID}, newer than this code's {head}")
               for m in caplog.messages)
    for command in (("db", "check"), ("db", "upgrade")):
        refused = cli_run(db, *command)
        assert refused.exit_code == 1 and f"{SECOND_ID} (breaking)" in refused.output, command

    # The newer release rolled back: this code serves again, the record follows.
    migrate.downgrade(db, head, script_location=breaking)
    assert client.get("/readyz").status_code == 200
    assert set(recorded(db)) == set(migrate.code_revisions().known)
    db.dispose()


@pytest.mark.parametrize("engine", ENGINES)
def test_expand_steps_add_up_and_a_contract_step_serves_only_the_code_just_before_it(
        engine, tmp_path):
    db = fresh_database(engine, tmp_path)
    this_code = migrate.code_revisions()
    two_expands = newer_release(tmp_path / "expands", (EXPAND_ID, "expand", ADD_NICKNAME),
                                (SECOND_ID, "expand", ADD_TABLE))
    migrate.upgrade(db, script_location=two_expands)
    with db.engine.connect() as conn:
        verdict = migrate.assess(conn, this_code)
    assert verdict.usable, verdict.detail
    assert f"compatible: {EXPAND_ID}, {SECOND_ID}" in verdict.detail
    migrate.downgrade(db, this_code.head, script_location=two_expands)

    contract = newer_release(tmp_path / "contract", (EXPAND_ID, "expand", ADD_NICKNAME),
                             (SECOND_ID, "contract", DROP_NICKNAME))
    migrate.upgrade(db, script_location=contract)
    assert recorded(db)[SECOND_ID]["oldest_code"] == EXPAND_ID
    between = migrate.code_revisions(newer_release(tmp_path / "between",
                                                   (EXPAND_ID, "expand", ADD_NICKNAME)))
    assert between.head == EXPAND_ID
    with db.engine.connect() as conn:
        older, previous = migrate.assess(conn, this_code), migrate.assess(conn, between)
    assert previous.usable, previous.detail  # the release just before the contract step
    assert older.problem == migrate.NEWER_INCOMPATIBLE  # two releases back: refused
    assert f"{SECOND_ID} (contract)" in older.detail and f"from {EXPAND_ID} on" in older.detail
    db.dispose()


def test_a_newer_revision_with_no_record_is_refused_and_a_behind_one_named(tmp_path):
    db = fresh_database("sqlite", tmp_path)
    head = migrate.head_revision()
    with db.write() as s:
        s.execute(text("UPDATE alembic_version SET version_num = 'ffffffff0001'"))
    verdict = migrate.schema_verdict(db)
    assert verdict.problem == migrate.NEWER_INCOMPATIBLE
    assert "records no compatibility" in verdict.detail
    with db.write() as s:
        s.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    migrate.downgrade(db, "-1")
    verdict = migrate.schema_verdict(db)
    assert verdict.problem == migrate.BEHIND and "Run: station-portal db upgrade" in verdict.detail
    db.dispose()


def test_a_revision_with_an_unknown_declaration_is_not_applied(tmp_path):
    db = fresh_database("sqlite", tmp_path)
    head = migrate.head_revision()
    wrong = newer_release(tmp_path / "wrong", (EXPAND_ID, "mostly-compatible", ADD_TABLE))
    with pytest.raises(ValueError, match=f"migration {EXPAND_ID}: compatibility must be one of"):
        migrate.upgrade(db, script_location=wrong)
    assert migrate.current_revision(db) == head
    assert "newer_notes" not in inspect(db.engine).get_table_names()
    db.dispose()


def test_every_revision_of_this_code_declares_a_known_compatibility():
    """A typo in a revision file's declaration would stop `db upgrade`: caught here first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(resource_dir("migrations")))
    rows = migrate.compatibility_rows(script, (script.get_current_head(),))
    assert {r["revision"] for r in rows} == migrate.code_revisions().known
    assert {r["compatibility"] for r in rows} <= set(migrate.COMPATIBILITY)

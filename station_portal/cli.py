"""The ``station-portal`` command.

    station-portal db upgrade          migrate the schema (the only way it is made)
    station-portal db check            can this code serve the database (rolling deploys)
    station-portal seed-demo [--seed N] [--if-empty]
    station-portal create-user NAME --role ROLE [...]
    station-portal reset-password NAME
    station-portal serve [--host H] [--port P]
    station-portal scheduler [--only JOB] [--interval JOB=SECONDS]
    station-portal jobs list|run JOB
    station-portal i18n update|check
    station-portal calendar check YEAR   where a year's holidays come from, and what is provisional
    station-portal backup create DEST | verify SRC | restore SRC | drill
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import click
from sqlalchemy import select, text

from station_portal import migrate
from station_portal.config import Config, ConfigError
from station_portal.db import Database
from station_portal.errors import PortalError, ValidationFailed


def _config() -> Config:
    try:
        return Config.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _database(config: Config) -> Database:
    path = config.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    return Database(config.database_url, **config.database_options())


def _deployable(config: Config) -> None:
    """A process that serves (web, scheduler): production's own demands (no SQLite)."""
    try:
        config.check_deployment()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


class _Commands(click.Group):
    """Every command: a database this code cannot serve, or one that does not answer, ends
    with one line saying so and what to do (exit 1), never a traceback."""

    def invoke(self, ctx: click.Context):
        from sqlalchemy.exc import InterfaceError, OperationalError

        try:
            return super().invoke(ctx)
        except migrate.SchemaNotCurrent as exc:
            raise click.ClickException(str(exc)) from exc
        except (OperationalError, InterfaceError) as exc:
            first = (str(exc.orig or exc).strip().splitlines() or [type(exc).__name__])[0]
            raise click.ClickException(
                f"the database does not answer: {first}. Check DATABASE_URL and that the "
                f"server runs.") from exc


@click.group(cls=_Commands)
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
def main(verbose: bool) -> None:
    """Station Portal: operations portal for power-grid service stations."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema to the latest revision."""
    config = _config()
    database = _database(config)
    before = migrate.current_revision(database)
    if before is not None and before not in migrate.code_revisions().known:
        # A later release migrated it (a rolling deploy, or this host is behind): nothing
        # for this code to do; say whether it can serve the database as it is.
        verdict = migrate.schema_verdict(database)
        if not verdict.usable:
            raise click.ClickException(verdict.detail)
        click.echo(f"schema {before} is newer than this code's; nothing to do. {verdict.detail}")
        return
    started = time.monotonic()
    migrate.upgrade(database, revision)
    after = migrate.current_revision(database)
    click.echo(f"schema {before or 'empty'} -> {after} on {database.backend} "
               f"({time.monotonic() - started:.1f} s)")


@db.command("current")
def db_current() -> None:
    """Show the schema revision of the database and of the code."""
    database = _database(_config())
    click.echo(f"database: {migrate.current_revision(database) or 'empty'}")
    click.echo(f"code:     {migrate.head_revision()}")


@db.command("check")
def db_check() -> None:
    """Whether this code can serve the database (exit 1 if not): at its head, or newer by
    revisions declared compatible (rolling deploys); behind it or incompatible is refused."""
    verdict = migrate.schema_verdict(_database(_config()))
    if not verdict.usable:
        raise click.ClickException(verdict.detail)
    click.echo(verdict.detail)


@db.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """(Developers) Generate a migration from the models."""
    migrate.revision(_database(_config()), message)


@main.command("seed-demo")
@click.option("--seed", default=7, show_default=True, help="Same seed, same city.")
@click.option("--orders", "n_orders", default=20_000, show_default=True,
              type=click.IntRange(0, 5_000_000), help="Work orders of history over the past year.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database holds data.")
def seed_demo(seed: int, n_orders: int, if_empty: bool) -> None:
    """Build the demo city (Jilin) with its organisation, demo accounts and a year of work."""
    from station_portal.demo.city import build_demo_city, database_is_empty
    from station_portal.demo.orders import seed_history

    config = _config()
    database = _database(config)
    migrate.check_current(database)
    with database.read() as session:
        empty = database_is_empty(session)
    if not empty:
        if if_empty:
            click.echo("database already holds data; demo seed skipped")
            return
        raise click.ClickException("the database is not empty; seed-demo needs an empty one")
    if not config.is_demo:
        click.echo("production mode: the organisation is seeded without demo accounts")
    steps = ["units", "territories", "staff and crews", "parks and clients", "demo accounts"]
    with (
        click.progressbar(length=len(steps), label="seeding demo city", show_pos=True) as bar,
        database.write() as session,
    ):
        report = build_demo_city(session, seed=seed, demo_mode=config.is_demo,
                                 progress=lambda _step: bar.update(1))
    click.echo(f"{report.units} units, {report.staff} staff, {report.crews} crews, "
               f"{report.parks} parks, {report.clients} clients")
    from station_portal.hall.demo import seed_demo_halls

    with database.write() as session:  # service halls and a year of queue tickets
        click.echo(seed_demo_halls(session, seed=seed).summary())
    if n_orders:
        started = time.monotonic()
        with (
            click.progressbar(length=n_orders, label="seeding a year of work orders",
                              show_pos=True) as bar,
            database.write() as session,
        ):
            history = seed_history(session, n_orders=n_orders, seed=seed,
                                   progress=lambda _what, n: bar.update(n), commit_batches=True)
        click.echo(f"{history.repairs} repairs, {history.applications} applications, "
                   f"{history.park_cases} park cases, {history.clocks} clocks, "
                   f"{history.events} timeline events ({time.monotonic() - started:.0f} s)")
        if config.is_demo:
            from station_portal.demo.customers import seed_demo_cases

            with database.write() as session:
                cases = seed_demo_cases(session)
            click.echo("demo cases to track on /service/track: " + "; ".join(
                f"{number} code {code} ({what})" for number, code, what in cases))
        _refresh_snapshots(database, rebuild=True)
        with database.write() as session:  # fresh statistics for the query planner
            session.execute(text("ANALYZE"))
    if report.users:
        click.echo("demo accounts (password portal-demo): " + ", ".join(report.users))


def _refresh_snapshots(database: Database, rebuild: bool) -> None:
    from station_portal.analytics.snapshots import refresh
    from station_portal.db import utcnow

    with (
        click.progressbar(length=366, label="daily snapshots for the dashboards",
                          show_pos=True) as bar,
        database.write() as session,
    ):
        def advance(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        report = refresh(session, utcnow(), rebuild=rebuild, progress=advance)
    click.echo(f"snapshots through {report.through or '-'}: {report.order_rows} order rows, "
               f"{report.stage_rows} stage rows, {report.crew_rows} crew rows, "
               f"{report.settled} finished clocks settled ({report.seconds:.1f} s)")


@main.group()
def snapshots() -> None:
    """The dashboards' daily snapshot tables."""


@snapshots.command("refresh")
@click.option("--rebuild", is_flag=True, help="Write every day again, not only the missing ones.")
def snapshots_refresh(rebuild: bool) -> None:
    """Aggregate every finished day that the snapshot tables do not hold yet."""
    database = _database(_config())
    migrate.check_current(database)
    _refresh_snapshots(database, rebuild)


@main.command("create-user")
@click.argument("username")
@click.option("--role", required=True,
              type=click.Choice(["admin", "company_manager", "station_head", "grid_manager",
                                 "account_manager", "crew", "clerk"]))
@click.option("--display-name", help="Defaults to the username.")
@click.option("--unit", "unit_code", help="Scope unit code, e.g. JL-CY-S.")
@click.option("--staff", "employee_no", help="Employee number of the linked staff member.")
@click.option("--client", "client_codes", multiple=True, help="Client code (repeatable).")
@click.option("--email")
@click.password_option(help="Prompted for when not given.")
def create_user_cmd(username: str, role: str, display_name: str | None, unit_code: str | None,
                    employee_no: str | None, client_codes: tuple[str, ...], email: str | None,
                    password: str) -> None:
    """Create an account (for example the first administrator)."""
    from station_portal.org.models import Client, Staff, Unit
    from station_portal.services.users import UserInput, create_user

    config = _config()
    database = _database(config)
    migrate.check_current(database)
    try:
        with database.write() as session:
            unit_id = staff_id = None
            if unit_code:
                unit_id = session.scalar(select(Unit.id).where(Unit.code == unit_code))
                if unit_id is None:
                    raise click.ClickException(f"no unit with code {unit_code}")
            if employee_no:
                staff_id = session.scalar(select(Staff.id).where(Staff.employee_no == employee_no))
                if staff_id is None:
                    raise click.ClickException(f"no staff member {employee_no}")
            client_ids = tuple(session.scalars(select(Client.id).where(Client.code.in_(client_codes))))
            if len(client_ids) != len(set(client_codes)):
                raise click.ClickException("unknown client code among " + ", ".join(client_codes))
            user = create_user(
                session, None, username=username, password=password,
                data=UserInput(display_name=display_name or username, role=role,
                               scope_unit_id=unit_id, staff_id=staff_id, client_ids=client_ids,
                               email=email),
                allow_demo_password=config.is_demo,
            )
            click.echo(f"created {user.username} ({user.role})")
    except ValidationFailed as exc:
        raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.fields.items())) from exc


@main.command("reset-password")
@click.argument("username")
def reset_password_cmd(username: str) -> None:
    """Give an account a one-time password, printed once."""
    from station_portal.auth.models import User
    from station_portal.services.users import reset_password

    database = _database(_config())
    migrate.check_current(database)
    try:
        with database.write() as session:
            user_id = session.scalar(select(User.id).where(User.username == username.lower()))
            user, temporary = reset_password(session, None, user_id, None)
    except PortalError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"one-time password for {user.username}: {temporary}")


@main.command("recompute-clocks")
def recompute_clocks_cmd() -> None:
    """Recompute the clocks of open orders (after editing the calendar or the rules)."""
    from station_portal.services.orders import recompute_open_clocks

    database = _database(_config())
    migrate.check_current(database)
    with database.write() as session:
        changed = recompute_open_clocks(session)
    click.echo(f"{changed} open orders had their due times moved")


@main.command("serve")
@click.option("--host", help="Default: PORTAL_HOST or 127.0.0.1.")
@click.option("--port", type=int, help="Default: PORTAL_PORT or 8050.")
@click.option("--with-scheduler", is_flag=True,
              help="Also start the scheduler as a child process (demo, development).")
def serve(host: str | None, port: int | None, with_scheduler: bool) -> None:
    """Serve the portal with the built-in threaded server (demo, development).

    Production runs gunicorn instead, plus one scheduler process (docs/OPERATIONS.md):
    gunicorn -c gunicorn.conf.py wsgi:app  and  station-portal scheduler
    """
    import subprocess

    from werkzeug.serving import run_simple

    from station_portal import create_app

    config = _config()
    _deployable(config)
    try:
        app = create_app(config)
    except (ConfigError, migrate.SchemaNotCurrent) as exc:
        raise click.ClickException(str(exc)) from exc
    host, port = host or config.host, port or config.port
    child = None
    if with_scheduler:
        # A process of its own, never a thread in the web server (see jobs/runner.py).
        child = subprocess.Popen([sys.executable, "-m", "station_portal.cli", "scheduler"])
    click.echo(f"Station Portal ({config.env}) on http://{host}:{port}  (Ctrl+C stops it)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        if child is not None:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()


def _intervals(values: tuple[str, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        name, _sep, seconds = value.partition("=")
        if not seconds.isdigit() or int(seconds) < 1:
            raise click.BadParameter(f"{value!r}: give JOB=SECONDS, e.g. sla_watch=10",
                                     param_hint="--interval")
        out[name] = int(seconds)
    return out


def _job_table(config: Config, only: tuple[str, ...] = (), intervals: tuple[str, ...] = ()):
    from station_portal.jobs.registry import NAMES, jobs

    unknown = set(only) - set(NAMES)
    if unknown:
        raise click.BadParameter(", ".join(sorted(unknown)) + f" (jobs: {', '.join(NAMES)})",
                                 param_hint="--only")
    try:
        table = jobs(config, _intervals(intervals))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--interval") from exc
    return [job for job in table if not only or job.name in only]


@main.command("scheduler")
@click.option("--only", multiple=True, help="Run only this job (repeatable).")
@click.option("--interval", "intervals", multiple=True,
              help="JOB=SECONDS: run the job every SECONDS instead of its schedule (testing).")
@click.option("--lease-seconds", default=30, show_default=True, type=click.IntRange(2, 3600),
              help="How long the active scheduler's lease lasts without renewal.")
def scheduler(only: tuple[str, ...], intervals: tuple[str, ...], lease_seconds: int) -> None:
    """Run the jobs on their schedules (one such process per installation; a second stands by)."""
    from station_portal.datafiles import DataFileError
    from station_portal.datafiles import check_all as check_data_files
    from station_portal.jobs.runner import serve as run_scheduler
    from station_portal.web.observe import configure_logging

    config = _config()
    _deployable(config)
    configure_logging(config)  # JSON lines in production, like the web workers'
    database = _database(config)
    migrate.check_current(database)
    try:
        check_data_files()
    except DataFileError as exc:
        raise click.ClickException(str(exc)) from exc
    table = _job_table(config, only, intervals)
    # Its announcements (active, standing by, stopped) as log lines when logs are JSON.
    say = logging.getLogger("station_portal.scheduler").info if config.log_json \
        else (lambda line: click.echo(line, err=True))
    code = run_scheduler(database, config, table, lease_seconds=lease_seconds, echo=say)
    sys.exit(code)


@main.group()
def jobs() -> None:
    """The scheduler's jobs."""


@jobs.command("list")
def jobs_list() -> None:
    """Each job, its schedule, its last run and its next slot."""
    from station_portal.jobs.runner import last_slot
    from station_portal.timefmt import format_local

    config = _config()
    database = _database(config)
    migrate.check_current(database)
    from station_portal.db import utcnow

    now = utcnow()
    with database.read() as session:
        for job in _job_table(config):
            last = last_slot(session, job.name)
            state = "" if job.enabled(config) else "  (off)"
            click.echo(f"{job.name:10} {job.schedule.describe():18} last "
                       f"{format_local(last) if last else '-':17} next "
                       f"{format_local(job.schedule.next_after(now))}{state}")


@jobs.command("run")
@click.argument("name")
def jobs_run(name: str) -> None:
    """Run a job now for its latest slot (nothing happens if that run exists)."""
    from station_portal.db import utcnow
    from station_portal.jobs.runner import due_slot, run_slot

    config = _config()
    database = _database(config)
    migrate.check_current(database)
    table = {job.name: job for job in _job_table(config)}
    if name not in table:
        raise click.BadParameter(f"{name} (jobs: {', '.join(table)})", param_hint="NAME")
    job = table[name]
    if not job.enabled(config):
        raise click.ClickException(f"{name} is off in this installation ({config.env} mode)")
    run = run_slot(database, config, job, due_slot(job, utcnow()))
    if run is None:
        click.echo(f"{name}: the run for its latest slot exists already")
    elif run.status != "ok":
        raise click.ClickException(f"{name} failed: {run.error}")
    else:
        click.echo(f"{name}: ok in {run.seconds:.2f} s {run.summary}")


@main.group("calendar")
def calendar_group() -> None:
    """The working-day calendar: statutory holidays and make-up working days."""


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@calendar_group.command("check")
@click.argument("year", type=int)
def calendar_check(year: int) -> None:
    """Where YEAR's holidays come from, each holiday and make-up working day, and what is provisional."""
    from station_portal.resources import data_path
    from station_portal.sla.calendar import FIRST_DAY, LAST_DAY, CalendarError, WorkCalendar

    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise click.BadParameter(f"{year} is outside the calendar ({FIRST_DAY.year}–{LAST_DAY.year})",
                                 param_hint="YEAR")
    overrides = data_path("calendar", "overrides.toml")
    try:
        cal = WorkCalendar.default()
    except CalendarError as exc:
        raise click.ClickException(f"the calendar cannot be built: {exc}") from exc
    source = cal.years[year]
    origin = {
        "package": "the chinese-calendar package (the State Council's notice)",
        "override": f"an override in {overrides}",
        "law": "computed from the law (PROVISIONAL)",
        "fallback": "nothing (Monday–Friday, PROVISIONAL)",
    }[source.kind]
    click.echo(f"{year}: {origin}")
    click.echo(f"  source: {source.source}")
    days = cal.year_days(year)
    mark = "  [provisional]" if not source.covered else ""
    for title, chosen in (("holidays and days off", [d for d in days if not d.workday]),
                          ("make-up working days (调休)", [d for d in days if d.workday])):
        click.echo(f"{title}: {len(chosen)}")
        for day in chosen:
            click.echo(f"  {day.day.isoformat()} {_WEEKDAYS[day.day.weekday()]}  {day.label}{mark}")
    if source.kind == "law":
        click.echo("  (none computed: the law does not set make-up working days, only the State "
                   "Council's notice does)")
    if source.covered:
        click.echo(f"nothing in {year} is provisional")
        return
    click.echo(f"PROVISIONAL: every day of {year} above is provisional, because no State Council "
               f"notice for {year} is known (neither the chinese-calendar package nor the overrides "
               "have it); deadlines that touch the year are flagged provisional.")
    click.echo(f"To confirm: add [year.{year}] with the notice's holidays and workdays to {overrides}, "
               "then run `station-portal recompute-clocks`.")


@main.group("backup")
def backup_group() -> None:
    """Backups of the database (PostgreSQL) and the uploads; restore; the restore drill."""


def _backup_source(config: Config, database_url: str | None) -> str:
    from station_portal.services.backup import PGBOUNCER_NOTE

    if database_url is None and config.database_pgbouncer:
        raise click.ClickException(PGBOUNCER_NOTE)
    return database_url or config.database_url


@backup_group.command("create")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--database-url", help="A direct connection to PostgreSQL (default: the "
              "configured DATABASE_URL; required when that goes through PgBouncer).")
def backup_create(dest: Path, database_url: str | None) -> None:
    """Back up the database (pg_dump, one snapshot) and every object of the store of uploads
    into the new folder DEST, with a manifest (rows per table, SHA-256 of every file)."""
    from station_portal.services.backup import BackupError, create_backup, manifest_summary
    from station_portal.storage import for_config

    config = _config()
    try:
        report = create_backup(_backup_source(config, database_url), for_config(config), dest,
                               echo=click.echo)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup {report.folder}: {manifest_summary(report.manifest)}")
    if not report.ok:
        for key in report.missing:
            click.echo(f"MISSING: object {key} is named by a row but not in the store", err=True)
        raise click.ClickException(f"{len(report.missing)} objects that rows name are missing "
                                   "from the store (the backup holds what there is)")


@backup_group.command("verify")
@click.argument("src", type=click.Path(path_type=Path, exists=True, file_okay=False))
def backup_verify(src: Path) -> None:
    """Check a backup folder against its manifest (sizes and SHA-256 of the dump and every
    object); exit 1 on any difference."""
    from station_portal.services.backup import BackupError, manifest_summary, verify_folder

    try:
        manifest, check = verify_folder(src)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup {src}: {manifest_summary(manifest)}")
    for problem in check.problems:
        click.echo(f"MISMATCH: {problem}", err=True)
    if not check.ok:
        raise click.ClickException(f"{len(check.problems)} of {check.checked} files differ "
                                   "from the manifest")
    click.echo(f"all {check.checked:,} files match the manifest")


@backup_group.command("restore")
@click.argument("src", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--database-url", help="The database to restore into (default: the configured "
              "DATABASE_URL); it must be empty. A direct connection, not PgBouncer.")
@click.option("--force", is_flag=True, help="Restore over a database or store that holds "
              "data (the backup's tables are dropped and made again).")
def backup_restore(src: Path, database_url: str | None, force: bool) -> None:
    """Restore the backup folder SRC into an empty database and an empty store of uploads
    (the configured ones), then check every table's rows and every object's SHA-256."""
    from station_portal.services.backup import BackupError, manifest_summary, restore_backup
    from station_portal.storage import for_config

    config = _config()
    try:
        report = restore_backup(src, _backup_source(config, database_url), for_config(config),
                                force=force, echo=click.echo)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup {src}: {manifest_summary(report.manifest)}")
    for problem in report.problems:
        click.echo(f"MISMATCH: {problem}", err=True)
    if not report.backup_check.ok:
        raise click.ClickException("the backup does not match its manifest; nothing was "
                                   "restored")
    if not report.ok:
        raise click.ClickException(f"the restored copy differs from the backup in "
                                   f"{len(report.problems)} places")
    click.echo(f"restored and verified: {report.rows.checked} tables' rows and "
               f"{report.objects.checked:,} objects equal the backup's")


@backup_group.command("drill")
@click.option("--database-url", help="A direct connection to the installation's PostgreSQL "
              "(default: the configured DATABASE_URL; required behind PgBouncer).")
@click.option("--scratch-url", help="A server where the drill may create and drop its scratch "
              "database (default: the installation's own server).")
@click.option("--scratch-bucket", help="With S3: the bucket of the scratch store (default: the "
              "installation's, under a prefix drill-<time>).")
@click.option("--work-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Where the backup is written for the drill (default: the temporary folder).")
@click.option("--keep", type=click.Path(path_type=Path),
              help="Keep the drill's backup in this new folder.")
def backup_drill(database_url: str | None, scratch_url: str | None, scratch_bucket: str | None,
                 work_dir: Path | None, keep: Path | None) -> None:
    """Back up this installation, restore it into a scratch database and store, verify every
    row count and checksum, open a repair with a photo against the copy, report the timings,
    drop the copy. Exit 1 on any mismatch."""
    from station_portal.services.backup import BackupError, run_drill

    config = _config()
    try:
        source = _backup_source(config, database_url)
        report = run_drill(config, database_url=source, scratch_url=scratch_url,
                           work_dir=work_dir, keep=keep, scratch_bucket=scratch_bucket)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in report.lines:
        click.echo(line)
    for problem in report.problems:
        click.echo(f"MISMATCH: {problem}", err=True)
    if not report.ok:
        click.echo(f"DRILL FAILED: {len(report.problems)} problems", err=True)
        sys.exit(1)
    click.echo("DRILL OK: the backup restores, verifies and serves")


@main.group()
def i18n() -> None:
    """Translation catalogs (zh_CN, en)."""


@i18n.command("update")
def i18n_update() -> None:
    """Extract messages from the code and merge them into both catalogs."""
    from station_portal.i18n.catalogs import update

    for locale, untranslated in update().items():
        click.echo(f"{locale}: {untranslated} untranslated")


@i18n.command("check")
def i18n_check() -> None:
    """Exit 1 if a message lacks a translation."""
    from station_portal.i18n.catalogs import missing

    gaps = missing()
    for locale, messages in gaps.items():
        for message in messages:
            click.echo(f"{locale}: {message}")
    if any(gaps.values()):
        sys.exit(1)
    click.echo("catalogs complete")


if __name__ == "__main__":
    main()

"""gunicorn for the portal, shipped in the package (so in the wheel)::

    gunicorn -c python:station_portal.web.gunicorn_conf 'station_portal:create_app()'

``gunicorn.conf.py`` and ``wsgi.py`` at the repository root are the same thing for a
checkout and for the commands that still name them (``gunicorn -c gunicorn.conf.py
wsgi:app``): the root file imports everything from here.

The numbers come from the portal's own settings (``station_portal/config.py``:
``PORTAL_HOST``/``PORTAL_PORT``, ``PORTAL_WEB_*``, ``PORTAL_FORWARDED_ALLOW_IPS``,
``PORTAL_ACCESS_LOG``, ``PORTAL_LOG_*``), so one list of environment variables describes
the web tier; a command-line option (``-b``, ``-w`` …) still wins over this file. The
production checks (``Config.check_deployment``: no SQLite …) run when it is loaded,
before the app is.

- **preload_app.** The master builds the app once (settings, schema and data-file
  checks, the Dash layout) and forks the workers from it. Without it every worker built
  its own app when it started, so a worker that restarted (killed, timed out, recycled)
  after ``station-portal db upgrade`` had moved the schema past this code failed the
  schema check, and gunicorn stops the whole server when a worker fails to boot: one
  upgrade from another host took every worker of this one down. Now a schema that moves
  shows on ``/readyz`` and workers keep coming back; a new master (a deploy) checks
  again, and starts on a schema at its head or newer by compatible revisions
  (``migrate.check_current``: rolling deploys).
- **Engine after fork.** The master's pool is closed once the app is built
  (``when_ready``) and each worker drops what it inherited (``post_fork``), so no two
  processes ever share a database socket or SQLite handle.
- **Metrics.** Every worker writes its samples under ``PROMETHEUS_MULTIPROC_DIR``
  (prometheus_client's multiprocess mode); a scrape of ``/metrics`` sums them. The folder
  is made here when the variable is unset (and removed when the master exits), emptied
  when the server starts, and a dead worker's live gauges are dropped (``child_exit``).
- **Logs.** The portal's formatter for gunicorn's own loggers too (JSON lines in
  production); gunicorn's access line is off unless ``PORTAL_ACCESS_LOG`` is true, since
  the portal logs one line per request with its route, user and unit.

gunicorn reads every module-level name of this file as a setting: helpers are private.
"""

import atexit as _atexit
import os as _os
import shutil as _shutil
import tempfile as _tempfile
from pathlib import Path as _Path

from station_portal.config import Config as _Config
from station_portal.config import ConfigError as _ConfigError
from station_portal.web.observe import logging_config as _logging_config

try:
    _config = _Config.from_env()
    _config.check_deployment()
except _ConfigError as _exc:
    raise SystemExit(f"Station Portal cannot start: {_exc}") from None

# Multiprocess metrics: chosen by prometheus_client when it is first imported, so the
# variable is set here, before the app (and prometheus_client) is loaded.
if not _os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _made = _tempfile.mkdtemp(prefix="portal-metrics-")
    _os.environ["PROMETHEUS_MULTIPROC_DIR"] = _made
    _master = _os.getpid()
    # Removed when the master exits, also after a failed start; never by a worker.
    _atexit.register(lambda: _os.getpid() == _master and _shutil.rmtree(_made, ignore_errors=True))

bind = [f"[{_config.host}]:{_config.port}" if ":" in _config.host
        else f"{_config.host}:{_config.port}"]
worker_class = "gthread"  # Dash callbacks wait on the database: threads, not processes alone
workers = _config.web_workers
threads = _config.web_threads
timeout = _config.web_timeout
graceful_timeout = _config.web_graceful_timeout
keepalive = 5  # behind a reverse proxy that keeps connections open
preload_app = True
forwarded_allow_ips = _config.forwarded_allow_ips
# Workers' heartbeat files (made with mkstemp) on tmpfs, not on a disk that may stall.
_SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = _SHM if _os.path.isdir(_SHM) else None
# The default control socket ($HOME/.gunicorn/gunicorn.ctl) is shared by every gunicorn
# of the user: two portal servers on one host would take it from each other.
control_socket_disable = True

accesslog = "-"
access_log_format = ('%(h)s "%(r)s" %(s)s %(B)s %(M)sms route=%({portal.route}e)s '
                     'user=%({portal.user}e)s request_id=%({x-request-id}o)s')
logconfig_dict = _logging_config(_config)
loglevel = _config.log_level.lower()


def _dispose_database(server, *, close: bool) -> None:
    """Drop the app's pooled connections, reached through the app's extension:
    this module sits below the assembly layer and does not import it."""
    app = getattr(server.app, "callable", None)
    if app is not None:
        from station_portal.web.context import EXTENSION

        app.extensions[EXTENSION].db.dispose(close=close)


def on_starting(server):
    """Empty the metrics folder: samples of a previous server must not be summed in."""
    folder = _Path(_os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.glob("*.db"):
        path.unlink()


def when_ready(server):
    """The master serves nothing: close the connections the app's start-up checks opened."""
    _dispose_database(server, close=True)


def post_fork(server, worker):
    """A new worker forgets the pool it inherited from the master (never closing it there)."""
    _dispose_database(server, close=False)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)

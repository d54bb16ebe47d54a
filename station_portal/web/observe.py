"""Request ids and logs: one id per request, one JSON line per request, context on every line.

Each request gets an id: the caller's ``X-Request-ID`` when it is a sane token (the
proxy in front sets one), else a new random one; it is echoed in the response's
``X-Request-ID`` header. Every log record made while a request runs carries
``request_id``, ``user`` (the username, once the guard has loaded the user) and
``unit`` (the user's scope unit id), and the request ends with one line on the
``station_portal.request`` logger: method, route template, status, milliseconds.

:func:`logging_config` is the one logging set-up, for the web server (gunicorn's
``logconfig_dict``), the scheduler and the command line: JSON lines
(python-json-logger) in production, plain text in demo, ``PORTAL_LOG_FORMAT``
either way. Reading the user must not load it: a public request (a probe, an
asset) never touches the database for its log line.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from station_portal.config import Config

REQUEST_ID_HEADER = "X-Request-ID"
# A request id we take from the caller: a short token (nginx's $request_id, a UUID …).
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
REQUEST_LOG = "station_portal.request"
CONTEXT_FIELDS = ("request_id", "user", "unit")

log = logging.getLogger(REQUEST_LOG)


def request_id_from(header: str | None) -> str:
    """The caller's id when it is sane, else a new one (32 hex digits)."""
    if header is not None and SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def route_template() -> str:
    """The matched route's rule (``/service/case/<number>``), never the raw path."""
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def loaded_user() -> Any:
    """The signed-in user if the guard already loaded one this request, else None.

    Flask-Login keeps the loaded user in ``g._login_user``; asking ``current_user``
    here would load it (a database read) for requests that never needed one.
    """
    user = g.get("_login_user")
    return user if getattr(user, "is_authenticated", False) else None


def _context() -> dict[str, Any]:
    if not has_request_context():
        return {}
    out: dict[str, Any] = {"request_id": g.get("request_id")}
    user = loaded_user()
    if user is not None:
        out["user"] = getattr(user, "username", None)
        out["unit"] = getattr(user, "scope_unit_id", None)
    return out


# -- every log record made during a request carries its context ------------------------------

_record_factory_installed = False


def install_record_context() -> None:
    """Stamp request id, user and unit on every log record made inside a request
    (``record._portal_context``; :class:`JsonFormatter` writes them as fields).

    A record factory (not a handler filter), so that every handler sees the fields,
    pytest's log capture included. Installed once per process.
    """
    global _record_factory_installed
    if _record_factory_installed:
        return
    base = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        # One private attribute, so a caller's extra={"user": …} still works.
        record._portal_context = _context()
        return record

    logging.setLogRecordFactory(factory)
    _record_factory_installed = True


# -- the per-request line --------------------------------------------------------------------

def _start() -> None:
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or request_id_from(None)
    started = g.get("request_started")
    seconds = time.perf_counter() - started if started is not None else 0.0
    g.request_seconds = seconds
    user = loaded_user()
    environ = request.environ
    # For gunicorn's access line (%({portal.user}e)s …), which reads the WSGI environ.
    environ["portal.route"] = route_template()
    environ["portal.user"] = getattr(user, "username", "-") if user is not None else "-"
    log.info("%s %s %s %.1f ms", request.method, route_template(), response.status_code,
             seconds * 1000, extra={
                 "method": request.method, "route": route_template(), "path": request.path,
                 "status": response.status_code, "ms": round(seconds * 1000, 1),
                 "remote": request.remote_addr})
    return response


def init_app(server: Flask) -> None:
    """Call first among the request hooks: the id must exist before the guard runs."""
    install_record_context()
    server.before_request(_start)
    server.after_request(_finish)


# -- logging set-up --------------------------------------------------------------------------

class JsonFormatter(_BaseJsonFormatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the request's
    context and any ``extra`` fields; Chinese text stays readable (no ASCII escapes)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__("%(levelname)s %(name)s %(message)s", *args, **kwargs)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord,
                   message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        for key, value in getattr(record, "_portal_context", {}).items():
            log_data.setdefault(key, value)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def logging_config(config: Config, *, access_log: bool | None = None) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict: the root logger and gunicorn's two loggers,
    all to standard error, as JSON or text. ``access_log``: let gunicorn's own access
    line through (default: ``PORTAL_ACCESS_LOG``)."""
    access = config.access_log if access_log is None else access_log
    formatter = ({"()": f"{__name__}.JsonFormatter"} if config.log_json
                 else {"format": TEXT_FORMAT})
    level = config.log_level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"portal": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "portal",
                                "stream": "ext://sys.stderr"}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # Alembic says which migration context it opened at every /readyz.
            "alembic.runtime.migration": {"level": "WARNING"},
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO" if access else "WARNING", "handlers": [],
                                "propagate": True},
        },
    }


def configure_logging(config: Config) -> None:
    """Set up logging for a process of the portal (the scheduler, a command)."""
    import logging.config

    logging.config.dictConfig(logging_config(config))
    install_record_context()

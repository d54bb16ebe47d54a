"""Error responses: JSON for Dash and API calls, a short page for browsers.

Under ``/api/`` the REST API's format is used (``api/errors.py``: error code,
message and a message per field). An unexpected error is logged with a
reference the user can quote; its details never reach the browser.
"""

from __future__ import annotations

import logging
import secrets

from dash.exceptions import DependencyException
from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from station_portal import i18n
from station_portal.errors import PortalError
from station_portal.i18n import _
from station_portal.storage import StorageError
from station_portal.web.guard import is_api_path, wants_json

log = logging.getLogger(__name__)

# The database is away for a moment (restarted, failed over, PgBouncer retrying its
# sign-in) or every pooled connection is busy: the request may work again in seconds.
DATABASE_AWAY = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                 sa_exc.TimeoutError)
RETRY_AFTER_SECONDS = 5


def _titles() -> dict[int, str]:
    return {
        400: _("This request is malformed."),
        401: _("Please sign in first."),
        403: _("You may not do this."),
        404: _("This page does not exist."),
        405: _("This method is not allowed here."),
        409: _("Someone else changed this first."),
        413: _("The upload is too large."),
        422: _("Some fields need correcting."),
        429: _("Too many requests. Wait a moment and try again."),
        500: _("Something went wrong on our side."),
    }


def _respond(status: int, code: str, message: str,
             headers: dict[str, str] | None = None) -> tuple[Response | str, int, dict]:
    """The error as JSON (Dash, API) or a short page; neither touches the database."""
    if wants_json(request.path):
        return jsonify({"error": code, "message": message}), status, headers or {}
    page = render_template("error.html", _=_, locale=i18n.get_locale(), status=status,
                           message=message)
    return page, status, headers or {}


def init_app(server: Flask) -> None:
    @server.errorhandler(PortalError)
    def _portal_error(exc: PortalError):
        if is_api_path(request.path):
            from station_portal.api.errors import portal_error_response

            return portal_error_response(exc)
        return _respond(exc.status, type(exc).__name__, exc.message)

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if is_api_path(request.path):
            from station_portal.api.errors import http_error_response

            return http_error_response(exc)
        status = exc.code or 500
        # Our own aborts carry a translated description; werkzeug's defaults do not.
        custom = exc.description if exc.description != type(exc).description else None
        return _respond(status, (exc.name or "error").lower().replace(" ", "_"),
                        custom or _titles().get(status, exc.name or ""))

    @server.errorhandler(DependencyException)
    def _unknown_component_file(exc: DependencyException):
        # Dash raises this for a /_dash-component-suites/ path it did not register (a
        # stale or probing request): the file does not exist, nothing went wrong.
        return _respond(404, "not_found", _titles()[404])

    @server.errorhandler(StorageError)
    def _storage_down(exc: StorageError):
        # The file store (a disk, an S3 service) did not answer: the request may work again
        # in a moment; nothing about the caller's input was wrong.
        log.warning("file store unavailable, %s %s: %s", request.method, request.path, exc)
        message = _("Stored files cannot be reached just now. Try again in a few minutes.")
        if is_api_path(request.path):
            from station_portal.api.errors import body

            return body(503, "storage_unavailable", message)
        return _respond(503, "storage_unavailable", message)

    def _database_away(exc: Exception):
        # 503 with Retry-After, not 500: load balancers and clients retry; nothing the
        # caller sent was wrong, and the failed transaction was rolled back whole.
        ref = secrets.token_hex(4)
        log.warning("database unavailable, reference %s, %s %s: %s", ref, request.method,
                    request.path, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        message = _("The portal cannot reach its database just now. Try again in a moment "
                    "(reference %(ref)s).", ref=ref)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if is_api_path(request.path):
            from station_portal.api.errors import body

            return body(503, "database_unavailable", message, headers=headers)
        return _respond(503, "database_unavailable", message, headers)

    for kind in DATABASE_AWAY:
        server.register_error_handler(kind, _database_away)

    @server.errorhandler(Exception)
    def _unexpected(exc: Exception):
        ref = secrets.token_hex(4)
        log.exception("unexpected error, reference %s, %s %s", ref, request.method, request.path)
        if is_api_path(request.path):
            from station_portal.api.errors import body

            return body(500, "internal_error",
                        _("Something went wrong on our side (reference %(ref)s).", ref=ref))
        return _respond(500, "internal_error",
                        _("Something went wrong on our side (reference %(ref)s).", ref=ref))

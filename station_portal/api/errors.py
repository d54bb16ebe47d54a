"""The API's error responses: ``{"error": code, "message": text, "fields": {field: text}}``.

Everything under ``/api/`` answers errors this way, in the caller's language:
refusals of the services (``PortalError``), HTTP errors (unknown route, wrong
method, too large), and validation errors of the request schemas, whose
:class:`~station_portal.api.fields.Msg` messages are translated here.
``web/errors.py`` hands API paths to :func:`portal_error_response` and
:func:`http_error_response`.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, jsonify
from werkzeug.exceptions import HTTPException

from station_portal.api.fields import INVALID, Msg
from station_portal.errors import PortalError
from station_portal.i18n import _
from station_portal.services.attachments import TooLarge

# Request locations webargs names in its messages; they are not part of a field's name.
LOCATIONS = frozenset({"json", "query", "querystring", "form", "files", "multipart", "view_args", "path",
                       "headers", "cookies"})
CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 410: "gone",
    413: "too_large", 415: "unsupported_media_type", 422: "validation_failed",
    429: "too_many_requests", 500: "internal_error",
}
PASSED_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ApiError(PortalError):
    """A refusal made by the API layer itself, with its code and optional extra body keys."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 fields: dict[str, str] | None = None, extra: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.fields = fields or {}
        self.extra = extra or {}
        self.headers = headers or {}


def _messages() -> dict[int, str]:
    return {
        400: _("This request is malformed."),
        401: _("Please sign in first."),
        403: _("You may not do this."),
        404: _("There is no such address in the API."),
        405: _("This method is not allowed here."),
        409: _("Someone else changed this first."),
        413: _("The upload is too large."),
        415: _("Send the body as JSON (Content-Type: application/json)."),
        422: _("Some fields need correcting."),
        429: _("Too many requests. Wait a moment and try again."),
        500: _("Something went wrong on our side."),
    }


def body(status: int, code: str, message: str, fields: dict[str, str] | None = None,
         extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Response:
    payload: dict[str, Any] = {"error": code, "message": message, "fields": fields or {}}
    payload.update(extra or {})
    response = jsonify(payload)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def portal_error_response(exc: PortalError) -> Response:
    if isinstance(exc, ApiError):
        return body(exc.status, exc.code, exc.message, exc.fields, exc.extra, exc.headers)
    fields = dict(getattr(exc, "fields", None) or {})
    code = "too_large" if isinstance(exc, TooLarge) else _snake(type(exc).__name__)
    return body(exc.status, code, exc.message, fields)


def text_of(message: object) -> str:
    """A validation message as text in the caller's language; never marshmallow's English."""
    if isinstance(message, Msg):
        return str(message)
    return str(INVALID)


def flatten(messages: object, prefix: str = "") -> dict[str, str]:
    """Marshmallow's nested messages → one message per dotted field path ("pings.3.lat")."""
    out: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key)
            if not prefix and name in LOCATIONS:
                path = ""
            elif name == "_schema":
                path = prefix
            else:
                path = f"{prefix}.{name}" if prefix else name
            for field, text in flatten(value, path).items():
                out.setdefault(field, text)
    elif isinstance(messages, list | tuple):
        for item in messages:
            for field, text in flatten(item, prefix).items():
                out.setdefault(field, text)
    else:
        out[prefix] = text_of(messages)
    return out


def http_error_response(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers = {name: value for name, value in exc.get_headers() if name in PASSED_HEADERS}
    data = getattr(exc, "data", None)  # webargs: validation errors of a request schema
    if isinstance(data, dict) and "messages" in data:
        fields = flatten(data["messages"])
        if status == 400:  # the body is not JSON at all
            return body(400, "malformed_json", _("The body is not valid JSON."), headers=headers)
        whole = fields.pop("", None)  # about the body as a whole (not an object, …)
        message = whole if whole is not None and not fields else _messages()[422]
        return body(status, CODES.get(status, "validation_failed"), message, fields, headers=headers)
    custom = exc.description if exc.description != type(exc).description else None
    return body(status, CODES.get(status, "error"),
                custom or _messages().get(status, exc.name or ""), headers=headers)

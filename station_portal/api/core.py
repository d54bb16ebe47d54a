"""What every endpoint shares: the blueprint class, role declarations, the caller,
write transactions, and the 404/403 rule for orders.

The 404/403 rule: services answer NotFound both for an unknown order and for
one outside the caller's scope. A caller whose scope is global gets 404 for
an unknown id; a scoped caller gets 403 with the same message for both, so
the answer never tells whether an id exists outside their area.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps
from http import HTTPStatus
from typing import Any

import flask_smorest
from flask import abort
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict

from station_portal.api.errors import ApiError
from station_portal.auth.models import User
from station_portal.auth.roles import Role
from station_portal.errors import Conflict, NotFound
from station_portal.i18n import _
from station_portal.org.matrix import load_matrix
from station_portal.web.context import SignedInUser, signed_in_user, write_session
from station_portal.web.guard import TokenUser


class PortalParser(FlaskParser):
    """webargs' parser, refusing what it would otherwise let through to a 500, with one more
    location: ``multipart`` (the files and the form fields of a multipart/form-data body)."""

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req: Any, schema: Any) -> Any:
        return MultiDictProxy(CombinedMultiDict([req.files, req.form]), schema)

    def _raw_load_json(self, req: Any) -> Any:
        data = req.get_data(cache=True)
        if not is_json_request(req):
            if data:
                abort(415)
            return core.missing
        try:
            return core.parse_json(data)
        except json.JSONDecodeError:
            raise
        except (ValueError, RecursionError) as exc:  # 5,000-digit numbers, nesting too deep
            raise json.JSONDecodeError("unreadable JSON", "?", 0) from exc


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = PortalParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }

    def errors(self, *codes: int) -> Callable:
        """Document the error responses an endpoint may give (all in the common error format)."""
        def decorator(func: Callable) -> Callable:
            for code in codes:
                func = self.alt_response(code, response=HTTPStatus(code).name)(func)
            return func
        return decorator


def roles(allowed: Iterable[Role] | None = None, *, action: str | None = None) -> Callable:
    """Declare who may call an endpoint: the listed roles, or those the responsibility
    matrix lets take ``action``. Checked before the request body is read."""
    listed = frozenset(allowed) if allowed is not None else None
    if listed is not None:
        who = ", ".join(sorted(r.value for r in listed))
    else:
        who = f"those the responsibility matrix lets take the action `{action}`"

    def decorator(func: Callable) -> Callable:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = signed_in_user()
            permitted = listed if listed is not None else {
                r for r in Role if load_matrix().may(r.value, action or "")}
            if user.role not in permitted:
                raise ApiError(403, _("Your role may not use this."))
            return func(*args, **kwargs)

        wrapper.__doc__ = f"{inspect.cleandoc(func.__doc__ or '')}\n\nRoles: {who}."
        return wrapper
    return decorator


def caller() -> SignedInUser:
    return signed_in_user()


def authenticated_by() -> str:
    return "bearer" if isinstance(caller(), TokenUser) else "cookie"


@contextmanager
def write() -> Iterator[tuple[Session, User]]:
    """One write transaction for the request, with the caller's row in it.

    A unique key lost to a concurrent request (the same client_key twice at the
    same moment) is a conflict, not an error.
    """
    try:
        with write_session() as session:
            yield session, caller().model(session)
    except IntegrityError as exc:
        if "client_key" not in str(exc.orig).lower():
            raise  # a real bug: let it surface, not hide as a conflict
        raise Conflict(_("Someone else changed this first. Reload and try again.")) from exc


def order_unavailable(message: str | None = None) -> ApiError:
    """Unknown or out of scope: 404 for a global caller, 403 (same message) for a scoped one."""
    message = message or _("There is no such work order in your area.")
    if caller().scope().is_global:
        return ApiError(404, message, code="not_found")
    return ApiError(403, message, code="forbidden")


@contextmanager
def order_access() -> Iterator[None]:
    """Turn a service's NotFound for an order into the 404/403 rule."""
    try:
        yield
    except NotFound as exc:
        raise order_unavailable(exc.message) from exc

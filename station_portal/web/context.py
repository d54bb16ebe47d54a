"""Per-request helpers: the portal's config and database, the session, the user.

One read session per request (closed on teardown); writes open their own
short transaction with :func:`write_session`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, g, has_request_context, request
from flask_login import UserMixin, current_user
from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.auth.roles import Role
from station_portal.auth.scope import Scope, scope_for
from station_portal.config import Config
from station_portal.db import Database

EXTENSION = "station_portal"


@dataclass
class Portal:
    """What the application holds besides Flask: config, database, callback policies."""

    config: Config
    db: Database
    callback_policies: dict = field(default_factory=dict)
    dash: Any = None  # the Dash app, once mounted


def portal() -> Portal:
    return current_app.extensions[EXTENSION]


def read_session() -> Session:
    """The request's read session (opened on first use, closed on teardown)."""
    session = g.get("_portal_session")
    if session is None:
        session = portal().db.new_read_session()
        g._portal_session = session
    return session


@contextmanager
def write_session() -> Iterator[Session]:
    """A write transaction, committed when the block ends.

    The request's read session first gives its connection back (ending its
    snapshot), so a request never holds two pooled connections at once and
    later reads see what was just written.
    """
    reader = g.get("_portal_session")
    if reader is not None:
        reader.rollback()
    with portal().db.write() as session:
        yield session


def close_request_session(_exc: BaseException | None = None) -> None:
    session = g.pop("_portal_session", None)
    if session is not None:
        session.close()


def client_ip() -> str | None:
    """The caller's address (ProxyFix rewrites it when proxies are trusted)."""
    return request.remote_addr if has_request_context() else None


class SignedInUser(UserMixin):
    """The signed-in user as Flask-Login sees it: a plain snapshot, no ORM object.

    ``get_id`` returns the server-side session token, so Flask-Login's cookie
    points at a session row that logout and the idle timeout can end.
    """

    def __init__(self, user: User, token: str) -> None:
        self.id = user.id
        self.username = user.username
        self.display_name = user.display_name
        self.role = Role(user.role)
        self.locale = user.locale
        self.staff_id = user.staff_id
        self.scope_unit_id = user.scope_unit_id
        self.must_change_password = user.must_change_password
        self._token = token
        self._scope: Scope | None = None

    def get_id(self) -> str:
        return self._token

    def scope(self) -> Scope:
        """The user's scope, computed once per request."""
        if self._scope is None:
            self._scope = scope_for(read_session(), self.model())
        return self._scope

    def model(self, session: Session | None = None) -> User:
        """The User row, in ``session`` (default: the request's read session)."""
        user = (session or read_session()).get(User, self.id)
        assert user is not None  # the session row cascades with the user
        return user


def signed_in_user() -> SignedInUser:
    """The current user; the guard has already refused anonymous callers."""
    user = current_user._get_current_object()
    if not isinstance(user, SignedInUser):
        raise PermissionError("no signed-in user")
    return user

"""Bearer tokens of the REST API: issue, check, touch, revoke.

A token is 32 random bytes handed out once; only its SHA-256 is stored
(``ApiToken``). It expires after the configured lifetime, and it stops working
at once when it is revoked, when its user is disabled, or when their password
is reset or changed (``services/users.py`` revokes them).

No Flask here: the web layer passes the token from the ``Authorization`` header.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from station_portal import audit
from station_portal.auth.models import ApiToken, User
from station_portal.auth.signin import token_hash
from station_portal.db import utcnow
from station_portal.validate import has_control_chars

TOKEN_ISSUED = "api_token_issued"
TOKEN_REVOKED = "api_token_revoked"
# The last-use time is written at most this often, so that polling is not a write per call.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
# A token is token_urlsafe(32): 43 characters. Anything far longer is not one of ours.
MAX_TOKEN_LENGTH = 128


class TokenProblem(StrEnum):
    INVALID = "invalid"  # unknown, revoked, or its user is disabled
    EXPIRED = "expired"


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once, never stored
    token_id: int
    expires_at: datetime


@dataclass(frozen=True)
class ActiveToken:
    token_id: int
    user_id: int
    needs_touch: bool


def issue_token(session: Session, user: User, *, lifetime: timedelta, name: str = "",
                ip: str | None = None, now: datetime | None = None) -> IssuedToken:
    """A new token for ``user`` (who has just proved their password); audited."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    label = name.strip()[:80] if isinstance(name, str) and not has_control_chars(name) else ""
    row = ApiToken(token_hash=token_hash(token), user_id=user.id, name=label, created_at=now,
                   expires_at=now + lifetime)
    session.add(row)
    session.flush()
    audit.record(session, TOKEN_ISSUED, actor_id=user.id, subject=user.username,
                 entity_type="api_token", entity_id=row.id, ip=ip,
                 details={"name": label, "expires_at": row.expires_at.isoformat()}, at=now)
    return IssuedToken(token, row.id, row.expires_at)


def check_token(session: Session, token: object, *, now: datetime | None = None
                ) -> ActiveToken | TokenProblem:
    """The live token behind a bearer value, or why it does not work. Read-only."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return TokenProblem.INVALID
    now = now or utcnow()
    row = session.execute(
        select(ApiToken.id, ApiToken.user_id, ApiToken.expires_at, ApiToken.revoked_at,
               ApiToken.last_used_at, User.active)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash(token))
    ).one_or_none()
    if row is None or row.revoked_at is not None or not row.active:
        return TokenProblem.INVALID
    if row.expires_at <= now:
        return TokenProblem.EXPIRED
    stale = row.last_used_at is None or now - row.last_used_at >= TOKEN_TOUCH_INTERVAL
    return ActiveToken(row.id, row.user_id, stale)


def touch_token(session: Session, token_id: int, now: datetime | None = None) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(
        last_used_at=now or utcnow()))


def revoke_token(session: Session, token_id: int, *, ip: str | None = None,
                 now: datetime | None = None) -> bool:
    """Revoke one token; True if it was live. Audited."""
    now = now or utcnow()
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    user = session.get(User, row.user_id)
    audit.record(session, TOKEN_REVOKED, actor_id=row.user_id,
                 subject=user.username if user else None, entity_type="api_token",
                 entity_id=row.id, ip=ip, at=now)
    return True


def revoke_all_tokens(session: Session, user_id: int, now: datetime | None = None) -> int:
    """Revoke every live token of a user (disabled, password reset or changed); how many."""
    return session.execute(
        update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount or 0

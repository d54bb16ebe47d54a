"""Signing in and out, server-side sessions, idle timeout and throttling.

No Flask here: the web layer passes the username, password, address and the
cookie's token, and gets back a result to show. Every attempt leaves an audit
row (``sign_in``, ``sign_in_failed``, ``sign_in_locked``, ``sign_out`` …).

Throttling counts failures in the audit trail itself, so it holds across
workers and restarts: too many failures for one account, or from one address,
within the window lock further attempts for a while.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from station_portal import audit
from station_portal.audit import AuditEvent
from station_portal.auth.models import AuthSession, User
from station_portal.auth.passwords import (
    DEMO_PASSWORD,
    hash_password,
    needs_rehash,
    verify_password,
)
from station_portal.config import Config
from station_portal.db import serialize_on, utcnow
from station_portal.validate import has_control_chars, text

SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"
SIGN_IN_LOCKED = "sign_in_locked"
SIGN_OUT = "sign_out"
SESSION_EXPIRED = "session_expired"
# Only the last-seen time of a session is written at most this often, so that
# reading pages does not turn every request into a write.
SESSION_TOUCH_INTERVAL = timedelta(seconds=30)


class Outcome(StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED_ACCOUNT = "locked_account"
    LOCKED_ADDRESS = "locked_address"
    DEMO_PASSWORD_REFUSED = "demo_password_refused"


class EndReason(StrEnum):
    SIGN_OUT = "sign_out"
    IDLE = "idle"
    EXPIRED = "expired"
    DISABLED = "disabled"
    PASSWORD_CHANGED = "password_changed"


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures_per_account: int = 5
    max_failures_per_address: int = 20
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, config: Config) -> ThrottlePolicy:
        return cls(
            max_failures_per_account=config.login_max_failures_per_account,
            max_failures_per_address=config.login_max_failures_per_address,
            window=timedelta(minutes=config.login_window_minutes),
            lock=timedelta(minutes=config.login_lock_minutes),
        )


@dataclass(frozen=True)
class SignInResult:
    outcome: Outcome
    token: str | None = None
    user_id: int | None = None
    locked_until: datetime | None = None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_username(username: object) -> str:
    """Lower-case and trimmed; empty for anything that cannot be a username."""
    if not isinstance(username, str) or has_control_chars(username):
        return ""
    return username.strip().lower()[:64]


def _lock_until(
    session: Session, column, value: str, limit: int, policy: ThrottlePolicy, now: datetime,
    since: datetime | None = None,
) -> datetime | None:
    """If ``limit`` failures matching ``column == value`` fell in the window, when the lock ends."""
    start = now - policy.window
    if since is not None and since > start:
        start = since
    count, last = session.execute(
        select(func.count(AuditEvent.id), func.max(AuditEvent.at)).where(
            AuditEvent.action == SIGN_IN_FAILED, column == value, AuditEvent.at > start
        )
    ).one()
    if count >= limit and last is not None:
        until = last + policy.lock
        if until > now:
            return until
    return None


def _last_success(session: Session, username: str) -> datetime | None:
    return session.scalar(
        select(func.max(AuditEvent.at)).where(
            AuditEvent.action == SIGN_IN, AuditEvent.subject == username
        )
    )


def authenticate(
    session: Session,
    username: object,
    password: object,
    *,
    ip: str | None,
    user_agent: str | None = None,
    demo_mode: bool,
    policy: ThrottlePolicy | None = None,
    now: datetime | None = None,
    open_session: bool = True,
) -> SignInResult:
    """Check the credentials and open a server-side session; run in a write transaction.

    With ``open_session=False`` (the REST API, which issues a bearer token instead)
    the checks, throttling and audit rows are the same, but no web session is opened.
    """
    policy = policy or ThrottlePolicy()
    now = now or utcnow()
    name = normalise_username(username)
    password = password if isinstance(password, str) else ""
    ip_value = text(ip, 64) or None
    # Attempts on one account or from one address are counted one at a time,
    # so parallel guesses cannot slip past the limit.
    serialize_on(session, f"sign-in:user:{name}", f"sign-in:ip:{ip_value}")

    locked = None
    if ip_value:
        locked = _lock_until(
            session, AuditEvent.ip, ip_value, policy.max_failures_per_address, policy, now
        )
        if locked:
            audit.record(session, SIGN_IN_LOCKED, subject=name, ip=ip_value,
                         details={"scope": "address", "until": locked.isoformat()}, at=now)
            return SignInResult(Outcome.LOCKED_ADDRESS, locked_until=locked)
    if name:
        locked = _lock_until(
            session, AuditEvent.subject, name, policy.max_failures_per_account, policy, now,
            since=_last_success(session, name),
        )
        if locked:
            audit.record(session, SIGN_IN_LOCKED, subject=name, ip=ip_value,
                         details={"scope": "account", "until": locked.isoformat()}, at=now)
            return SignInResult(Outcome.LOCKED_ACCOUNT, locked_until=locked)

    user = session.scalar(select(User).where(User.username == name)) if name else None
    valid = verify_password(user.password_hash if user else None, password)
    if not (valid and user is not None and user.active):
        reason = "no_such_user" if user is None else ("disabled" if valid else "wrong_password")
        audit.record(session, SIGN_IN_FAILED, subject=name, ip=ip_value,
                     actor_id=user.id if user else None, details={"reason": reason}, at=now)
        # The attempt that reaches the limit is told about the lock at once.
        session.flush()
        locked = _lock_until(
            session, AuditEvent.subject, name, policy.max_failures_per_account, policy, now,
            since=_last_success(session, name),
        ) if name else None
        if locked:
            return SignInResult(Outcome.LOCKED_ACCOUNT, locked_until=locked)
        return SignInResult(Outcome.BAD_CREDENTIALS)
    if password == DEMO_PASSWORD and not demo_mode:
        audit.record(session, SIGN_IN_FAILED, subject=name, ip=ip_value, actor_id=user.id,
                     details={"reason": "demo_password"}, at=now)
        return SignInResult(Outcome.DEMO_PASSWORD_REFUSED)

    changes: dict = {"last_sign_in_at": now}
    if needs_rehash(user.password_hash):
        changes["password_hash"] = hash_password(password)
    session.execute(update(User).where(User.id == user.id).values(**changes))
    if not open_session:
        audit.record(session, SIGN_IN, subject=name, ip=ip_value, actor_id=user.id, at=now,
                     details={"channel": "api"})
        return SignInResult(Outcome.OK, user_id=user.id)
    token = secrets.token_urlsafe(32)
    session.add(AuthSession(
        token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
        ip=ip_value, user_agent=(text(user_agent, 200) or None),
    ))
    audit.record(session, SIGN_IN, subject=name, ip=ip_value, actor_id=user.id, at=now)
    return SignInResult(Outcome.OK, token=token, user_id=user.id)


@dataclass(frozen=True)
class ActiveSession:
    session_id: int
    user_id: int
    needs_touch: bool


def check_session(
    session: Session,
    token: str | None,
    *,
    idle_timeout: timedelta,
    max_age: timedelta,
    now: datetime | None = None,
) -> ActiveSession | None:
    """The live session behind a cookie token, or None if it ended, idled out or expired.

    Read-only: ending an idle session is :func:`end_session`'s job (a write).
    """
    if not token or not isinstance(token, str):
        return None
    now = now or utcnow()
    row = session.execute(
        select(AuthSession.id, AuthSession.user_id, AuthSession.created_at,
               AuthSession.last_seen_at, AuthSession.ended_at, User.active)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == token_hash(token))
    ).one_or_none()
    if row is None or row.ended_at is not None or not row.active:
        return None
    if now - row.last_seen_at > idle_timeout or now - row.created_at > max_age:
        return None
    return ActiveSession(row.id, row.user_id, now - row.last_seen_at > SESSION_TOUCH_INTERVAL)


def expired_reason(
    session: Session, token: str, *, idle_timeout: timedelta, max_age: timedelta,
    now: datetime | None = None,
) -> EndReason | None:
    """Why a still-open session row is no longer valid (idle or too old), if it is."""
    now = now or utcnow()
    row = session.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash(token)))
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen_at > idle_timeout:
        return EndReason.IDLE
    if now - row.created_at > max_age:
        return EndReason.EXPIRED
    return None


def touch(session: Session, session_id: int, now: datetime | None = None) -> None:
    session.execute(
        update(AuthSession).where(AuthSession.id == session_id, AuthSession.ended_at.is_(None))
        .values(last_seen_at=now or utcnow())
    )


def end_session(
    session: Session, token: str, reason: EndReason, *, ip: str | None = None,
    now: datetime | None = None,
) -> bool:
    """End the session behind ``token``; True if there was an open one."""
    now = now or utcnow()
    row = session.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash(token)))
    if row is None or row.ended_at is not None:
        return False
    row.ended_at = now
    row.end_reason = reason.value
    user = session.get(User, row.user_id)
    action = SIGN_OUT if reason is EndReason.SIGN_OUT else SESSION_EXPIRED
    audit.record(session, action, actor_id=row.user_id, subject=user.username if user else None,
                 ip=(ip or "")[:64] or None, details={"reason": reason.value}, at=now)
    return True


def end_all_sessions(session: Session, user_id: int, reason: EndReason,
                     keep_token: str | None = None) -> int:
    """End every open session of a user (disabled, password changed), except ``keep_token``'s."""
    stmt = (update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason.value))
    if keep_token:
        stmt = stmt.where(AuthSession.token_hash != token_hash(keep_token))
    return session.execute(stmt).rowcount or 0


def reverify(
    session: Session, user: User, password: object, *, ip: str | None,
    policy: ThrottlePolicy | None = None, now: datetime | None = None,
) -> Outcome:
    """Check a signed-in user's password again (before changing it).

    Counts like a sign-in: a wrong password is a failure in the audit trail, and
    a locked account is refused, so a stolen session cannot guess the password.
    """
    policy = policy or ThrottlePolicy()
    now = now or utcnow()
    serialize_on(session, f"sign-in:user:{user.username}")
    locked = _lock_until(session, AuditEvent.subject, user.username,
                         policy.max_failures_per_account, policy, now,
                         since=_last_success(session, user.username))
    if locked:
        return Outcome.LOCKED_ACCOUNT
    if verify_password(user.password_hash, password if isinstance(password, str) else ""):
        return Outcome.OK
    audit.record(session, SIGN_IN_FAILED, subject=user.username, actor_id=user.id,
                 ip=(ip or "")[:64] or None, details={"reason": "password_check"}, at=now)
    return Outcome.BAD_CREDENTIALS

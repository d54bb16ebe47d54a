"""Signing in and out, server-side sessions, idle timeout and throttling.

No Flask here: the web layer passes the username, password, address and the
cookie's token, and gets back a result to show. Every attempt leaves an audit
row (``sign_in``, ``sign_in_failed``, ``sign_in_locked``, ``sign_out`` …).

Throttling slows the attacker and never locks the owner out. It follows OWASP's
Authentication Cheat Sheet ("Protect Against Automated Attacks": count failures
against the account, not only the source address, so many addresses cannot share
the guessing; prefer an exponential lockout that starts short; and "care must be
taken to prevent it from being used to cause a denial of service by locking out
other users' accounts"; "Logging and Monitoring": log every failure and every
lockout) and ASVS 4.0 V2.2.1 (soft lockouts, ever increasing delays, at most 100
failed attempts an hour on one account):

- Failures are counted per account and network (the client address's IPv4 /24 or
  IPv6 /64). A network's first ``max_failures_per_network`` failures on an account
  cost nothing; each further one makes that network wait before its next try on
  that account: 1, 2, 4, 8 … minutes, at most ``lock``. A success from that network
  starts its count afresh. Other networks, the owner's among them, are not affected.
- A ceiling per account across every network (``account_ceiling`` failures in the
  window, a guessing campaign from many networks): while it is reached, a network
  that failed on the account waits the whole ``lock`` after each failure, so each
  network gets one guess per window. A network that has not been failing still
  has its password checked, and the right one lets the owner in: the ceiling only
  adds delay, it never refuses the right password from a network that has not failed.
- The per-address limit across accounts stays (``max_failures_per_address``: one
  address trying many accounts is refused for ``lock``).

The counts are read from the audit trail itself, so they hold across workers and
restarts; attempts on one account are taken one at a time. Every decision is
audited: a refusal (``sign_in_locked`` with the scope, network and until when), a
failure (``sign_in_failed`` with the network's and the account's counts and the
delay it starts), and a success after failures (``sign_in`` with the counts).
Addresses are stored as written by :func:`network_of` (IPv6 in full), so a
network's failures are one indexed prefix match.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
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
# The network of an address, for counting failures: what one subscriber or one
# office usually holds.
IPV4_PREFIX = 24
IPV6_PREFIX = 64


class Outcome(StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    # This account from this network must wait (its own failures, or the ceiling).
    LOCKED_NETWORK = "locked_network"
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
    max_failures_per_network: int = 5  # one account from one network, before delays
    max_failures_per_address: int = 20  # one address, any accounts, before a lock
    account_ceiling: int = 20  # one account from every network: each network then waits
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=15)  # the longest wait
    first_delay: timedelta = timedelta(minutes=1)

    @classmethod
    def from_config(cls, config: Config) -> ThrottlePolicy:
        return cls(
            max_failures_per_network=config.login_max_failures_per_network,
            max_failures_per_address=config.login_max_failures_per_address,
            account_ceiling=config.login_account_ceiling,
            window=timedelta(minutes=config.login_window_minutes),
            lock=timedelta(minutes=config.login_lock_minutes),
        )

    def delay(self, failures: int, *, ceiling: bool) -> timedelta | None:
        """How long a network waits after its ``failures``-th failure on an account."""
        if failures < 1:
            return None
        if ceiling:
            return self.lock
        over = failures - self.max_failures_per_network
        if over < 0:
            return None
        return min(self.lock, self.first_delay * 2 ** min(over, 20))


@dataclass(frozen=True)
class SignInResult:
    outcome: Outcome
    token: str | None = None
    user_id: int | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True)
class Network:
    """A client address as stored, and the network its failures are counted by."""

    address: str | None  # as stored in the audit trail (IPv6 in full); None if unknown
    label: str  # "10.1.2.0/24", "2001:db8:1:2::/64"; the address itself if not one
    prefix: str | None = None  # what every stored address of the network starts with

    def matches(self) -> ColumnElement[bool]:
        """The audit rows from this network."""
        if self.prefix is not None:
            return AuditEvent.ip.like(self.prefix + "%")
        if self.address is None:
            return AuditEvent.ip.is_(None)
        return AuditEvent.ip == self.address


def network_of(ip: object) -> Network:
    """The address as stored and its network: IPv4 by /24, IPv6 by /64 (written in full,
    so the network is a plain prefix), an IPv4 address mapped into IPv6 as IPv4."""
    raw = text(ip, 64).strip() if isinstance(ip, str) else ""
    try:
        address = ipaddress.ip_address(raw.split("%", 1)[0])
    except ValueError:
        return Network(raw or None, raw or "unknown")
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        stored = str(address)
        net = ipaddress.ip_network(f"{stored}/{IPV4_PREFIX}", strict=False)
        return Network(stored, str(net), stored.rsplit(".", 1)[0] + ".")
    stored = address.exploded  # 8 groups of 4 digits: the /64 is the first 4 and a colon
    net = ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False)
    return Network(stored, str(net), stored[:20])


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_username(username: object) -> str:
    """Lower-case and trimmed; empty for anything that cannot be a username."""
    if not isinstance(username, str) or has_control_chars(username):
        return ""
    return username.strip().lower()[:64]


def _failures(session: Session, since: datetime, *where: Any) -> tuple[int, datetime | None]:
    """How many failed sign-ins matching ``where`` came after ``since``, and the last one."""
    count, last = session.execute(
        select(func.count(AuditEvent.id), func.max(AuditEvent.at)).where(
            AuditEvent.action == SIGN_IN_FAILED, AuditEvent.at > since, *where)
    ).one()
    return count, last


def _address_lock(session: Session, network: Network, policy: ThrottlePolicy,
                  now: datetime) -> datetime | None:
    """When the lock of an address that failed on too many sign-ins ends, if it is locked."""
    if network.address is None:
        return None
    count, last = _failures(session, now - policy.window, AuditEvent.ip == network.address)
    if count >= policy.max_failures_per_address and last is not None and last + policy.lock > now:
        return last + policy.lock
    return None


@dataclass(frozen=True)
class Standing:
    """An account's failures as seen from one network, before an attempt."""

    network: int  # this network's failures on the account (since its last success here)
    last: datetime | None  # when the last of them was
    account: int  # the account's failures from every network in the window
    ceiling: bool  # the account's ceiling is reached

    def until(self, policy: ThrottlePolicy) -> datetime | None:
        """Until when this network waits before its next try, if it must."""
        delay = policy.delay(self.network, ceiling=self.ceiling)
        return self.last + delay if delay is not None and self.last is not None else None

    def details(self, network: Network) -> dict[str, Any]:
        return {"network": network.label, "network_failures": self.network,
                "account_failures": self.account, "ceiling": self.ceiling}


def _standing(session: Session, name: str, network: Network, policy: ThrottlePolicy,
              now: datetime) -> Standing:
    start = now - policy.window
    account, _last = _failures(session, start, AuditEvent.subject == name)
    success = session.scalar(select(func.max(AuditEvent.at)).where(
        AuditEvent.action == SIGN_IN, AuditEvent.subject == name, network.matches()))
    since = max(start, success) if success is not None else start
    count, last = _failures(session, since, AuditEvent.subject == name, network.matches())
    return Standing(count, last, account, account >= policy.account_ceiling)


def _after_failure(standing: Standing, policy: ThrottlePolicy, now: datetime) -> Standing:
    """The standing once this attempt's failure is counted."""
    account = standing.account + 1
    return Standing(standing.network + 1, now, account,
                    standing.ceiling or account >= policy.account_ceiling)


def _waiting(until: datetime | None, now: datetime) -> datetime | None:
    return until if until is not None and until > now else None


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
    network = network_of(ip)
    ip_value = network.address
    # Attempts on one account or from one address are counted one at a time,
    # so parallel guesses cannot slip past the limit.
    serialize_on(session, f"sign-in:user:{name}", f"sign-in:ip:{ip_value}")

    locked = _address_lock(session, network, policy, now)
    if locked:
        audit.record(session, SIGN_IN_LOCKED, subject=name, ip=ip_value,
                     details={"scope": "address", "until": locked.isoformat()}, at=now)
        return SignInResult(Outcome.LOCKED_ADDRESS, locked_until=locked)
    standing = _standing(session, name, network, policy, now) if name else None
    if standing is not None:
        locked = _waiting(standing.until(policy), now)
        if locked:
            audit.record(session, SIGN_IN_LOCKED, subject=name, ip=ip_value, at=now,
                         details={"scope": "network", "until": locked.isoformat(),
                                  **standing.details(network)})
            return SignInResult(Outcome.LOCKED_NETWORK, locked_until=locked)

    user = session.scalar(select(User).where(User.username == name)) if name else None
    valid = verify_password(user.password_hash if user else None, password)
    if not (valid and user is not None and user.active):
        reason = "no_such_user" if user is None else ("disabled" if valid else "wrong_password")
        return _failed(session, name, network, standing, policy, now, reason,
                       actor_id=user.id if user else None)
    if password == DEMO_PASSWORD and not demo_mode:
        _failed(session, name, network, standing, policy, now, "demo_password", actor_id=user.id)
        return SignInResult(Outcome.DEMO_PASSWORD_REFUSED)

    details: dict[str, Any] = {} if open_session else {"channel": "api"}
    if standing is not None and (standing.network or standing.account):
        details["after_failures"] = standing.details(network)  # allowed despite failures
    changes: dict = {"last_sign_in_at": now}
    if needs_rehash(user.password_hash):
        changes["password_hash"] = hash_password(password)
    session.execute(update(User).where(User.id == user.id).values(**changes))
    if not open_session:
        audit.record(session, SIGN_IN, subject=name, ip=ip_value, actor_id=user.id, at=now,
                     details=details)
        return SignInResult(Outcome.OK, user_id=user.id)
    token = secrets.token_urlsafe(32)
    session.add(AuthSession(
        token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
        ip=ip_value, user_agent=(text(user_agent, 200) or None),
    ))
    audit.record(session, SIGN_IN, subject=name, ip=ip_value, actor_id=user.id, at=now,
                 details=details or None)
    return SignInResult(Outcome.OK, token=token, user_id=user.id)


def _failed(session: Session, name: str, network: Network, standing: Standing | None,
            policy: ThrottlePolicy, now: datetime, reason: str, *,
            actor_id: int | None) -> SignInResult:
    """Record a failed attempt; the attempt that starts a wait is told about it at once."""
    details: dict[str, Any] = {"reason": reason}
    after = _after_failure(standing, policy, now) if standing is not None else None
    until = after.until(policy) if after is not None else None
    if after is not None:
        details.update(after.details(network))
        if until is not None:
            details["until"] = until.isoformat()
    audit.record(session, SIGN_IN_FAILED, subject=name, ip=network.address, actor_id=actor_id,
                 details=details, at=now)
    if until is not None:
        return SignInResult(Outcome.LOCKED_NETWORK, locked_until=until)
    return SignInResult(Outcome.BAD_CREDENTIALS)


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

    Counts like a sign-in from the caller's network: a wrong password is a failure in
    the audit trail, and a network that must wait is refused (audited), so a stolen
    session cannot guess the password.
    """
    policy = policy or ThrottlePolicy()
    now = now or utcnow()
    network = network_of(ip)
    serialize_on(session, f"sign-in:user:{user.username}")
    standing = _standing(session, user.username, network, policy, now)
    locked = _waiting(standing.until(policy), now)
    if locked:
        audit.record(session, SIGN_IN_LOCKED, subject=user.username, actor_id=user.id,
                     ip=network.address, at=now,
                     details={"scope": "network", "until": locked.isoformat(),
                              "channel": "password_check", **standing.details(network)})
        return Outcome.LOCKED_NETWORK
    if verify_password(user.password_hash, password if isinstance(password, str) else ""):
        return Outcome.OK
    result = _failed(session, user.username, network, standing, policy, now, "password_check",
                     actor_id=user.id)
    return Outcome.BAD_CREDENTIALS if result.outcome is Outcome.BAD_CREDENTIALS \
        else Outcome.LOCKED_NETWORK

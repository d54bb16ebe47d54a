"""Managing portal accounts: create, edit role and scope, disable, reset, change password.

Every change writes an audit row in the same transaction. ``actor`` is the
admin doing it (checked against the responsibility matrix), or None for the
command line, which only someone with shell access to the server can run.
Edits carry the version the admin saw; a stale version is a Conflict.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from station_portal.auth.models import User
from station_portal.auth.passwords import (
    DEMO_PASSWORD,
    hash_password,
    password_problem,
)
from station_portal.auth.roles import (
    SCOPE_UNIT_KINDS,
    STAFF_LINK_REQUIRED,
    UNIT_SCOPE_REQUIRED,
    Role,
    parse_role,
)
from station_portal.auth.signin import (
    EndReason,
    Outcome,
    ThrottlePolicy,
    end_all_sessions,
    normalise_username,
    reverify,
)
from station_portal.auth.tokens import revoke_all_tokens
from station_portal.errors import Conflict, NotFound, ValidationFailed
from station_portal.i18n import LOCALES, _, normalise_locale
from station_portal.org.models import Client, Staff, Unit
from station_portal.services import changes
from station_portal.validate import as_id, has_control_chars

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class UserInput:
    """What an admin fills in for an account (all optional except where the role needs it)."""

    display_name: str
    role: str
    scope_unit_id: int | None = None
    client_ids: tuple[int, ...] = ()
    staff_id: int | None = None
    email: str | None = None


def _check_actor(actor: User | None) -> None:
    """An administrator (or the command line: ``actor`` None)."""
    changes.require_action(actor, "manage_users", _("Only an administrator may manage users."))


def _validate(session: Session, data: UserInput, user_id: int | None) -> tuple[dict, dict]:
    """Field errors and the cleaned values."""
    errors: dict[str, str] = {}
    clean: dict = {}
    name = (data.display_name or "").strip() if isinstance(data.display_name, str) else ""
    if not 1 <= len(name) <= 80 or has_control_chars(name):
        errors["display_name"] = _("Enter a display name of at most 80 characters.")
    clean["display_name"] = name

    role = parse_role(data.role)
    if role is None:
        errors["role"] = _("Choose a role.")
    clean["role"] = role

    scope_unit_id = as_id(data.scope_unit_id) if data.scope_unit_id not in (None, "") else None
    if data.scope_unit_id not in (None, "") and scope_unit_id is None:
        errors["scope_unit_id"] = _("Choose a unit from the list.")
    if role is not None and "scope_unit_id" not in errors:
        allowed = SCOPE_UNIT_KINDS[role]
        if scope_unit_id is not None:
            unit = session.get(Unit, scope_unit_id)
            if unit is None or unit.kind not in allowed:
                errors["scope_unit_id"] = _("This unit cannot be the scope of this role.")
        elif role in UNIT_SCOPE_REQUIRED:
            errors["scope_unit_id"] = _("This role needs a unit to work in.")
        if not allowed:
            scope_unit_id = None
    clean["scope_unit_id"] = scope_unit_id

    client_ids = []
    for raw in data.client_ids or ():
        cid = as_id(raw)
        if cid is None:
            errors["client_ids"] = _("Choose clients from the list.")
            break
        client_ids.append(cid)
    if client_ids and "client_ids" not in errors:
        found = set(session.scalars(select(Client.id).where(Client.id.in_(client_ids))))
        if found != set(client_ids):
            errors["client_ids"] = _("Choose clients from the list.")
    if role is not None and role is not Role.ACCOUNT_MANAGER:
        client_ids = []
    clean["client_ids"] = sorted(set(client_ids))

    staff_id = as_id(data.staff_id) if data.staff_id not in (None, "") else None
    if data.staff_id not in (None, "") and staff_id is None:
        errors["staff_id"] = _("Choose a staff member from the list.")
    elif staff_id is not None:
        if session.get(Staff, staff_id) is None:
            errors["staff_id"] = _("Choose a staff member from the list.")
        else:
            taken = session.scalar(
                select(User.username).where(User.staff_id == staff_id, User.id != (user_id or -1))
            )
            if taken:
                errors["staff_id"] = _("This staff member already has the account %(name)s.",
                                       name=taken)
    elif role in STAFF_LINK_REQUIRED:
        errors["staff_id"] = _("This role must be linked to a staff member.")
    clean["staff_id"] = staff_id

    email = (data.email or "").strip() if isinstance(data.email, str) else ""
    if email and (len(email) > 120 or not EMAIL_RE.match(email) or has_control_chars(email)):
        errors["email"] = _("Enter a valid e-mail address.")
    clean["email"] = email or None
    return errors, clean


def _snapshot(user: User) -> dict:
    return {
        "display_name": user.display_name,
        "role": user.role,
        "scope_unit_id": user.scope_unit_id,
        "staff_id": user.staff_id,
        "email": user.email,
        "client_ids": [c.id for c in user.clients],
        "active": user.active,
    }


def create_user(
    session: Session,
    actor: User | None,
    *,
    username: str,
    password: str,
    data: UserInput,
    allow_demo_password: bool,
    must_change_password: bool = False,
    password_is_demo: bool = False,
    locale: str | None = None,
    ip: str | None = None,
) -> User:
    _check_actor(actor)
    errors, clean = _validate(session, data, None)
    name = normalise_username(username)
    if not USERNAME_RE.match(name):
        errors["username"] = _(
            "A username has 3 to 32 characters: lower-case letters, digits, '.', '_' or '-'."
        )
    elif session.scalar(select(func.count()).where(User.username == name)):
        errors["username"] = _("This username is taken.")
    problem = password_problem(password, name, allow_demo=allow_demo_password)
    if problem:
        errors["password"] = problem
    if errors:
        raise ValidationFailed(errors)
    user = User(
        username=name,
        display_name=clean["display_name"],
        password_hash=hash_password(password),
        role=clean["role"].value,
        scope_unit_id=clean["scope_unit_id"],
        staff_id=clean["staff_id"],
        email=clean["email"],
        locale=normalise_locale(locale),
        active=True,
        password_is_demo=password_is_demo or password == DEMO_PASSWORD,
        must_change_password=must_change_password,
    )
    if clean["client_ids"]:
        user.clients = list(session.scalars(select(Client).where(Client.id.in_(clean["client_ids"]))))
    session.add(user)
    _flush(session)
    changes.record_audit(session, actor, "user_created", subject=name,
                         entity_type="user", entity_id=user.id, ip=ip, details=_snapshot(user))
    return user


def _stale() -> Conflict:
    return Conflict(_(
        "Someone else changed this account while you were editing it. "
        "The form now shows the current values; make your change again."
    ))


def _load(session: Session, actor: User | None, user_id: object, expected_version: object) -> User:
    """The account, if the editor saw its current version (the command line need not say)."""
    uid = as_id(user_id)
    user = session.get(User, uid) if uid is not None else None
    if user is None:
        raise NotFound(_("This account does not exist."))
    # a form without its version cannot prove it is current
    changes.check_version(expected_version, user.version, _stale, required=actor is not None)
    return user


def _flush(session: Session) -> None:
    """Flush, turning a lost race on a unique column into a message."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise ValidationFailed({"username": _("This username is taken.")}
                               if "username" in str(exc.orig)
                               else {"staff_id": _("This staff member already has an account.")}
                               ) from exc


def update_user(
    session: Session, actor: User | None, user_id: object, expected_version: object,
    data: UserInput, *, ip: str | None = None,
) -> User:
    _check_actor(actor)
    user = _load(session, actor, user_id, expected_version)
    errors, clean = _validate(session, data, user.id)
    if actor is not None and user.id == actor.id and clean["role"] not in (None, Role.ADMIN):
        errors["role"] = _("You cannot take the administrator role from yourself.")
    if errors:
        raise ValidationFailed(errors)
    before = _snapshot(user)
    user.display_name = clean["display_name"]
    user.role = clean["role"].value
    user.scope_unit_id = clean["scope_unit_id"]
    user.staff_id = clean["staff_id"]
    user.email = clean["email"]
    user.clients = list(session.scalars(select(Client).where(Client.id.in_(clean["client_ids"]))))
    after = _snapshot(user)
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not changed:
        session.expire(user)
        return user
    changes.claim_version(session, user, _stale)  # client-list changes count too
    _flush(session)
    if before["role"] != after["role"] or before["scope_unit_id"] != after["scope_unit_id"]:
        # A narrower scope must take effect now, not at the next sign-in.
        end_all_sessions(session, user.id, EndReason.DISABLED)
    changes.record_audit(session, actor, "user_updated", subject=user.username,
                         entity_type="user", entity_id=user.id, ip=ip,
                         details={"changes": changed})
    return user


def set_active(
    session: Session, actor: User | None, user_id: object, expected_version: object,
    active: bool, *, ip: str | None = None,
) -> User:
    _check_actor(actor)
    user = _load(session, actor, user_id, expected_version)
    if actor is not None and user.id == actor.id and not active:
        raise ValidationFailed({"active": _("You cannot disable your own account.")})
    if user.active == active:
        return user
    changes.claim_version(session, user, _stale)
    user.active = active
    session.flush()
    ended = 0 if active else end_all_sessions(session, user.id, EndReason.DISABLED)
    revoked = 0 if active else revoke_all_tokens(session, user.id)
    changes.record_audit(session, actor, "user_enabled" if active else "user_disabled",
                         subject=user.username, entity_type="user", entity_id=user.id, ip=ip,
                         details={"sessions_ended": ended, "tokens_revoked": revoked})
    return user


def reset_password(
    session: Session, actor: User | None, user_id: object, expected_version: object,
    *, ip: str | None = None,
) -> tuple[User, str]:
    """Give the account a one-time password (returned once) to change at the next sign-in."""
    _check_actor(actor)
    user = _load(session, actor, user_id, expected_version)
    changes.claim_version(session, user, _stale)
    temporary = "-".join(secrets.token_hex(3) for _i in range(3))  # e.g. 3f9a1c-0b7d22-9e4f01
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    user.password_is_demo = False
    session.flush()
    ended = end_all_sessions(session, user.id, EndReason.PASSWORD_CHANGED)
    revoked = revoke_all_tokens(session, user.id)
    changes.record_audit(session, actor, "password_reset", subject=user.username,
                         entity_type="user", entity_id=user.id, ip=ip,
                         details={"sessions_ended": ended, "tokens_revoked": revoked})
    return user, temporary


def change_own_password(
    session: Session, user: User, current: object, new: object, *, allow_demo_password: bool,
    keep_session: str | None, policy: ThrottlePolicy | None = None, ip: str | None = None,
) -> dict[str, str]:
    """Change one's own password; returns the problems per field (empty when done).

    It does not raise for a wrong current password: that check counts as a failed
    sign-in in the audit trail, which must be committed like any other attempt.
    The user's other sessions end; ``keep_session`` (the caller's token) stays.
    """
    problem = password_problem(new, user.username, allow_demo=allow_demo_password)
    if problem:
        return {"new": problem}
    if new == current:
        return {"new": _("Choose a password different from the current one.")}
    outcome = reverify(session, user, current, ip=ip, policy=policy)
    if outcome is Outcome.LOCKED_NETWORK:
        return {"current": _("Too many wrong passwords. Wait a while, then try again.")}
    if outcome is not Outcome.OK:
        return {"current": _("The current password is wrong.")}
    assert isinstance(new, str)
    session.execute(update(User).where(User.id == user.id).values(
        password_hash=hash_password(new), must_change_password=False,
        password_is_demo=new == DEMO_PASSWORD))
    ended = end_all_sessions(session, user.id, EndReason.PASSWORD_CHANGED, keep_token=keep_session)
    revoked = revoke_all_tokens(session, user.id)  # a token got with the old password dies too
    changes.record_audit(session, user, "password_changed", subject=user.username,
                         entity_type="user", entity_id=user.id, ip=ip,
                         details={"sessions_ended": ended, "tokens_revoked": revoked})
    return {}


def set_locale(session: Session, user: User, locale: object) -> str:
    value = normalise_locale(locale)
    if value not in LOCALES:
        raise ValidationFailed({"locale": _("Choose Chinese or English.")})
    if user.locale != value:
        session.execute(update(User).where(User.id == user.id).values(locale=value))
        changes.record_audit(session, user, "locale_changed", subject=user.username,
                             entity_type="user", entity_id=user.id, details={"locale": value})
    return value


def list_users(session: Session, actor: User, search: str = "", role: str = "") -> list[User]:
    _check_actor(actor)
    stmt = select(User).order_by(User.username).options(
        selectinload(User.clients), selectinload(User.scope_unit), selectinload(User.staff))
    if search:
        pattern = f"%{search.strip().lower()}%"
        stmt = stmt.where(
            func.lower(User.username).like(pattern) | func.lower(User.display_name).like(pattern)
        )
    if parse_role(role):
        stmt = stmt.where(User.role == role)
    return list(session.scalars(stmt))


def demo_accounts_present(session: Session) -> list[str]:
    """Active accounts still on the demo password (production refuses to start with any)."""
    return list(session.scalars(
        select(User.username).where(User.active.is_(True), User.password_is_demo.is_(True))
        .order_by(User.username)
    ))

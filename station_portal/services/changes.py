"""How every service makes a change: the right, the version claim, the record.

One way for all of them (work orders, grid-works projects, accounts, hall tickets):

- :func:`require_action`: the responsibility matrix lets the actor's role take the
  action (``actor`` None is the system: demo seed, scheduler, command line);
- :func:`check_version` and :func:`claim_version`: the form saw the current version,
  and the change claims the next one by compare-and-set (a stale edit is a
  Conflict, nothing overwritten);
- :func:`record_event` (a work order's timeline) or :func:`record_audit` (the audit
  trail): the record of the change, in the same transaction;
- :func:`load_order`: a work order in the actor's scope, at the version the form saw;
- the small input checks every use case shares (:func:`plain_text`, :func:`one_of`,
  :func:`step_time`, :func:`parse_client_key`).

Other services import these names; no service imports another's private helpers.
This module must not import Dash, Flask or another service.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from station_portal import audit
from station_portal.auth.models import User
from station_portal.auth.scope import Scope, scope_for
from station_portal.db import claim_next_version, utcnow
from station_portal.errors import Conflict, Forbidden, NotFound, ValidationFailed
from station_portal.i18n import _
from station_portal.org.matrix import load_matrix
from station_portal.validate import as_id, has_control_chars
from station_portal.workorders import clocks
from station_portal.workorders.access import sees_order
from station_portal.workorders.models import Kind, WorkOrder, WorkOrderEvent

# A time reported from the field may lag (a bad connection) but not run ahead.
CLOCK_SKEW = timedelta(minutes=2)
# A step reported from the field may arrive late (no connection), but not this late.
MAX_STEP_LAG = timedelta(days=1)
CLIENT_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


# -- rights and scope ------------------------------------------------------------------

def require_action(actor: User | None, action: str, message: str | None = None) -> None:
    """Forbidden unless the matrix lets the actor's role take ``action`` (the system may)."""
    if actor is not None and not load_matrix().may(actor.role, action):
        raise Forbidden(message or _("Your role may not do this."))


def actor_scope(session: Session, actor: User | None) -> Scope | None:
    """What the actor sees; None for the system (everything)."""
    return scope_for(session, actor) if actor is not None else None


# -- versions --------------------------------------------------------------------------

def stale_order() -> Conflict:
    """The answer to an edit of a work order that someone else changed first."""
    return Conflict(_("Someone else changed this work order a moment ago. "
                      "The page now shows its current state; check it and try again."))


def check_version(seen: object, current: int, stale: Callable[[], Conflict], *,
                  required: bool) -> None:
    """The version a form saw must be the current one; ``required``: a form without
    its version cannot prove it is current (the system may leave it out)."""
    version = as_id(seen)
    if (required and version is None) or (version is not None and version != current):
        raise stale()


def claim_version(session: Session, obj: Any,
                  stale: Callable[[], Conflict] = stale_order) -> None:
    """Claim ``obj``'s next version (compare-and-set); ``stale()`` is raised if
    someone else claimed it first. Of two concurrent changes exactly one goes on."""
    if not claim_next_version(session, obj):
        raise stale()


# -- work orders -----------------------------------------------------------------------

def load_order(session: Session, actor: User | None, order_id: object, kind: Kind | None = None,
               *, lock_version: object = None, need_version: bool = True) -> WorkOrder:
    """The order if it exists and is in the actor's scope (same answer otherwise: NotFound),
    at the version the form saw (``lock_version``) unless ``need_version`` is False."""
    oid = as_id(order_id)
    order = session.get(WorkOrder, oid, options=[selectinload(WorkOrder.clocks),
                                                 selectinload(WorkOrder.pauses)]) \
        if oid is not None else None
    scope = actor_scope(session, actor)
    if order is None or (kind is not None and order.kind != kind) or \
            (scope is not None and not sees_order(scope, order)):
        raise NotFound(_("There is no such work order in your area."))
    if need_version:
        check_version(lock_version, order.version, stale_order, required=actor is not None)
    return order


def refresh_clocks(order: WorkOrder, now: datetime) -> None:
    """Recompute the order's clocks after a change."""
    clocks.refresh_now(order, now)
    order.updated_at = now


def already_applied(session: Session, actor: User | None, order_id: object,
                    client_key: str | None, action: str) -> WorkOrder | None:
    """The order, if this very step was applied before with this key (a phone retrying)."""
    if client_key is None:
        return None
    done = session.execute(select(WorkOrderEvent.work_order_id, WorkOrderEvent.action)
                           .where(WorkOrderEvent.client_key == client_key)).first()
    if done is None:
        return None
    order = load_order(session, actor, order_id, need_version=False)
    if done.work_order_id != order.id:
        raise ValidationFailed({"client_key": _("This action key belongs to another order.")})
    if done.action != action:
        raise ValidationFailed({"client_key": _("This action key was used for another step.")})
    return order


# -- records ---------------------------------------------------------------------------

def record_event(session: Session, order: WorkOrder, actor: User | None, action: str,
                 at: datetime, *, from_value: object = None, to_value: object = None,
                 reason: str = "", details: dict[str, Any] | None = None,
                 client_key: str | None = None) -> None:
    """A work order's timeline event (its audit row), in the change's transaction."""
    session.add(WorkOrderEvent(
        work_order_id=order.id, at=at, actor_id=actor.id if actor else None, action=action,
        from_value=None if from_value is None else str(from_value)[:64],
        to_value=None if to_value is None else str(to_value)[:64],
        reason=reason[:300], details=details, client_key=client_key,
    ))
    order.updated_at = utcnow()  # every change in the timeline is a change the dashboards see


def record_audit(session: Session, actor: User | None, action: str, *,
                 entity_type: str | None = None, entity_id: int | None = None,
                 subject: str | None = None, at: datetime | None = None, ip: str | None = None,
                 details: dict[str, Any] | None = None) -> audit.AuditEvent:
    """An audit row for a change to anything but a work order, in the change's transaction."""
    return audit.record(session, action, actor_id=actor.id if actor else None, subject=subject,
                        entity_type=entity_type, entity_id=entity_id, ip=ip, details=details,
                        at=at)


# -- input -----------------------------------------------------------------------------

def plain_text(value: object, field: str, max_len: int, errors: dict[str, str], *,
               required: bool = False) -> str:
    """Stripped plain text of at most ``max_len`` characters; the problem goes in ``errors``."""
    if value is None:
        value = ""
    if not isinstance(value, str) or has_control_chars(value) or len(value.strip()) > max_len:
        errors[field] = _("At most %(n)s characters of plain text.", n=max_len)
        return ""
    value = value.strip()
    if required and not value:
        errors[field] = _("This field is required.")
    return value


def one_of(value: object, options: type, field: str, errors: dict[str, str]) -> str:
    """One of the values of the enum ``options``; the problem goes in ``errors``."""
    allowed = {o.value for o in options}
    if value not in allowed:
        errors[field] = _("Choose one of the listed values.")
        return ""
    return str(value)


def step_time(at: object, now: datetime, earliest: datetime | None) -> datetime:
    """The time a step happened: given (from the field) or now; never ahead, never before the last step."""
    if at is None:
        when = now
    elif isinstance(at, datetime) and at.tzinfo is not None:
        when = at
    else:
        raise ValidationFailed({"at": _("Give the time with its time zone.")})
    if when > now + CLOCK_SKEW:
        raise ValidationFailed({"at": _("This time lies in the future.")})
    if when < now - MAX_STEP_LAG:
        raise ValidationFailed({"at": _("This time is not within the last day.")})
    if earliest is not None and when < earliest:
        raise ValidationFailed({"at": _("This time lies before the previous step.")})
    return when


def parse_client_key(value: object) -> str | None:
    """The key a phone sends with a step so that a retry is not applied twice (or None)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not CLIENT_KEY_RE.match(value):
        raise ValidationFailed({"client_key": _(
            "The action key has 8 to 64 letters, digits, '-' or '_'.")})
    return value

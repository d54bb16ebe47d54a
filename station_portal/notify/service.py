"""Sending notifications, each user's channel choices, the bell's list and unread count.

A notification is stored once per recipient with the event's parameters; its
words are made in the reader's language when it is shown or mailed
(:func:`render`). Whether it shows in the bell and whether it is mailed follows
the recipient's preferences at the moment it is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from station_portal import audit
from station_portal.auth.models import User
from station_portal.db import utcnow
from station_portal.errors import ValidationFailed
from station_portal.i18n import _, _l, use_locale
from station_portal.labels import stage_label
from station_portal.notify.models import Notification, NotificationPreference
from station_portal.timefmt import format_local
from station_portal.validate import as_id

APP, EMAIL = "app", "email"
CHANNELS = (APP, EMAIL)

# Every event a user can receive, what it means, and whether each channel is on
# until the user says otherwise.
EVENTS: dict[str, tuple[Any, bool, bool]] = {
    "sla_warning": (_l("A stage you hold is close to its time limit"), True, False),
    "sla_overdue": (_l("A stage you hold passed its time limit"), True, True),
    "sla_escalated": (_l("An overdue stage was escalated to you"), True, True),
    "visit_planned": (_l("A client visit was planned for you"), True, False),
    "visit_missed": (_l("A planned client visit was not recorded as done"), True, True),
    "briefing_ready": (_l("The weekly briefing is ready"), True, True),
    "customer_update": (_l("A customer acted online on a case you hold"), True, False),
    "customer_rating_low": (_l("A customer rated a case in your area low"), True, True),
    "outage_notice_missed": (_l("An outage was not announced in time"), True, True),
}


def default(event: str, channel: str) -> bool:
    _label, app, email = EVENTS[event]
    return app if channel == APP else email


def preferences(session: Session, user_id: int) -> dict[tuple[str, str], bool]:
    """(event, channel) -> on/off for every event and channel."""
    chosen = {(p.event, p.channel): p.enabled for p in session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id))}
    return {(event, channel): chosen.get((event, channel), default(event, channel))
            for event in EVENTS for channel in CHANNELS}


def set_preferences(session: Session, user: User, enabled: Iterable[object]) -> None:
    """Save a user's choices: ``enabled`` names every "event:channel" that is on.

    Email can be chosen before the account has an address; mail goes out once it has one.
    """
    chosen: set[tuple[str, str]] = set()
    for item in enabled:
        event, _sep, channel = str(item).partition(":")
        if event not in EVENTS or channel not in CHANNELS:
            raise ValidationFailed({"preferences": _("Unknown notification choice.")})
        chosen.add((event, channel))
    before = preferences(session, user.id)
    rows = {(p.event, p.channel): p for p in session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    changed = []
    for key in before:
        on = key in chosen
        if on == before[key]:
            continue
        changed.append(f"{key[0]}:{key[1]}={'on' if on else 'off'}")
        if key in rows:
            rows[key].enabled = on
        else:
            session.add(NotificationPreference(user_id=user.id, event=key[0], channel=key[1],
                                               enabled=on))
    if changed:
        audit.record(session, "notification_preferences", actor_id=user.id,
                     entity_type="user", entity_id=user.id, details={"changed": changed})


def notify(session: Session, user: User, event: str, *, order_id: int | None = None,
           params: Mapping[str, Any] | None = None, now: datetime | None = None
           ) -> Notification | None:
    """Send ``event`` to ``user`` by the channels they want; None if they want none."""
    if not user.active:
        return None
    prefs = preferences(session, user.id)
    in_app = prefs[(event, APP)]
    mail = prefs[(event, EMAIL)] and bool(user.email)
    if not in_app and not mail:
        return None
    note = Notification(user_id=user.id, event=event, work_order_id=order_id,
                        params=dict(params or {}), created_at=now or utcnow(), in_app=in_app,
                        email_state="pending" if mail else None)
    session.add(note)
    return note


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.in_app.is_(True),
        Notification.read_at.is_(None))) or 0


def inbox(session: Session, user_id: int, *, unread_only: bool = False, limit: int = 50,
          offset: int = 0) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user_id,
                                       Notification.in_app.is_(True))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(session.scalars(query.order_by(Notification.created_at.desc(),
                                               Notification.id.desc())
                                .limit(limit).offset(offset)))


def mark_read(session: Session, user_id: int, ids: Iterable[int] | None = None,
              now: datetime | None = None) -> int:
    """Mark the user's notifications read (all of them when ``ids`` is None)."""
    query = update(Notification).where(Notification.user_id == user_id,
                                       Notification.read_at.is_(None))
    if ids is not None:
        wanted = [i for i in map(partial(as_id, big=True), ids) if i is not None]
        if not wanted:
            return 0
        query = query.where(Notification.id.in_(wanted))
    return session.execute(query.values(read_at=now or utcnow())
                           .execution_options(synchronize_session=False)).rowcount


# -- words -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    link: str  # a path in the portal


def _when(value: object) -> str:
    if not value:
        return ""
    try:
        return format_local(datetime.fromisoformat(str(value)))
    except ValueError:
        return ""


def _name(params: Mapping[str, Any], key: str, locale: str) -> str:
    names = params.get(key) or {}
    if not isinstance(names, dict):
        return str(names)
    return str((names.get("zh") if locale.startswith("zh") else names.get("en")) or "")


LEVEL_NAMES = {0: _l("warning"), 1: _l("overdue"), 2: _l("escalated to the unit head"),
               3: _l("escalated to the company manager")}


def render(note: Notification, locale: str) -> Message:
    """The notification's words in ``locale``."""
    p = note.params or {}
    with use_locale(locale):
        code = str(p.get("code", ""))
        link = f"/orders/{note.work_order_id}" if note.work_order_id else "/notifications"
        if note.event in ("sla_warning", "sla_overdue", "sla_escalated"):
            stage = stage_label(p.get("stage"))
            holder = _name(p, "holder", locale)
            due = _when(p.get("due_at"))
            if note.event == "sla_warning":
                subject = _("%(code)s: %(stage)s is close to its time limit",
                    code=code, stage=stage)
                body = _("The stage %(stage)s of %(code)s, held by %(holder)s, is due %(due)s.",
                    stage=stage, code=code, holder=holder, due=due)
            elif note.event == "sla_overdue":
                subject = _("%(code)s: %(stage)s is overdue", code=code, stage=stage)
                body = _("The stage %(stage)s of %(code)s, held by %(holder)s, was due %(due)s "
                         "and is not done.", stage=stage, code=code, holder=holder, due=due)
            else:
                subject = _("Escalated: %(code)s, %(stage)s overdue", code=code, stage=stage)
                body = _("The stage %(stage)s of %(code)s, held by %(holder)s, was due %(due)s "
                         "and is still not done; it is escalated to you (%(level)s).",
                    stage=stage, code=code, holder=holder, due=due,
                    level=str(LEVEL_NAMES.get(int(p.get("level", 2)), "")))
        elif note.event in ("visit_planned", "visit_missed"):
            client = _name(p, "client", locale)
            when = _when(p.get("planned_for"))
            link = "/visits"
            if note.event == "visit_planned":
                subject = _("Visit %(client)s by %(when)s", client=client, when=when)
                body = _("A visit to %(client)s is planned for %(when)s (every %(days)s days).",
                         client=client, when=when, days=p.get("every_days", ""))
            else:
                subject = _("Missed visit: %(client)s", client=client)
                body = _("The visit to %(client)s planned for %(when)s is not recorded as done. "
                         "Record it, or plan it again.", client=client, when=when)
        elif note.event == "briefing_ready":
            unit = _name(p, "unit", locale) or _("the company")
            week = str(p.get("week_start", ""))
            subject = _("Weekly briefing of %(unit)s, week of %(week)s", unit=unit, week=week)
            body = _("The briefing of %(unit)s for the week of %(week)s is ready in the portal.",
                         unit=unit, week=week)
            link = f"/briefings?week={week}&unit={p.get('unit_id') or 'company'}"
        elif note.event == "customer_update":
            what = str(p.get("what", ""))
            subject = {
                "documents": _("%(code)s: the customer sent documents", code=code),
                "works": _("%(code)s: the customer finished their works", code=code),
                "contract": _("%(code)s: the customer signed the supply contract", code=code),
            }.get(what, code)
            body = {
                "documents": _("The customer of %(code)s uploaded %(n)s document(s) online. "
                               "Check them; resume the clock if it waits for them.",
                               code=code, n=p.get("count", "")),
                "works": _("The customer of %(code)s reported their works finished and asks for "
                           "the inspection.", code=code),
                "contract": _("The customer of %(code)s signed the supply contract online; "
                              "the case moved on to metering and connection.", code=code),
            }.get(what, code)
        elif note.event == "customer_rating_low":
            subject = _("%(code)s rated %(stars)s of 5", code=code, stars=p.get("stars", ""))
            body = _("The customer of %(code)s rated the service %(stars)s of 5: %(comment)s",
                     code=code, stars=p.get("stars", ""), comment=p.get("comment", ""))
        elif note.event == "outage_notice_missed":
            link = "/outages"
            when, due = _when(p.get("starts_at")), _when(p.get("due_at"))
            subject = _("Outage %(code)s was not announced in time", code=code)
            body = _("Outage %(code)s starts %(when)s and cuts off %(n)s customers; its "
                     "notice was due %(due)s and it is not announced. Announce it now or "
                     "move it.", code=code, when=when, n=p.get("customers", ""), due=due)
        else:
            subject = body = note.event
        return Message(subject, body, link)

"""Telling the customers of an announced outage, and watching the notice deadlines.

``deliver``: the pending ``OutageNotice`` rows, claimed in a short transaction (two runs
never send the same one; a claim left by a dead process is offered again after
:data:`STALE_SENDING`), sent outside any transaction, settled in short ones. The sender
is pluggable: SMS through ``PORTAL_SMS_SENDER`` (none, ``log``, or a ``module:function``
gateway adapter called as ``function(phone, text)``), mail through the portal's SMTP
settings. Without a sender for a channel its notices end as ``no_sender`` (the public
notice list still tells everyone).

``watch``: outages not announced whose notice deadline has passed, escalated once to the
unit's heads and the company managers above it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from importlib import import_module

from sqlalchemy import case, or_, select, update
from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.auth.roles import Role
from station_portal.config import Config
from station_portal.db import Database, utcnow
from station_portal.i18n import _, use_locale
from station_portal.network.models import (
    NoticeStatus,
    Outage,
    OutageArea,
    OutageNotice,
    OutageStatus,
    TransformerArea,
)
from station_portal.network.outages import affected_count
from station_portal.notify.mail import _connect
from station_portal.notify.service import notify
from station_portal.org.models import Unit
from station_portal.org.tree import ancestor_ids
from station_portal.timefmt import format_local

log = logging.getLogger(__name__)
BATCH = 500
STALE_SENDING = timedelta(minutes=10)
MAX_ATTEMPTS = 3  # a notice the sender refused is tried by this many runs, then left failed
Sender = Callable[[str, str], None]
HEADLINE = re.compile(r"^[\[【]([^\]】]+)[\]】]")


@dataclass
class NoticeReport:
    sent: int = 0
    failed: int = 0
    no_sender: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed, "no_sender": self.no_sender}


def _log_sender(phone: str, text: str) -> None:
    log.info("outage notice by SMS to %s: %s", phone[:3] + "****" + phone[-4:], text)


def sms_sender(config: Config) -> Sender | None:
    """The SMS sender ``PORTAL_SMS_SENDER`` names (None: no gateway); the demo writes to
    the log when none is named."""
    name = config.sms_sender.strip() or ("log" if config.is_demo else "")
    if not name:
        return None
    if name == "log":
        return _log_sender
    module, _sep, function = name.partition(":")
    return getattr(import_module(module), function)


def text_of(outage: Outage, area_names: list[str]) -> str:
    """The notice's words (Chinese: the customers' language by default); a cancelled
    outage's notice says it is off."""
    with use_locale("zh_CN"):
        areas = "、".join(area_names[:5]) + (_(" and %(n)s more areas", n=len(area_names) - 5)
                                              if len(area_names) > 5 else "")
        if outage.status == OutageStatus.CANCELLED.value:
            return _("[Outage cancelled] The outage of %(start)s to %(end)s in %(areas)s is "
                     "cancelled: power stays on. (%(code)s)",
                     start=format_local(outage.starts_at), end=format_local(outage.ends_at),
                     areas=areas, code=outage.code)
        return _("[Power outage notice] %(start)s to %(end)s, %(areas)s: power off for "
                 "%(reason)s. Details: /service/outages (%(code)s)",
                 start=format_local(outage.starts_at), end=format_local(outage.ends_at),
                 areas=areas, reason=outage.reason, code=outage.code)


def subject_of(body: str) -> str:
    """A notice's headline, in its brackets (【停电通知】 or [Power outage notice]), as the
    subject of its mail; the whole text when it has none."""
    match = HEADLINE.match(body)
    return match.group(1) if match else body[:80]


def _claim(database: Database, now: datetime) -> list[tuple[int, int, str, str]]:
    with database.write() as session:
        session.execute(update(OutageNotice).where(
            OutageNotice.status == NoticeStatus.SENDING.value,
            OutageNotice.claimed_at < now - STALE_SENDING)
            .values(status=NoticeStatus.PENDING.value).execution_options(synchronize_session=False))
        query = (select(OutageNotice.id, OutageNotice.outage_id, OutageNotice.channel,
                        OutageNotice.address)
                 .where(OutageNotice.status == NoticeStatus.PENDING.value)
                 .order_by(OutageNotice.id).limit(BATCH))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = [tuple(r) for r in session.execute(query)]
        if rows:
            session.execute(update(OutageNotice).where(OutageNotice.id.in_([r[0] for r in rows]))
                            .values(status=NoticeStatus.SENDING.value, claimed_at=now)
                            .execution_options(synchronize_session=False))
    return rows  # type: ignore[return-value]


def _texts(database: Database, outage_ids: set[int]) -> dict[int, str]:
    with database.read() as session:
        texts = {}
        for outage in session.scalars(select(Outage).where(Outage.id.in_(outage_ids))):
            names = list(session.scalars(
                select(TransformerArea.name).join(OutageArea, OutageArea.area_id == TransformerArea.id)
                .where(OutageArea.outage_id == outage.id).order_by(TransformerArea.code)))
            texts[outage.id] = text_of(outage, names)
    return texts


def _settle(database: Database, results: dict[int, tuple[str, str]], now: datetime) -> None:
    with database.write() as session:
        for notice_id, (status, error) in results.items():
            values: dict[str, object] = {"status": status, "error": error[:200],
                                         "attempts": OutageNotice.attempts + 1}
            if status == NoticeStatus.FAILED.value:  # tried again by later runs, up to a limit
                values["status"] = case((OutageNotice.attempts + 1 >= MAX_ATTEMPTS,
                                         NoticeStatus.FAILED.value),
                                        else_=NoticeStatus.PENDING.value)
            if status == NoticeStatus.SENT.value:
                values["sent_at"] = now
            session.execute(update(OutageNotice).where(
                OutageNotice.id == notice_id, OutageNotice.status == NoticeStatus.SENDING.value,
                OutageNotice.claimed_at == now).values(**values)
                .execution_options(synchronize_session=False))


def deliver(database: Database, config: Config, now: datetime | None = None) -> NoticeReport:
    now = now or utcnow()
    report = NoticeReport()
    rows = _claim(database, now)
    if not rows:
        return report
    texts = _texts(database, {r[1] for r in rows})
    sms = sms_sender(config)
    server: smtplib.SMTP | None = None
    results: dict[int, tuple[str, str]] = {}
    try:
        for notice_id, outage_id, channel, address in rows:
            body = texts.get(outage_id, "")
            try:
                if channel == "sms":
                    if sms is None:
                        results[notice_id] = (NoticeStatus.NO_SENDER.value,
                                              "no SMS gateway (PORTAL_SMS_SENDER)")
                        continue
                    sms(address, body)
                else:
                    if not config.smtp_host:
                        results[notice_id] = (NoticeStatus.NO_SENDER.value,
                                              "no mail server (PORTAL_SMTP_HOST)")
                        continue
                    if server is None:
                        server = _connect(config)
                    message = EmailMessage()
                    message["From"], message["To"] = config.mail_from, address
                    message["Subject"] = subject_of(body)
                    message.set_content(body)
                    server.send_message(message)
                results[notice_id] = (NoticeStatus.SENT.value, "")
            except Exception as exc:
                results[notice_id] = (NoticeStatus.FAILED.value, f"{type(exc).__name__}: {exc}")
                if isinstance(exc, (OSError, smtplib.SMTPServerDisconnected)):
                    server = None
    finally:
        if server is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                server.quit()
        _settle(database, results, now)
    report.sent = sum(1 for s, _e in results.values() if s == NoticeStatus.SENT.value)
    report.failed = sum(1 for s, _e in results.values() if s == NoticeStatus.FAILED.value)
    report.no_sender = sum(1 for s, _e in results.values() if s == NoticeStatus.NO_SENDER.value)
    return report


def _people(session: Session, outage: Outage) -> list[User]:
    unit = session.get(Unit, outage.unit_id)
    above = ancestor_ids(unit.path) if unit else []
    return list(session.scalars(select(User).where(User.active.is_(True), or_(
        (User.scope_unit_id == outage.unit_id)
        & User.role.in_([Role.STATION_HEAD.value, Role.GRID_MANAGER.value]),
        (User.role == Role.COMPANY_MANAGER.value)
        & or_(User.scope_unit_id.is_(None), User.scope_unit_id.in_(above))))))


def watch(session: Session, now: datetime) -> dict[str, int]:
    """Escalate every outage whose notice deadline passed without an announcement, once
    (``notice_escalated_at``), to the heads of its unit and the company managers above."""
    escalated = notified = 0
    waiting = session.scalars(select(Outage).where(
        Outage.status.in_((OutageStatus.DRAFT.value, OutageStatus.APPROVED.value)),
        Outage.notice_escalated_at.is_(None), Outage.notice_due_at <= now, Outage.ends_at > now))
    for outage in waiting:
        outage.notice_escalated_at = now
        escalated += 1
        customers = affected_count(session, [a.area_id for a in outage.areas])
        for person in _people(session, outage):
            if notify(session, person, "outage_notice_missed", now=now, params={
                    "code": outage.code, "starts_at": outage.starts_at.isoformat(),
                    "due_at": outage.notice_due_at.isoformat() if outage.notice_due_at else "",
                    "customers": customers}):
                notified += 1
    return {"escalated": escalated, "notified": notified}

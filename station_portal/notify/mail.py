"""Email through SMTP: pending notifications are mailed in the recipient's language.

Run by the scheduler's ``mail`` job. A notification is marked sent only after
the server accepted it; a failure is retried at the next runs, up to
:data:`MAX_ATTEMPTS`, and messages that could not go out within
:data:`GIVE_UP_AFTER` are marked failed instead of arriving stale. A process
that dies between handing a message to the server and marking it sent can
mail it once more (at least once, never lost).
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.config import Config
from station_portal.db import Database, utcnow
from station_portal.i18n import _, use_locale
from station_portal.notify.models import Notification
from station_portal.notify.service import render

MAX_ATTEMPTS = 5
GIVE_UP_AFTER = timedelta(days=2)
BATCH = 200
TIMEOUT_S = 15
# A note claimed for sending this long ago by a run that never finished is offered again.
STALE_SENDING = timedelta(minutes=15)


@dataclass
class MailReport:
    sent: int = 0
    failed: int = 0
    retry: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed, "retry": self.retry}


def _connect(config: Config) -> smtplib.SMTP:
    if config.smtp_security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(config.smtp_host, config.smtp_port,
                                                timeout=TIMEOUT_S,
                                                context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=TIMEOUT_S)
        if config.smtp_security == "starttls":
            server.starttls(context=ssl.create_default_context())
    if config.smtp_user:
        server.login(config.smtp_user, config.smtp_password)
    return server


def compose(note: Notification, user: User, config: Config) -> EmailMessage:
    """The email for one notification, in the recipient's language."""
    locale = user.locale or config.default_locale
    text = render(note, locale)
    message = EmailMessage()
    message["From"] = config.mail_from
    message["To"] = formataddr((user.display_name, user.email or ""))
    message["Subject"] = text.subject
    message["Message-ID"] = make_msgid(domain="station-portal")
    message["Content-Language"] = "zh-CN" if locale.startswith("zh") else "en"
    link = config.public_url.rstrip("/") + text.link
    with use_locale(locale):
        footer = _("Open in Station Portal: %(link)s", link=link)
        settings = _("You receive this because of your notification settings (Account page).")
    message.set_content(f"{text.body}\n\n{footer}\n\n-- \n{settings}\n")
    for name, content, mime in attachments(note, locale):
        maintype, subtype = mime.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachments(note: Notification, locale: str) -> list[tuple[str, bytes, str]]:
    """Files that go with a notification: the weekly briefing as PDF and as Excel."""
    if note.event != "briefing_ready" or not (note.params or {}).get("briefing_id"):
        return []
    from station_portal.analytics.briefing_files import briefing_pdf, briefing_xlsx, file_name
    from station_portal.analytics.models import Briefing

    session = Session.object_session(note)
    briefing = session.get(Briefing, int(note.params["briefing_id"])) if session else None
    if briefing is None:
        return []
    return [(file_name(briefing.figures, "pdf"), briefing_pdf(briefing.figures, locale),
             "application/pdf"),
            (file_name(briefing.figures, "xlsx"), briefing_xlsx(briefing.figures, locale), XLSX)]


def deliver(database: Database, config: Config, now: datetime) -> MailReport:
    """Mail the pending notifications, each claimed and settled in a short transaction of
    its own (never inside a long one: SMTP is slow and a write lock must not wait on it).

    A note is claimed (``pending`` -> ``sending``, stamped with this run's claim time)
    before it is sent, so two runs never mail the same one; the claim is renewed just
    before the send and every later change checks it, so a run that took a note over
    from a slow one is never doubled by it. A note left in ``sending`` by a process that
    died is offered again after :data:`STALE_SENDING`. An attempt counts only when the
    mail server was reached: an outage delays mail, it does not use it up.
    """
    report = MailReport()
    if not config.smtp_host:
        return report
    claim = utcnow()
    with database.write() as session:
        session.execute(
            update(Notification).where(Notification.email_state == "sending",
                                       Notification.email_claimed_at < claim - STALE_SENDING)
            .values(email_state="pending").execution_options(synchronize_session=False))
        query = (select(Notification.id).where(Notification.email_state == "pending")
                 .order_by(Notification.id).limit(BATCH))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if ids:
            session.execute(
                update(Notification).where(Notification.id.in_(ids))
                .values(email_state="sending", email_claimed_at=claim)
                .execution_options(synchronize_session=False))
    server: smtplib.SMTP | None = None
    handled: list[int] = []
    try:
        for note_id in ids:
            handled.append(note_id)
            state, reason, server = _send_one(database, config, note_id, claim, now, server)
            if state == "sent":
                report.sent += 1
            elif state == "failed":
                report.failed += 1
            elif state == "pending":
                report.retry += 1
            if reason == "connection":  # the server is away: the rest wait for the next run
                break
    finally:
        # whatever happened, the notes not handled go back for the next run
        _release(database, [i for i in ids if i not in handled], claim)
        if server is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                server.quit()
    return report


def _mine(note_id: int, claim: datetime):
    return (Notification.id == note_id, Notification.email_state == "sending",
            Notification.email_claimed_at == claim)


def _release(database: Database, ids: list[int], claim: datetime) -> None:
    if not ids:
        return
    with database.write() as session:
        session.execute(
            update(Notification).where(Notification.id.in_(ids),
                                       Notification.email_state == "sending",
                                       Notification.email_claimed_at == claim)
            .values(email_state="pending").execution_options(synchronize_session=False))


def _settle(database: Database, note_id: int, claim: datetime, state: str, error: str,
            now: datetime, *, attempt: bool = False) -> None:
    """Record a note's outcome, if this run still holds its claim."""
    values: dict[str, object] = {"email_state": state, "email_error": error[:300]}
    if state == "sent":
        values["emailed_at"] = now
    if attempt:
        values["email_attempts"] = Notification.email_attempts + 1
    with database.write() as session:
        session.execute(update(Notification).where(*_mine(note_id, claim)).values(**values)
                        .execution_options(synchronize_session=False))


def _send_one(database: Database, config: Config, note_id: int, claim: datetime,
              now: datetime, server: smtplib.SMTP | None
              ) -> tuple[str, str, smtplib.SMTP | None]:
    """Send one claimed note: its new state, why, and the connection to go on with."""
    with database.read() as session:
        note = session.get(Notification, note_id)
        user = session.get(User, note.user_id) if note is not None else None
        if note is None or note.email_state != "sending" or note.email_claimed_at != claim:
            return "", "taken", server  # another run took it over
        if user is None or not user.email or not user.active or \
                now - note.created_at > GIVE_UP_AFTER:
            reason = "expired" if user is not None and user.email else "no address"
            _settle(database, note_id, claim, "failed", reason, now)
            return "failed", reason, server
        try:
            message = compose(note, user, config)
        except Exception as exc:  # a note that cannot be put into words is not retried
            _settle(database, note_id, claim, "failed", f"{type(exc).__name__}: {exc}", now)
            return "failed", "compose", server
        attempts = note.email_attempts + 1
    if server is None:
        try:
            server = _connect(config)
        except (OSError, smtplib.SMTPException) as exc:  # not an attempt: the server is away
            _settle(database, note_id, claim, "pending", f"{type(exc).__name__}: {exc}", now)
            return "pending", "connection", None
    # renew the claim just before the send (a slow run's notes do not look abandoned),
    # and a run that lost it meanwhile does not send
    renewed = utcnow()
    with database.write() as session:
        held = session.execute(update(Notification).where(*_mine(note_id, claim))
                               .values(email_claimed_at=renewed)
                               .execution_options(synchronize_session=False)).rowcount
    if held != 1:
        return "", "taken", server
    claim = renewed
    try:
        server.send_message(message)
    except Exception as exc:
        state = "failed" if attempts >= MAX_ATTEMPTS else "pending"
        _settle(database, note_id, claim, state, f"{type(exc).__name__}: {exc}", now,
                attempt=True)
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            return state, "recipient", server  # the connection is fine
        with contextlib.suppress(Exception):
            server.close()
        return state, "connection", None
    _settle(database, note_id, claim, "sent", "", now, attempt=True)
    return "sent", "", server

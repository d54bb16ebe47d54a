"""Email through SMTP: pending notifications are mailed in the recipient's language.

Run by the scheduler's ``mail`` job. A notification is marked sent only after
the server accepted it; a failure is retried at the next runs, up to
:data:`MAX_ATTEMPTS`, and messages that could not go out within
:data:`GIVE_UP_AFTER` are marked failed instead of arriving stale.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.config import Config
from station_portal.i18n import _, use_locale
from station_portal.notify.models import Notification
from station_portal.notify.service import render

MAX_ATTEMPTS = 5
GIVE_UP_AFTER = timedelta(days=2)
BATCH = 200
TIMEOUT_S = 15


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


def attachments(note: Notification, locale: str) -> list[tuple[str, bytes, str]]:
    """Files that go with a notification: the weekly briefing as PDF."""
    if note.event != "briefing_ready" or not (note.params or {}).get("briefing_id"):
        return []
    from station_portal.analytics.briefing_files import briefing_pdf
    from station_portal.analytics.models import Briefing

    session = Session.object_session(note)
    briefing = session.get(Briefing, int(note.params["briefing_id"])) if session else None
    if briefing is None:
        return []
    name = f"briefing-{briefing.week_start.isoformat()}-{briefing.unit_key}.pdf"
    return [(name, briefing_pdf(briefing.figures, locale), "application/pdf")]


def deliver(session: Session, config: Config, now: datetime) -> MailReport:
    """Mail the pending notifications (one SMTP connection per run)."""
    report = MailReport()
    pending = list(session.scalars(
        select(Notification).where(Notification.email_state == "pending")
        .order_by(Notification.id).limit(BATCH)))
    if not pending or not config.smtp_host:
        return report
    users = {u.id: u for u in session.scalars(
        select(User).where(User.id.in_({n.user_id for n in pending})))}
    server: smtplib.SMTP | None = None
    try:
        for note in pending:
            user = users.get(note.user_id)
            if user is None or not user.email or not user.active or \
                    now - note.created_at > GIVE_UP_AFTER:
                note.email_state = "failed"
                note.email_error = "no address" if user is None or not user.email else "expired"
                report.failed += 1
                continue
            note.email_attempts += 1
            try:
                if server is None:
                    server = _connect(config)
                server.send_message(compose(note, user, config))
            except (OSError, smtplib.SMTPException) as exc:
                note.email_error = f"{type(exc).__name__}: {exc}"[:300]
                if note.email_attempts >= MAX_ATTEMPTS:
                    note.email_state = "failed"
                    report.failed += 1
                else:
                    report.retry += 1
                if isinstance(exc, smtplib.SMTPRecipientsRefused):
                    continue
                server = None  # the connection is in doubt: the rest wait for the next run
                break
            note.email_state, note.emailed_at, note.email_error = "sent", now, ""
            report.sent += 1
    finally:
        if server is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                server.quit()
    return report

"""Email through a real local SMTP server (aiosmtpd), in the recipient's language; the
recurring-visit job plans and flags once; the notification inbox."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from station_portal.auth.models import User, user_clients
from station_portal.config import Config
from station_portal.errors import Forbidden, NotFound, ValidationFailed
from station_portal.jobs import visits as visit_job
from station_portal.notify import service as notes
from station_portal.notify.mail import deliver
from station_portal.notify.models import Notification
from station_portal.org.models import Client
from station_portal.services import visits
from station_portal.timefmt import SHANGHAI
from station_portal.workorders.models import ParkVisit
from tests.helpers import Inbox, free_port, subject_of
from tests.helpers import account as user


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, controller.port
    controller.stop()


def body_of(message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode(part.get_content_charset())


def test_pending_notifications_arrive_in_each_recipients_language(city, smtp):
    inbox, port = smtp
    config = Config.from_env({"smtp_host": "127.0.0.1", "smtp_port": port,
                              "public_url": "https://portal.example.cn"}, environ={})
    with city.write() as s:
        head, manager = user(s, "head"), user(s, "manager")
        head.locale, manager.locale = "zh_CN", "en"
        params = {"code": "GZ-TEST-1", "stage": "arrival", "level": 1,
                  "due_at": at(2026, 3, 2, 9, 45).isoformat(),
                  "holder": {"zh": "昌邑供电服务站", "en": "Changyi Service Station"}}
        notes.notify(s, head, "sla_overdue", params=params)
        notes.notify(s, manager, "sla_overdue", params=params)
    report = deliver(city, config, datetime.now(SHANGHAI))
    assert report.sent >= 2
    by_rcpt = {m["To"]: m for m in inbox.messages}
    chinese = next(m for to, m in by_rcpt.items() if "head@example.cn" in to)
    english = next(m for to, m in by_rcpt.items() if "manager@example.cn" in to)
    zh_subject = subject_of(chinese)
    assert "GZ-TEST-1" in zh_subject and "超期" in zh_subject
    assert "昌邑供电服务站" in body_of(chinese)
    assert english["Subject"] == "GZ-TEST-1: Arrival on site is overdue"
    assert "Changyi Service Station" in body_of(english)
    assert "https://portal.example.cn/" in body_of(english)
    # sent once: a second delivery sends nothing more
    count = len(inbox.messages)
    assert deliver(city, config, datetime.now(SHANGHAI)).sent == 0
    assert len(inbox.messages) == count


def test_an_unreachable_server_keeps_the_mail_for_a_later_try(city):
    config = Config.from_env({"smtp_host": "127.0.0.1", "smtp_port": 9}, environ={})
    with city.write() as s:
        note = notes.notify(s, user(s, "gridmgr"), "sla_overdue", params={"code": "X"})
        s.flush()
        note_id = note.id
    report = deliver(city, config, datetime.now(SHANGHAI))
    assert report.sent == 0 and report.retry >= 1
    with city.read() as s:
        note = s.get(Notification, note_id)
        # an outage is no attempt: the note waits, its five tries intact
        assert note.email_state == "pending" and note.email_attempts == 0
        assert "Connection" in note.email_error or "Errno" in note.email_error
    with city.write() as s:  # tidy: do not leave it for the other tests' deliveries
        s.get(Notification, note_id).email_state = "failed"


def test_a_broken_note_does_not_hold_up_or_repeat_the_others(city, smtp):
    inbox, port = smtp
    config = Config.from_env({"smtp_host": "127.0.0.1", "smtp_port": port}, environ={})
    with city.write() as s:
        head = user(s, "head")
        good = notes.notify(s, head, "sla_overdue", params={"code": "GOOD-1", "stage": "arrival"})
        # a briefing notice whose briefing is unreadable: composing it fails
        bad = notes.notify(s, head, "briefing_ready", params={"briefing_id": "x"})
        later = notes.notify(s, head, "sla_overdue", params={"code": "GOOD-2", "stage": "arrival"})
        s.flush()
        ids = (good.id, bad.id, later.id)
    for _run in range(3):
        deliver(city, config, datetime.now(SHANGHAI))
    subjects = [subject_of(m) for m in inbox.messages]
    assert sum("GOOD-1" in x for x in subjects) == 1 and sum("GOOD-2" in x for x in subjects) == 1
    with city.read() as s:
        states = [s.get(Notification, i).email_state for i in ids]
    assert states == ["sent", "failed", "sent"]


def test_two_mail_runs_at_once_send_each_message_once(city, smtp):
    inbox, port = smtp
    config = Config.from_env({"smtp_host": "127.0.0.1", "smtp_port": port}, environ={})
    with city.write() as s:
        head = user(s, "head")
        for i in range(20):
            notes.notify(s, head, "sla_overdue", params={"code": f"PAIR-{i}", "stage": "arrival"})
    now = datetime.now(SHANGHAI)
    threads = [threading.Thread(target=deliver, args=(city, config, now)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    subjects = [subject_of(m) for m in inbox.messages if "PAIR-" in subject_of(m)]
    assert len(subjects) == 20 and len(set(subjects)) == 20


def test_no_email_without_an_address_or_when_the_user_opted_out(city, smtp):
    inbox, port = smtp
    config = Config.from_env({"smtp_host": "127.0.0.1", "smtp_port": port}, environ={})
    with city.write() as s:
        crew = user(s, "crew")
        notes.set_preferences(s, crew, ["sla_overdue:app"])  # email off
        assert notes.notify(s, crew, "sla_overdue", params={"code": "Y"}).email_state is None
        notes.set_preferences(s, crew, ["sla_overdue:app", "sla_overdue:email"])
        crew.email = None  # the address is gone: the bell only
        assert notes.notify(s, crew, "sla_overdue", params={"code": "Z"}).email_state is None
    deliver(city, config, datetime.now(SHANGHAI))
    assert not [m for m in inbox.messages if "crew@" in m["To"]]


def test_the_inbox_counts_unread_and_marks_read_only_ones_own(city):
    with city.write() as s:
        grid, head = user(s, "gridmgr"), user(s, "head")
        before = notes.unread_count(s, grid.id)
        mine = notes.notify(s, grid, "visit_planned", params={"client": {"zh": "甲", "en": "A"}})
        other = notes.notify(s, head, "visit_planned", params={"client": {"zh": "乙", "en": "B"}})
        s.flush()
        assert notes.unread_count(s, grid.id) == before + 1
        # marking someone else's notification read does nothing
        assert notes.mark_read(s, grid.id, [other.id]) == 0
        assert notes.mark_read(s, grid.id, [mine.id, "7", True]) == 1
        assert notes.unread_count(s, grid.id) == before
        assert s.get(Notification, other.id).read_at is None
        text = notes.render(mine, "zh_CN")
        assert "甲" in text.subject and text.link == "/visits"


# -- recurring visits -----------------------------------------------------------------------

def test_the_visit_job_plans_next_visits_and_flags_missed_ones_once(city):
    monday = at(2026, 5, 4, 6, 30)
    with city.write() as s:
        client = s.scalar(select(Client).where(Client.kind == "vip").order_by(Client.id))
        client_id, every = client.id, client.visit_every_days
        assert every  # the demo gives every client a visit frequency
        manager_ids = {u.id for u in visits.account_managers(s, client_id)}
        first = visit_job.run(s, monday)
    assert first["planned"] >= 1
    with city.write() as s:
        again = visit_job.run(s, monday + timedelta(hours=1))
        assert again == {"planned": 0, "missed": 0}, "nothing planned or flagged twice"
        visit = s.scalar(select(ParkVisit).where(ParkVisit.client_id == client_id))
        assert visit.recurring and visit.done_at is None
        assert visit.planned_for.astimezone(SHANGHAI).date() == monday.date() + timedelta(days=1)
        if manager_ids:
            assert visit.user_id in manager_ids
        planned_for, visit_id = visit.planned_for, visit.id
    # the planned day passes without a record: flagged missed the next morning, once
    next_morning = planned_for + timedelta(days=1)
    with city.write() as s:
        report = visit_job.run(s, next_morning)
        assert report["missed"] >= 1
        assert s.get(ParkVisit, visit_id).missed_at == next_morning
    with city.write() as s:
        assert visit_job.run(s, next_morning + timedelta(days=1))["missed"] == 0
    # the account manager records it late; the next one is planned a frequency later
    with city.write() as s:
        account = s.scalar(select(User).join(user_clients).where(
            user_clients.c.client_id == client_id, User.role == "account_manager"))
        if account is None:
            pytest.skip("the demo client has no account manager")
        done = next_morning + timedelta(hours=3)
        visits.record(s, account, visit_id, note="了解扩产计划", at=done, now=done)
        with pytest.raises(ValidationFailed):
            visits.record(s, account, visit_id, at=done, now=done)
    with city.write() as s:
        visit_job.run(s, done + timedelta(hours=1))
        upcoming = s.scalar(select(ParkVisit).where(ParkVisit.client_id == client_id,
                                                    ParkVisit.done_at.is_(None)))
        assert upcoming.planned_for.astimezone(SHANGHAI).date() == \
            done.astimezone(SHANGHAI).date() + timedelta(days=every)


def test_visits_and_frequencies_stay_in_the_account_managers_scope(city):
    with city.write() as s:
        account = user(s, "account")
        mine = {c.id for c in account.clients}
        other = s.scalar(select(Client).where(Client.id.not_in(mine)).order_by(Client.id))
        with pytest.raises(NotFound):
            visits.set_frequency(s, account, other.id, 7)
        with pytest.raises(NotFound):
            visits.set_frequency(s, account, "1 OR 1=1", 7)
        own = next(iter(mine))
        with pytest.raises(ValidationFailed):
            visits.set_frequency(s, account, own, 0)
        with pytest.raises(ValidationFailed):
            visits.set_frequency(s, account, own, "weekly")
        assert visits.set_frequency(s, account, own, "21").visit_every_days == 21
        with pytest.raises(Forbidden):  # a station head does not manage client visits
            visits.set_frequency(s, user(s, "head"), own, 7)


def test_the_weekly_briefing_mail_carries_its_pdf_and_excel(city, smtp):
    from datetime import date

    from station_portal.analytics.briefing import make_briefings

    inbox, port = smtp
    config = Config.from_env({"smtp_host": "127.0.0.1", "smtp_port": port}, environ={})
    with city.write() as s:
        head = user(s, "head")
        briefing = next(b for b in make_briefings(s, date(2026, 11, 16), at(2026, 11, 23, 6))
                        if b.unit_id == head.scope_unit_id)
        s.flush()
        notes.notify(s, head, "briefing_ready", params={
            "briefing_id": briefing.id, "unit_id": briefing.unit_id, "week_start": "2026-11-16",
            "unit": {"zh": "昌邑城区供电服务站", "en": "Changyi"}})
    deliver(city, config, datetime.now(SHANGHAI))
    mail = next(m for m in inbox.messages if "2026-11-16" in subject_of(m))
    files = {p.get_filename(): p.get_content_type() for p in mail.walk() if p.get_filename()}
    assert sorted(files.values()) == [
        "application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    pdf = next(p for p in mail.walk() if p.get_content_type() == "application/pdf")
    assert pdf.get_payload(decode=True).startswith(b"%PDF")

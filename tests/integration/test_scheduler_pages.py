"""The pages of issue 6 through the real Flask stack: who may call what, and what comes back."""

from __future__ import annotations

from sqlalchemy import select

from station_portal.auth.models import User
from station_portal.db import utcnow
from station_portal.jobs import visits as visit_job
from station_portal.notify.service import notify
from tests.dash_calls import call, text_of


def test_only_administrators_see_the_scheduled_jobs(app, as_user, client):
    admin = as_user("admin")
    response = call(admin, app, "jobs-table", "rowData", [1])
    assert response.status_code == 200
    text = text_of(response)
    for job in ("sla_watch", "mail", "visits", "snapshots", "briefing", "prune", "simulate"):
        assert f'"id": "{job}"' in text
    assert call(as_user("head"), app, "jobs-table", "rowData", [1]).status_code == 403
    assert call(client, app, "jobs-table", "rowData", [1]).status_code == 401
    # a forged filter value is ignored, not an error
    runs = call(admin, app, "jobs-runs", "rowData", [{"$ne": 1}, ["ok"], 1])
    assert runs.status_code == 200


def test_the_bell_counts_only_the_callers_own_unread_notifications(app, db, as_user):
    head = as_user("head")
    before = call(head, app, "nav-bell-count", "children", [1, "/", None]).json
    with db.write() as s:
        user = s.scalar(select(User).where(User.username == "head"))
        other = s.scalar(select(User).where(User.username == "gridmgr"))
        notify(s, user, "visit_planned", params={"client": {"zh": "甲", "en": "A"}})
        notify(s, other, "visit_planned", params={"client": {"zh": "乙", "en": "B"}})
    after = call(head, app, "nav-bell-count", "children", [2, "/", None]).json
    count = lambda answer: int(answer["response"]["nav-bell-count"]["children"] or 0)  # noqa: E731
    assert count(after) == count(before) + 1
    listing = text_of(call(head, app, "notes-list", "children", [False, None, 0]))
    assert "Visit A by" in listing and "Visit B by" not in listing
    # a forged click count is no number of rows to read
    assert call(head, app, "notes-list", "children", [False, None, "9" * 40]).status_code == 200


def test_visits_show_only_the_account_managers_clients(app, db, as_user):
    with db.write() as s:
        visit_job.run(s, utcnow())
    account = as_user("account")
    response = call(account, app, "visits-open", "children", [None])
    assert response.status_code == 200
    with db.read() as s:
        user = s.scalar(select(User).where(User.username == "account"))
        mine = {c.name_en for c in user.clients}
    options = response.json["response"]["visits-client"]["options"]
    assert options and {o["label"] for o in options} <= mine
    assert call(as_user("head"), app, "visits-open", "children", [None]).status_code == 403


def test_phones_read_and_mark_their_notifications_through_the_api(app, db, client):
    token = client.post("/api/v1/tokens", json={"username": "crew", "password": "portal-demo"})
    headers = {"Authorization": f"Bearer {token.json['token']}", "Accept-Language": "zh-CN"}
    with db.write() as s:
        crew = s.scalar(select(User).where(User.username == "crew"))
        head = s.scalar(select(User).where(User.username == "head"))
        mine = notify(s, crew, "sla_overdue", params={"code": "R-API-1", "stage": "arrival",
                                                      "level": 1})
        other = notify(s, head, "sla_overdue", params={"code": "R-API-2", "stage": "arrival",
                                                       "level": 1})
        s.flush()
        mine_id, other_id = mine.id, other.id
    listing = client.get("/api/v1/notifications?unread=true", headers=headers)
    assert listing.status_code == 200
    codes = [item["subject"] for item in listing.json["items"]]
    # in the caller's language (the account's own choice, else the request's)
    assert any("R-API-1" in c and ("超期" in c or "overdue" in c) for c in codes)
    assert not any("R-API-2" in c for c in codes)
    unread = listing.json["unread"]
    marked = client.post("/api/v1/notifications/read", headers=headers,
                         json={"ids": [mine_id, other_id]})
    assert marked.status_code == 200
    assert marked.json == {"marked": 1, "unread": unread - 1}  # the head's is not the crew's
    with db.read() as s:
        from station_portal.notify.models import Notification

        assert s.get(Notification, other_id).read_at is None
    bad = client.post("/api/v1/notifications/read", headers=headers, json={"ids": ["x"]})
    assert bad.status_code == 422
    # Notification ids are 64-bit (the table grows without bound): a 40-bit id is an id
    # (nobody's here), one beyond 2^63-1 is refused before the database sees it.
    far = client.post("/api/v1/notifications/read", headers=headers, json={"ids": [2**40]})
    assert far.status_code == 200 and far.json["marked"] == 0
    beyond = client.post("/api/v1/notifications/read", headers=headers, json={"ids": [2**63]})
    assert beyond.status_code == 422
    assert client.get("/api/v1/notifications").status_code == 401


def test_briefings_caught_up_after_downtime_announce_only_the_newest_week(db):
    from station_portal.analytics.briefing import last_full_week
    from station_portal.config import Config
    from station_portal.jobs.registry import briefing
    from station_portal.jobs.runner import RunContext
    from station_portal.notify.models import Notification

    now = utcnow()
    with db.write() as s:
        before = {n.id for n in s.scalars(select(Notification).where(
            Notification.event == "briefing_ready"))}
        result = briefing(s, RunContext(slot=now, now=now, config=Config.from_env({}, environ={})))
        s.flush()
        weeks = {n.params["week_start"] for n in s.scalars(select(Notification).where(
            Notification.event == "briefing_ready")) if n.id not in before}
        s.rollback()
    newest = last_full_week(now).isoformat()
    assert result["weeks"][-1] == newest
    assert weeks <= {newest}


def test_a_note_left_sending_by_a_dead_run_is_sent_once_later(db):
    import socket as _socket
    from datetime import timedelta

    from aiosmtpd.controller import Controller

    from station_portal.config import Config
    from station_portal.notify.mail import STALE_SENDING, deliver
    from station_portal.notify.models import Notification
    from tests.helpers import Inbox, subject_of

    with _socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = Config.from_env({"smtp_host": "127.0.0.1", "smtp_port": port}, environ={})
        with db.write() as s:
            head = s.scalar(select(User).where(User.username == "head"))
            head.email = head.email or "head@example.cn"
            note = notify(s, head, "sla_overdue", params={"code": "STALE-1", "stage": "arrival"})
            s.flush()
            # a run claimed it and died
            note.email_state, note.email_claimed_at = "sending", utcnow() - STALE_SENDING * 2
            note_id = note.id
        deliver(db, config, utcnow())
        deliver(db, config, utcnow() + timedelta(minutes=1))
    finally:
        controller.stop()
    sent = [m for m in inbox.messages if "STALE-1" in subject_of(m)]
    assert len(sent) == 1, [subject_of(m) for m in inbox.messages]
    with db.read() as s:
        assert s.get(Notification, note_id).email_state == "sent"

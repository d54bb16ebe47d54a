"""The recurring-visit job: plan each client's next visit, flag visits not made.

Daily. A client with a visit frequency and no visit open since the last one made
gets the next one on the day it is due (``workorders/visit_due.py``: its own
frequency after the last visit made, or after the relationship started), for its
account manager, who is told; a visit the job planned moves when the frequency
changed. A day already past is planned as it is: the visit is overdue at once and
the missed pass below flags it. A visit whose planned day has ended without being
recorded is flagged missed, once, and its account manager is told; it stays open
to be recorded late, and the next one is planned once it is done.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from station_portal.notify.service import notify
from station_portal.org.models import Client
from station_portal.services import visits
from station_portal.sla.calendar import local_midnight
from station_portal.timefmt import local
from station_portal.workorders.models import ParkVisit
from station_portal.workorders.visit_due import next_visits

# A visit planned longer ago than this when first found missed is flagged without a message.
VISIT_SILENT_AFTER = timedelta(days=7)


def _names(client: Client) -> dict[str, str]:
    return {"zh": client.name_zh, "en": client.name_en}


def run(session: Session, now: datetime) -> dict[str, int]:
    planned = missed = 0
    today = local_midnight(local(now).date())
    # Planned: each client with a frequency gets its next visit on the day it is due.
    status = next_visits(session, None, now)
    for client in session.scalars(
            select(Client).where(Client.visit_every_days.is_not(None)).order_by(Client.id)):
        visit, done = visits.keep_next_visit(session, client, now, status.get(client.id))
        if visit is None or not done:
            continue
        session.flush()
        planned += 1
        if visit.planned_for < today:
            continue  # already overdue: the missed pass tells the account manager
        managers = visits.account_managers(session, client.id)
        for person in [u for u in managers if u.id == visit.user_id] or managers[:1]:
            notify(session, person, "visit_planned", order_id=visit.work_order_id, now=now,
                   params={"client": _names(client), "client_id": client.id,
                           "planned_for": visit.planned_for.isoformat(),
                           "every_days": client.visit_every_days, "visit_id": visit.id})
    # Missed: the planned day is over and the visit is not recorded.
    for visit in session.scalars(
            select(ParkVisit).where(ParkVisit.done_at.is_(None), ParkVisit.missed_at.is_(None),
                                    ParkVisit.planned_for < today)
            .order_by(ParkVisit.planned_for)):
        if not visits.flag_missed(session, visit, now):
            continue
        missed += 1
        if visit.planned_for < now - VISIT_SILENT_AFTER:
            continue  # long past when first seen (an upgrade, an outage): flagged quietly
        client = session.get(Client, visit.client_id)
        managers = visits.account_managers(session, visit.client_id)
        # the one it was planned for, while they still look after the client
        people = [u for u in managers if u.id == visit.user_id] or managers
        for person in people:
            notify(session, person, "visit_missed", order_id=visit.work_order_id, now=now,
                   params={"client": _names(client), "client_id": client.id,
                           "planned_for": visit.planned_for.isoformat(), "visit_id": visit.id})
    return {"planned": planned, "missed": missed}

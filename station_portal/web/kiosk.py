"""The hall's public pages (no sign-in): the ticket kiosk and the calling display.

``/kiosk/<code>`` shows a big button per business with the people waiting and the
estimated wait; pressing one posts the form (CSRF token, rate-limited per client
address) and shows the ticket slip with a print button. Tickets come only from the
halls' networks (``PORTAL_KIOSK_NETWORKS``; in production none while it is unset), at
most the hall level's daily cap (``data/service_hall.toml``; past it the kiosk says so
and names the 95598 hotline). ``/kiosk/<code>/display`` is the hall's TV: the tickets
called last with their counters, refreshed every few seconds. Both speak the visitor's
language (``?lang=``). An unknown hall code is a 404 page; bad input gets a message and
changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, redirect, request, session, url_for

from station_portal.db import utcnow
from station_portal.errors import PortalError
from station_portal.hall import stats
from station_portal.hall.catalog import load_catalog
from station_portal.hall.models import ServiceHall
from station_portal.hall.queue import estimate_wait_minutes, is_open, local_day, opening_hours_text
from station_portal.i18n import _
from station_portal.services import hall as service
from station_portal.timefmt import local
from station_portal.validate import text
from station_portal.web.context import client_ip, portal, read_session, write_session
from station_portal.web.public import limited, pick_language, render_public

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")

# A kiosk in a busy hall serves every customer from one address: generous, but a
# script cannot empty the day's numbers.
TICKETS_PER_MINUTE = 20
DISPLAY_REFRESH_SECONDS = 5
SLIP_RETURN_SECONDS = 45
SESSION_KEY = "kiosk_ticket"


def _hall(code: str) -> ServiceHall:
    hall = service.hall_by_code(read_session(), code)
    if hall is None:
        abort(404, description=_("There is no service hall with the code %(code)s.",
                                 code=text(code, 32)))
    return hall


def _counters_serving(hall: ServiceHall, letter: str) -> int:
    letters = load_catalog().letters
    return sum(1 for n in range(1, hall.counters + 1) if letter in hall.groups_of_counter(n, letters))


def _estimator(hall: ServiceHall):
    """(business, people ahead) → estimated minutes: the day's average service time of the
    group (else the standard, else the catalogue's default) over the counters serving it
    in the last hour (else the counters configured for it)."""
    catalog, now = load_catalog(), utcnow()
    reader, day = read_session(), local_day(now)
    service_min = stats.service_minutes_by_group(reader, hall.id, day)
    active = stats.counters_by_group(reader, hall.id, now - timedelta(hours=1))

    def estimate(business: Any, ahead: int) -> int:
        letter = business.group
        minutes = service_min.get(letter) or business.standard_minutes \
            or catalog.default_service_minutes
        counters = active.get(letter) or _counters_serving(hall, letter)
        return estimate_wait_minutes(ahead, minutes, counters)

    return estimate


def queue_view(hall: ServiceHall) -> list[dict[str, Any]]:
    """Each business with the people waiting in its group and the estimated wait."""
    waiting = stats.waiting_by_group(read_session(), hall.id, local_day(utcnow()))
    estimate = _estimator(hall)
    return [{"code": b.code, "letter": b.group, "name": b.name(), "hint": b.hint(),
             "ahead": waiting.get(b.group, 0), "minutes": estimate(b, waiting.get(b.group, 0)),
             "standard": b.standard_minutes} for b in load_catalog().businesses]


def _kiosk_page(hall: ServiceHall, message: str | None = None, status: int = 200):
    return render_public("kiosk/kiosk.html", status=status, hall=hall, businesses=queue_view(hall),
                         is_open=is_open(hall, utcnow()), hours=opening_hours_text(hall),
                         message=message)


@bp.get("/<code>")
def kiosk(code: str):
    pick_language()
    return _kiosk_page(_hall(code))


@bp.post("/<code>/ticket")
@limited("kiosk_ticket", limit=TICKETS_PER_MINUTE, per_seconds=60, methods=("POST",))
def take(code: str):
    hall = _hall(code)
    if not portal().config.kiosk_allows(client_ip()):
        return _kiosk_page(hall, _("Queue tickets are taken at the hall's own kiosk."), 403)
    try:
        with write_session() as writer:
            fresh = writer.get(ServiceHall, hall.id)
            assert fresh is not None
            taken = service.take_ticket(writer, fresh, request.form.get("business"), ip=client_ip())
            ticket_id = taken.ticket.id
    except PortalError as exc:
        return _kiosk_page(hall, exc.message, exc.status)
    session[SESSION_KEY] = ticket_id
    return redirect(url_for("kiosk.slip", code=hall.code))


@bp.get("/<code>/slip")
def slip(code: str):
    """The ticket this visitor took last (kept in their session: a reload prints the same
    slip, it never takes another number)."""
    pick_language()
    hall = _hall(code)
    reader = read_session()
    ticket_id = session.get(SESSION_KEY)
    ticket = stats.readable_ticket(reader, ticket_id) if isinstance(ticket_id, int) else None
    if ticket is None or ticket.hall_id != hall.id:
        return redirect(url_for("kiosk.kiosk", code=hall.code))
    business = load_catalog().business(ticket.business)
    ahead = service.people_ahead(reader, ticket) if ticket.status == "waiting" else 0
    minutes = _estimator(hall)(business, ahead) if business else 0
    return render_public("kiosk/slip.html", hall=hall, ticket=ticket,
                         business=business.name() if business else ticket.business,
                         taken=local(ticket.taken_at).strftime("%Y-%m-%d %H:%M"), ahead=ahead,
                         minutes=minutes, standard=ticket.standard_minutes,
                         return_after=SLIP_RETURN_SECONDS, hours=opening_hours_text(hall))


@bp.get("/<code>/display")
def display(code: str):
    pick_language()
    hall = _hall(code)
    reader, day = read_session(), local_day(utcnow())
    calls = stats.recent_calls(reader, hall.id, day, limit=9)
    waiting = stats.waiting_by_group(reader, hall.id, day)
    groups = [{"letter": g.letter, "name": g.name(), "waiting": waiting.get(g.letter, 0)}
              for g in load_catalog().groups]
    return render_public("kiosk/display.html", hall=hall, latest=calls[0] if calls else None,
                         calls=calls[1:], groups=groups, refresh=DISPLAY_REFRESH_SECONDS,
                         is_open=is_open(hall, utcnow()), hours=opening_hours_text(hall),
                         now=local(utcnow()).strftime("%H:%M"))

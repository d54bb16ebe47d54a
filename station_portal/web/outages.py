"""The public outage notices (停电公告): ``/service/outages`` lists the announced and running
outages of the next days; a customer finds the one that explains their dark house by their
account number (户号), a case number, or their address.

No sign-in: these notices are public by rule. A lookup answers the same whether a number
is unknown or has no outage, and lookups are limited per network.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from sqlalchemy import select

from station_portal.db import utcnow
from station_portal.i18n import _, get_locale
from station_portal.labels import OUTAGE_KINDS, OUTAGE_STATUSES, label
from station_portal.network.areas import area_for_site
from station_portal.network.models import ConnectionPoint, TransformerArea
from station_portal.network.outages import OutageRow, public_outages
from station_portal.org.addresses import AddressNotFound, gazetteer
from station_portal.org.models import Unit
from station_portal.org.territory import TerritoryIndex
from station_portal.timefmt import format_local
from station_portal.web.context import read_session
from station_portal.web.public import limited, pick_language, render_public
from station_portal.workorders.models import WorkOrder

bp = Blueprint("outages", __name__, url_prefix="/service")
DAYS = 30  # an announced outage is public from its announcement (7 days ahead or more)


def _rows(rows: list[OutageRow]) -> list[dict[str, Any]]:
    session = read_session()
    zh = get_locale().startswith("zh")
    names = {uid: (name_zh if zh else name_en) for uid, name_zh, name_en in session.execute(
        select(Unit.id, Unit.name_zh, Unit.name_en).where(
            Unit.id.in_({r.unit_id for r in rows})))} if rows else {}
    return [{"code": r.code, "kind": label(OUTAGE_KINDS, r.kind),
             "status": label(OUTAGE_STATUSES, r.status), "running": r.status == "in_progress",
             "starts": format_local(r.starts_at), "ends": format_local(r.ends_at),
             "reason": r.reason, "unit": names.get(r.unit_id, ""),
             "areas": [a.name for a in r.areas], "customers": r.customers} for r in rows]


def _area_for(text: str) -> tuple[int | None, str | None]:
    """The transformer area of an account number, a case number or an address; and the
    message for an address that could not be read."""
    session = read_session()
    value = text.strip()
    if not value:
        return None, None
    compact = value.replace(" ", "").upper()
    if compact.isdigit() and len(compact) <= 16:
        area = session.scalar(select(ConnectionPoint.area_id)
                              .where(ConnectionPoint.account_no == compact))
        return area, None
    if compact[:1] in ("R", "A") and compact[1:].isdigit() and len(compact) <= 24:
        return session.scalar(select(WorkOrder.area_id).where(WorkOrder.code == compact)), None
    try:
        match = gazetteer().resolve(value)
    except AddressNotFound as exc:
        return None, str(exc)
    routed = TerritoryIndex.load(session).route_location(match.lat, match.lon)
    if routed is None:
        return None, _("This address lies outside the service territory.")
    area = area_for_site(session, match.lat, match.lon, routed.unit_id)
    return (area.id if area else None), None


@bp.route("/outages", methods=["GET"])
@limited("outages", limit=60, per_seconds=600)
def notices() -> Any:
    pick_language()
    now = utcnow()
    query = request.args.get("q", "")[:200]
    looked_up, area_name, problem = None, None, None
    if query.strip():
        area_id, problem = _area_for(query)
        found = public_outages(read_session(), now, days=DAYS, area_ids=[area_id]) \
            if area_id is not None else []
        looked_up = _rows(found)
        if area_id is not None and found:
            area_name = read_session().scalar(select(TransformerArea.name)
                                              .where(TransformerArea.id == area_id))
    listed = _rows(public_outages(read_session(), now, days=DAYS))
    return render_public("customer/outages.html", query=query, looked_up=looked_up,
                         area_name=area_name, problem=problem, listed=listed, days=DAYS)

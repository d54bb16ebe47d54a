"""The crew's phone view: my repairs by urgency, where they are, the next step, notes, photos.

The list is rendered by the server (``callbacks/crew.py``). Steps, photos and
positions go to the REST API from ``assets/crew.js``: each step is kept in the
phone's outbox with its own key and the time it was pressed until the server
confirms it, so a bad connection delays an action but never loses it or
applies it twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
import dash_leaflet as dl
from dash import dcc, html

from station_portal.auth.roles import Role
from station_portal.dispatch.board import CrewJob, CrewPhone
from station_portal.i18n import _, _l, get_locale
from station_portal.labels import REPAIR_CATEGORIES, REPAIR_STATUSES, SLA_STATUSES, URGENCIES, label
from station_portal.pages import Page
from station_portal.pages.maps import view_of
from station_portal.pages.ui import empty_state, page_header
from station_portal.timefmt import format_clock

LIST = "crew-list"
HEADER = "crew-header"
MAP = "crew-map"
JOBS_LAYER = "crew-jobs-layer"
ME_LAYER = "crew-me-layer"
REFRESH = "crew-refresh"  # set by crew.js after the server confirmed a step
SHOWN = "crew-shown"  # ids of the jobs on the map, to re-centre it only when they change
INTERVAL = "crew-interval"
SHARE = "crew-share"
SHARE_STATUS = "crew-share-status"  # filled by crew.js only
OUTBOX = "crew-outbox"  # filled by crew.js only

# The next step a crew can take from each status: (action, button text).
NEXT_STEP = {
    "dispatched": ("accept", _l("Accept")),
    "accepted": ("depart", _l("Set off")),
    "en_route": ("arrive", _l("Arrived on site")),
    "on_site": ("restore", _l("Power restored")),
}
PHOTO_STATUSES = {"en_route", "on_site", "restored"}


def texts() -> dict[str, str]:
    """What crew.js says, in the user's language."""
    return {
        "locale": "zh-CN" if get_locale() == "zh_CN" else "en",
        "sign_in_again": _("Sign in again"),
        "sending": _("Sending…"),
        "pending": _("%(n)s steps wait to be sent. They keep the time you pressed them.", n="{n}"),
        "network": _("No connection: not sent yet. It is sent again by itself."),
        "server": _("The server did not answer: not sent yet. It is sent again by itself."),
        "signin": _("Your sign-in has ended. Sign in again; your steps are kept and sent after."),
        "refused": _("Not done: %(reason)s", reason="{reason}"),
        "retry": _("Send now"),
        "sent": _("Sent: %(what)s", what="{what}"),
        "photo_sending": _("Sending photo %(name)s…", name="{name}"),
        "photo_sent": _("Photo %(name)s saved.", name="{name}"),
        "photo_failed": _("Photo %(name)s not sent: %(reason)s", name="{name}", reason="{reason}"),
        "photo_retry": _("Send the photo again"),
        "share_on": _("Sharing your location while this page is open."),
        "share_sent": _("Location sent %(time)s (±%(m)s m).", time="{time}", m="{m}"),
        "share_denied": _("Location is blocked for this site. Allow it in the browser's settings."),
        "share_unavailable": _("No location available right now."),
        "share_insecure": _("The browser gives the location only over HTTPS."),
        "share_off": _("Not sharing your location."),
    }


def layout(user: Any, query: dict[str, str]) -> html.Div:
    return html.Div([
        page_header(_("My work"), None),
        html.Div(id=HEADER, className="mb-2"),
        dbc.Card(dbc.CardBody([
            dbc.Switch(id=SHARE, label=_("Share my location"), value=False, className="mb-1"),
            html.Div(_("Not sharing your location."), id=SHARE_STATUS, className="small text-body-secondary"),
        ], className="py-2"), className="mb-2"),
        # The outbox is kept per user on the phone: steps never go out under someone else's name.
        html.Div(id=OUTBOX, className="mb-2", **{"data-texts": json.dumps(texts(), ensure_ascii=False),
                                                 "data-user": str(user.id)}),
        dl.Map([
            dl.GeoJSON(id=JOBS_LAYER, data={"type": "FeatureCollection", "features": []},
                       pointToLayer={"variable": "stationPortal.crew.jobMarker"},
                       onEachFeature={"variable": "stationPortal.board.tooltip"}),
            dl.GeoJSON(id=ME_LAYER, data={"type": "FeatureCollection", "features": []},
                       pointToLayer={"variable": "stationPortal.board.crewMarker"}),
        ], id=MAP, center=[43.84, 126.55], zoom=11, className="sp-crew-map mb-2",
            attributionControl=False),
        html.Div(id=LIST),
        dcc.Store(id=REFRESH), dcc.Store(id=SHOWN), dcc.Interval(id=INTERVAL, interval=20_000),
    ], className="sp-crew-page")


def _left(job: CrewJob, now: datetime) -> str:
    if job.due_at is None:
        return ""
    minutes = round((job.due_at - now).total_seconds() / 60)
    when = format_clock(job.due_at, now)
    what = _("arrive by %(time)s", time=when) \
        if job.status in ("dispatched", "accepted", "en_route") \
        else _("restore by %(time)s", time=when)
    if job.status == "restored":
        return ""
    left = _("%(n)s min left", n=minutes) if minutes >= 0 else _("%(n)s min late", n=-minutes)
    return f"{what} · {left}"


def job_card(number: int, job: CrewJob, now: datetime) -> dbc.Card:
    step = NEXT_STEP.get(job.status) if job.lead else None
    body: list[Any] = [
        html.Div([
            html.Span(str(number), className="sp-job-number me-2"),
            html.Span(job.code, className="fw-semibold me-2"),
            dbc.Badge(label(URGENCIES, str(job.urgency)) if job.urgency else "",
                      color="danger" if job.urgency == 1 else "secondary", className="me-1"),
            dbc.Badge(label(REPAIR_STATUSES, job.status), color="info", text_color="dark"),
            None if job.lead else dbc.Badge(_("Support"), color="light", text_color="dark",
                                            className="ms-1 border"),
        ], className="d-flex flex-wrap align-items-center gap-1"),
        html.Div([label(REPAIR_CATEGORIES, job.category),
                  *([" · ", html.Span(left, className=f"sp-sla-text sp-sla-text-{job.sla or 'no_limit'}")]
                    if (left := _left(job, now)) else [])],
                 className="small mt-1"),
        html.Div(job.address, className="fw-semibold mt-1"),
        html.Div(_("Transformer area: %(area)s", area=job.area), className="small")
        if job.area else None,
        html.Div(_("Reported inside outage %(code)s: power is off by plan.", code=job.outage),
                 className="small text-warning-emphasis") if job.outage else None,
        html.Div([
            job.customer_name, " ",
            html.A([html.I(className="bi bi-telephone me-1"), job.customer_phone],
                   href=f"tel:{job.customer_phone}") if job.customer_phone else None,
        ], className="small"),
        html.Div(job.description, className="small text-body-secondary") if job.description else None,
        html.A([html.I(className="bi bi-sign-turn-right me-1"), _("Navigate")],
               href=f"geo:{job.lat:.6f},{job.lon:.6f}?q={job.lat:.6f},{job.lon:.6f}",
               className="btn btn-outline-secondary btn-sm mt-2 me-2"),
    ]
    if step is not None:
        action, text = step
        if action == "restore":
            body.append(dbc.Textarea(id=f"crew-note-{job.id}", placeholder=_("What was wrong, what you did"),
                                     maxLength=300, rows=2, className="mt-2 sp-crew-note"))
        body.append(html.Button(str(text), className="btn btn-primary btn-lg w-100 mt-2 crew-action",
                                **{"data-order": str(job.id), "data-action": action,
                                   "data-code": job.code, "data-label": str(text),
                                   "data-note": f"crew-note-{job.id}" if action == "restore" else ""}))
    if job.status in PHOTO_STATUSES:
        # crew.js opens the phone's camera or gallery and sends each photo to the API.
        body.append(html.Button([html.I(className="bi bi-camera me-1"), _("Add photos")],
                                className="btn btn-outline-primary btn-sm mt-2 crew-photo",
                                **{"data-order": str(job.id)}))
    body.append(html.Div(className="crew-job-status small mt-1", **{"data-order": str(job.id)}))
    return dbc.Card(dbc.CardBody(body), className="mb-2 sp-job-card", id=f"crew-job-{job.id}")


def job_list(jobs: Sequence[CrewJob], now: datetime) -> Any:
    if not jobs:
        return empty_state(_("No repairs for your crew right now."),
                           _("New work appears here by itself."), icon="bi-cup-hot")
    return html.Div([job_card(i, job, now) for i, job in enumerate(jobs, start=1)])


def job_features(jobs: Sequence[CrewJob]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": f"o{job.id}",
        "geometry": {"type": "Point", "coordinates": [round(job.lon, 6), round(job.lat, 6)]},
        "properties": {"n": i, "code": job.code, "sla": job.sla or "no_limit",
                       "tip": [f"{i}. {job.code}", job.address, label(SLA_STATUSES, job.sla or "no_limit")]},
    } for i, job in enumerate(jobs, start=1)]}


def map_view(jobs: Sequence[CrewJob], me: tuple[float, float] | None) -> dict[str, Any]:
    points = [(j.lon, j.lat) for j in jobs] + ([(me[1], me[0])] if me else [])
    centre, zoom = view_of(points, 380, 260)
    return {"center": [centre["lat"], centre["lon"]], "zoom": min(16, round(zoom + 1))}


PAGE = Page(path="/crew", title=_l("My work"), roles=frozenset({Role.CREW}), layout=layout,
            icon="bi-phone")


def crew_header(crew: CrewPhone) -> html.Div:
    """The crew's code, its members and whether it is on duty."""
    return html.Div([
        html.Span(crew.code, className="fw-semibold me-2"),
        html.Span(" · ".join(s.name() for s in crew.members), className="text-body-secondary me-2"),
        html.Span(_("On duty") if crew.on_duty else _("Off duty"),
                  className="badge " + ("text-bg-success" if crew.on_duty else "text-bg-secondary")),
    ], className="small")


def me_layer(crew: CrewPhone) -> dict[str, Any]:
    """The crew's own marker where its phones last reported it (none if never)."""
    me = crew.position
    return {"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": f"c{crew.id}",
        "geometry": {"type": "Point", "coordinates": [me[1], me[0]]},
        "properties": {"code": crew.code, "st": "en_route", "reported": True,
                       "tip": [crew.code]},
    }] if me else []}

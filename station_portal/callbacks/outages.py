"""Outages page: the scope's outages in a window (stats, map, table), one step on an
outage, and a new plan or temporary outage. Reads ``network.outages``; writes through
``services.outages``; every id from the browser is checked again by the service."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dash import Dash, Input, Output, State, ctx, no_update

from station_portal.callbacks._secure import secure_callback
from station_portal.db import utcnow
from station_portal.errors import Conflict, PortalError
from station_portal.gridworks.models import OPEN_STATUSES as GW_OPEN
from station_portal.gridworks.queries import list_projects
from station_portal.i18n import _, get_locale
from station_portal.labels import OUTAGE_STATUSES, label
from station_portal.network.areas import area_choices
from station_portal.network.outages import notice_figures, outages_between
from station_portal.org.queries import territories
from station_portal.pages import outages as page
from station_portal.pages.ui import error_text, feedback
from station_portal.services import outages as service
from station_portal.timefmt import local
from station_portal.validate import as_id, text
from station_portal.web.context import portal, read_session, signed_in_user, write_session

ALERT_ID = "outages-alert"


def window_bounds(window: str, now: datetime) -> tuple[datetime, datetime]:
    """The window's [start, end): from this week's Monday (00:00 Beijing time) on, the past
    30 days, or both (ahead: as far as plans are kept, ``AHEAD_DAYS``)."""
    ahead = now + timedelta(days=page.AHEAD_DAYS)
    if window == "past":
        return now - timedelta(days=30), now
    if window == "all":
        return now - timedelta(days=30), ahead
    today = local(now)
    monday = (today - timedelta(days=today.weekday())).replace(hour=0, minute=0, second=0,
                                                               microsecond=0)
    return monday, ahead


def register(app: Dash) -> None:
    @secure_callback(app, Output(page.STATS, "children"), Output(page.MAP, "figure"),
                     Output(page.TABLE, "children"), Output(page.VERSIONS, "data"),
                     Output(page.PICK, "options"), Output(page.AREAS, "options"),
                     Output(page.PROJECT, "options"),
                     Input(page.WINDOW, "value"), Input(page.REFRESH, "data"), roles=page.ROLES)
    def fill(window: Any, _refresh: Any):
        user = signed_in_user()
        session, scope, now = read_session(), user.scope(), utcnow()
        window = window if isinstance(window, str) and window in page.WINDOWS else "week"
        start, end = window_bounds(window, now)
        rows = outages_between(session, scope, start, end, now=now)
        figures = notice_figures(session, scope, start, end, now)
        cfg = portal().config
        fig = page.figure(rows, territories(session, scope), locale=get_locale(),
                          tile_url=cfg.tile_url, attribution=cfg.tile_attribution)
        areas = [] if user.role not in page.PLANNERS else [
            {"label": f"{name} ({code})", "value": aid}
            for aid, code, name in area_choices(session, scope)]
        projects = [] if user.role not in page.PLANNERS else [
            {"label": f"{p.code} · {p.name}", "value": p.id}
            for p in list_projects(session, scope, get_locale()) if p.status in GW_OPEN]
        return (page.stats(figures, rows), fig, page.table(rows),
                {str(r.id): r.version for r in rows}, page.pick_options(rows), areas, projects)

    @secure_callback(app, Output(page.FEEDBACK, "children"), Output(page.REFRESH, "data"),
                     Input(page.STEP_GO, "n_clicks"), Input(page.CREATE, "n_clicks"),
                     State(page.PICK, "value"), State(page.STEP, "value"),
                     State(page.VERSIONS, "data"),
                     State(page.KIND, "value"), State(page.REASON, "value"),
                     State(page.AREAS, "value"), State(page.STARTS, "value"),
                     State(page.ENDS, "value"), State(page.PROJECT, "value"),
                     roles=page.PLANNERS, prevent_initial_call=True)
    def act(_go: Any, _create: Any, outage_id: Any, step: Any, versions: Any, kind: Any,
            reason: Any, areas: Any, starts: Any, ends: Any, project: Any):
        trigger = ctx.triggered_id
        if trigger not in (page.STEP_GO, page.CREATE):
            return no_update, no_update
        user = signed_in_user()
        try:
            with write_session() as session:
                actor = user.model(session)
                if trigger == page.STEP_GO:
                    oid = as_id(outage_id)
                    if oid is None:
                        return feedback(_("Choose an outage."), "warning", ALERT_ID), no_update
                    seen = versions.get(str(oid)) if isinstance(versions, dict) else None
                    outage = service.outage_step(session, actor, oid, seen, text(step, 16))
                    done = _("%(code)s: %(status)s.", code=outage.code,
                             status=label(OUTAGE_STATUSES, outage.status))
                    if outage.status == "announced":
                        done += " " + _("%(n)s customers affected; their notices are on the way.",
                                        n=outage.customers)
                else:
                    outage = service.create_outage(session, actor, service.OutageInput(
                        kind=text(kind, 16), reason=reason if isinstance(reason, str) else "",
                        starts_at=text(starts, 32), ends_at=text(ends, 32),
                        area_ids=areas if isinstance(areas, list) else [],
                        grid_works_project_id=as_id(project)))
                    done = _("%(code)s saved: %(status)s.", code=outage.code,
                             status=label(OUTAGE_STATUSES, outage.status))
        except Conflict as exc:
            return feedback(exc.message, "warning", ALERT_ID), utcnow().isoformat()
        except PortalError as exc:
            return feedback(error_text(exc), "danger", ALERT_ID), no_update
        return feedback(done, "success", ALERT_ID), utcnow().isoformat()

"""Client visits: the open list, recording a visit, the clients' frequencies (scoped)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, ctx, no_update
from sqlalchemy import func, select

from station_portal.auth.roles import Role
from station_portal.callbacks._secure import secure_callback
from station_portal.db import utcnow
from station_portal.errors import PortalError, ValidationFailed
from station_portal.i18n import _, get_locale
from station_portal.labels import CLIENT_KINDS, label
from station_portal.org.models import Client
from station_portal.pages import visits as page
from station_portal.services import visits as service
from station_portal.timefmt import format_local
from station_portal.web.context import read_session, signed_in_user, write_session
from station_portal.workorders.models import ParkVisit, WorkOrder


def _scoped_clients(scope):
    return select(Client).where(scope.client_filter(Client.id), scope.unit_filter(Client.unit_id))


def _name(client: Client) -> str:
    return client.name_zh if get_locale().startswith("zh") else client.name_en


def register(app: Dash) -> None:
    @secure_callback(app, Output(page.OPEN, "children"), Output(page.CLIENTS, "rowData"),
                     Output(page.CLIENT, "options"), Input(page.REFRESH, "data"),
                     roles=page.ROLES)
    def fill(_refresh: Any):
        user = signed_in_user()
        session, scope, now = read_session(), user.scope(), utcnow()
        clients = {c.id: c for c in session.scalars(_scoped_clients(scope))}
        ids = sorted(clients)
        opened = session.execute(
            select(ParkVisit, WorkOrder.code).outerjoin(
                WorkOrder, WorkOrder.id == ParkVisit.work_order_id)
            .where(ParkVisit.client_id.in_(ids), ParkVisit.done_at.is_(None))
            .order_by(ParkVisit.planned_for)).all() if ids else []
        rows = [{"id": v.id, "client_id": v.client_id, "client": _name(clients[v.client_id]),
                 "planned_for": v.planned_for,
                 "case": code or "", "order_id": v.work_order_id,
                 "state": "missed" if v.missed_at else
                 ("overdue" if v.planned_for <= now else "upcoming")} for v, code in opened]
        last = dict(session.execute(
            select(ParkVisit.client_id, func.max(ParkVisit.done_at))
            .where(ParkVisit.client_id.in_(ids)).group_by(ParkVisit.client_id)).all()) \
            if ids else {}
        upcoming: dict[int, Any] = {}
        for r in rows:
            upcoming.setdefault(r["client_id"], r)
        table = []
        for cid in ids:
            client = clients[cid]
            nxt = upcoming.get(cid)
            table.append({
                "id": str(cid), "client": _name(client), "kind": label(CLIENT_KINDS, client.kind),
                "every": client.visit_every_days or "",
                "last": format_local(last.get(cid)) if last.get(cid) else "",
                "next": format_local(nxt["planned_for"]) if nxt else "",
                "state": {"missed": _("Visit missed"), "overdue": _("Visit due"),
                          "upcoming": _("Visit planned")}[nxt["state"]] if nxt else
                ("" if client.visit_every_days else _("No recurring visits")),
            })
        options = [{"label": _name(clients[c]), "value": c} for c in ids]
        may_record = user.role == Role.ACCOUNT_MANAGER
        return page.open_visits(rows, may_record), table, options

    @secure_callback(app, Output(page.REFRESH, "data"), Output(page.FEEDBACK, "children"),
                     Input({"type": page.RECORD, "id": ALL}, "n_clicks"),
                     Input(page.EVERY_SAVE, "n_clicks"),
                     State({"type": page.NOTE, "id": ALL}, "value"),
                     State(page.CLIENT, "value"), State(page.EVERY, "value"),
                     roles=page.ROLES, prevent_initial_call=True)
    def act(_records: Any, _save: Any, _notes: Any, client_id: Any, every: Any):
        trigger = ctx.triggered_id
        if trigger is None or not (ctx.triggered and ctx.triggered[0].get("value")):
            return no_update, no_update
        user = signed_in_user()
        try:
            with write_session() as session:
                actor = user.model(session)
                if trigger == page.EVERY_SAVE:
                    if client_id is None:
                        raise ValidationFailed({"client": _("Choose a client.")})
                    client = service.set_frequency(session, actor, client_id, every)
                    done = _("Visits to %(client)s: %(every)s.", client=_name(client),
                             every=_("every %(n)s days", n=client.visit_every_days)
                             if client.visit_every_days else _("no recurring visits"))
                elif isinstance(trigger, dict) and trigger.get("type") == page.RECORD:
                    note = next((s.get("value") for s in ctx.states_list[0]
                                 if isinstance(s, dict) and s.get("id") == {
                                     "type": page.NOTE, "id": trigger.get("id")}), "")
                    visit = service.record(session, actor, trigger.get("id"), note=note or "")
                    done = _("Visit recorded at %(when)s.", when=format_local(visit.done_at))
                else:
                    return no_update, no_update
        except PortalError as exc:
            message = " ".join(exc.fields.values()) if isinstance(exc, ValidationFailed) \
                else exc.message
            return no_update, dbc.Alert(message, color="danger", className="py-2",
                                        dismissable=True)
        return utcnow().isoformat(), dbc.Alert(done, color="success", className="py-2",
                                               duration=5000)

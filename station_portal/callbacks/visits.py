"""Client visits: the open list, recording a visit, the clients' frequencies (scoped).

Which visit is due or overdue comes from ``workorders/visit_due.py``, the definition the
visit job and the clients dashboard use too."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, ctx, no_update
from sqlalchemy import select

from station_portal.auth.roles import Role
from station_portal.callbacks._secure import secure_callback
from station_portal.db import utcnow
from station_portal.errors import PortalError, ValidationFailed
from station_portal.i18n import _, get_locale
from station_portal.labels import CLIENT_KINDS, label
from station_portal.org.models import Client
from station_portal.pages import visits as page
from station_portal.services import visits as service
from station_portal.timefmt import format_local, local
from station_portal.web.context import read_session, signed_in_user, write_session
from station_portal.workorders.models import ParkVisit, WorkOrder
from station_portal.workorders.visit_due import next_visits, visit_state


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
        status = next_visits(session, ids, now)
        today = local(now).date()
        opened = session.execute(
            select(ParkVisit, WorkOrder.code).outerjoin(
                WorkOrder, WorkOrder.id == ParkVisit.work_order_id)
            .where(ParkVisit.client_id.in_(ids), ParkVisit.done_at.is_(None))
            .order_by(ParkVisit.planned_for)).all() if ids else []
        rows = []
        for v, code in opened:
            nxt = status.get(v.client_id)
            state, days = visit_state(v.id, v.planned_for, None, nxt, today)
            rows.append({"id": v.id, "client_id": v.client_id,
                         "client": _name(clients[v.client_id]), "planned_for": v.planned_for,
                         "due": nxt.due if nxt is not None and nxt.visit_id == v.id else None,
                         "case": code or "", "order_id": v.work_order_id, "state": state,
                         "days": days})
        table = [page.client_row(cid, _name(clients[cid]), label(CLIENT_KINDS, clients[cid].kind),
                                 status[cid]) for cid in ids]
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

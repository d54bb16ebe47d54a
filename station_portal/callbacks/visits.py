"""Client visits: the open list, recording a visit, the clients' frequencies (scoped).

Which visit is due or overdue comes from ``workorders/visit_due.py``, the definition the
visit job and the clients dashboard use too."""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from station_portal.auth.roles import Role
from station_portal.callbacks._secure import secure_callback
from station_portal.db import utcnow
from station_portal.errors import PortalError, ValidationFailed
from station_portal.i18n import _
from station_portal.labels import CLIENT_KINDS, label
from station_portal.pages import visits as page
from station_portal.pages.ui import error_text, feedback
from station_portal.services import visits as service
from station_portal.timefmt import format_local
from station_portal.web.context import read_session, signed_in_user, write_session
from station_portal.workorders.visit_due import client_visits


def register(app: Dash) -> None:
    @secure_callback(app, Output(page.OPEN, "children"), Output(page.CLIENTS, "rowData"),
                     Output(page.CLIENT, "options"), Input(page.REFRESH, "data"),
                     roles=page.ROLES)
    def fill(_refresh: Any):
        user = signed_in_user()
        world = client_visits(read_session(), user.scope(), utcnow())
        names = {c.id: c.name() for c in world.clients}
        rows = [{"id": v.id, "client_id": v.client_id, "client": names[v.client_id],
                 "planned_for": v.planned_for, "due": v.due, "case": v.case_code or "",
                 "order_id": v.work_order_id, "state": v.state, "days": v.days}
                for v in world.open]
        table = [page.client_row(c.id, names[c.id], label(CLIENT_KINDS, c.kind), world.next[c.id])
                 for c in world.clients]
        options = [{"label": names[c.id], "value": c.id} for c in world.clients]
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
                    done = _("Visits to %(client)s: %(every)s.", client=client.name(),
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
            return no_update, feedback(error_text(exc), "danger")
        return utcnow().isoformat(), feedback(done, "success", duration=5000)

"""The counter: hall and counter choice, the ticket at the counter, today's queue, and
the clerk's actions. Reads go through hall/queries.py (halls checked against the scope),
changes through services/hall.py."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, no_update
from sqlalchemy.orm import Session

from station_portal.auth.scope import Scope
from station_portal.callbacks._secure import secure_callback
from station_portal.db import utcnow
from station_portal.errors import PortalError
from station_portal.hall.catalog import load_catalog
from station_portal.hall.models import TicketStatus
from station_portal.hall.queries import at_counter, hall_in_scope, halls_in_scope, halls_waiting
from station_portal.i18n import _
from station_portal.pages import counter as page
from station_portal.pages.ui import error_text, feedback
from station_portal.services import hall as service
from station_portal.validate import as_id, mapping
from station_portal.web.context import read_session, signed_in_user, write_session


def clerk_home(session: Session, scope: Scope) -> Any:
    """The clerk's home page content (called by callbacks/home.py)."""
    return page.clerk_home(halls_waiting(session, scope, utcnow()))


def register(app: Dash) -> None:
    @secure_callback(app, Output(page.HALL, "options"), Output(page.TRANSFER_TO, "options"),
                     Output(page.HALL, "value"), Input(page.LOAD, "data"),
                     State(page.HALL, "value"), roles=page.ROLES)
    def options(_load: Any, chosen: Any):
        user = signed_in_user()
        halls = halls_in_scope(read_session(), user.scope())
        # A clerk with one hall need not pick it; a choice kept in the browser stays.
        only = halls[0].id if len(halls) == 1 and chosen in (None, "") else no_update
        return ([{"label": f"{h.name()} ({h.level})", "value": h.id} for h in halls],
                [{"label": b.name(), "value": b.code} for b in load_catalog().businesses], only)

    @secure_callback(app, Output(page.COUNTER, "options"), Output(page.GROUPS, "options"),
                     Output(page.GROUPS, "value"), Input(page.HALL, "value"),
                     Input(page.COUNTER, "value"), roles=page.ROLES)
    def counters(hall_id: Any, counter: Any):
        user = signed_in_user()
        hall = hall_in_scope(read_session(), user.scope(), hall_id)
        if hall is None:
            return [], [], []
        catalog = load_catalog()
        number = as_id(counter)
        chosen = hall.groups_of_counter(number, catalog.letters) \
            if number is not None and number <= hall.counters else catalog.letters
        return ([{"label": _("Counter %(n)s", n=n), "value": n} for n in range(1, hall.counters + 1)],
                [{"label": f"{g.letter} {g.name()}", "value": g.letter} for g in catalog.groups],
                list(chosen))

    @secure_callback(app, Output(page.CURRENT, "children"), Output(page.TICKET, "data"),
                     Output(page.QUEUE, "children"), Output(page.WAITING, "children"),
                     Output(page.START, "disabled"), Output(page.RECALL, "disabled"),
                     Output(page.NO_SHOW, "disabled"), Output(page.FINISH, "disabled"),
                     Output(page.TRANSFER, "disabled"), Output(page.CALL, "disabled"),
                     Input(page.HALL, "value"), Input(page.COUNTER, "value"),
                     Input(page.POLL, "n_intervals"), Input(page.REFRESH, "data"),
                     roles=page.ROLES, passive_inputs=[f"{page.POLL}.n_intervals"])
    def view(hall_id: Any, counter: Any, _poll: Any, _refresh: Any):
        user = signed_in_user()
        now = utcnow()
        screen = at_counter(read_session(), user.scope(), hall_id, counter, now)
        if screen.counter is None:
            hint = page.current_card(None, now) if screen.hall is not None else \
                dbc.Alert(_("Choose your hall and counter."), color="info")
            return hint, None, None, None, True, True, True, True, True, True
        current = screen.current
        called = current is not None and current.status == TicketStatus.CALLED.value
        return (page.current_card(page.ticket_fields(current), now),
                {"id": current.id, "version": current.version} if current else None,
                page.queue_table(page.queue_rows(screen.waiting), now),
                page.waiting_stats(screen.summary["waiting"], screen.summary["done"],
                                   screen.summary["avg_service_min"]),
                not called, not called, not called, current is None, current is None,
                current is not None)

    @secure_callback(app, Output(page.REFRESH, "data"), Output(page.FEEDBACK, "children"),
                     Output(page.ORDER_CODE, "value"),
                     Input(page.CALL, "n_clicks"), Input(page.START, "n_clicks"),
                     Input(page.FINISH, "n_clicks"), Input(page.NO_SHOW, "n_clicks"),
                     Input(page.RECALL, "n_clicks"), Input(page.TRANSFER, "n_clicks"),
                     State(page.HALL, "value"), State(page.COUNTER, "value"),
                     State(page.GROUPS, "value"), State(page.TICKET, "data"),
                     State(page.ORDER_CODE, "value"), State(page.TRANSFER_TO, "value"),
                     roles=page.ROLES, prevent_initial_call=True)
    def act(_call: Any, _start: Any, _finish: Any, _no_show: Any, _recall: Any, _transfer: Any,
            hall_id: Any, counter: Any, groups: Any, ticket: Any, order_code: Any,
            transfer_to: Any):
        trigger = ctx.triggered_id
        if trigger is None or not (ctx.triggered and ctx.triggered[0].get("value")):
            return no_update, no_update, no_update
        user = signed_in_user()
        held = mapping(ticket)
        clear_code = no_update
        try:
            with write_session() as session:
                actor = user.model(session)
                if trigger == page.CALL:
                    called = service.call_next(session, actor, hall_id, counter,
                                               groups if isinstance(groups, list) else None)
                    if called is None:
                        return utcnow().isoformat(), feedback(
                            _("Nobody is waiting for your groups."), "info",
                            duration=4000), no_update
                    done = _("Ticket %(label)s called to counter %(n)s.", label=called.label,
                             n=called.counter)
                elif trigger == page.START:
                    started = service.start_service(session, actor, held.get("id"),
                                                    held.get("version"))
                    done = _("Serving %(label)s.", label=started.label)
                elif trigger == page.FINISH:
                    finished = service.finish_service(session, actor, held.get("id"),
                                                      held.get("version"),
                                                      work_order_code=order_code)
                    done = page.finished_text(finished)
                    clear_code = ""
                elif trigger == page.NO_SHOW:
                    missed = service.mark_no_show(session, actor, held.get("id"), held.get("version"))
                    done = _("%(label)s marked as not come.", label=missed.label)
                elif trigger == page.RECALL:
                    again = service.recall(session, actor, held.get("id"), held.get("version"))
                    done = _("%(label)s called again.", label=again.label)
                elif trigger == page.TRANSFER:
                    moved = service.transfer(session, actor, held.get("id"), held.get("version"),
                                             transfer_to)
                    done = _("%(label)s transferred to %(business)s.", label=moved.label,
                             business=page.business_name(moved.business))
                else:
                    return no_update, no_update, no_update
        except PortalError as exc:
            return utcnow().isoformat(), feedback(error_text(exc), "danger"), no_update
        return utcnow().isoformat(), feedback(done, "success", duration=5000), clear_code


"""The dispatch board: live deltas, suggestions, assign / reassign / support, "dispatch all".

Every callback reads the board for the signed-in user's scope on the server;
ids from the browser only say what was clicked and are checked by the services. The poll
first reads the board's fingerprint (``dispatch/live.board_stamp``) and builds the board's
features only when no board of the same scope built them for that fingerprint already.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from station_portal.callbacks._live import LiveCache, scope_key
from station_portal.callbacks._secure import clientside_callback, secure_callback
from station_portal.db import utcnow
from station_portal.dispatch.board import Board, load_board
from station_portal.dispatch.live import board_stamp
from station_portal.errors import Conflict, PortalError
from station_portal.i18n import _, get_locale
from station_portal.network.outages import outages_between
from station_portal.org.queries import crew_code, territories
from station_portal.pages import dispatch as page
from station_portal.pages.ui import empty_state, error_text, feedback
from station_portal.services import dispatch as dispatch_service
from station_portal.validate import as_id, text
from station_portal.web.context import read_session, signed_in_user, write_session
from station_portal.workorders.states import OPEN_FOR_SUPPORT, REASSIGNABLE

MAX_PROPOSAL_ROWS = 1000
LIVE = LiveCache()  # the boards' features by scope, language and fingerprint, per process


def _board() -> Board:
    user = signed_in_user()
    return load_board(read_session(), user.scope(), utcnow())


def _features(session: Any, scope: Any, now: Any) -> tuple[dict[str, Any], dict[str, str]]:
    features = page.board_features(load_board(session, scope, now))
    return features, page.delta(features, None)["prints"]


def delta(features: dict[str, Any], prints: dict[str, str], known: object) -> dict[str, Any]:
    """``pages.dispatch.delta`` with the features' fingerprints computed already: what the
    browser lacks (``known`` is only compared against: anything malformed sends all)."""
    seen = known if isinstance(known, dict) else {}
    return {"upsert": [features[k] for k, p in prints.items() if seen.get(k) != p],
            "remove": [k for k in seen if isinstance(k, str) and k not in features]}


def _bump(value: Any) -> int:
    return value + 1 if isinstance(value, int) and not isinstance(value, bool) else 1


def conflict_message(board: Board, order_id: int) -> str:
    """What changed, said plainly, after someone else was quicker."""
    order = board.order(order_id)
    if order is None:
        return _("Someone else changed this order a moment ago and it has left the board.")
    codes = {c.id: c.code for c in board.crews}
    crew = codes.get(order.crew_id, "") if order.crew_id else ""
    return _("Someone else changed %(code)s a moment ago: it is now %(status)s%(crew)s. "
             "The board shows its fresh state; choose again.",
             code=order.code, status=page.status_label(order),
             crew=_(", crew %(crew)s", crew=crew) if crew else "")


def register(app: Dash) -> None:
    @secure_callback(app, Output(page.TERRITORY_LAYER, "data"), Output(page.MAP, "viewport"),
                     Output(page.OUTAGE_LAYER, "data"),
                     Input(page.TEXTS, "data"), roles=page.ROLES)
    def show_territories(_texts: Any):
        """The territories, the view, and the areas of outages running or starting within a
        day (when the board opens)."""
        user = signed_in_user()
        session, scope, now = read_session(), user.scope(), utcnow()
        features = territories(session, scope)
        dark = outages_between(session, scope, now - timedelta(days=7), now + timedelta(days=1),
                               now=now, statuses=("announced", "in_progress"))
        dark = [r for r in dark if r.status == "in_progress" or r.ends_at > now]
        return (page.territory_geojson(features, get_locale()), page.territory_view(features),
                page.outage_geojson(dark))

    # One poll at a time: the gate lets the next one go only when the last answer
    # arrived (or it has been pending for long, e.g. the connection dropped).
    clientside_callback(
        app, ClientsideFunction(namespace="board", function_name="gate"),
        Output(page.POLL, "data"), Output(page.INFLIGHT, "data"),
        Input(page.INTERVAL, "n_intervals"), Input(page.REFRESH, "data"), State(page.INFLIGHT, "data"),
    )

    @secure_callback(app, Output(page.DELTA, "data"), Input(page.POLL, "data"), State(page.KNOWN, "data"),
                     roles=page.ROLES, prevent_initial_call=True, passive_inputs=[f"{page.POLL}.data"])
    def poll(_go: Any, known: Any):
        user = signed_in_user()
        session, scope, now = read_session(), user.scope(), utcnow()
        # the board's features are built once per scope, language and fingerprint in this
        # process; boards showing the same scope take them from the cache (callbacks/_live.py)
        stamp = board_stamp(session, scope, now)
        features, prints = LIVE.get(("dispatch", scope_key(scope), get_locale(), stamp),
                                    lambda: _features(session, scope, now))
        change = delta(features, prints, known)
        return {"t": int(now.timestamp() * 1000), "upsert": change["upsert"],
                "remove": change["remove"],
                "prints": {f["id"]: prints[f["id"]] for f in change["upsert"]}}

    clientside_callback(
        app, ClientsideFunction(namespace="board", function_name="merge"),
        Output(page.ORDERS_LAYER, "data"), Output(page.CREWS_LAYER, "data"),
        Output(page.QUEUE, "rowData"), Output(page.CREWS, "rowData"), Output(page.KNOWN, "data"),
        Output(page.FEATURES, "data"), Output(page.INFLIGHT, "data", allow_duplicate=True),
        Output(page.LIVE, "children"), Output(page.COUNTS, "children"),
        Output(page.SELECTED_PRINT, "data"),
        Input(page.DELTA, "data"), State(page.FEATURES, "data"), State(page.KNOWN, "data"),
        State(page.TEXTS, "data"), State(page.SELECTED, "data"), State(page.SELECTED_PRINT, "data"),
        prevent_initial_call=True,
    )
    clientside_callback(
        app, ClientsideFunction(namespace="board", function_name="watch"),
        Output(page.LIVE, "children", allow_duplicate=True),
        Input(page.INTERVAL, "n_intervals"), State(page.INFLIGHT, "data"), State(page.TEXTS, "data"),
        State(page.LIVE, "children"), prevent_initial_call=True,
    )
    clientside_callback(
        app, ClientsideFunction(namespace="board", function_name="select"),
        Output(page.SELECTED, "data"), Output(page.ORDERS_LAYER, "hideout"),
        Input(page.ORDERS_LAYER, "clickData"), Input(page.QUEUE, "selectedRows"),
        State(page.SELECTED, "data"),
        prevent_initial_call=True,
    )

    @secure_callback(app, Output(page.PANEL, "children"), Output(page.PANEL_VERSION, "data"),
                     Input(page.SELECTED, "data"), Input(page.SELECTED_PRINT, "data"),
                     roles=page.ROLES, prevent_initial_call=True,
                     passive_inputs=[f"{page.SELECTED_PRINT}.data"])
    def show_order(selected: Any, _print: Any):
        order_id = as_id(selected.get("id")) if isinstance(selected, dict) else None
        if order_id is None:
            raise PreventUpdate
        board = _board()
        order = board.order(order_id)
        if order is None:
            return empty_state(_("This order is no longer open in your area."), icon="bi-check2-circle"), None
        codes = {c.id: c.code for c in board.crews}
        can_support = order.kind == "repair" and order.crew_id is not None and \
            order.status in OPEN_FOR_SUPPORT
        can_reassign = order.kind == "repair" and order.status in REASSIGNABLE
        rows = page.suggestion_rows(board.suggestions(order)) if order.kind == "repair" else []
        return (page.order_panel(order, rows, codes, can_reassign=can_reassign, can_support=can_support),
                {"id": order.id, "version": order.version})

    @secure_callback(
        app, Output(page.MESSAGE, "children"), Output(page.REFRESH, "data"),
        Input({"type": page.ASSIGN, "crew": ALL, "role": ALL}, "n_clicks"),
        State(page.PANEL_VERSION, "data"), State(page.REFRESH, "data"),
        roles=page.ROLES, prevent_initial_call=True,
    )
    def assign(clicks: Any, seen: Any, refresh: Any):
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(isinstance(c, int) and c > 0 for c in clicks or []) \
                or not (ctx.triggered and ctx.triggered[0].get("value")):
            raise PreventUpdate
        order_id = as_id(seen.get("id")) if isinstance(seen, dict) else None
        version = seen.get("version") if isinstance(seen, dict) else None
        if order_id is None:
            return feedback(_("Pick an order first."), "warning", id_=page.ALERT), no_update
        role = trigger.get("role")
        services = {"lead": dispatch_service.assign_lead, "support": dispatch_service.add_support}
        service = services.get(role) if isinstance(role, str) else None
        if service is None:
            raise PreventUpdate
        user = signed_in_user()
        try:
            with write_session() as session:
                order = service(session, user.model(session), order_id, version, trigger.get("crew"))
                code, crew = order.code, order.crew_id
        except Conflict:
            return (feedback(conflict_message(_board(), order_id), "warning", id_=page.ALERT),
                    _bump(refresh))
        except PortalError as exc:
            return feedback(error_text(exc), "danger", id_=page.ALERT), _bump(refresh)
        if role == "lead":
            message = _("%(code)s is dispatched to crew %(crew)s.", code=code,
                        crew=crew_code(read_session(), user.scope(), crew))
        else:
            message = _("A support crew joins %(code)s.", code=code)
        return feedback(message, "success", id_=page.ALERT), _bump(refresh)

    @secure_callback(
        app, Output(page.MESSAGE, "children", allow_duplicate=True),
        Output(page.REFRESH, "data", allow_duplicate=True),
        Input(page.CREWS, "cellValueChanged"), State(page.REFRESH, "data"),
        roles=page.ROLES, prevent_initial_call=True,
    )
    def change_duty(changes: Any, refresh: Any):
        change = changes[0] if isinstance(changes, list) and changes else None
        if not isinstance(change, dict) or change.get("colId") != "duty" \
                or not isinstance(change.get("data"), dict) or not isinstance(change.get("value"), bool):
            raise PreventUpdate
        user = signed_in_user()
        try:
            with write_session() as session:
                crew = dispatch_service.set_on_duty(session, user.model(session),
                                                    change["data"].get("id"), change["value"])
                code, on_duty = crew.code, crew.on_duty
        except PortalError as exc:
            return feedback(error_text(exc), "danger", id_=page.ALERT), _bump(refresh)
        message = _("Crew %(crew)s is on duty.", crew=code) if on_duty \
            else _("Crew %(crew)s is off duty.", crew=code)
        return feedback(message, "info", id_=page.ALERT), _bump(refresh)

    @secure_callback(
        app, Output(page.PROPOSAL_MODAL, "is_open"), Output(page.PROPOSAL_BODY, "children"),
        Output(page.PROPOSAL_VERSIONS, "data"), Output(page.PROPOSAL_RESULT, "children"),
        Input(page.DISPATCH_ALL, "n_clicks"), roles=page.ROLES, prevent_initial_call=True,
    )
    def propose(clicks: Any):
        if not clicks:
            raise PreventUpdate
        board = _board()
        queue = board.queue()
        if not queue:
            return True, empty_state(_("There are no unassigned repairs."), icon="bi-check2-all"), {}, ""
        plan = board.proposal()
        rows = page.proposal_rows(plan, board)
        codes = sorted(c.code for c in board.crews if c.on_duty)
        summary = html.P(_("%(n)s repairs over %(crews)s crews on duty: %(late)s minutes of weighted "
                           "lateness, %(travel)s minutes of driving (solved in %(ms)s ms). "
                           "Untick a row to leave it, or click its crew to change it.",
                           n=len(queue), crews=len(codes), late=round(plan.weighted_lateness),
                           travel=round(plan.travel_min), ms=round(plan.solve_seconds * 1000)),
                         className="small")
        unassignable = html.P(_("%(n)s repairs have no eligible crew (skills, territory or nobody on "
                                "duty) and are left in the queue.", n=len(plan.unassigned)),
                              className="small text-danger") if plan.unassigned else None
        versions = {str(o.id): o.version for o in queue}
        return True, html.Div([summary, unassignable, page.proposal_grid(rows, codes)]), versions, ""

    @secure_callback(app, Output(page.PROPOSAL_MODAL, "is_open", allow_duplicate=True),
                     Input(page.PROPOSAL_CLOSE, "n_clicks"), roles=page.ROLES, prevent_initial_call=True)
    def close_proposal(clicks: Any):
        if not clicks:
            raise PreventUpdate
        return False

    @secure_callback(
        app, Output(page.PROPOSAL_RESULT, "children", allow_duplicate=True),
        Output(page.REFRESH, "data", allow_duplicate=True),
        Output(page.MESSAGE, "children", allow_duplicate=True),
        Input(page.PROPOSAL_APPLY, "n_clicks"),
        State(page.PROPOSAL_GRID, "rowData"), State(page.PROPOSAL_VERSIONS, "data"),
        State(page.REFRESH, "data"), roles=page.ROLES, prevent_initial_call=True,
    )
    def apply_proposal(clicks: Any, rows: Any, versions: Any, refresh: Any):
        if not clicks:
            raise PreventUpdate
        if not isinstance(rows, list) or not isinstance(versions, dict) or len(rows) > MAX_PROPOSAL_ROWS:
            refused = feedback(_("Make a proposal first."), "warning", id_=page.PROPOSAL_ALERT)
            return refused, no_update, no_update
        board = _board()
        crews = {c.code: c.id for c in board.crews}
        user = signed_in_user()
        applied, failed = [], []
        for row in rows:
            if not isinstance(row, dict) or row.get("apply") is not True:
                continue
            order_id = as_id(row.get("id"))
            crew_id = crews.get(text(row.get("crew"), 32))
            order = board.order(order_id) if order_id is not None else None
            if order is None:
                continue
            if crew_id is None:
                failed.append(f"{order.code}: " + _("Choose a crew."))
                continue
            try:
                with write_session() as session:
                    dispatch_service.assign_lead(session, user.model(session), order_id,
                                                 versions.get(str(order_id)), crew_id)
                applied.append(order.code)
            except Conflict:
                failed.append(f"{order.code}: " + _("changed meanwhile, left as it is"))
            except PortalError as exc:
                failed.append(f"{order.code}: {error_text(exc)}")
        result = [html.Div(_("%(n)s repairs dispatched.", n=len(applied)), className="text-success")]
        if failed:
            result.append(html.Ul([html.Li(f) for f in failed], className="small text-danger mb-0"))
        message = feedback(_("Dispatch all: %(n)s repairs dispatched, %(m)s left.", n=len(applied),
                             m=len(failed)), "success" if not failed else "warning", id_=page.ALERT)
        return html.Div(result), _bump(refresh), message

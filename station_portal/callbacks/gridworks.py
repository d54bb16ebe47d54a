"""Grid works: the scoped project list and creating a project; one project with its actions.

Callbacks are thin: read the inputs, call ``gridworks.queries`` or
``services.gridworks`` (which check role and scope again), build the view
with the page's pure functions. An id from the browser is never trusted: a
project outside the caller's scope shows nothing.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, no_update

from station_portal.callbacks._secure import secure_callback
from station_portal.db import utcnow
from station_portal.errors import PortalError, ValidationFailed
from station_portal.gridworks import queries
from station_portal.gridworks.labels import MILESTONE_NAMES
from station_portal.i18n import _, get_locale
from station_portal.labels import label
from station_portal.pages import gridworks as page
from station_portal.pages import shell
from station_portal.pages.ui import error_text, feedback, out_of_scope
from station_portal.services import gridworks as service
from station_portal.timefmt import local
from station_portal.validate import as_id, mapping
from station_portal.web.context import read_session, signed_in_user, write_session


def _error(exc: PortalError) -> dbc.Alert:
    return feedback(error_text(exc), "danger")


def _done(message: str) -> dbc.Alert:
    return feedback(message, "success", duration=6000)


def create(user: Any, values: dict[str, Any]) -> tuple[Any, Any]:
    """Create a project from the form's values: (feedback, refresh)."""
    planned = {code: values.get(f"plan_{code}") for code in MILESTONE_NAMES}
    data = service.ProjectInput(
        name=values.get("name") or "", unit_id=as_id(values.get("unit")) or 0,
        planned=planned, description=values.get("description") or "",
        funds_expected=values.get("funds") if values.get("funds") not in (None, "") else 0,
        code=values.get("code") or "")
    try:
        with write_session() as session:
            project = service.create_project(session, user.model(session), data)
            code = project.code
    except PortalError as exc:
        return _error(exc), no_update
    return _done(_("Project %(code)s created.", code=code)), utcnow().isoformat()


def act(user: Any, trigger: str, project_id: Any, version: Any, v: dict[str, Any]) -> str:
    """Run the action of the button pressed; returns the message to show. Raises PortalError."""
    with write_session() as session:
        actor = user.model(session)
        if trigger == page.MS_DONE:
            v["date"] = v.get("date") or local(utcnow()).date().isoformat()  # empty: done today
            p = service.complete_milestone(session, actor, project_id, version, v.get("milestone"),
                                           v.get("date"), note=v.get("note") or "")
            return _("%(name)s done on %(date)s.", name=label(MILESTONE_NAMES, v.get("milestone")),
                     date=v.get("date")) + (" " + _("The project is energised.")
                                            if p.status == "energised" else "")
        if trigger == page.MS_REPLAN:
            service.replan_milestone(session, actor, project_id, version, v.get("milestone"),
                                     v.get("date"), note=v.get("note") or "")
            return _("%(name)s replanned to %(date)s.",
                     name=label(MILESTONE_NAMES, v.get("milestone")), date=v.get("date"))
        if trigger == page.FUNDS_SAVE:
            service.record_funds(session, actor, project_id, version, v.get("amount"),
                                 v.get("funds_date"))
            return _("Funds recorded.")
        if trigger == page.LINK_SAVE:
            link = service.link_application(session, actor, project_id, version, v.get("code"))
            return _("Application linked: its clocks wait on grid works (since %(when)s).",
                     when=local(link.linked_at).strftime("%Y-%m-%d %H:%M"))
        if trigger == page.UNLINK_SAVE:
            if not v.get("unlink"):
                raise ValidationFailed({"order": _("Choose an application.")})
            service.unlink_application(session, actor, project_id, version, v.get("unlink"),
                                       reason=v.get("unlink_reason") or "")
            return _("Application unlinked.")
        if trigger == page.CANCEL_SAVE:
            service.cancel_project(session, actor, project_id, version, v.get("cancel_reason"))
            return _("Project cancelled; the applications waiting on it resumed.")
    raise ValidationFailed({"action": _("Choose an action.")})


def register(app: Dash) -> None:
    @secure_callback(app, Output(page.GRID, "rowData"), Output(page.NEW_UNIT, "options"),
                     Input(page.REFRESH, "data"), roles=page.ROLES)
    def fill(_refresh: Any):
        user = signed_in_user()
        session, scope, locale = read_session(), user.scope(), get_locale()
        rows = queries.list_projects(session, scope, locale)
        units = [{"label": name, "value": str(uid)}
                 for uid, name in queries.units_for_new_project(session, scope, locale)] \
            if page.may(user, "manage_grid_works") else []
        return page.list_rows(rows), units

    @secure_callback(app, Output(shell.URL, "href", allow_duplicate=True),
                     Input(page.GRID, "cellClicked"), roles=page.ROLES, prevent_initial_call=True)
    def open_project(clicked: Any):
        project_id = as_id(mapping(clicked).get("rowId"))
        return f"{page.DETAIL_PATH}?id={project_id}" if project_id else no_update

    @secure_callback(app, Output(page.FEEDBACK, "children"), Output(page.REFRESH, "data"),
                     Input(page.NEW_SAVE, "n_clicks"), State(page.NEW_NAME, "value"),
                     State(page.NEW_CODE, "value"), State(page.NEW_UNIT, "value"),
                     State(page.NEW_FUNDS, "value"), State(page.NEW_DESCRIPTION, "value"),
                     *[State(page.NEW_PLANNED[c], "value") for c in MILESTONE_NAMES],
                     roles=page.ROLES, prevent_initial_call=True)
    def new_project(clicks: Any, name: Any, code: Any, unit: Any, funds: Any, description: Any,
                    *plans: Any):
        if not clicks:
            return no_update, no_update
        values = {"name": name, "code": code, "unit": unit, "funds": funds,
                  "description": description}
        values.update({f"plan_{c}": d for c, d in zip(MILESTONE_NAMES, plans, strict=True)})
        return create(signed_in_user(), values)

    @secure_callback(app, Output(page.CONTENT, "children"), Output(page.VERSION, "data"),
                     Output(page.MS_CODE, "options"), Output(page.MS_CODE, "value"),
                     Output(page.UNLINK_ORDER, "options"),
                     Input(page.PROJECT_ID, "data"), Input(page.P_REFRESH, "data"),
                     roles=page.ROLES)
    def show(project_id: Any, _refresh: Any):
        user = signed_in_user()
        session, scope, now = read_session(), user.scope(), utcnow()
        detail = queries.project_detail(session, scope, project_id, get_locale(), now=now)
        if detail is None:
            return out_of_scope(), None, [], None, []
        open_ms = [m for m in detail.milestones if m.actual_on is None] \
            if detail.project.status in ("planned", "in_progress") else []
        options = [{"label": label(MILESTONE_NAMES, m.code), "value": m.code} for m in open_ms]
        unlink = [{"label": f"{a.code} {a.customer}", "value": str(a.order_id)}
                  for a in detail.applications if a.unlinked_at is None and a.visible]
        return (page.detail_component(detail, local(now).date()), detail.project.version, options,
                options[0]["value"] if options else None, unlink)

    @secure_callback(app, Output(page.P_FEEDBACK, "children"), Output(page.P_REFRESH, "data"),
                     Output(page.MS_NOTE, "value"), Output(page.LINK_CODE, "value"),
                     Input(page.MS_DONE, "n_clicks"), Input(page.MS_REPLAN, "n_clicks"),
                     Input(page.FUNDS_SAVE, "n_clicks"), Input(page.LINK_SAVE, "n_clicks"),
                     Input(page.UNLINK_SAVE, "n_clicks"), Input(page.CANCEL_SAVE, "n_clicks"),
                     State(page.PROJECT_ID, "data"), State(page.VERSION, "data"),
                     State(page.MS_CODE, "value"), State(page.MS_DATE, "value"),
                     State(page.MS_NOTE, "value"), State(page.FUNDS_AMOUNT, "value"),
                     State(page.FUNDS_DATE, "value"), State(page.LINK_CODE, "value"),
                     State(page.UNLINK_ORDER, "value"), State(page.UNLINK_REASON, "value"),
                     State(page.CANCEL_REASON, "value"),
                     roles=page.ROLES, prevent_initial_call=True)
    def submit(_d: Any, _r: Any, _f: Any, _l: Any, _u: Any, _c: Any, project_id: Any,
               version: Any, milestone: Any, day: Any, note: Any, amount: Any, funds_date: Any,
               code: Any, unlink: Any, unlink_reason: Any, cancel_reason: Any):
        trigger = ctx.triggered_id
        if not isinstance(trigger, str) or not (ctx.triggered and ctx.triggered[0].get("value")):
            return no_update, no_update, no_update, no_update
        values = {"milestone": milestone, "date": day, "note": note, "amount": amount,
                  "funds_date": funds_date, "code": code, "unlink": unlink,
                  "unlink_reason": unlink_reason, "cancel_reason": cancel_reason}
        try:
            message = act(signed_in_user(), trigger, project_id, version, values)
        except PortalError as exc:
            # a conflict shows the fresh state at once
            return _error(exc), utcnow().isoformat(), no_update, no_update
        return _done(message), utcnow().isoformat(), "", ""

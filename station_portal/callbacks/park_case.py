"""Opening a park case: the client and account-manager choices of the caller's area, and
the case through ``services.parks.create_park_case`` (which checks the role, the area and
every field; nothing is kept when it refuses)."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from station_portal.callbacks._secure import secure_callback
from station_portal.errors import PortalError, ValidationFailed
from station_portal.i18n import _, get_locale
from station_portal.org.queries import client_rows
from station_portal.pages import park_case as page
from station_portal.pages.ui import error_text, feedback
from station_portal.services import parks
from station_portal.web.context import read_session, signed_in_user, write_session
from station_portal.workorders.models import PARK_MILESTONES


def register(app: Dash) -> None:
    @secure_callback(app, Output(page.CLIENT, "options"), Input(page.LOAD, "data"),
                     roles=page.ROLES)
    def show_clients(_load: Any):
        zh = get_locale().startswith("zh")
        return [{"label": page.client_label(r.code, r.name_zh if zh else r.name_en,
                                            r.park_zh if zh else r.park_en), "value": r.id}
                for r in client_rows(read_session(), signed_in_user().scope())]

    @secure_callback(app, Output(page.MANAGER, "options"), Output(page.MANAGER, "value"),
                     Input(page.CLIENT, "value"), roles=page.ROLES)
    def show_managers(client_id: Any):
        user = signed_in_user()
        managers = parks.account_manager_choices(read_session(), user.scope(), client_id)
        ids = [m.id for m in managers]
        chosen = user.id if user.id in ids else (ids[0] if len(ids) == 1 else None)
        return [{"label": m.display_name, "value": m.id} for m in managers], chosen

    @secure_callback(
        app, *[Output(page.error_id(f), "children") for f in page.FIELDS],
        Output(page.FEEDBACK, "children"),
        *[Output(cid, prop) for cid, prop in page.CLEARED],
        Input(page.SUBMIT, "n_clicks"),
        State(page.CLIENT, "value"), State(page.MANAGER, "value"), State(page.LOAD_KW, "value"),
        State(page.DATE, "date"), State(page.DESCRIPTION, "value"), State(page.VISIT, "date"),
        State(page.CLIENT, "options"), State(page.MANAGER, "options"),
        *[State(pid, "date") for pid in page.PLAN_IDS],
        roles=page.ROLES, prevent_initial_call=True,
    )
    def open_case(clicks: Any, client_id: Any, manager_id: Any, load_kw: Any, projected: Any,
                  description: Any, visit: Any, clients: Any, managers: Any, *planned: Any):
        if ctx.triggered_id != page.SUBMIT or not clicks:
            raise PreventUpdate
        keep = [no_update] * len(page.CLEARED)
        user = signed_in_user()
        try:
            with write_session() as session:
                case = parks.create_park_case(session, user.model(session), parks.ParkCaseInput(
                    client_id=client_id, account_manager_id=manager_id, projected_load_kw=load_kw,
                    projected_date=projected, description=description, visit_planned_for=visit,
                    milestone_plan=dict(zip(PARK_MILESTONES, planned, strict=True))))
                owner = user.display_name if case.owner_user_id == user.id else \
                    page.option_label(managers, case.owner_user_id)
                made = page.made_message(case.id, case.code,
                                         page.option_label(clients, case.client_id), owner)
        except ValidationFailed as exc:
            texts, rest = page.field_messages(exc.fields)
            alert = feedback(html.Span([_("Nothing was registered: correct the marked fields."),
                                        *[html.Div(m) for m in rest]]), "danger")
            return [*texts, alert, *keep]
        except PortalError as exc:  # the role may not …
            texts, _rest = page.field_messages({})
            return [*texts, feedback(error_text(exc), "danger"), *keep]
        texts, _rest = page.field_messages({})
        cleared = ["" if cid == page.DESCRIPTION else None for cid, _prop in page.CLEARED]
        return [*texts, made, *cleared]

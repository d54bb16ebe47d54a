"""The bell's live count, the notification list, marking read, and the channel settings."""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from station_portal.auth.roles import ALL_STAFF
from station_portal.callbacks._secure import secure_callback
from station_portal.errors import ValidationFailed
from station_portal.i18n import _, get_locale
from station_portal.notify import service
from station_portal.pages import account, shell
from station_portal.pages import notifications as page
from station_portal.pages.ui import error_text, feedback
from station_portal.web.context import read_session, signed_in_user, write_session


def bell_text(count: int) -> str:
    return "" if count <= 0 else ("99+" if count > 99 else str(count))


def register(app: Dash) -> None:
    @secure_callback(app, Output(shell.BELL_COUNT, "children"), Output(shell.BELL, "title"),
                     Input(shell.BELL_POLL, "n_intervals"), Input(shell.URL, "pathname"),
                     Input(shell.BELL_REFRESH, "data"),
                     roles=ALL_STAFF, passive_inputs=[f"{shell.BELL_POLL}.n_intervals"])
    def bell(_n: Any, _path: Any, _refresh: Any):
        count = service.unread_count(read_session(), signed_in_user().id)
        title = _("%(n)s unread notifications", n=count) if count else _("No unread notifications")
        return bell_text(count), title

    @secure_callback(app, Output(page.LIST, "children"), Output(page.MORE, "style"),
                     Input(page.UNREAD_ONLY, "value"), Input(shell.BELL_REFRESH, "data"),
                     Input(page.MORE, "n_clicks"), roles=ALL_STAFF)
    def fill(unread_only: Any, _refresh: Any, more: Any):
        user = signed_in_user()
        extra = more if isinstance(more, int) and not isinstance(more, bool) and more > 0 else 0
        limit = min(page.LIMIT * (1 + extra), page.MAX_LIMIT)
        notes = service.inbox(read_session(), user.id, unread_only=unread_only is True,
                              limit=limit + 1)
        locale = get_locale()
        hidden = {"display": "none"} if len(notes) <= limit or limit >= page.MAX_LIMIT else {}
        return page.note_list([(n, service.render(n, locale)) for n in notes[:limit]]), hidden

    @secure_callback(app, Output(shell.BELL_REFRESH, "data"),
                     Input(page.READ_ALL, "n_clicks"),
                     Input({"type": page.READ_ONE, "id": ALL}, "n_clicks"),
                     roles=ALL_STAFF, prevent_initial_call=True)
    def mark(_all: Any, _ones: Any):
        trigger = ctx.triggered_id
        if trigger is None or not (ctx.triggered and ctx.triggered[0].get("value")):
            return no_update
        user = signed_in_user()
        with write_session() as session:
            if trigger == page.READ_ALL:
                changed = service.mark_read(session, user.id)
            elif isinstance(trigger, dict):
                changed = service.mark_read(session, user.id, [trigger.get("id")])
            else:
                return no_update
        return changed

    @secure_callback(app, Output({"type": account.NOTIFY_CHOICE, "event": ALL}, "value"),
                     Output(account.NOTIFY_FEEDBACK, "children"),
                     Output(account.NOTIFY_ADDRESS, "children"),
                     Input(account.LOAD, "data"), Input(account.NOTIFY_SAVE, "n_clicks"),
                     State({"type": account.NOTIFY_CHOICE, "event": ALL}, "value"),
                     roles=ALL_STAFF)
    def preferences(_load: Any, save: Any, chosen: Any):
        user = signed_in_user()
        rows = ctx.states_list[0] if ctx.states_list else []
        answer = None
        if ctx.triggered_id == account.NOTIFY_SAVE and save:
            enabled = []
            for row in rows if isinstance(rows, list) else []:
                event = (row.get("id") or {}).get("event") if isinstance(row, dict) else None
                values = row.get("value") if isinstance(row, dict) else None
                for channel in values if isinstance(values, list) else []:
                    enabled.append(f"{event}:{channel}")
            try:
                with write_session() as session:
                    service.set_preferences(session, user.model(session), enabled)
            except ValidationFailed as exc:
                answer = feedback(error_text(exc), "danger")
            else:
                answer = feedback(_("Saved."), "success", duration=4000)
        session = read_session()
        prefs = service.preferences(session, user.id)
        email = user.model(session).email
        address = _("Email goes to %(address)s.", address=email) if email else \
            _("No email address on this account: ask an administrator to add one.")
        values = []
        for row in rows if isinstance(rows, list) else []:
            event = (row.get("id") or {}).get("event") if isinstance(row, dict) else None
            values.append([c for c in service.CHANNELS if prefs.get((event, c))])
        return values, answer, address

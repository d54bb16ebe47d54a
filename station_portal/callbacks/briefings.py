"""The weekly briefings' callbacks: the pickers, the briefing, its PDF and Excel files.

Every callback reads the caller's scope on the server: the unit the browser
sends is checked with ``scope.sees_unit`` (the company only for a caller who
sees the whole company) and the week is parsed strictly, so a forged value
gets a message and no data, never a 500 (``analytics.briefing.find_briefing``).
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, dcc, no_update

from station_portal.analytics import briefing as data
from station_portal.analytics.briefing_files import briefing_pdf, briefing_xlsx, file_name
from station_portal.callbacks._secure import secure_callback
from station_portal.i18n import get_locale
from station_portal.pages import briefings as page
from station_portal.pages import charts
from station_portal.pages.ui import feedback
from station_portal.web.context import read_session, signed_in_user


def _figures(week: Any, unit: Any) -> dict[str, Any]:
    """The stored figures the caller asked for; BriefingError when out of scope or unknown."""
    return data.find_briefing(read_session(), signed_in_user().scope(), week, unit).figures


def register(app: Dash) -> None:
    @secure_callback(app, Output(page.WEEK, "options"), Output(page.WEEK, "value"),
                     Output(page.UNIT, "options"), Output(page.UNIT, "value"),
                     Input(page.LOAD, "data"), roles=page.ROLES)
    def options(load: Any):
        session, scope = read_session(), signed_in_user().scope()
        wanted = load if isinstance(load, dict) else {}
        weeks = page.week_options(data.briefing_weeks(session))
        units = page.unit_options(data.briefing_choices(session, scope), get_locale())
        return (weeks, page.preselect(weeks, wanted.get("week")), units,
                page.preselect(units, wanted.get("unit")))

    @secure_callback(app, Output(page.BODY, "children"), Output(page.TREND, "figure"),
                     Output(page.ALERT, "children"), Input(page.WEEK, "value"),
                     Input(page.UNIT, "value"), roles=page.ROLES, prevent_initial_call=True)
    def fill(week: Any, unit: Any):
        if week is None or unit is None:  # nothing to pick yet
            return None, charts.empty_figure(page.message("missing")), None
        try:
            figures = _figures(week, unit)
        except data.BriefingError as exc:
            text = page.message(str(exc))
            return None, charts.empty_figure(text), feedback(text, "warning")
        return page.briefing_body(figures, get_locale()), page.trend_figure(figures), None

    for button, download, render, extension in (
            (page.PDF, page.DOWNLOAD_PDF, briefing_pdf, "pdf"),
            (page.XLSX, page.DOWNLOAD_XLSX, briefing_xlsx, "xlsx")):
        _register_download(app, button, download, render, extension)


def _register_download(app: Dash, button: str, download: str, render, extension: str) -> None:
    @secure_callback(app, Output(download, "data"),
                     Output(page.ALERT, "children", allow_duplicate=True),
                     Input(button, "n_clicks"), State(page.WEEK, "value"),
                     State(page.UNIT, "value"), roles=page.ROLES, prevent_initial_call=True)
    def send(clicks: Any, week: Any, unit: Any):
        if not clicks:
            return no_update, no_update
        try:
            figures = _figures(week, unit)
        except data.BriefingError as exc:
            return no_update, feedback(page.message(str(exc)), "warning")
        content = render(figures, get_locale())
        return dcc.send_bytes(content, file_name(figures, extension)), None

"""Security log: filter the audit trail.

The dates come from the picker as ISO text and are read by ``validate.day``: a value that is
not a day of the working-day calendar's range leaves that end of the period open.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from dash import Dash, Input, Output

from station_portal.auth.queries import audit_rows
from station_portal.auth.roles import ADMIN_ONLY
from station_portal.callbacks._secure import secure_callback
from station_portal.i18n import _
from station_portal.labels import AUDIT_ACTIONS
from station_portal.pages import audit_log as page
from station_portal.timefmt import SHANGHAI
from station_portal.validate import day, text
from station_portal.web.context import read_session


def register(app: Dash) -> None:
    @secure_callback(app, Output(page.TABLE, "rowData"), Output(page.COUNT, "children"),
                     Input(page.ACTION, "value"), Input(page.TEXT, "value"),
                     Input(page.DATES, "start_date"), Input(page.DATES, "end_date"),
                     roles=ADMIN_ONLY)
    def filter_log(action: Any, search_text: Any, start: Any, end: Any):
        action = action if isinstance(action, str) and action in AUDIT_ACTIONS else None
        search = text(search_text, 80).strip() or None
        first, last = day(start), day(end)
        since = datetime.combine(first, time(), SHANGHAI) if first else None
        until = datetime.combine(last + timedelta(days=1), time(), SHANGHAI) if last else None
        events = audit_rows(read_session(), action=action, text=search, since=since, until=until,
                            limit=page.LIMIT)
        count = _("%(n)s events", n=len(events)) if len(events) < page.LIMIT \
            else _("The newest %(n)s events; narrow the filter to see older ones.", n=page.LIMIT)
        return page.rows(events), count

"""Home page: fills the role's overview from scoped queries."""

from __future__ import annotations

from dash import Dash, Input, Output

from station_portal.auth.queries import audit_rows, security_stats
from station_portal.auth.roles import ALL_STAFF, Role
from station_portal.callbacks._secure import secure_callback
from station_portal.i18n import _, get_locale
from station_portal.org import queries
from station_portal.org.models import StaffPosition, UnitKind
from station_portal.pages import home
from station_portal.pages.ui import empty_state
from station_portal.timefmt import format_local
from station_portal.web.context import read_session, signed_in_user

SECURITY_EVENTS = ("sign_in_failed", "sign_in_locked", "user_created", "user_disabled",
                   "password_reset", "user_updated")


def register(app: Dash) -> None:
    @secure_callback(app, Output(home.CONTENT, "children"), Input(home.LOAD, "data"),
                     roles=ALL_STAFF)
    def fill(_role: object):
        user = signed_in_user()
        session, scope, locale = read_session(), user.scope(), get_locale()
        if user.role is Role.ADMIN:
            events = [(format_local(e.at), e.action, e.subject, e.ip)
                      for e in audit_rows(session, limit=200) if e.action in SECURITY_EVENTS][:10]
            return home.admin_home(security_stats(session), events)
        if user.role is Role.COMPANY_MANAGER:
            return home.manager_home(queries.county_counts(session, scope), locale)
        if user.role in (Role.STATION_HEAD, Role.GRID_MANAGER):
            if not scope.root_unit_ids:
                return empty_state(_("No unit is assigned to you."))
            root = scope.root_unit_ids[0]
            summary = queries.unit_summary(session, scope, root)
            if summary is None:
                return empty_state(_("No unit is assigned to you."))
            part_ids = [cid for cid, *_rest in summary.children]
            leads = queries.unit_leads(session, scope, part_ids, (
                StaffPosition.GROUP_LEADER, StaffPosition.GRID_MANAGER))
            parts = []
            for cid in part_ids:
                part = queries.unit_summary(session, scope, cid)
                if part is not None:
                    lead = leads.get(cid)
                    text = f"{lead[0] if locale.startswith('zh') else lead[1]} · {lead[2]}" \
                        if lead else ""
                    parts.append((part, text))
            title = _("Groups") if summary.kind == UnitKind.SERVICE_STATION else _("Grids")
            return home.unit_home(summary, parts, queries.crew_rows(session, scope, root), locale,
                                  title)
        if user.role is Role.ACCOUNT_MANAGER:
            return home.account_home(queries.client_rows(session, scope), locale)
        if user.role is Role.CLERK:
            from station_portal.callbacks.counter import clerk_home

            return clerk_home(session, scope)
        crew = queries.crew_of(session, user.staff_id)
        unit = queries.unit_summary(session, scope, crew.unit_id) if crew else None
        return home.crew_home(crew, unit, locale)

"""Dash callbacks, one module per page, all registered through ``secure_callback``."""

from __future__ import annotations

from dash import Dash


def register_all_callbacks(app: Dash) -> None:
    from station_portal.callbacks import (
        account,
        audit_log,
        briefings,
        counter,
        crew,
        dashboards,
        dispatch,
        gridworks,
        hall_dashboard,
        home,
        intake,
        jobs,
        notifications,
        order_detail,
        orders,
        org,
        shell,
        users,
        visits,
    )

    for module in (shell, home, dashboards, briefings, dispatch, crew, orders, order_detail, org, users,
                   audit_log, account, notifications, visits, jobs, gridworks, counter,
                   hall_dashboard, intake):
        module.register(app)

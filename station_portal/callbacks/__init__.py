"""Dash callbacks, one module per page, all registered through ``secure_callback``."""

from __future__ import annotations

from dash import Dash


def register_all_callbacks(app: Dash) -> None:
    from station_portal.callbacks import (
        account,
        audit_log,
        crew,
        dashboards,
        dispatch,
        home,
        order_detail,
        orders,
        org,
        shell,
        users,
    )

    for module in (shell, home, dashboards, dispatch, crew, orders, order_detail, org, users,
                   audit_log, account):
        module.register(app)

"""Dash callbacks, one module per page, all registered through ``secure_callback``."""

from __future__ import annotations

from dash import Dash


def register_all_callbacks(app: Dash) -> None:
    """Register the callbacks of every feature (``features.FEATURES``)."""
    from station_portal.features import callback_modules

    for module in callback_modules():
        module.register(app)

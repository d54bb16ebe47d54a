"""The Dash portal mounted on the Flask server: shell layout and every callback."""

from __future__ import annotations

from dash import Dash
from flask import Flask

from station_portal.callbacks import register_all_callbacks
from station_portal.config import Config
from station_portal.i18n import get_locale
from station_portal.pages import shell
from station_portal.resources import resource_dir
from station_portal.web import guard
from station_portal.web.context import EXTENSION


class PortalDash(Dash):
    """Dash whose page says its language (``<html lang>``) for screen readers, hyphenation
    and the browser's own controls."""

    def interpolate_index(self, **kwargs: object) -> str:
        page = super().interpolate_index(**kwargs)
        lang = "zh-CN" if get_locale() == "zh_CN" else "en"
        return page.replace("<html>", f'<html lang="{lang}">', 1)


def build_dash(server: Flask, config: Config) -> Dash:
    app = PortalDash(
        "station_portal",
        server=server,
        assets_folder=str(resource_dir("assets")),
        title="Station Portal · 供电服务站门户",
        update_title=None,
        suppress_callback_exceptions=True,  # pages are rendered by the router callback
        serve_locally=True,  # no CDN: the portal works without internet access
        enable_mcp=False,
        meta_tags=[
            {"name": "viewport", "content": "width=device-width, initial-scale=1"},
            {"name": "theme-color", "content": "#0b5394"},
        ],
    )
    app.layout = shell.layout
    server.extensions[EXTENSION].dash = app
    register_all_callbacks(app)
    guard.use_dash_scripts(server, app.csp_hashes())  # the inline scripts Dash writes, by hash
    return app

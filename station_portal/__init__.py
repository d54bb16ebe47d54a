"""Station Portal: operations portal for power-grid service stations.

``create_app`` builds the whole web application (Flask server with the Dash
portal mounted on it). It is imported lazily so that the domain packages
(``station_portal.org``, ``.sla`` …) stay importable without Flask or Dash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from station_portal.config import Config

__all__ = ["create_app"]


def create_app(config: Config | Mapping[str, object] | None = None) -> Flask:
    """Build the portal. ``config``: a Config, a mapping of overrides, or None (environment)."""
    from station_portal.server import build_app

    return build_app(config)

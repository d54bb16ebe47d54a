"""The portal's features, one list: each names its page modules, callback modules and
model modules.

This list drives the page registry (``pages.registry``: the order here is the order of
the menu), the callbacks Dash registers (``callbacks.register_all_callbacks``) and the
model modules imported for ``Base.metadata`` (``models``: Alembic, tests). Adding a
feature is one entry here. Modules are named, not imported: importing this module
loads nothing, so domain code and scripts may read it without Dash.

A page module exposes ``PAGES`` (several pages) or ``PAGE`` (one).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from types import ModuleType


@dataclass(frozen=True)
class Feature:
    name: str
    pages: tuple[str, ...] = ()  # modules under station_portal.pages
    callbacks: tuple[str, ...] = ()  # modules under station_portal.callbacks
    models: tuple[str, ...] = ()  # model modules, dotted under station_portal


FEATURES: tuple[Feature, ...] = (
    Feature("shell", callbacks=("shell",)),  # the frame and the router: no page of its own
    Feature("core", models=("audit", "ratelimit", "migrate")),  # migrate: schema_compat
    Feature("home", pages=("home",), callbacks=("home",)),
    Feature("dashboards", pages=("dashboards",), callbacks=("dashboards",),
            models=("analytics.models",)),
    Feature("hall_dashboard", pages=("hall_dashboard",), callbacks=("hall_dashboard",)),
    Feature("briefings", pages=("briefings",), callbacks=("briefings",)),
    Feature("dispatch", pages=("dispatch",), callbacks=("dispatch",)),
    Feature("counter", pages=("counter",), callbacks=("counter",), models=("hall.models",)),
    Feature("intake", pages=("intake",), callbacks=("intake",)),
    Feature("crew", pages=("crew",), callbacks=("crew",)),
    Feature("orders", pages=("orders", "order_detail"), callbacks=("orders", "order_detail"),
            models=("workorders.models",)),
    Feature("park_cases", pages=("park_case",), callbacks=("park_case",)),  # opening one
    Feature("customer", models=("customer.models",)),  # public pages: web/customer.py
    Feature("visits", pages=("visits",), callbacks=("visits",)),
    Feature("gridworks", pages=("gridworks",), callbacks=("gridworks",),
            models=("gridworks.models",)),
    Feature("outages", pages=("outages",), callbacks=("outages",), models=("network.models",)),
    Feature("org", pages=("org",), callbacks=("org",), models=("org.models",)),
    Feature("users", pages=("users",), callbacks=("users",), models=("auth.models",)),
    Feature("audit_log", pages=("audit_log",), callbacks=("audit_log",)),
    Feature("jobs", pages=("jobs",), callbacks=("jobs",), models=("jobs.models",)),
    Feature("notifications", pages=("notifications",), callbacks=("notifications",),
            models=("notify.models",)),
    Feature("account", pages=("account",), callbacks=("account",)),
)


def _modules(package: str, names: list[str]) -> list[ModuleType]:
    return [import_module(f"{package}.{name}") for name in names]


def page_modules() -> list[ModuleType]:
    return _modules("station_portal.pages", [m for f in FEATURES for m in f.pages])


def callback_modules() -> list[ModuleType]:
    return _modules("station_portal.callbacks", [m for f in FEATURES for m in f.callbacks])


def model_modules() -> list[ModuleType]:
    return _modules("station_portal", [m for f in FEATURES for m in f.models])

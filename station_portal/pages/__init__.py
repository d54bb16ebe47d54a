"""The portal's pages: each module holds one page's layout and its component ids.

A page declares its path, title, roles and a ``layout(user, query)`` function
that returns the page skeleton without touching the database; its callbacks
(``station_portal/callbacks``) fill in the data. The router callback checks
the roles before it renders a page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from station_portal.auth.roles import Role
from station_portal.i18n import LazyString


@dataclass(frozen=True)
class Page:
    path: str
    title: LazyString
    roles: frozenset[Role]
    layout: Callable[..., Any]
    icon: str = "bi-circle"
    in_nav: bool = True


@cache
def registry() -> tuple[Page, ...]:
    """Every page, in menu order: the pages of ``features.FEATURES``."""
    from station_portal.features import page_modules

    return tuple(page for module in page_modules()
                 for page in getattr(module, "PAGES", None) or (module.PAGE,))


def resolve(path: str | None) -> Page | None:
    path = (path or "/").rstrip("/") or "/"
    for page in registry():
        if page.path == path:
            return page
    return None


def nav_pages(role: Role) -> list[Page]:
    return [p for p in registry() if p.in_nav and role in p.roles]

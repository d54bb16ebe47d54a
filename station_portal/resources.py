"""Where the portal's non-code inputs live: ``migrations/``, ``data/``, ``assets/``; and
where its runtime state goes (the instance folder).

Two layouts, one set of functions; every reader of those folders goes through here:

- **A checkout** (``pip install -e .``, the tests, ``make run``): the folders sit beside
  the package at the repository root, and state defaults to ``instance/`` there
  (git-ignored).
- **An installed wheel**: the build copies the three folders into the package as
  ``station_portal/_resources/`` (pyproject.toml, ``force-include``), so a wheel needs no
  checkout. State never defaults into site-packages: ``PORTAL_INSTANCE_DIR`` if set,
  else ``$XDG_DATA_HOME/station-portal`` (``~/.local/share/station-portal``). Production
  sets ``PORTAL_INSTANCE_DIR`` (the image: ``/var/lib/station-portal/instance``).
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE / "_resources"  # only in a built wheel (pyproject.toml force-include)
RESOURCES = ("migrations", "data", "assets")


def installed_from_wheel() -> bool:
    """True when the package carries its resources (a wheel), False in a checkout."""
    return _BUNDLED.is_dir()


def package_dir() -> Path:
    """The ``station_portal`` package folder (its code, templates and catalogs)."""
    return _PACKAGE


def repo_root() -> Path:
    """The checkout's root, the folder that holds the package (meaningful in a checkout
    only: for a wheel it is site-packages; tests and developer tools use it)."""
    return _PACKAGE.parent


def resource_dir(name: str) -> Path:
    """The folder ``migrations``, ``data`` or ``assets``: in the wheel, or in the checkout."""
    if name not in RESOURCES:
        raise ValueError(f"unknown resource folder {name!r}; one of {', '.join(RESOURCES)}")
    return (_BUNDLED if installed_from_wheel() else repo_root()) / name


def data_path(*parts: str) -> Path:
    """A file under ``data/`` (inputs only: never runtime state)."""
    return resource_dir("data").joinpath(*parts)


def instance_dir() -> Path:
    """Runtime state (the SQLite database, the demo secret, local uploads).

    ``PORTAL_INSTANCE_DIR`` if set; else ``instance/`` in a checkout (git-ignored); else,
    for an installed wheel, ``$XDG_DATA_HOME/station-portal`` (by default
    ``~/.local/share/station-portal``): never inside site-packages.
    """
    configured = os.environ.get("PORTAL_INSTANCE_DIR")
    if configured:
        return Path(configured).expanduser()
    if not installed_from_wheel():
        return repo_root() / "instance"
    data_home = os.environ.get("XDG_DATA_HOME") or ""
    base = Path(data_home) if Path(data_home).is_absolute() else Path.home() / ".local" / "share"
    return base / "station-portal"

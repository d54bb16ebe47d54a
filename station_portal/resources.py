"""Where the portal's non-code inputs live: ``migrations/``, ``data/``, ``assets/``.

They sit beside the package at the repository root; the portal runs from a
checkout (``pip install -e .``), in development and in production alike.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def repo_root() -> Path:
    """The repository root: the directory that holds the package."""
    return _PACKAGE.parent


def resource_dir(name: str) -> Path:
    """The folder ``migrations``, ``data`` or ``assets``."""
    return repo_root() / name


def data_path(*parts: str) -> Path:
    """A file under ``data/`` (inputs only: never runtime state)."""
    return resource_dir("data").joinpath(*parts)


def instance_dir() -> Path:
    """Runtime state (the SQLite database, the demo secret); git-ignored.

    ``PORTAL_INSTANCE_DIR`` if set, else ``instance/`` in the repository.
    """
    configured = os.environ.get("PORTAL_INSTANCE_DIR")
    return Path(configured) if configured else repo_root() / "instance"

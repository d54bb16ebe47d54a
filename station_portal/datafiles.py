"""The portal's data files (``data/``): one loader and the start-up check.

A :class:`DataFile` names a file, or a folder of ``*.toml`` files, under ``data/`` and
the function that reads and checks it (each domain module keeps its own parser and its
own error messages). ``get()`` returns the checked value, cached until a modification
time changes: an edit on disk is seen on the next call, without a restart.
:func:`check_all` loads every data file of :data:`DATA_FILES` and stops the start with
the file and the reason when one is broken, instead of failing on first use.

Plain Python: no Flask, Dash or database code.
"""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any, Generic, TypeVar

from station_portal.resources import data_path

T = TypeVar("T")

# Every data file the portal reads, as "module:ATTRIBUTE" of its DataFile.
DATA_FILES = (
    "station_portal.org.matrix:MATRIX_FILE",
    "station_portal.org.addresses:STREETS_FILE",
    "station_portal.sla.stages:STAGES_FILE",
    "station_portal.sla.rules:RULES_FILE",
    "station_portal.sla.calendar:CALENDAR_FILE",
    "station_portal.dispatch.travel:DISPATCH_FILE",
    "station_portal.notify.escalation:ESCALATION_FILE",
    "station_portal.hall.catalog:CATALOG_FILE",
    "station_portal.customer.documents:DOCUMENTS_FILE",
    "station_portal.demo.city:CITY_FILE",
    "station_portal.network.rules:NETWORK_FILE",
)


class DataFileError(ValueError):
    """A data file that cannot be read or does not pass its checks."""


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML table of ``path``; a syntax error names the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(f"{path}: {exc}") from exc


def read_text(load: Callable[[str, str], T]) -> Callable[[Path], T]:
    """Adapt a parser of ``(text, origin)``, the usual shape, to a ``DataFile`` reader."""
    return lambda path: load(path.read_text(encoding="utf-8"), str(path))


class DataFile(Generic[T]):
    """``data/<relative>``, read by ``load(path)`` and cached until it changes.

    A folder stands for its ``*.toml`` files. ``depends_on``: files whose change
    invalidates this one too (rule sets are checked against the stage paths). A
    missing file has stamp 0 and is passed to ``load`` all the same (an optional file).
    ``root``: another folder than ``data/`` (a copy to check, in tests).
    """

    def __init__(self, relative: str, load: Callable[[Path], T], *,
                 depends_on: tuple[DataFile[Any], ...] = (), root: Path | None = None) -> None:
        self.relative = relative
        self._load = load
        self.depends_on = depends_on
        self.root = root
        self._lock = threading.Lock()
        self._cached: tuple[object, T] | None = None

    @property
    def path(self) -> Path:
        parts = self.relative.split("/")
        return self.root.joinpath(*parts) if self.root is not None else data_path(*parts)

    def at(self, root: Path) -> DataFile[T]:
        """The same file under another folder, with its own cache."""
        return DataFile(self.relative, self._load, root=root,
                        depends_on=tuple(d.at(root) for d in self.depends_on))

    def stamp(self) -> object:
        path = self.path
        if path.is_dir():
            own: object = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in path.glob("*.toml")))
        else:
            own = path.stat().st_mtime_ns if path.exists() else 0
        return (own, *(d.stamp() for d in self.depends_on))

    def get(self) -> T:
        """The checked contents, re-read when the file (or one it depends on) changed."""
        stamp = self.stamp()
        cached = self._cached
        if cached is not None and cached[0] == stamp:
            return cached[1]
        with self._lock:
            cached = self._cached
            if cached is not None and cached[0] == stamp:
                return cached[1]
            value = self._load(self.path)
            self._cached = (stamp, value)
            return value


def data_files() -> list[DataFile[Any]]:
    files = []
    for ref in DATA_FILES:
        module, attribute = ref.split(":")
        files.append(getattr(import_module(module), attribute))
    return files


def check_all(root: Path | None = None) -> None:
    """Load and check every data file (under ``root`` instead of ``data/`` if given);
    raise :class:`DataFileError` naming the first broken one and the reason (the parsers
    name the key)."""
    for file in data_files():
        if root is not None:
            file = file.at(root)
        try:
            file.get()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            reason = str(exc)
            where = f"data/{file.relative}"
            raise DataFileError(reason if str(file.path) in reason or where in reason
                                else f"{where}: {reason}") from exc

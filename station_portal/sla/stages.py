"""The stages of a connection application and the path each class takes (``data/stages.toml``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from station_portal.i18n import BilingualName
from station_portal.org.models import UnitKind
from station_portal.resources import data_path
from station_portal.sla.rules import CUSTOMER_CLASSES

UTILITY = "utility"
CUSTOMER = "customer"
GRID_WORKS = "grid_works"
LV_SMALL_FIRM = "lv_small_firm"
_ROLES = {"admin", "company_manager", "station_head", "grid_manager", "account_manager", "crew"}


class StageError(ValueError):
    """The stage file is malformed."""


@dataclass(frozen=True)
class Stage(BilingualName):
    code: str
    name_zh: str
    name_en: str
    holder: str  # "utility" or "customer"
    urban: tuple[str, ...]
    rural: tuple[str, ...]
    hv: tuple[str, ...]
    roles: frozenset[str]

    def unit_kinds(self, *, high_voltage: bool, rural: bool) -> tuple[str, ...]:
        if high_voltage:
            return self.hv
        return self.rural if rural else self.urban


@dataclass(frozen=True)
class StageBook:
    stages: dict[str, Stage]
    paths: dict[str, tuple[tuple[str, bool], ...]]  # path name → (stage, important only)
    total_ends_with: str
    small_firm_max_kva: float

    def stage(self, code: str) -> Stage:
        return self.stages[code]

    def path_name(self, customer_class: str, capacity_kva: float | None) -> str:
        if (customer_class == "lv_non_resident" and capacity_kva is not None
                and capacity_kva <= self.small_firm_max_kva):
            return LV_SMALL_FIRM
        return customer_class

    def path_for(self, customer_class: str, *, important: bool,
                 capacity_kva: float | None) -> list[str]:
        """The stages an application goes through, in order."""
        steps = self.paths[self.path_name(customer_class, capacity_kva)]
        return [code for code, important_only in steps if important or not important_only]


def parse_stage_book(text: str, origin: str = "<stages>") -> StageBook:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StageError(f"{origin}: {exc}") from exc
    kinds = {k.value for k in UnitKind}
    stages = {}
    for entry in raw.get("stage", []):
        code = entry.get("code")
        where = f"{origin}: stage {code!r}"
        holder = entry.get("holder", UTILITY)
        if holder not in (UTILITY, CUSTOMER):
            raise StageError(f"{where}: holder must be '{UTILITY}' or '{CUSTOMER}'")
        lists = {key: tuple(entry.get(key, [])) for key in ("urban", "rural", "hv")}
        if holder == UTILITY and not all(lists.values()):
            raise StageError(f"{where}: a utility stage names unit kinds for urban, rural and hv")
        unknown = {k for v in lists.values() for k in v} - kinds
        if unknown:
            raise StageError(f"{where}: unknown unit kinds {sorted(unknown)}")
        roles = frozenset(entry.get("roles", []))
        if not roles or roles - _ROLES:
            raise StageError(f"{where}: roles must be a non-empty list of portal roles")
        stages[code] = Stage(code, entry["name_zh"], entry["name_en"], holder,
                             lists["urban"], lists["rural"], lists["hv"], roles)
    paths = {}
    for name, steps in (raw.get("paths") or {}).items():
        if name not in (*CUSTOMER_CLASSES, LV_SMALL_FIRM):
            raise StageError(f"{origin}: unknown path {name!r}")
        parsed = tuple((s.rstrip("?"), s.endswith("?")) for s in steps)
        missing = [s for s, _opt in parsed if s not in stages]
        if missing:
            raise StageError(f"{origin}: path {name} names unknown stages {missing}")
        paths[name] = parsed
    absent = set(CUSTOMER_CLASSES) - set(paths)
    if absent:
        raise StageError(f"{origin}: no path for {sorted(absent)}")
    total_end = raw.get("total_ends_with", "")
    if total_end not in stages:
        raise StageError(f"{origin}: total_ends_with must name a stage")
    return StageBook(stages, paths, total_end, float(raw.get("small_firm_max_kva", 160)))


def stage_book() -> StageBook:
    path = data_path("stages.toml")
    return _cached(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=2)
def _cached(path: str, _mtime: int) -> StageBook:
    return parse_stage_book(Path(path).read_text(encoding="utf-8"), path)

"""The stages of an application, the path each business and class takes, and the
utility's classification of a customer (``data/stages.toml``).

    book = stage_book()
    book.classify(customer_type="non_resident", load_kw=80, small_firm=True) -> "lv_small_firm"
    book.path_for("name_change", "lv_resident", important=False) -> ["acceptance", …]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from station_portal.datafiles import DataFile, read_text
from station_portal.i18n import BilingualName
from station_portal.org.models import UnitKind
from station_portal.sla.classes import (
    BUSINESSES,
    CUSTOMER_CLASSES,
    HV_CLASSES,
    LV_NON_RESIDENT,
    LV_RESIDENT,
    LV_SMALL_FIRM,
    RESIDENT,
)

UTILITY = "utility"
CUSTOMER = "customer"
GRID_WORKS = "grid_works"
ARCHIVING = "archiving"
_ROLES = {"admin", "company_manager", "station_head", "grid_manager", "account_manager", "crew"}
# The keys a path may be listed under, most specific first for a class.
_GROUP_KEYS = ("lv", "hv", "any")


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


Steps = tuple[tuple[str, bool], ...]  # (stage, important only)


@dataclass(frozen=True, eq=False)  # hashed by identity: one book per version of the file
class StageBook:
    stages: dict[str, Stage]
    paths: dict[str, dict[str, Steps]]  # business → class or group key → steps
    total_ends_with: str
    lv_max_kw: float
    small_firm_max_kw: float
    hv_default_class: str

    def stage(self, code: str) -> Stage:
        return self.stages[code]

    def classify(self, *, customer_type: str, load_kw: float, small_firm: bool) -> str:
        """The class the utility gives an application from what the customer states.

        High voltage starts as the default (single) supply; the supply plan decides.
        """
        if load_kw > self.lv_max_kw:
            return self.hv_default_class
        if customer_type == RESIDENT:
            return LV_RESIDENT
        if small_firm and load_kw <= self.small_firm_max_kw:
            return LV_SMALL_FIRM
        return LV_NON_RESIDENT

    def steps(self, business: str, customer_class: str) -> Steps:
        by_key = self.paths[business]
        group = "hv" if customer_class in HV_CLASSES else "lv"
        for key in (customer_class, group, "any"):
            if key in by_key:
                return by_key[key]
        raise StageError(f"no path for {business}/{customer_class}")

    def path_for(self, business: str, customer_class: str, *, important: bool) -> list[str]:
        """The stages an application goes through, in order."""
        return [code for code, important_only in self.steps(business, customer_class)
                if important or not important_only]

    def total_end(self, path: list[str]) -> str:
        """The stage whose end ends the whole process on this path."""
        if self.total_ends_with in path:
            return self.total_ends_with
        before_archiving = [code for code in path if code != ARCHIVING]
        return before_archiving[-1]


def _parse_steps(steps: object, where: str, stages: dict[str, Stage]) -> Steps:
    if not isinstance(steps, list) or not steps or not all(isinstance(s, str) for s in steps):
        raise StageError(f"{where}: a path is a non-empty list of stage codes")
    parsed = tuple((s.rstrip("?"), s.endswith("?")) for s in steps)
    missing = [s for s, _opt in parsed if s not in stages]
    if missing:
        raise StageError(f"{where}: unknown stages {missing}")
    if parsed[0] != ("acceptance", False):
        raise StageError(f"{where}: a path starts with acceptance")
    return parsed


def _parse_paths(raw: dict, stages: dict[str, Stage], origin: str) -> dict[str, dict[str, Steps]]:
    unknown = set(raw) - set(BUSINESSES)
    if unknown:
        raise StageError(f"{origin}: unknown businesses {sorted(unknown)}")
    paths: dict[str, dict[str, Steps]] = {}
    pending: dict[str, str] = {}
    for business, table in raw.items():
        if not isinstance(table, dict):
            raise StageError(f"{origin}: [paths.{business}] must be a table")
        if "same_as" in table:
            pending[business] = str(table["same_as"])
            continue
        keys = set(table) - set(CUSTOMER_CLASSES) - set(_GROUP_KEYS)
        if keys:
            raise StageError(f"{origin}: [paths.{business}] has unknown keys {sorted(keys)}")
        paths[business] = {key: _parse_steps(steps, f"{origin}: paths.{business}.{key}", stages)
                           for key, steps in table.items()}
    for business, other in pending.items():
        if other not in paths:
            raise StageError(f"{origin}: [paths.{business}] same_as names {other!r}, "
                             "which has no paths of its own")
        paths[business] = paths[other]
    absent = set(BUSINESSES) - set(paths)
    if absent:
        raise StageError(f"{origin}: no path for {sorted(absent)}")
    for business, by_key in paths.items():
        for klass in CUSTOMER_CLASSES:
            group = "hv" if klass in HV_CLASSES else "lv"
            if not {klass, group, "any"} & set(by_key):
                raise StageError(f"{origin}: [paths.{business}] has no path for {klass}")
    return paths


def _threshold(raw: dict, key: str, origin: str) -> float:
    value = raw.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise StageError(f"{origin}: '{key}' must be a positive number of kW")
    return float(value)


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
    paths = _parse_paths(raw.get("paths") or {}, stages, origin)
    total_end = raw.get("total_ends_with", "")
    if total_end not in stages:
        raise StageError(f"{origin}: total_ends_with must name a stage")
    hv_default = raw.get("hv_default_class", "hv_single")
    if hv_default not in HV_CLASSES:
        raise StageError(f"{origin}: hv_default_class must be one of {list(HV_CLASSES)}")
    lv_max = _threshold(raw, "lv_max_kw", origin)
    small_max = _threshold(raw, "small_firm_max_kw", origin)
    if small_max > lv_max:
        raise StageError(f"{origin}: small_firm_max_kw cannot exceed lv_max_kw")
    return StageBook(stages, paths, total_end, lv_max, small_max, hv_default)


STAGES_FILE = DataFile("stages.toml", read_text(parse_stage_book))


def stage_book() -> StageBook:
    """The stage book of ``data/stages.toml`` (re-read when it changes)."""
    return STAGES_FILE.get()

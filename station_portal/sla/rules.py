"""Rule sets: the official time limits, as data under ``data/rules/``.

Each file is one rule set, in force from its ``in_force_from`` date until the
next one starts. Every limit names its source. An application keeps the rule
set in force on its acceptance date; no limit is written in code.

    from station_portal.sla.rules import RuleSet
    rs = RuleSet.in_force(on=date(2026, 3, 1))
    rs.limit("hv_single", "total")      -> Limit(amount=22, unit="workday", …)
    rs.limit("urban", "arrival")        -> Limit(amount=45, unit="minute", …)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from station_portal.resources import data_path

WORKDAY = "workday"
MINUTE = "minute"
# Where a stage's clock starts: with the stage itself (the customer's request,
# the passed inspection …) or at the application's acceptance.
START_STAGE = "stage"
START_ACCEPTED = "accepted"

CUSTOMER_CLASSES = ("lv_resident", "lv_non_resident", "hv_single", "hv_dual")
AREA_TYPES = ("urban", "rural", "remote")


class RuleError(ValueError):
    """A rule file is malformed, or no rule set is in force on a date."""


@dataclass(frozen=True)
class Limit:
    amount: float | None  # None: no published limit (the clock has no due time)
    unit: str | None
    source: str = ""
    start: str = START_STAGE

    @property
    def exists(self) -> bool:
        return self.amount is not None


NO_LIMIT = Limit(None, None, "", START_STAGE)


@dataclass(frozen=True)
class RuleSet:
    id: str
    title_zh: str
    title_en: str
    in_force_from: date
    warn_share: float
    sources: dict[str, str] = field(default_factory=dict)
    limits: dict[tuple[str, str], Limit] = field(default_factory=dict)

    def title(self, locale: str) -> str:
        return self.title_zh if locale.startswith("zh") else self.title_en

    def limit(self, customer_class_or_area: str, stage: str) -> Limit:
        """The limit for a customer class (or a repair's area type) and a stage.

        ``stage`` is ``"total"`` for an application's whole process. A stage without
        a published limit gives :data:`NO_LIMIT`.
        """
        return self.limits.get((customer_class_or_area, stage), NO_LIMIT)

    @classmethod
    def in_force(cls, on: date) -> RuleSet:
        """The rule set in force on a date (the latest that had started by then)."""
        return rule_book().in_force(on)

    @classmethod
    def by_id(cls, rule_set_id: str) -> RuleSet:
        return rule_book().by_id(rule_set_id)


def _parse_limit(raw: object, unit: str, sources: dict[str, str], where: str) -> Limit:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: a limit is a table like {{ amount = 5, source = \"…\" }}")
    amount = raw.get("amount")
    if not isinstance(amount, int | float) or isinstance(amount, bool) or amount <= 0:
        raise RuleError(f"{where}: 'amount' must be a positive number")
    source_key = raw.get("source")
    if not isinstance(source_key, str) or source_key not in sources:
        raise RuleError(f"{where}: 'source' must name an entry of [sources]")
    start = raw.get("start", START_STAGE)
    if start not in (START_STAGE, START_ACCEPTED):
        raise RuleError(f"{where}: 'start' must be '{START_STAGE}' or '{START_ACCEPTED}'")
    return Limit(float(amount), unit, sources[source_key], start)


def parse_rule_set(text: str, origin: str = "<rules>") -> RuleSet:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{origin}: {exc}") from exc
    for key in ("id", "title_zh", "title_en"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise RuleError(f"{origin}: '{key}' is required")
    if not isinstance(raw.get("in_force_from"), date):
        raise RuleError(f"{origin}: 'in_force_from' must be a date (YYYY-MM-DD)")
    warn = raw.get("warn_share", 0.8)
    if not isinstance(warn, int | float) or not 0 < warn < 1:
        raise RuleError(f"{origin}: 'warn_share' must be between 0 and 1")
    sources = {str(k): str(v) for k, v in (raw.get("sources") or {}).items()}
    limits: dict[tuple[str, str], Limit] = {}
    for customer_class, stages in (raw.get("application") or {}).items():
        if customer_class not in CUSTOMER_CLASSES:
            raise RuleError(f"{origin}: unknown customer class [application.{customer_class}]")
        for stage, spec in stages.items():
            where = f"{origin}: application.{customer_class}.{stage}"
            limits[(customer_class, stage)] = _parse_limit(spec, WORKDAY, sources, where)
    for area, stages in (raw.get("repair") or {}).items():
        if area not in AREA_TYPES:
            raise RuleError(f"{origin}: unknown area type [repair.{area}]")
        for stage, spec in stages.items():
            where = f"{origin}: repair.{area}.{stage}"
            limits[(area, stage)] = _parse_limit(spec, MINUTE, sources, where)
    return RuleSet(raw["id"], raw["title_zh"], raw["title_en"], raw["in_force_from"],
                   float(warn), sources, limits)


@dataclass(frozen=True)
class RuleBook:
    """All rule sets, oldest first."""

    rule_sets: tuple[RuleSet, ...]

    def in_force(self, on: date) -> RuleSet:
        chosen = None
        for rule_set in self.rule_sets:
            if rule_set.in_force_from <= on:
                chosen = rule_set
        if chosen is None:
            raise RuleError(f"no rule set is in force on {on}")
        return chosen

    def by_id(self, rule_set_id: str) -> RuleSet:
        for rule_set in self.rule_sets:
            if rule_set.id == rule_set_id:
                return rule_set
        raise RuleError(f"no rule set {rule_set_id!r}")


def load_rule_book(directory: Path) -> RuleBook:
    sets = [parse_rule_set(p.read_text(encoding="utf-8"), str(p))
            for p in sorted(directory.glob("*.toml"))]
    ids = [s.id for s in sets]
    if len(set(ids)) != len(ids):
        raise RuleError(f"{directory}: two rule sets share an id")
    dates = [s.in_force_from for s in sets]
    if len(set(dates)) != len(dates):
        raise RuleError(f"{directory}: two rule sets come into force on the same day")
    return RuleBook(tuple(sorted(sets, key=lambda s: s.in_force_from)))


def rule_book() -> RuleBook:
    """The rule sets under ``data/rules`` (re-read when a file changes)."""
    directory = data_path("rules")
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in directory.glob("*.toml")))
    return _cached_book(str(directory), stamp)


@lru_cache(maxsize=2)
def _cached_book(directory: str, _stamp: tuple) -> RuleBook:
    return load_rule_book(Path(directory))

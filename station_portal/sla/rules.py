"""Rule sets: the official time limits, as data under ``data/rules/``.

Each file is one rule set, in force from its ``in_force_from`` date until the
next one starts. Every limit names its source. An application keeps the rule
set in force on its acceptance date; no limit is written in code.

    from station_portal.sla.rules import RuleSet
    rs = RuleSet.in_force(on=date(2026, 3, 1))
    rs.limit("hv_single", "total")      -> Limit(amount=22, unit="workday", …)
    rs.limit("urban", "arrival")        -> Limit(amount=45, unit="minute", …)
    rs.grid_works_rule("lv_small_firm") -> GridWorksRule("separate_limit", 15, …)

A rule set must fit the stage book: on every path of a business that has a
whole-process limit, the utility's stage limits add up to no more than that
limit (:func:`check_against_paths`, run when the rule sets are loaded).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from station_portal.datafiles import DataFile
from station_portal.sla.classes import BUSINESSES, CUSTOMER_CLASSES
from station_portal.sla.stages import STAGES_FILE, UTILITY, StageBook, stage_book

WORKDAY = "workday"
MINUTE = "minute"
# Where a stage's clock starts: with the stage itself (the customer's request,
# the passed inspection …) or at the application's acceptance.
START_STAGE = "stage"
START_ACCEPTED = "accepted"

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

# What supporting grid works (配套电网工程) do to an application's whole-process limit.
GW_INCLUDED = "included"  # counted inside it: nothing changes
GW_SEPARATE = "separate_limit"  # a limit of its own applies instead
GW_EXTENSION = "extension"  # the limit grows by ``amount`` working days
GW_NONE = "none"  # the rule set says nothing: the limit stands
GRID_WORKS_RULES = (GW_INCLUDED, GW_SEPARATE, GW_EXTENSION)


@dataclass(frozen=True)
class GridWorksRule:
    rule: str
    amount: float | None = None
    source: str = ""
    # The stage that waits on the works (e.g. the connection): the working days the rule
    # adds to the whole process are added to its limit too, so it is not late for them.
    stage: str | None = None

    def extra_days(self, total: Limit) -> float:
        """Working days the rule adds to the whole process (0 when it adds none)."""
        longer = self.total_with_works(total)
        if not longer.exists or not total.exists:
            return 0.0
        return max(longer.amount - total.amount, 0.0)  # type: ignore[operator]

    def total_with_works(self, total: Limit) -> Limit:
        """The whole-process limit of an application that waits on grid works."""
        if self.rule == GW_SEPARATE and self.amount is not None:
            return Limit(self.amount, WORKDAY, self.source, total.start)
        if self.rule == GW_EXTENSION and self.amount is not None and total.exists:
            return Limit(total.amount + self.amount, WORKDAY,  # type: ignore[operator]
                         f"{total.source}; {self.source}", total.start)
        return total


NO_GRID_WORKS_RULE = GridWorksRule(GW_NONE)

# A clock is "at risk" (the warning) once this share of its limit has passed: the
# default of a rule set's ``warn_share``, and the share the hall's counter timer turns
# amber at (``hall.queue.timer_state``, ``assets/hall.js`` reads it from the page).
DEFAULT_WARN_SHARE = 0.8


@dataclass(frozen=True)
class RuleSet:
    id: str
    title_zh: str
    title_en: str
    in_force_from: date
    warn_share: float
    sources: dict[str, str] = field(default_factory=dict)
    limits: dict[tuple[str, str], Limit] = field(default_factory=dict)
    whole_process_businesses: frozenset[str] = frozenset()
    grid_works: dict[str, GridWorksRule] = field(default_factory=dict)
    in_force_note: str = ""

    def title(self, locale: str) -> str:
        return self.title_zh if locale.startswith("zh") else self.title_en

    def limit(self, customer_class_or_area: str, stage: str) -> Limit:
        """The limit for a customer class (or a repair's area type) and a stage.

        ``stage`` is ``"total"`` for an application's whole process. A stage without
        a published limit gives :data:`NO_LIMIT`.
        """
        return self.limits.get((customer_class_or_area, stage), NO_LIMIT)

    def stage_limit(self, business: str | None, customer_class: str, stage: str, *,
                    grid_works: bool = False) -> Limit:
        """A stage's limit; while the application waits on grid works, the stage the rule
        names gets the working days the rule adds to the whole process."""
        limit = self.limit(customer_class, stage)
        rule = self.grid_works_rule(customer_class)
        if not grid_works or rule.stage != stage or not limit.exists:
            return limit
        extra = rule.extra_days(self.limit(customer_class, "total")) \
            if business in self.whole_process_businesses else 0.0
        if not extra:
            return limit
        return Limit(limit.amount + extra, limit.unit,  # type: ignore[operator]
                     f"{limit.source}; {rule.source}", limit.start)

    def total_for(self, business: str | None, customer_class: str, *,
                  grid_works: bool = False) -> Limit:
        """The whole-process limit of an application (none for a business it does not cover)."""
        if business not in self.whole_process_businesses:
            return NO_LIMIT
        total = self.limit(customer_class, "total")
        return self.grid_works_rule(customer_class).total_with_works(total) if grid_works \
            else total

    def grid_works_rule(self, customer_class: str) -> GridWorksRule:
        return self.grid_works.get(customer_class, NO_GRID_WORKS_RULE)

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


def _parse_grid_works(raw: object, sources: dict[str, str], origin: str) -> dict[str, GridWorksRule]:
    if not isinstance(raw, dict):
        raise RuleError(f"{origin}: [grid_works] must be a table per customer class")
    rules: dict[str, GridWorksRule] = {}
    for customer_class, spec in raw.items():
        where = f"{origin}: grid_works.{customer_class}"
        if customer_class not in CUSTOMER_CLASSES or not isinstance(spec, dict):
            raise RuleError(f"{where}: unknown customer class")
        rule = spec.get("rule")
        if rule not in GRID_WORKS_RULES:
            raise RuleError(f"{where}: 'rule' must be one of {list(GRID_WORKS_RULES)}")
        source_key = spec.get("source")
        if not isinstance(source_key, str) or source_key not in sources:
            raise RuleError(f"{where}: 'source' must name an entry of [sources]")
        amount = spec.get("amount")
        if rule == GW_INCLUDED:
            if amount is not None:
                raise RuleError(f"{where}: an 'included' rule has no amount")
        elif not isinstance(amount, int | float) or isinstance(amount, bool) or amount <= 0:
            raise RuleError(f"{where}: 'amount' must be a positive number of working days")
        stage = spec.get("stage")
        if stage is not None and (not isinstance(stage, str) or rule == GW_INCLUDED):
            raise RuleError(f"{where}: 'stage' names the stage that waits on the works "
                            "(not for an 'included' rule)")
        rules[customer_class] = GridWorksRule(rule, float(amount) if amount else None,
                                              sources[source_key], stage)
    return rules


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
    warn = raw.get("warn_share", DEFAULT_WARN_SHARE)
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
    businesses = raw.get("whole_process_businesses", [])
    if not isinstance(businesses, list) or set(businesses) - set(BUSINESSES):
        raise RuleError(f"{origin}: 'whole_process_businesses' must list businesses of "
                        f"{list(BUSINESSES)}")
    grid_works = _parse_grid_works(raw.get("grid_works") or {}, sources, origin)
    return RuleSet(raw["id"], raw["title_zh"], raw["title_en"], raw["in_force_from"],
                   float(warn), sources, limits, frozenset(businesses), grid_works,
                   str(raw.get("in_force_note", "")))


def check_against_paths(rule_set: RuleSet, book: StageBook) -> list[str]:
    """Every way the rule set's stage limits overrun its whole-process limits.

    For each business the whole-process limit covers, each class, the plain and the
    important path, without and with grid works: the limits of the utility's stages up
    to the end of the whole process must add up to no more than the whole-process
    limit. Counting them one after another is the worst case: a stage timed from
    acceptance overlaps the stages before it.
    """
    problems = []
    for business in sorted(rule_set.whole_process_businesses):
        for customer_class in CUSTOMER_CLASSES:
            for grid_works in (False, True):
                total = rule_set.total_for(business, customer_class, grid_works=grid_works)
                if not total.exists:
                    continue
                for important in (False, True):
                    path = book.path_for(business, customer_class, important=important)
                    end = path.index(book.total_end(path))
                    parts = [(code, rule_set.stage_limit(business, customer_class, code,
                                                         grid_works=grid_works).amount)
                             for code in path[:end + 1] if book.stage(code).holder == UTILITY]
                    parts = [(code, amount) for code, amount in parts if amount is not None]
                    used = sum(amount for _code, amount in parts)
                    if used > total.amount:  # type: ignore[operator]
                        listed = " + ".join(f"{code} {amount:g}" for code, amount in parts)
                        problems.append(
                            f"{rule_set.id}: {business}/{customer_class}"
                            f"{' (important)' if important else ''}"
                            f"{' with grid works' if grid_works else ''}: {listed} = {used:g} "
                            f"working days, {used - total.amount:g} more than the "  # type: ignore[operator]
                            f"whole-process limit of {total.amount:g}")
    return problems


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


def load_rule_book(directory: Path, book: StageBook | None = None) -> RuleBook:
    """The rule sets of a folder, each checked against the stage book's paths."""
    sets = [parse_rule_set(p.read_text(encoding="utf-8"), str(p))
            for p in sorted(directory.glob("*.toml"))]
    book = book or stage_book()
    problems = [problem for s in sets for problem in check_against_paths(s, book)]
    if problems:
        raise RuleError("stage limits exceed the whole-process limit:\n  " + "\n  ".join(problems))
    ids = [s.id for s in sets]
    if len(set(ids)) != len(ids):
        raise RuleError(f"{directory}: two rule sets share an id")
    dates = [s.in_force_from for s in sets]
    if len(set(dates)) != len(dates):
        raise RuleError(f"{directory}: two rule sets come into force on the same day")
    return RuleBook(tuple(sorted(sets, key=lambda s: s.in_force_from)))


# Checked against the stage paths at load: a change to data/stages.toml re-checks them.
RULES_FILE = DataFile("rules", lambda directory: load_rule_book(directory, stage_book()),
                      depends_on=(STAGES_FILE,))


def rule_book() -> RuleBook:
    """The rule sets under ``data/rules`` (re-read when a file changes)."""
    return RULES_FILE.get()

"""docs/DOMAIN-RULES.md states every working-day limit of the shipped rule sets, as they are."""

from __future__ import annotations

import re
from pathlib import Path

from station_portal.sla.classes import CUSTOMER_CLASSES
from station_portal.sla.rules import rule_book

DOC = Path(__file__).resolve().parents[2] / "docs" / "DOMAIN-RULES.md"
STAGES = ("total", "supply_plan", "design_review", "mid_inspection", "completion_inspection",
          "connection")


def tables() -> dict[str, dict[str, list[str]]]:
    """Each rule set's table in the document: class → the cells of its row."""
    out: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        named = re.match(r"^`(sgcc-[a-z0-9-]+)` \(", line)
        if named:
            current = named.group(1)
            out[current] = {}
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if current and len(cells) == len(STAGES) + 1 and cells[0].split(" ")[0] in CUSTOMER_CLASSES:
            out[current][cells[0].split(" ")[0]] = cells[1:]
    return out


def test_the_document_lists_every_working_day_limit_of_every_rule_set():
    documented = tables()
    for rule_set in rule_book().rule_sets:
        assert rule_set.id in documented, rule_set.id
        for klass in CUSTOMER_CLASSES:
            limits = [rule_set.limit(klass, stage) for stage in STAGES]
            expected = [f"{limit.amount:g}" if limit.exists else "–" for limit in limits]
            assert documented[rule_set.id][klass] == expected, (rule_set.id, klass)


def test_the_document_names_each_rule_sets_start_date():
    text = DOC.read_text(encoding="utf-8")
    for rule_set in rule_book().rule_sets[1:]:
        assert rule_set.in_force_from.isoformat() in text

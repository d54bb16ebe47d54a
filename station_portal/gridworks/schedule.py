"""Milestone arithmetic of a grid-works project: pure functions, no database.

Plans are plain local calendar dates (项目计划按自然日): a milestone is late
from the day after its planned date while it has no actual date, and a
project is late while any of its milestones is. Late-by is counted in calendar
days from the earliest such planned date. The expected energise date is the
current plan of the ``energised`` milestone (its latest replan), or its actual
date once it happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from station_portal.gridworks.models import ENERGISED


class MilestoneLike(Protocol):
    code: str
    planned_on: date
    actual_on: date | None


@dataclass(frozen=True)
class Progress:
    next_code: str | None  # the first milestone without an actual date; None once energised
    next_planned_on: date | None
    expected_energise_on: date | None
    late_by_days: int  # 0 when on time

    @property
    def late(self) -> bool:
        return self.late_by_days > 0


def progress(milestones: Sequence[MilestoneLike], today: date) -> Progress:
    """Where a project stands on ``today`` (milestones in their order)."""
    open_ones = [m for m in milestones if m.actual_on is None]
    nxt = open_ones[0] if open_ones else None
    overdue = [m.planned_on for m in open_ones if m.planned_on < today]
    energise = next((m for m in milestones if m.code == ENERGISED), None)
    expected = None if energise is None else (energise.actual_on or energise.planned_on)
    return Progress(
        next_code=nxt.code if nxt else None,
        next_planned_on=nxt.planned_on if nxt else None,
        expected_energise_on=expected,
        late_by_days=(today - min(overdue)).days if overdue else 0,
    )


def push_later(planned: list[date], index: int, new_date: date,
               done: Sequence[bool]) -> list[date]:
    """Plans after replanning milestone ``index`` to ``new_date``.

    Later milestones that are still open and would fall before their
    predecessor are pushed to its date — only as far as needed, so slack in
    the plan absorbs a slip. Earlier milestones are never moved.
    """
    out = list(planned)
    out[index] = new_date
    for i in range(index + 1, len(out)):
        if not done[i] and out[i] < out[i - 1]:
            out[i] = out[i - 1]
    return out

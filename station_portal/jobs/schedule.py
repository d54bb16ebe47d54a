"""When a job runs: a fixed period from a local reference instant.

Every schedule is "every ``period`` seconds, ``offset`` seconds after a Monday
midnight (Asia/Shanghai)": every minute, daily at 01:30, Mondays at 06:00 are
all this shape. So the scheduled time a run belongs to (its *slot*) is plain
arithmetic, the same in every process, and the number of runs missed between
two slots is a division. China keeps no daylight-saving time, so local days and
weeks are fixed spans.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.interval import IntervalTrigger

LOCAL = ZoneInfo("Asia/Shanghai")
# A Monday, 00:00 local time: the origin of every slot.
ORIGIN = datetime(2024, 1, 1, tzinfo=LOCAL)
MINUTE, DAY, WEEK = 60, 86_400, 7 * 86_400


@dataclass(frozen=True)
class Schedule:
    period: int  # seconds
    offset: int = 0  # seconds after the origin (a Monday, 00:00 local)

    @classmethod
    def every(cls, seconds: int, offset: int = 0) -> Schedule:
        return cls(seconds, offset)

    @classmethod
    def daily(cls, hour: int, minute: int = 0) -> Schedule:
        return cls(DAY, hour * 3600 + minute * 60)

    @classmethod
    def weekly(cls, weekday: int, hour: int, minute: int = 0) -> Schedule:
        """``weekday`` 0 is Monday."""
        return cls(WEEK, weekday * DAY + hour * 3600 + minute * 60)

    def __post_init__(self) -> None:
        if self.period < 1 or not 0 <= self.offset < self.period:
            raise ValueError(f"bad schedule: every {self.period} s at +{self.offset} s")

    @property
    def first(self) -> datetime:
        return (ORIGIN + timedelta(seconds=self.offset)).astimezone(UTC)

    def latest(self, now: datetime) -> datetime:
        """The last slot at or before ``now``."""
        n = int((now - self.first).total_seconds() // self.period)
        return self.first + timedelta(seconds=n * self.period)

    def next_after(self, slot: datetime) -> datetime:
        return self.latest(slot) + timedelta(seconds=self.period)

    def missed_between(self, last: datetime | None, slot: datetime) -> int:
        """Slots strictly between the last recorded run and ``slot`` (never negative)."""
        if last is None:
            return 0
        return max(int((slot - last).total_seconds() // self.period) - 1, 0)

    def trigger(self) -> IntervalTrigger:
        """The APScheduler trigger that fires at every slot."""
        return IntervalTrigger(seconds=self.period, start_date=self.first, timezone=UTC)

    def describe(self) -> str:
        if self.period == WEEK:
            at = ORIGIN + timedelta(seconds=self.offset)
            return f"weekly {at:%a %H:%M}"
        if self.period == DAY:
            at = ORIGIN + timedelta(seconds=self.offset)
            return f"daily {at:%H:%M}"
        return f"every {self.period} s"

"""The Chinese working-day calendar and Civil Code counting of periods.

Working days are Monday–Friday, minus statutory holidays, plus the make-up
working days (调休) on weekends. Years come from the ``chinese-calendar``
package and from ``data/calendar/overrides.toml`` (an administrator adds the
State Council's schedule for a year the package does not know yet, or a local
change). A year neither covers gets its holidays computed from the law
(:mod:`station_portal.sla.holidays`: the statutory days and their make-up days
off, no make-up working days, which only the State Council's notice sets); such
a year is not *covered*, and deadlines that depend on one of its days are
*provisional* and say so.

Counting (Civil Code arts. 201–203): the day the clock starts does not count;
a period of n working days ends at 24:00 Asia/Shanghai of the n-th working day
after the start day.

Everything is built on a *working-time ordinal*: the number of working days
(fractional) elapsed since the calendar's first day, counting only time inside
working days. A deadline is ordinal arithmetic, a pause adds its working time,
and a million deadlines are one vectorised lookup (``*_many`` methods).

    from station_portal.sla.calendar import WorkCalendar
    cal = WorkCalendar.default()
    cal.is_workday(date)                  -> bool
    cal.add_workdays(start, n)            -> datetime (tz-aware, 24:00 Shanghai)
    cal.workdays_between(start, end)      -> float (working days)
    cal.year_days(2027)                   -> the year's holidays and make-up working days
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from station_portal.datafiles import DataFile
from station_portal.sla import holidays as law
from station_portal.timefmt import SHANGHAI
from station_portal.validate import FIRST_DAY, LAST_DAY

SECONDS_PER_DAY = 86_400
# Midnight Shanghai of FIRST_DAY as a Unix timestamp (Shanghai has no DST since 1991).
_EPOCH = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=SHANGHAI).timestamp()


class CalendarError(ValueError):
    """A date outside the calendar's range, or a malformed override file."""


@dataclass(frozen=True)
class YearSource:
    year: int
    source: str  # "chinese-calendar 1.11.0", "override: <notice>", "computed from the law (provisional): …"
    kind: str = "package"  # "package", "override", "law" (computed) or "fallback" (Mon–Fri)

    @property
    def covered(self) -> bool:
        """True if an official schedule (the package or an override) gives the year."""
        return self.kind in ("package", "override")


@dataclass(frozen=True)
class CalendarDay:
    """A day of :meth:`WorkCalendar.year_days`: a holiday or a make-up working day."""

    day: date
    workday: bool      # False: a day off (holiday, make-up day off); True: a make-up working day
    label: str         # what the day is, e.g. "National Day" or "补假 make-up day off for …"
    provisional: bool  # the year is not covered: the day is computed from the law


def _day_index(d: date) -> int:
    if not FIRST_DAY <= d <= LAST_DAY:
        raise CalendarError(f"{d} is outside the calendar ({FIRST_DAY} to {LAST_DAY})")
    return (d - FIRST_DAY).days


def _load_overrides(path: Path) -> tuple[dict[date, bool], dict[int, str]]:
    """Day overrides (True: working day) and the years they fully describe."""
    if not path.exists():
        return {}, {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(f"{path}: {exc}") from exc
    days: dict[date, bool] = {}
    years: dict[int, str] = {}
    for key, spec in (raw.get("year") or {}).items():
        try:
            year = int(key)
        except ValueError as exc:
            raise CalendarError(f"{path}: [year.{key}] is not a year") from exc
        source = str(spec.get("source", "")).strip()
        if not source:
            raise CalendarError(f"{path}: [year.{key}] needs a 'source' (the official notice)")
        years[year] = source
        for kind, value in (("holidays", False), ("workdays", True)):
            for item in spec.get(kind, []):
                day = item if type(item) is date else None  # a datetime is not a day
                if day is None or day.year != year:
                    raise CalendarError(f"{path}: [year.{key}] {kind} has {item!r}, not a {year} date")
                days[day] = value
    for entry in raw.get("day", []):
        day, kind = entry.get("date"), entry.get("kind")
        if type(day) is not date or kind not in ("holiday", "workday"):
            raise CalendarError(f"{path}: [[day]] needs date = YYYY-MM-DD and kind = holiday|workday")
        days[day] = kind == "workday"
    return days, years


class WorkCalendar:
    """Working days from FIRST_DAY to LAST_DAY, as arrays for fast arithmetic."""

    def __init__(self, holidays: set[date], makeup_workdays: set[date],
                 covered_years: dict[int, str], overrides: dict[date, bool] | None = None, *,
                 computed_years: dict[int, str] | None = None,
                 labels: dict[date, str] | None = None) -> None:
        """``covered_years`` maps a year to its official source ("override: …" for an override);
        ``computed_years`` maps a year whose holidays were computed from the law to the law's
        version; any other year is Monday–Friday. ``labels`` names the days (for :meth:`year_days`).
        """
        n_days = (LAST_DAY - FIRST_DAY).days + 1
        days = np.arange(n_days)
        weekday = (days + FIRST_DAY.weekday()) % 7  # 0 = Monday
        work = weekday < 5
        for d in holidays:
            if FIRST_DAY <= d <= LAST_DAY:
                work[_day_index(d)] = False
        for d in makeup_workdays:
            if FIRST_DAY <= d <= LAST_DAY:
                work[_day_index(d)] = True
        for d, is_work in (overrides or {}).items():
            if FIRST_DAY <= d <= LAST_DAY:
                work[_day_index(d)] = is_work
        self._work = work
        # cum[i] = working days strictly before day i; cum[n_days] = all of them.
        self._cum = np.concatenate([[0], np.cumsum(work, dtype=np.int64)])
        covered = np.zeros(n_days, dtype=bool)
        years = {}
        for year in range(FIRST_DAY.year, LAST_DAY.year + 1):
            source = covered_years.get(year)
            if source:
                kind = "override" if source.startswith("override") else "package"
                years[year] = YearSource(year, source, kind)
            elif year in (computed_years or {}):
                years[year] = YearSource(year, f"computed from the law (provisional): "
                                               f"{computed_years[year]}", "law")
            else:
                years[year] = YearSource(year, "fallback (Mon–Fri)", "fallback")
            if source:
                start = _day_index(date(year, 1, 1))
                covered[start:_day_index(date(year, 12, 31)) + 1] = True
        self._covered = covered
        # Uncovered days before day i, to test a range for provisional days in O(1).
        self._uncovered_cum = np.concatenate([[0], np.cumsum(~covered, dtype=np.int64)])
        self.years = years
        self._labels = dict(labels or {})

    # -- construction ------------------------------------------------------
    @classmethod
    def default(cls) -> WorkCalendar:
        """chinese-calendar plus ``data/calendar/overrides.toml`` (re-read when it changes)."""
        return CALENDAR_FILE.get()

    @classmethod
    def from_sources(cls, override_path: Path | None = None) -> WorkCalendar:
        """The package's years and the override file; every other year computed from the law.

        A ``[year.N]`` table is N's official schedule: for a year the package
        does not know, the law's computed days are then not used. ``[[day]]``
        entries apply on top of any year.
        """
        import chinese_calendar
        from chinese_calendar import constants

        package_years = {d.year for d in constants.holidays} | {d.year for d in constants.workdays}
        covered = {}
        for year in range(min(package_years), max(package_years) + 1):
            try:
                chinese_calendar.is_workday(date(year, 6, 1))
            except NotImplementedError:
                continue
            covered[year] = f"chinese-calendar {getattr(chinese_calendar, '__version__', '')}".strip()
        overrides, override_years = _load_overrides(override_path) if override_path else ({}, {})
        for year, source in override_years.items():
            covered[year] = f"override: {source}"
        holidays = set(constants.holidays)
        labels = {d: str(name) for d, name in constants.holidays.items()}
        labels |= {d: f"make-up working day (调休) for {name}" for d, name in constants.workdays.items()}
        computed: dict[int, str] = {}
        for year in range(FIRST_DAY.year, LAST_DAY.year + 1):
            if year in covered:
                continue  # the State Council's schedule, from the package or an override
            computed[year] = law.law_version(year).citation
            for day in law.law_holidays(year):
                holidays.add(day.day)
                labels[day.day] = f"{labels[day.day]}; {day.describe()}" if day.day in labels \
                    else day.describe()
        for day, is_work in overrides.items():
            labels[day] = "override: make-up working day" if is_work else "override: holiday"
        return cls(holidays, set(constants.workdays), covered, overrides,
                   computed_years=computed, labels=labels)

    # -- days ----------------------------------------------------------------
    def is_workday(self, d: date) -> bool:
        return bool(self._work[_day_index(d)])

    def is_covered(self, d: date) -> bool:
        """True if an official schedule (package or override) covers the day's year."""
        return bool(self._covered[_day_index(d)])

    def year_days(self, year: int) -> list[CalendarDay]:
        """The year's holidays and make-up working days, by date.

        Listed: every weekday that is not a working day, every weekend day that
        is one, and every named holiday on a weekend (the reason for a make-up
        day off). Ordinary weekends are not.
        """
        if year not in self.years:
            raise CalendarError(f"{year} is outside the calendar ({FIRST_DAY.year}–{LAST_DAY.year})")
        provisional = not self.years[year].covered
        first = _day_index(date(year, 1, 1))
        days = []
        for i in range(first, _day_index(date(year, 12, 31)) + 1):
            d = FIRST_DAY + timedelta(days=i)
            work = bool(self._work[i])
            label = self._labels.get(d)
            if work == (d.weekday() < 5) and (work or label is None):
                continue
            days.append(CalendarDay(d, work, label or ("working day" if work else "holiday"),
                                    provisional))
        return days

    def provisional_between(self, start: datetime, end: datetime) -> bool:
        """True if any day from start's to end's falls in a year nothing covers.

        ``end`` is exclusive: a deadline at 24:00 of 31 December does not touch
        the next year.
        """
        return bool(self.provisional_many(np.array([_timestamp(start)]),
                                          np.array([_timestamp(end)]))[0])

    def provisional_many(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`provisional_between` over Unix timestamps."""
        a = np.floor((np.asarray(starts, dtype=float) - _EPOCH) / SECONDS_PER_DAY).astype(np.int64)
        b = np.floor((np.asarray(ends, dtype=float) - 1e-6 - _EPOCH) / SECONDS_PER_DAY) \
            .astype(np.int64)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        if lo.size and (lo.min() < 0 or hi.max() >= len(self._work)):
            raise CalendarError("an instant lies outside the calendar's range")
        return self._uncovered_cum[hi + 1] - self._uncovered_cum[lo] > 0

    # -- instants <-> working-time ordinals ----------------------------------
    def ordinal(self, instant: datetime) -> float:
        """Working days elapsed from FIRST_DAY 00:00 Shanghai to ``instant``."""
        return float(self.ordinals(np.array([_timestamp(instant)]))[0])

    def instant(self, ordinal: float) -> datetime:
        """The instant when ``ordinal`` working days have elapsed (24:00 for a whole number)."""
        seconds = float(self.instants(np.array([ordinal], dtype=float))[0])
        return datetime.fromtimestamp(seconds, tz=UTC).astimezone(SHANGHAI)

    def ordinals(self, timestamps: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`ordinal` over Unix timestamps (seconds)."""
        offset = np.asarray(timestamps, dtype=float) - _EPOCH
        day = np.floor(offset / SECONDS_PER_DAY).astype(np.int64)
        if day.size and (day.min() < 0 or day.max() >= len(self._work)):
            raise CalendarError("an instant lies outside the calendar's range")
        fraction = offset / SECONDS_PER_DAY - day
        return self._cum[day] + np.where(self._work[day], fraction, 0.0)

    def instants(self, ordinals: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`instant`: Unix timestamps (seconds) for working-time ordinals.

        A whole number k maps to 24:00 of the day on which the k-th working day
        ends (not to 00:00 of the next working day, which may be days later).
        """
        ords = np.asarray(ordinals, dtype=float)
        whole = np.ceil(ords).astype(np.int64)  # the working day that is in progress (1-based)
        if whole.size and (whole.min() < 1 or whole.max() > self._cum[-1]):
            raise CalendarError("a working-time ordinal lies outside the calendar's range")
        # The day index d of the whole-th working day: cum[d] == whole - 1 and work[d].
        day = np.searchsorted(self._cum, whole, side="left") - 1
        fraction = ords - (whole - 1)
        return _EPOCH + (day + fraction) * SECONDS_PER_DAY

    # -- the interface other parts rely on -----------------------------------
    def add_workdays(self, start: datetime, n: int) -> datetime:
        """24:00 Shanghai of the n-th working day after ``start``'s day (the start day not counted)."""
        if n < 0:
            raise ValueError("n must not be negative")
        seconds = float(self.add_workdays_many(np.array([_timestamp(start)]), np.array([n]))[0])
        return datetime.fromtimestamp(seconds, tz=UTC).astimezone(SHANGHAI)

    def add_workdays_many(self, starts: np.ndarray, n: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`add_workdays` over Unix timestamps; returns Unix timestamps."""
        offset = np.asarray(starts, dtype=float) - _EPOCH
        day = start_days(offset)
        if day.size and (day.min() < 0 or day.max() >= len(self._work)):
            raise CalendarError("a start lies outside the calendar's range")
        # Working days up to and including the start day, then n more.
        target = self._cum[day + 1] + np.asarray(n, dtype=np.int64)
        zero = target == self._cum[day + 1]
        ends = self.instants(np.maximum(target, 1).astype(float))
        # n = 0: the period ends with the start day itself.
        return np.where(zero, _EPOCH + (day + 1) * SECONDS_PER_DAY, ends)

    def workdays_between(self, start: datetime, end: datetime) -> float:
        """Working time between two instants, in working days (negative if end < start)."""
        return self.ordinal(end) - self.ordinal(start)


def start_days(offset: np.ndarray) -> np.ndarray:
    """The day a period starting at each offset (seconds from FIRST_DAY 00:00 Shanghai) starts
    on: its own day, except that an instant at exactly midnight is 24:00 of the day before —
    a stage done at its due time (24:00) hands over on that day, and the next stage's start
    day (not counted) is that same day, not the following one."""
    days = offset / SECONDS_PER_DAY
    return np.where(days > 0, np.ceil(days) - 1, np.floor(days)).astype(np.int64)


def _timestamp(instant: datetime) -> float:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: give instants with a time zone")
    return instant.timestamp()


# The overrides file is optional: without it, the package's years and the law.
CALENDAR_FILE = DataFile("calendar/overrides.toml", WorkCalendar.from_sources)


def local_midnight(d: date) -> datetime:
    """00:00 Shanghai of a date."""
    return datetime(d.year, d.month, d.day, tzinfo=SHANGHAI)


def end_of_day(d: date) -> datetime:
    """24:00 Shanghai of a date (00:00 of the next day)."""
    return local_midnight(d) + timedelta(days=1)

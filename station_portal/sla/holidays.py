"""Statutory holidays computed from the law, for a year without a State Council notice.

Each year the State Council's notice (usually in November, for the next year)
fixes the holidays *and* moves weekends around (调休) to make longer breaks.
Until it is out, the working-day calendar still needs the year: this module
computes what the law alone says, and the calendar marks such a year
provisional.

The law is 《全国年节及纪念日放假办法》:

* art. 2 lists the holidays of all citizens. Since the revision by State
  Council order No. 795 (2024-11-10, in force 2025-01-01): New Year's Day 1 day
  (1 January); Spring Festival 4 days (农历除夕, 正月初一至初三); Qingming 1 day
  (the day of the solar term 清明); Labour Day 2 days (1–2 May); Dragon Boat
  Festival 1 day (农历五月初五); Mid-Autumn Festival 1 day (农历八月十五);
  National Day 3 days (1–3 October). Earlier versions are in ``LAW_VERSIONS``
  and apply by year, so every year of the calendar (2000 on) can be computed.
* art. 6: a holiday of all citizens falling on a Saturday or Sunday is made up
  on a working day (补假). Here it is made up on the next weekday after it that
  is not already a holiday (or a make-up day off). The law does not say what
  happens when two holidays fall on the same day (Mid-Autumn on 1–3 October);
  the notices of 2009 and 2020 gave that day back too, so it is made up the
  same way.

Not computed: the make-up *working* days on weekends (调休) and any bridge
days, which only the notice sets. Lunar dates come from ``lunardate`` (除夕 is
the day before 正月初一, the 29th or the 30th of the twelfth month); 清明 from
``chinese_calendar.get_solar_terms`` (checked against an ephemeris for
2000–2060). Pure: no database, no Dash.

    from station_portal.sla.holidays import law_holidays
    law_holidays(2027)   -> [LawDay(date(2027, 1, 1), "元旦", ...), ...]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

FIRST_YEAR = 2000  # the 1999 version was in force on 1 January 2000
LAST_YEAR = 2099   # lunardate's table ends with lunar year 2099


@dataclass(frozen=True)
class LawVersion:
    """One version of art. 2 of 《全国年节及纪念日放假办法》."""

    order: str                        # the State Council order that made it
    in_force: date                    # applies to the years from this one's
    spring_festival: tuple[int, ...]  # days relative to 正月初一 (-1 is 除夕)
    labour_day: tuple[int, ...]       # days of May
    traditional: bool                 # Qingming, Dragon Boat and Mid-Autumn are holidays

    @property
    def citation(self) -> str:
        return f"《全国年节及纪念日放假办法》, {self.order} (in force {self.in_force.isoformat()})"


LAW_VERSIONS: tuple[LawVersion, ...] = (
    LawVersion("国务院令第270号", date(1999, 9, 18), (0, 1, 2), (1, 2, 3), traditional=False),
    LawVersion("国务院令第513号", date(2008, 1, 1), (-1, 0, 1), (1,), traditional=True),
    LawVersion("国务院令第644号", date(2014, 1, 1), (0, 1, 2), (1,), traditional=True),
    LawVersion("国务院令第795号", date(2025, 1, 1), (-1, 0, 1, 2), (1, 2), traditional=True),
)

_SPRING_DAY_NAMES = {-1: "除夕", 0: "初一", 1: "初二", 2: "初三"}
_ENGLISH = {
    "元旦": "New Year's Day",
    "春节": "Spring Festival",
    "清明节": "Qingming",
    "劳动节": "Labour Day",
    "端午节": "Dragon Boat Festival",
    "中秋节": "Mid-Autumn Festival",
    "国庆节": "National Day",
}


@dataclass(frozen=True)
class LawDay:
    """A day off under the law: a statutory holiday, or the make-up day off (补假) for one."""

    day: date
    name: str                       # the holiday, e.g. "春节"
    detail: str = ""                # e.g. "除夕"
    makeup_for: date | None = None  # on a 补假 day: the holiday day it makes up

    @property
    def english(self) -> str:
        return _ENGLISH[self.name]

    @property
    def is_makeup(self) -> bool:
        return self.makeup_for is not None

    def describe(self) -> str:
        what = f"{self.name} {self.english}" + (f" ({self.detail})" if self.detail else "")
        if self.makeup_for is None:
            return what
        return f"补假 make-up day off for {what} of {self.makeup_for.isoformat()}"


def law_version(year: int) -> LawVersion:
    """The version of the law that sets the holidays of ``year``."""
    _check_year(year)
    return [v for v in LAW_VERSIONS if v.in_force.year <= year][-1]


def law_holidays(year: int) -> list[LawDay]:
    """The statutory holidays of ``year`` and their make-up days off, by date.

    Two holidays on the same date give two entries for it (and one make-up day).
    """
    version = law_version(year)
    statutory = _statutory(year, version)
    taken = {d.day for d in statutory}
    seen: dict[date, str] = {}
    makeups: list[LawDay] = []
    for holiday in statutory:
        clash = seen.get(holiday.day)
        seen.setdefault(holiday.day, holiday.name)
        if holiday.day.weekday() < 5 and not clash:
            continue
        detail = holiday.detail
        if clash:
            detail = (detail + ", " if detail else "") + f"the same day as {clash}"
        day = holiday.day + timedelta(days=1)
        while day.weekday() >= 5 or day in taken:
            day += timedelta(days=1)
        taken.add(day)
        makeups.append(LawDay(day, holiday.name, detail, makeup_for=holiday.day))
    return sorted(statutory + makeups, key=lambda d: (d.day, d.is_makeup))


def law_days_off(year: int) -> set[date]:
    """The dates that are not working days under the law alone (besides weekends)."""
    return {d.day for d in law_holidays(year)}


def _statutory(year: int, version: LawVersion) -> list[LawDay]:
    """Art. 2's holidays of all citizens, in the article's order, each day once."""
    from lunardate import LunarDate

    def lunar(month: int, day: int) -> date:
        return LunarDate(year, month, day).to_solar_date()  # the month that is not a leap month

    new_year = lunar(1, 1)
    days = [LawDay(date(year, 1, 1), "元旦")]
    days += [LawDay(new_year + timedelta(days=k), "春节", _SPRING_DAY_NAMES[k])
             for k in version.spring_festival]
    if version.traditional:
        days.append(LawDay(qingming(year), "清明节"))
    days += [LawDay(date(year, 5, d), "劳动节") for d in version.labour_day]
    if version.traditional:
        days.append(LawDay(lunar(5, 5), "端午节"))
        days.append(LawDay(lunar(8, 15), "中秋节"))
    days += [LawDay(date(year, 10, d), "国庆节") for d in (1, 2, 3)]
    return sorted(days, key=lambda d: d.day)  # stable: same-day holidays keep art. 2's order


def qingming(year: int) -> date:
    """The day (Beijing time) of the solar term 清明 in ``year``."""
    from chinese_calendar import get_solar_terms

    _check_year(year)
    for day, name in get_solar_terms(date(year, 4, 1), date(year, 4, 30)):
        if name == "清明":
            return day
    raise ValueError(f"no 清明 found in April {year}")  # pragma: no cover - the formula always has one


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"{year}: the law's holidays are computed for {FIRST_YEAR}–{LAST_YEAR} only")

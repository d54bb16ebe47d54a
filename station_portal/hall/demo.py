"""Demo service halls and a year of queue tickets, deterministic by seed.

Halls: an A hall in the city centre (owned by the city-centre service station),
a B hall per county company (at its urban service station), a C hall at each
supply office, each at an address and a location inside its unit's territory.

Tickets: for every opening day of the past year, a day total per hall (by level,
weekday, month-start payments, summer load, the heating season, the year end and
the Spring Festival lull), spread over the day with a mid-morning and an
early-afternoon peak; waits grow with the hour's load; service times follow a
log-normal around each business's typical time, so a share runs over the
standard. Vectorised (numpy/pandas) and written with bulk inserts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from station_portal.db import utcnow
from station_portal.hall.catalog import load_catalog
from station_portal.hall.models import HallLevel, ServiceHall, TicketStatus
from station_portal.hall.queue import local_day, opens_on
from station_portal.org.models import Unit, UnitKind
from station_portal.org.territory import TerritoryIndex
from station_portal.org.tree import ancestor_ids
from station_portal.sla.calendar import WorkCalendar
from station_portal.timefmt import local

CHUNK = 20_000
CITY_CENTRE_STATION = "JL-CH-S"  # Chuanying: the station whose territory holds the city centre
A_HALL = "JL-A01"
# Typical tickets on an ordinary Wednesday.
# Tickets on an ordinary working day, by level; a self-service hall (D) has machines for
# most business and few visitors who need a ticket.
BASE_TICKETS = {HallLevel.A: 170, HallLevel.B: 65, HallLevel.C: 22, HallLevel.D: 8}
WEEKDAY = np.array([1.25, 1.10, 1.00, 1.00, 1.05, 0.70, 0.55])
# Business mix and typical (median) service minutes with their spread (log-normal sigma).
MIX = {"resident_case": 0.30, "business_case": 0.09, "payment": 0.46, "enquiry": 0.15}
SERVICE = {"resident_case": (12.5, 0.45), "business_case": (22.0, 0.5), "payment": (3.0, 0.5),
           "enquiry": (5.0, 0.6)}
NO_SHOW, CANCELLED = 0.04, 0.015


@dataclass
class HallSeedReport:
    halls: int = 0
    tickets: int = 0
    repaired: int = 0  # time cells of older demo tickets that held "NaT" text, now NULL

    def summary(self) -> str:
        text = f"{self.halls} service halls, {self.tickets} queue tickets"
        return text + (f", {self.repaired} unreadable ticket times cleared" if self.repaired
                       else "")


def _inside(index: TerritoryIndex, session: Session, unit: Unit, lat: float, lon: float) -> bool:
    routed = index.route_location(lat, lon)
    if routed is None:
        return False
    leaf = session.get(Unit, routed.unit_id)
    return leaf is not None and unit.id in ancestor_ids(leaf.path)


def _place(index: TerritoryIndex, session: Session, rng: np.random.Generator, unit: Unit,
           lat: float, lon: float) -> tuple[float, float]:
    """A point near (lat, lon) inside the unit's territory (a street off the office)."""
    for _attempt in range(30):
        dlat, dlon = rng.normal(0, 0.0015, size=2)
        cand = (round(lat + float(dlat), 5), round(lon + float(dlon), 5))
        if _inside(index, session, unit, *cand):
            return cand
    return lat, lon


def build_halls(session: Session, *, seed: int = 7) -> list[ServiceHall]:
    """The demo halls (the caller commits); none if the organisation lacks the demo units."""
    rng = np.random.default_rng(seed + 101)
    units = {u.code: u for u in session.scalars(select(Unit))}
    centre = units.get(CITY_CENTRE_STATION)
    city = next((u for u in units.values() if u.kind == UnitKind.CITY_COMPANY), None)
    if centre is None or city is None:
        return []
    index = TerritoryIndex.load(session)
    halls: list[ServiceHall] = []

    def add(code: str, level: HallLevel, unit: Unit, zh: str, en: str, address: str,
            at: tuple[float, float], counters: int, groups: dict[str, list[str]] | None,
            hours: tuple[time, time], days: str, holidays: bool) -> None:
        lat, lon = _place(index, session, rng, unit, *at)
        halls.append(ServiceHall(
            code=code, name_zh=zh, name_en=en, level=level.value, unit_id=unit.id,
            address=address, lat=lat, lon=lon, counters=counters, counter_groups=groups,
            opens_at=hours[0], closes_at=hours[1], open_days=days, open_on_holidays=holidays,
            active=True))

    add(A_HALL, HallLevel.A, centre, "吉林供电公司中心营业厅", "Jilin Central Service Hall",
        "吉林市船营区解放中路108号", (city.lat or 43.8378, city.lon or 126.5494), 8,
        {"1": ["A"], "2": ["A"], "3": ["A", "C"], "4": ["B"], "5": ["B"], "6": ["B", "C"],
         "7": ["C", "A"], "8": ["A", "B", "C"]},
        (time(8, 30), time(17, 30)), "1111111", True)
    for station in sorted((u for u in units.values() if u.kind == UnitKind.SERVICE_STATION),
                          key=lambda u: u.code):
        county = units_by_id(units)[station.parent_id]
        district = county.name_zh.removesuffix("供电公司")
        short_en = county.name_en.removesuffix(" Power Supply Company")
        street = station.address or district
        add(f"{county.code}-B01", HallLevel.B, station, f"{district}供电营业厅",
            f"{short_en} Service Hall", _city(f"{street}{int(rng.integers(6, 90))}号"),
            (station.lat or 0, station.lon or 0), 5,
            {"1": ["A"], "2": ["A", "C"], "3": ["B"], "4": ["B", "C"], "5": ["A", "B", "C"]},
            (time(8, 30), time(17, 0)), "1111110", False)
    for office in sorted((u for u in units.values() if u.kind == UnitKind.SUPPLY_OFFICE),
                         key=lambda u: u.code):
        county = units_by_id(units)[office.parent_id]
        district = county.name_zh.removesuffix("供电公司")
        town = (office.address or office.name_zh.removesuffix("供电所"))
        add(f"{office.code}-C01", HallLevel.C, office, f"{office.name_zh}营业厅",
            f"{office.name_en} Service Hall",
            _city(f"{district}{town}政府街{int(rng.integers(1, 60))}号"),
            (office.lat or 0, office.lon or 0), 2, None, (time(8, 30), time(16, 30)), "1111100",
            False)
    session.add_all(halls)
    session.flush()
    return halls


def _city(address: str) -> str:
    return address if address.startswith("吉林市") else f"吉林市{address}"


def units_by_id(units: dict[str, Unit]) -> dict[int, Unit]:
    return {u.id: u for u in units.values()}


# -- a year of tickets ------------------------------------------------------------------------

def _season(days: pd.DatetimeIndex) -> np.ndarray:
    """Demand by the calendar: summer load, the heating season, the year end, month starts,
    the Spring Festival lull (late January to mid-February)."""
    doy = days.day_of_year.to_numpy()
    month, dom = days.month.to_numpy(), days.day.to_numpy()
    summer = 0.22 * np.exp(-(((doy - 205) / 22.0) ** 2))  # peak late July
    heating = 0.16 * ((month >= 11) | (month <= 3))  # electric heating bills, prepaid top-ups
    heating_start = 0.12 * np.exp(-(((doy - 300) / 8.0) ** 2))  # the season opens late October
    year_end = 0.30 * ((month == 12) & (dom >= 15))
    month_start = 0.10 * (dom <= 5)
    lull = -0.35 * np.exp(-(((doy - 40) / 9.0) ** 2))
    return 1.0 + summer + heating + heating_start + year_end + month_start + lull


def _minute_profile(opens: time, closes: time) -> tuple[np.ndarray, np.ndarray]:
    """Minutes of the day the hall is open and the chance of a ticket in each."""
    start, end = opens.hour * 60 + opens.minute, closes.hour * 60 + closes.minute
    minutes = np.arange(start, end - 5)
    h = minutes / 60.0
    weight = (0.35 + 1.0 * np.exp(-(((h - 10.0) / 0.9) ** 2))
              + 0.75 * np.exp(-(((h - 14.6) / 0.9) ** 2)))
    weight[(h >= 12.0) & (h < 13.0)] *= 0.55  # lunch
    return minutes, weight / weight.sum()


def ticket_rate(hall: ServiceHall, at: datetime, calendar: WorkCalendar) -> float:
    """Expected tickets per minute at ``at`` (the demo simulation's arrivals; 0 when closed)."""
    local_at = local(at)
    day = local_at.date()
    if not opens_on(hall, day, calendar):
        return 0.0
    minutes, profile = _minute_profile(hall.opens_at, hall.closes_at)
    minute = local_at.hour * 60 + local_at.minute
    hit = np.nonzero(minutes == minute)[0]
    if len(hit) == 0:
        return 0.0
    day_index = pd.DatetimeIndex([pd.Timestamp(day)])
    daily = BASE_TICKETS[HallLevel(hall.level)] * WEEKDAY[day.weekday()] * _season(day_index)[0]
    return float(daily * profile[hit[0]])


def service_minutes(hall: ServiceHall, business: str, rng: np.random.Generator) -> float:
    """How long one service takes (log-normal around the business's typical minutes)."""
    median, sigma = SERVICE.get(business, (8.0, 0.5))
    if hall.level == HallLevel.A.value:
        median *= 0.92
    return float(np.clip(rng.lognormal(np.log(median), sigma), 0.5, 120))


def _history(hall: ServiceHall, first: date, last: date, now: datetime, rng: np.random.Generator,
             calendar: WorkCalendar) -> pd.DataFrame:
    days = pd.date_range(first, last, freq="D")
    open_mask = np.array([opens_on(hall, d.date(), calendar) for d in days])
    days = days[open_mask]
    if len(days) == 0:
        return pd.DataFrame()
    expected = BASE_TICKETS[HallLevel(hall.level)] * WEEKDAY[days.day_of_week.to_numpy()] * _season(days)
    expected *= rng.gamma(40.0, 1 / 40.0, size=len(days))  # day-to-day weather, events
    counts = rng.poisson(expected)
    minutes, profile = _minute_profile(hall.opens_at, hall.closes_at)
    n = int(counts.sum())
    day_of = np.repeat(days.to_numpy(), counts)
    minute = rng.choice(minutes, size=n, p=profile) + rng.uniform(0, 1, size=n)
    local_taken = day_of + (minute * 60_000).astype("timedelta64[ms]")
    taken = pd.to_datetime(local_taken) - pd.Timedelta(hours=8)  # Asia/Shanghai → UTC
    codes = np.array(list(MIX))
    mix = np.array(list(MIX.values()))
    business = rng.choice(codes, size=n, p=mix / mix.sum())
    frame = pd.DataFrame({"day": pd.to_datetime(day_of).date, "taken": taken,
                          "hour": (minute // 60).astype(int), "business": business})
    frame = frame.sort_values(["day", "taken"], kind="stable").reset_index(drop=True)
    # the hour's load at this hall: tickets in the hour × typical minutes ÷ counters
    per_hour = frame.groupby(["day", "hour"])["business"].transform("size").to_numpy()
    load = np.clip(per_hour * 7.5 / (60.0 * hall.counters), 0.05, 0.97)
    mean_wait = 1.5 + 30.0 * load ** 2 / (1.0 - 0.6 * load)
    wait_min = rng.gamma(2.0, mean_wait / 2.0)
    median = np.array([SERVICE[b][0] for b in frame["business"]])
    sigma = np.array([SERVICE[b][1] for b in frame["business"]])
    if hall.level == HallLevel.A.value:
        median = median * 0.92  # the flagship hall's clerks are the fastest
    service_min = np.clip(rng.lognormal(np.log(median), sigma), 0.5, 120)
    walk_min = rng.uniform(0.2, 1.5, size=n)
    fate = rng.uniform(size=n)
    frame["called"] = frame["taken"] + pd.to_timedelta(wait_min, unit="m")
    frame["started"] = frame["called"] + pd.to_timedelta(walk_min, unit="m")
    frame["finished"] = frame["started"] + pd.to_timedelta(service_min, unit="m")
    frame["status"] = np.where(fate < CANCELLED, TicketStatus.CANCELLED.value,
                               np.where(fate < CANCELLED + NO_SHOW, TicketStatus.NO_SHOW.value,
                                        TicketStatus.DONE.value))
    frame["counter"] = rng.integers(1, hall.counters + 1, size=n)
    frame["service_min"] = service_min
    frame["wait_min"] = wait_min
    # today: nothing after now; a ticket not finished by now still waits for its call
    now_naive = pd.Timestamp(now.astimezone(UTC).replace(tzinfo=None))
    frame = frame[frame["taken"] < now_naive].copy()
    unfinished = frame["finished"] >= now_naive
    frame.loc[unfinished, "status"] = TicketStatus.WAITING.value
    return frame


# The ticket's instants (UtcDateTime columns): written as text or NULL, never "NaT".
TIME_COLUMNS = ("taken_at", "first_called_at", "called_at", "started_at", "finished_at")
COLUMNS = ("hall_id", "day", "seq", "label", "group", "business", "standard_minutes", "hour",
           "taken_at", "first_called_at", "called_at", "recalls", "counter", "served_by",
           "started_at", "finished_at", "status", "wait_seconds", "service_seconds",
           "within_standard", "transfers", "work_order_id", "version")


def _columns(hall: ServiceHall, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The ticket table's columns for one hall, as arrays (NaT / None where empty)."""
    catalog = load_catalog()
    group = frame["business"].map({b.code: b.group for b in catalog.businesses}).to_numpy()
    standard = frame["business"].map(
        {b.code: b.standard_minutes or 0 for b in catalog.businesses}).to_numpy()
    seq = frame.groupby("day").cumcount().to_numpy() + 1
    number = frame.assign(group=group).groupby(["day", "group"]).cumcount().to_numpy() + 1
    status = frame["status"].to_numpy()
    done, no_show = status == TicketStatus.DONE.value, status == TicketStatus.NO_SHOW.value
    cancelled = status == TicketStatus.CANCELLED.value
    called_any = done | no_show
    nat = np.datetime64("NaT", "us")

    def when(column: str | np.ndarray, mask: np.ndarray) -> np.ndarray:
        values = frame[column].to_numpy().astype("datetime64[us]") if isinstance(column, str) \
            else column
        return np.where(mask, values, nat)

    taken = frame["taken"].to_numpy().astype("datetime64[us]")
    called = when("called", called_any)
    finished = np.where(done, frame["finished"].to_numpy().astype("datetime64[us]"),
                        np.where(no_show, called + np.timedelta64(3, "m"),
                                 np.where(cancelled, taken + (frame["wait_min"].to_numpy() * 30e6)
                                          .astype("timedelta64[us]"), nat)))
    service = (frame["service_min"].to_numpy() * 60).astype(np.int64)
    n = len(frame)
    none = np.full(n, None, dtype=object)
    return {
        "hall_id": np.full(n, hall.id), "day": frame["day"].to_numpy(), "seq": seq,
        "label": np.char.add(group.astype(str), np.char.zfill(number.astype(str), 3)),
        "group": group, "business": frame["business"].to_numpy(),
        "standard_minutes": np.where(standard > 0, standard, None),
        "hour": frame["hour"].to_numpy(), "taken_at": taken, "first_called_at": called,
        "called_at": called, "recalls": no_show.astype(int),
        "counter": np.where(called_any, frame["counter"].to_numpy(), None), "served_by": none,
        "started_at": when("started", done), "finished_at": finished, "status": status,
        "wait_seconds": np.where(called_any, (frame["wait_min"].to_numpy() * 60).astype(np.int64),
                                 None),
        "service_seconds": np.where(done, service, None),
        "within_standard": np.where(done & (standard > 0), service <= standard * 60, None),
        "transfers": np.zeros(n, dtype=int), "work_order_id": none, "version": np.ones(n, dtype=int),
    }


def _as_times(values: np.ndarray) -> np.ndarray:
    """A time column as datetime64[us], whatever it was built as (None, pd.NaT → NaT)."""
    values = np.asarray(values)
    if not np.issubdtype(values.dtype, np.datetime64):
        values = pd.to_datetime(pd.Series(values, dtype=object)).to_numpy()
    return values.astype("datetime64[us]")


def _instants(values: np.ndarray, zone: str = "") -> list[str | None]:
    """A time column as the text the database stores, ``None`` (SQL NULL) where it is empty.

    The empty cells are found with ``isnat`` on the values, never by their text: NumPy
    writes a missing time as "NaT", which the "T" → " " separator swap once turned into
    "Na " and stored as if it were a time."""
    values = _as_times(values)
    text = np.char.add(np.char.replace(np.datetime_as_string(values, unit="us"), "T", " "),
                       zone)
    return [None if empty else x for x, empty in zip(text.tolist(), np.isnat(values).tolist(),
                                                     strict=True)]


def _python(values: np.ndarray, postgres: bool) -> list:
    """Values the database driver takes as they are (no per-value type processing)."""
    if np.issubdtype(values.dtype, np.datetime64):
        return _instants(values)
    out = values.tolist()
    if values.dtype == object:
        return [(int(x) if isinstance(x, bool | np.bool_) and not postgres else
                 x.item() if isinstance(x, np.generic) else x) for x in out]
    return out


def _text_column(values: np.ndarray) -> np.ndarray:
    """A column in COPY's text form: instants in UTC with their zone, None for nulls."""
    if np.issubdtype(values.dtype, np.datetime64):
        return np.array(_instants(values, "+00"), dtype=object)
    return values


def _write(session: Session, columns: dict[str, np.ndarray]) -> int:
    """Bulk insert: COPY on PostgreSQL, executemany on SQLite, bypassing the ORM.

    Every time column is made datetime64 first and written by :func:`_instants`, so an
    empty time is NULL in the table, never text."""
    columns = {c: (_as_times(v) if c in TIME_COLUMNS else v) for c, v in columns.items()}
    names = ", ".join(f'"{c}"' for c in COLUMNS)
    connection = session.connection()
    if session.get_bind().dialect.name == "postgresql":
        frame = pd.DataFrame({c: _text_column(columns[c]) for c in COLUMNS})
        payload = frame.to_csv(sep="\t", na_rep="\\N", header=False, index=False)
        raw = connection.connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY hall_tickets ({names}) FROM STDIN") as copy:
            copy.write(payload)
        return len(frame)
    rows = list(zip(*[_python(columns[c], False) for c in COLUMNS], strict=True))
    marks = ", ".join("?" for _c in COLUMNS)
    for start in range(0, len(rows), CHUNK):
        connection.exec_driver_sql(f"INSERT INTO hall_tickets ({names}) VALUES ({marks})",  # noqa: S608
                                   rows[start:start + CHUNK])
    return len(rows)


def clear_unreadable_times(session: Session) -> int:
    """Set to NULL the time cells that earlier versions of this seed wrote as the text
    "Na " (a NumPy "NaT" with its "T" swapped) on SQLite; the number of cells cleared.
    PostgreSQL's timestamp columns never took such text."""
    if session.get_bind().dialect.name != "sqlite":
        return 0
    cleared = 0
    for column in TIME_COLUMNS:
        cleared += session.connection().exec_driver_sql(
            f'UPDATE hall_tickets SET "{column}" = NULL '  # noqa: S608 (a fixed column name)
            f"""WHERE typeof("{column}") = 'text' AND "{column}" IN ('Na ', 'NaT')""").rowcount
    return cleared


def seed_demo_halls(session: Session, *, seed: int = 7, days: int = 365,
                    now: datetime | None = None,
                    progress: Callable[[str, int], None] | None = None) -> HallSeedReport:
    """The demo halls (if none exist yet) and ``days`` days of tickets up to ``now``."""
    report = HallSeedReport()
    if session.scalar(select(func.count()).select_from(ServiceHall)):
        report.repaired = clear_unreadable_times(session)
        return report
    now = now or utcnow()
    halls = build_halls(session, seed=seed)
    report.halls = len(halls)
    if not halls or days <= 0:
        return report
    calendar = WorkCalendar.default()
    rng = np.random.default_rng(seed + 202)
    last = local_day(now)
    first = last - timedelta(days=days)
    for hall in halls:
        frame = _history(hall, first, last, now, rng, calendar)
        if frame.empty:
            continue
        written = _write(session, _columns(hall, frame))
        report.tickets += written
        if progress:
            progress(hall.code, written)
    return report

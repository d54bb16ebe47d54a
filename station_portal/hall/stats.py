"""Hall statistics: SQL aggregates by hall and local day (indexed on ``hall_id, day`` and
``day, hall_id``), and pure pandas functions that turn them into the dashboard's tables.

Nothing here loads ticket rows into pandas: every query returns one row per hall,
business, hour or day. Durations were stored when they ended (``wait_seconds``,
``service_seconds``, ``within_standard``), so the same SQL runs on SQLite and
PostgreSQL. Ticket rows read as models (the calling display) go through
:func:`readable_tickets`, which skips, and logs, a row whose time cannot be read.
No Flask, no Dash.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Date, Select, String, case, func, select, type_coerce
from sqlalchemy.orm import Session

from station_portal.db import UtcDateTime
from station_portal.hall.models import AT_COUNTER, HallTicket, ServiceHall, TicketStatus

log = logging.getLogger(__name__)

DAY_COLUMNS = ["hall_id", "tickets", "waiting", "at_counter", "done", "no_show", "called",
               "wait_sum", "wait_max", "timed", "service_sum", "judged", "within"]


def _is(status: TicketStatus | tuple[TicketStatus, ...]):
    values = [s.value for s in status] if isinstance(status, tuple) else [status.value]
    return func.sum(case((HallTicket.status.in_(values), 1), else_=0))


# -- rows a ticket model can read ---------------------------------------------------------------

# The ticket's day and instants: a cell the column type cannot parse (text such as "Na "
# left by an old bulk seed on SQLite) would stop the whole page with a ValueError.
_TIME_COLUMNS = tuple(c.name for c in HallTicket.__table__.columns
                      if isinstance(c.type, Date | UtcDateTime))
_UNREADABLE = object()


def _parsers(session: Session) -> dict[str, Any]:
    """Each time column's own result processor on this database (None: the driver parses)."""
    dialect = session.get_bind().dialect
    return {c: HallTicket.__table__.c[c].type.dialect_impl(dialect).result_processor(dialect, None)
            for c in _TIME_COLUMNS}


def _read_time(parsers: dict[str, Any], column: str, raw: Any) -> Any:
    """The raw value of a time column as the model reads it, or ``_UNREADABLE``."""
    if raw is None:
        return None
    parse = parsers[column]
    try:
        return parse(raw) if parse is not None else raw
    except (AttributeError, TypeError, ValueError):
        return _UNREADABLE


def readable_tickets(session: Session, ids: Select, limit: int) -> list[HallTicket]:
    """The tickets whose ids ``ids`` selects, in its order, at most ``limit`` of them.

    A row whose day or time column holds something that is not a time is skipped with one
    warning in the log naming the ticket and the column, and the next row takes its place:
    one bad row must not take a page down."""
    table, parsers = HallTicket.__table__, _parsers(session)
    raw = ids.add_columns(*(type_coerce(table.c[c], String) for c in _TIME_COLUMNS))
    batch, offset, good = max(limit, 1) * 2, 0, []
    while len(good) < limit:
        rows = session.execute(raw.limit(batch).offset(offset)).all()
        for row in rows:
            bad = next(((c, v) for c, v in zip(_TIME_COLUMNS, row[1:], strict=True)
                        if _read_time(parsers, c, v) is _UNREADABLE), None)
            if bad is None:
                good.append(row[0])
            else:
                log.warning("Hall ticket %s skipped: its %s holds %r, not a time.", row[0],
                            bad[0], bad[1])
        if len(rows) < batch:
            break
        offset += batch
    good = good[:limit]
    loaded = {t.id: t for t in session.scalars(select(HallTicket).where(HallTicket.id.in_(good)))}
    return [loaded[i] for i in good if i in loaded]


def readable_ticket(session: Session, ticket_id: int) -> HallTicket | None:
    """One ticket, or None if there is none or its row cannot be read (logged)."""
    found = readable_tickets(session, select(HallTicket.id).where(HallTicket.id == ticket_id), 1)
    return found[0] if found else None


def day_by_hall(session: Session, hall_ids: Sequence[int], day: date) -> pd.DataFrame:
    """One row per hall with tickets on ``day``: counts, wait and service sums."""
    if not hall_ids:
        return pd.DataFrame(columns=DAY_COLUMNS)
    t = HallTicket
    rows = session.execute(
        select(t.hall_id, func.count(), _is(TicketStatus.WAITING), _is(AT_COUNTER),
               _is(TicketStatus.DONE), _is(TicketStatus.NO_SHOW), func.count(t.wait_seconds),
               func.coalesce(func.sum(t.wait_seconds), 0), func.max(t.wait_seconds),
               func.count(t.service_seconds), func.coalesce(func.sum(t.service_seconds), 0),
               func.count(t.within_standard),
               func.sum(case((t.within_standard.is_(True), 1), else_=0)))
        .where(t.hall_id.in_(list(hall_ids)), t.day == day).group_by(t.hall_id)).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=DAY_COLUMNS)
    return frame.fillna({"wait_max": 0, "within": 0}).astype(
        {c: "int64" for c in DAY_COLUMNS}) if not frame.empty else frame


def last_day_with_tickets(session: Session, hall_ids: Sequence[int], until: date) -> date | None:
    """The latest local day, up to ``until``, on which any of the halls gave out a ticket."""
    if not hall_ids:
        return None
    return session.scalar(select(func.max(HallTicket.day)).where(
        HallTicket.hall_id.in_(list(hall_ids)), HallTicket.day <= until))


def oldest_waiting(session: Session, hall_ids: Sequence[int], day: date) -> dict[int, datetime]:
    """When the longest-waiting ticket of each hall was taken (halls with someone waiting)."""
    if not hall_ids:
        return {}
    rows = session.execute(
        select(HallTicket.hall_id,
               type_coerce(func.min(HallTicket.taken_at), String).label("taken_at"))
        .where(HallTicket.hall_id.in_(list(hall_ids)), HallTicket.day == day,
               HallTicket.status == TicketStatus.WAITING.value)
        .group_by(HallTicket.hall_id)).all()
    out: dict[int, datetime] = {}
    parsers = _parsers(session)
    for hall_id, raw in rows:
        taken = _read_time(parsers, "taken_at", raw)
        if taken is _UNREADABLE:
            log.warning("Hall %s: the oldest waiting ticket's taken_at holds %r, not a time; "
                        "the hall's longest running wait is left out.", hall_id, raw)
        elif taken is not None:
            out[hall_id] = taken
    return out


def by_business(session: Session, hall_ids: Sequence[int], first: date, last: date) -> pd.DataFrame:
    """Per business: finished tickets, service seconds, how many were judged against a
    standard and how many kept it (days ``first`` to ``last``)."""
    columns = ["business", "standard_minutes", "done", "service_sum", "judged", "within"]
    if not hall_ids:
        return pd.DataFrame(columns=columns)
    t = HallTicket
    rows = session.execute(
        select(t.business, func.max(t.standard_minutes), func.count(t.service_seconds),
               func.coalesce(func.sum(t.service_seconds), 0), func.count(t.within_standard),
               func.sum(case((t.within_standard.is_(True), 1), else_=0)))
        .where(t.hall_id.in_(list(hall_ids)), t.day >= first, t.day <= last,
               t.status == TicketStatus.DONE.value)
        .group_by(t.business).order_by(t.business)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def hourly(session: Session, hall_ids: Sequence[int], day: date) -> pd.DataFrame:
    """Tickets taken per local hour of ``day``."""
    if not hall_ids:
        return pd.DataFrame(columns=["hour", "tickets"])
    rows = session.execute(
        select(HallTicket.hour, func.count())
        .where(HallTicket.hall_id.in_(list(hall_ids)), HallTicket.day == day)
        .group_by(HallTicket.hour).order_by(HallTicket.hour)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["hour", "tickets"])


def daily(session: Session, hall_ids: Sequence[int], first: date, last: date) -> pd.DataFrame:
    """Tickets per local day and hall level (the busy seasons)."""
    if not hall_ids:
        return pd.DataFrame(columns=["day", "level", "tickets"])
    rows = session.execute(
        select(HallTicket.day, ServiceHall.level, func.count())
        .join(ServiceHall, ServiceHall.id == HallTicket.hall_id)
        .where(HallTicket.hall_id.in_(list(hall_ids)), HallTicket.day >= first,
               HallTicket.day <= last)
        .group_by(HallTicket.day, ServiceHall.level).order_by(HallTicket.day)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["day", "level", "tickets"])


# -- the kiosk and the display ----------------------------------------------------------------

def waiting_by_group(session: Session, hall_id: int, day: date) -> dict[str, int]:
    return {g: int(n) for g, n in session.execute(
        select(HallTicket.group, func.count())
        .where(HallTicket.hall_id == hall_id, HallTicket.day == day,
               HallTicket.status == TicketStatus.WAITING.value)
        .group_by(HallTicket.group)).all()}


def service_minutes_by_group(session: Session, hall_id: int, day: date) -> dict[str, float]:
    """The day's average service minutes of each group (finished tickets)."""
    return {g: float(avg) / 60 for g, avg in session.execute(
        select(HallTicket.group, func.avg(HallTicket.service_seconds))
        .where(HallTicket.hall_id == hall_id, HallTicket.day == day,
               HallTicket.service_seconds.is_not(None))
        .group_by(HallTicket.group)).all() if avg is not None}


def counters_by_group(session: Session, hall_id: int, since: datetime) -> dict[str, int]:
    """How many counters called a ticket of each group since ``since`` (the counters open)."""
    return {g: int(n) for g, n in session.execute(
        select(HallTicket.group, func.count(func.distinct(HallTicket.counter)))
        .where(HallTicket.hall_id == hall_id, HallTicket.called_at >= since,
               HallTicket.counter.is_not(None))
        .group_by(HallTicket.group)).all()}


def recent_calls(session: Session, hall_id: int, day: date, limit: int = 8) -> list[HallTicket]:
    """The latest tickets called to a counter today, newest first (the hall's TV)."""
    return readable_tickets(session, select(HallTicket.id).where(
        HallTicket.hall_id == hall_id, HallTicket.day == day, HallTicket.called_at.is_not(None))
        .order_by(HallTicket.called_at.desc(), HallTicket.id.desc()), limit)


# -- pure: frames in, frames out --------------------------------------------------------------

def _minutes(seconds: float, count: float) -> float | None:
    return round(seconds / count / 60, 1) if count else None


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 3) if whole else None


def summarise(frame: pd.DataFrame, current_wait_s: float = 0.0) -> dict[str, float | int | None]:
    """The headline of a set of hall rows: waiting now, average and longest wait (the longest
    finished wait or the one still running), service and the share within the standard."""
    if frame.empty:
        total = dict.fromkeys(DAY_COLUMNS[1:], 0)
    else:
        total = {c: frame[c].sum() for c in DAY_COLUMNS[1:]}
        total["wait_max"] = frame["wait_max"].max()
    longest = max(float(total["wait_max"]), current_wait_s)
    return {
        "tickets": int(total["tickets"]), "waiting": int(total["waiting"]),
        "at_counter": int(total["at_counter"]), "done": int(total["done"]),
        "no_show": int(total["no_show"]),
        "avg_wait_min": _minutes(total["wait_sum"], total["called"]),
        "longest_wait_min": round(longest / 60, 1) if longest else None,
        "avg_service_min": _minutes(total["service_sum"], total["timed"]),
        "within_share": _share(total["within"], total["judged"]),
        "judged": int(total["judged"]),
    }


def hall_rows(frame: pd.DataFrame, halls: pd.DataFrame, oldest: dict[int, datetime],
              now: datetime) -> pd.DataFrame:
    """One row per hall (every hall in ``halls``, also those without tickets):
    ``halls`` has hall_id, code, name, level."""
    rows = []
    by_hall = frame.set_index("hall_id") if not frame.empty else frame
    for hall in halls.itertuples(index=False):
        part = by_hall.loc[[hall.hall_id]].reset_index() \
            if not frame.empty and hall.hall_id in by_hall.index else frame.iloc[0:0]
        running = (now - oldest[hall.hall_id]).total_seconds() if hall.hall_id in oldest else 0.0
        rows.append({"hall_id": hall.hall_id, "code": hall.code, "name": hall.name,
                     "level": hall.level, **summarise(part, running)})
    return pd.DataFrame(rows)


def level_rows(frame: pd.DataFrame, halls: pd.DataFrame, oldest: dict[int, datetime],
               now: datetime) -> pd.DataFrame:
    """The same figures per hall level (A/B/C/D), weighted by tickets."""
    rows = []
    levels = halls.set_index("hall_id")["level"] if not halls.empty else pd.Series(dtype=str)
    for level in sorted(set(levels)):
        ids = set(levels[levels == level].index)
        part = frame[frame["hall_id"].isin(ids)] if not frame.empty else frame
        running = max([(now - at).total_seconds() for h, at in oldest.items() if h in ids],
                      default=0.0)
        rows.append({"level": level, "halls": len(ids), **summarise(part, running)})
    return pd.DataFrame(rows)


def business_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Per business: average service minutes, its standard and the share within it."""
    if frame.empty:
        return pd.DataFrame(columns=["business", "standard_minutes", "done", "avg_service_min",
                                     "within_share"])
    out = frame[["business", "standard_minutes", "done"]].copy()
    out["avg_service_min"] = [_minutes(s, n) for s, n in zip(frame["service_sum"], frame["done"],
                                                              strict=True)]
    out["within_share"] = [_share(w, j) for w, j in zip(frame["within"], frame["judged"],
                                                        strict=True)]
    return out


def weekly(frame: pd.DataFrame) -> pd.DataFrame:
    """Daily tickets per level → tickets per ISO week (Monday) and level."""
    if frame.empty:
        return pd.DataFrame(columns=["week", "level", "tickets"])
    days = pd.to_datetime(frame["day"])
    week = (days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.date
    out = frame.assign(week=week).groupby(["week", "level"], as_index=False)["tickets"].sum()
    return out.astype({"tickets": "int64"})


def year_window(today: date) -> tuple[date, date]:
    """The last twelve months up to ``today``, from a Monday (whole weeks)."""
    start = today - timedelta(days=364)
    return start - timedelta(days=start.weekday()), today

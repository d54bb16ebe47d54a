"""Instants are stored in UTC and shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(dt: datetime) -> datetime:
    return dt.astimezone(SHANGHAI)


def format_local(dt: datetime | None, *, seconds: bool = False) -> str:
    """``2026-11-27 17:32`` in Shanghai time; empty for None."""
    if dt is None:
        return ""
    return local(dt).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_deadline(dt: datetime | None) -> str:
    """A deadline at midnight reads as 24:00 of the day before (Civil Code counting)."""
    if dt is None:
        return ""
    shown = local(dt)
    if (shown.hour, shown.minute, shown.second) == (0, 0, 0):
        return (shown - timedelta(days=1)).strftime("%Y-%m-%d") + " 24:00"
    return shown.strftime("%Y-%m-%d %H:%M")


def format_clock(dt: datetime, now: datetime) -> str:
    """``17:32`` for a time today, ``12-05 00:23`` for another day (Shanghai time): a time
    never stands without its date when the date is not today."""
    shown, today = local(dt), local(now).date()
    return shown.strftime("%H:%M") if shown.date() == today else shown.strftime("%m-%d %H:%M")


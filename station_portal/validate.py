"""Turning what a browser or API client sent into values of a known type.

Anything can arrive in a callback's inputs or a form (a forged request is
just JSON); these helpers return a safe default instead of raising. Ids are
database integers: positive and within 32 bits, so PostgreSQL never sees an
out-of-range number. Dates are days of the working-day calendar's range: the one
parser every page, callback and API uses (``day``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from station_portal.timefmt import SHANGHAI

MAX_ID = 2**31 - 1
# Ids of the tables that grow without bound (BIGINT on PostgreSQL: notifications, hall
# tickets, audit rows, pings, job runs, sessions, tokens).
MAX_BIG_ID = 2**63 - 1
# The working-day calendar's range (sla.calendar builds its tables over it): a date
# outside it can be neither counted nor stored as a deadline.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2060, 12, 31)
# C0 controls (NUL included: PostgreSQL refuses it in text), DEL and lone UTF-16
# surrogates (they cannot be encoded); tab and newline stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def has_control_chars(value: str) -> bool:
    return bool(_CONTROL.search(value))


def text(value: Any, max_len: int = 200) -> str:
    """A string from the browser, cut to ``max_len``, without control characters."""
    return _CONTROL.sub("", value)[:max_len] if isinstance(value, str) else ""


def as_id(value: Any, *, big: bool = False) -> int | None:
    """A database id from an int or a string of digits, else None; ``big``: of a 64-bit
    id column (up to 2⁶³−1), else of a 32-bit one (2³¹−1)."""
    top = MAX_BIG_ID if big else MAX_ID
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit()) or len(value) > len(str(top)):
            return None  # not "²" or "٣"
        value = int(value)
    if isinstance(value, int) and 0 < value <= top:
        return value
    return None


def id_list(value: Any, max_items: int = 1000) -> list[int]:
    if not isinstance(value, list | tuple):
        return []
    ids = [as_id(v) for v in value[:max_items]]
    return [i for i in ids if i is not None]


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def day(value: Any) -> date | None:
    """A calendar day from a date, a datetime (its own date) or ISO text ("2026-12-05",
    a time after it ignored, as date pickers and query strings send it); None when
    malformed or outside the calendar's range (FIRST_DAY–LAST_DAY)."""
    if isinstance(value, datetime):
        value = value.date()
    elif isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    if not isinstance(value, date):
        return None
    return value if FIRST_DAY <= value <= LAST_DAY else None


def local_time(value: Any) -> datetime | None:
    """An instant from an aware datetime, a naive one or text ("2026-12-05 08:30",
    "2026-12-05T08:30", an ISO offset allowed) read as Asia/Shanghai time; returned in UTC.
    None when malformed or outside the calendar's range."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    if not FIRST_DAY <= value.astimezone(SHANGHAI).date() <= LAST_DAY:
        return None
    return value.astimezone(UTC)

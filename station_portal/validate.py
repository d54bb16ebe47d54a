"""Turning what a browser or API client sent into values of a known type.

Anything can arrive in a callback's inputs or a form (a forged request is
just JSON); these helpers return a safe default instead of raising. Ids are
database integers: positive and within 32 bits, so PostgreSQL never sees an
out-of-range number.
"""

from __future__ import annotations

import re
from typing import Any

MAX_ID = 2**31 - 1
# C0 controls (NUL included: PostgreSQL refuses it in text), DEL and lone UTF-16
# surrogates (they cannot be encoded); tab and newline stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def has_control_chars(value: str) -> bool:
    return bool(_CONTROL.search(value))


def text(value: Any, max_len: int = 200) -> str:
    """A string from the browser, cut to ``max_len``, without control characters."""
    return _CONTROL.sub("", value)[:max_len] if isinstance(value, str) else ""


def as_id(value: Any) -> int | None:
    """A database id from an int or a string of digits, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit()) or len(value) > 10:  # not "²" or "٣"
            return None
        value = int(value)
    if isinstance(value, int) and 0 < value <= MAX_ID:
        return value
    return None


def id_list(value: Any, max_items: int = 1000) -> list[int]:
    if not isinstance(value, list | tuple):
        return []
    ids = [as_id(v) for v in value[:max_items]]
    return [i for i in ids if i is not None]


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}

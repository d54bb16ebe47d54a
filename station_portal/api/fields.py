"""Marshmallow building blocks whose error messages speak the caller's language.

Schemas are instantiated once, at import, so their messages cannot be
translated then. Every message here is a :class:`Msg`: it keeps the English
source text (a catalog entry, marked with ``_l``) and its parameters, and turns
into text only when the error response is built, in the request's locale
(``api/errors.py``). :class:`ApiSchema` gives every field of every schema such
messages for each error key marshmallow knows, so its built-in English texts
never reach a caller; any message that is still a plain string is replaced by
a generic translated one when the response is built.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import marshmallow as ma
from flask_smorest.fields import Upload
from werkzeug.datastructures import FileStorage

from station_portal.i18n import LazyString, _l, gettext
from station_portal.timefmt import local
from station_portal.validate import (
    FIRST_DAY,
    LAST_DAY,
    MAX_BIG_ID,
    MAX_ID,
    day,
    has_control_chars,
)


class Msg(str):
    """A message translated when shown, with its ``%(name)s`` parameters.

    A ``str`` (its value is the English source) so that marshmallow treats it like
    its own messages; ``str(msg)`` gives the text in the current locale.
    """

    lazy: LazyString
    params: dict[str, object]

    def __new__(cls, lazy: LazyString, **params: object) -> Msg:
        self = super().__new__(cls, lazy.message)
        self.lazy = lazy
        self.params = params
        return self

    def __str__(self) -> str:
        return gettext(self.lazy.message, **self.params)

    def __repr__(self) -> str:
        return f"Msg({self.lazy.message!r})"

    def format(self, *_args: object, **_kwargs: object) -> Msg:  # type: ignore[override]
        """Marshmallow validators call ``error.format(...)``; our parameters are already set."""
        return self

    def __copy__(self) -> Msg:
        return self

    def __deepcopy__(self, _memo: dict) -> Msg:
        return self

    def __reduce__(self) -> tuple:
        return (_msg, (self.lazy.message, self.params))


def _msg(message: str, params: dict[str, object]) -> Msg:
    return Msg(LazyString(message), **params)


REQUIRED = Msg(_l("This field is required."))
NULL = Msg(_l("This field may not be empty (null)."))
INVALID = Msg(_l("This value is not valid."))
NOT_TEXT = Msg(_l("Enter text."))
NOT_INTEGER = Msg(_l("Enter a whole number."))
NOT_NUMBER = Msg(_l("Enter a number."))
NOT_FINITE = Msg(_l("Enter a finite number."))
NOT_BOOLEAN = Msg(_l("Enter true or false."))
NOT_INSTANT = Msg(_l("Give a date and time in ISO 8601 with its time zone, e.g. 2026-03-02T08:30:00+08:00."))
NOT_DATE = Msg(_l("Give a date as YYYY-MM-DD."))
# The working-day calendar's range (validate.FIRST_DAY–LAST_DAY): a day outside it can be
# neither counted nor stored as a deadline.
OUT_OF_CALENDAR = Msg(_l("Give a date as YYYY-MM-DD, from %(first)s to %(last)s."),
                      first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat())
TIME_OUT_OF_CALENDAR = Msg(_l("Give a time from %(first)s to %(last)s (Beijing time)."),
                           first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat())
NOT_LIST = Msg(_l("Give a list."))
NOT_OBJECT = Msg(_l("Give an object."))
UNKNOWN_FIELD = Msg(_l("This field is not known."))
BODY_NOT_OBJECT = Msg(_l("The body must be a JSON object."))
PLAIN_TEXT = Msg(_l("Plain text only (no control characters)."))
CHOOSE = Msg(_l("Choose one of the listed values."))
NOT_FILE = Msg(_l("Send a file here."))

# Error keys per field type; anything not listed falls back to INVALID.
_MESSAGES: list[tuple[type, dict[str, Msg]]] = [
    (ma.fields.Field, {"required": REQUIRED, "null": NULL, "validator_failed": INVALID}),
    (ma.fields.String, {"invalid": NOT_TEXT, "invalid_utf8": NOT_TEXT}),
    (ma.fields.Integer, {"invalid": NOT_INTEGER, "too_large": NOT_INTEGER}),
    (ma.fields.Float, {"invalid": NOT_NUMBER, "too_large": NOT_NUMBER, "special": NOT_FINITE}),
    (ma.fields.Boolean, {"invalid": NOT_BOOLEAN}),
    (ma.fields.DateTime, {"invalid": NOT_INSTANT, "invalid_awareness": NOT_INSTANT,
                          "format": NOT_INSTANT}),
    (ma.fields.Date, {"invalid": NOT_DATE, "format": NOT_DATE}),
    (ma.fields.List, {"invalid": NOT_LIST}),
    (ma.fields.Nested, {"type": NOT_OBJECT}),
    (ma.fields.Dict, {"invalid": NOT_OBJECT}),
]


def translate_field(field: ma.fields.Field) -> None:
    """Give ``field`` (and a list's items) translated messages for every error key."""
    messages = {key: INVALID for key in field.error_messages}
    for kind, table in _MESSAGES:
        if isinstance(field, kind):
            messages.update(table)
    field.error_messages = messages
    inner = getattr(field, "inner", None)
    if isinstance(inner, ma.fields.Field):
        translate_field(inner)


class ApiSchema(ma.Schema):
    """Base of every API schema: translated messages, unknown fields refused."""

    error_messages = {"type": BODY_NOT_OBJECT, "unknown": UNKNOWN_FIELD}

    class Meta:
        unknown = ma.RAISE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            translate_field(field)


# -- validators ----------------------------------------------------------------------

def plain_text(value: str) -> None:
    if has_control_chars(value):
        raise ma.ValidationError(PLAIN_TEXT)


def max_length(n: int):
    def check(value: str) -> None:
        if len(value) > n:
            raise ma.ValidationError(Msg(_l("At most %(n)s characters."), n=n))
    return check


def within(low: float, high: float):
    def check(value: float) -> None:
        if not low <= value <= high:
            raise ma.ValidationError(Msg(_l("Give a value from %(low)s to %(high)s."),
                                         low=low, high=high))
    return check


def one_of(choices: tuple[str, ...] | list[str]):
    return ma.validate.OneOf(list(choices), error=CHOOSE)


# -- fields ----------------------------------------------------------------------------

def Text(max_len: int, *, required: bool = False, description: str = "",
         **kwargs: Any) -> ma.fields.String:
    """Plain text of at most ``max_len`` characters."""
    validators = [plain_text, max_length(max_len), *kwargs.pop("validate", [])]
    return ma.fields.String(required=required, validate=validators,
                            metadata={"description": description, "maxLength": max_len},
                            **kwargs)


def Choice(choices: tuple[str, ...] | list[str], *, required: bool = False,
           description: str = "", **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(required=required, validate=[plain_text, one_of(choices)],
                            metadata={"description": description}, **kwargs)


def Id(*, required: bool = False, description: str = "", strict: bool = True, big: bool = False,
       **kwargs: Any) -> ma.fields.Integer:
    """A database id: 1 … 2³¹−1, or 2⁶³−1 with ``big`` (a table that grows without bound);
    larger numbers are refused, not sent to the database. ``strict=False`` for query
    strings, where every value arrives as text."""
    top = MAX_BIG_ID if big else MAX_ID
    return ma.fields.Integer(required=required, strict=strict, validate=within(1, top),
                             metadata={"description": description, "minimum": 1,
                                       "maximum": top}, **kwargs)


def Number(low: float, high: float, *, required: bool = False, description: str = "",
           **kwargs: Any) -> ma.fields.Float:
    return ma.fields.Float(required=required, validate=within(low, high),
                           metadata={"description": description, "minimum": low,
                                     "maximum": high}, **kwargs)


class Instant(ma.fields.AwareDateTime):
    """An ISO 8601 instant with its offset, on a day (Beijing time) of the working-day
    calendar's range, returned in UTC."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise ma.ValidationError(NOT_INSTANT)
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            shown = local(parsed)
        except OverflowError:  # "0001-01-01T00:00+14:00" has no UTC
            shown = None
        if day(shown) is None:
            raise ma.ValidationError(TIME_OUT_OF_CALENDAR)
        return parsed.astimezone(UTC)


class File(Upload):
    """A file part of a multipart body (a plain form field of the same name is not one)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise ma.ValidationError(NOT_FILE)
        return value


class Day(ma.fields.Date):
    """A calendar day (YYYY-MM-DD) of the working-day calendar's range (``validate.day``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str) or len(value) > 20:
            raise ma.ValidationError(NOT_DATE)
        parsed = day(super()._deserialize(value, attr, data, **kwargs))  # strict YYYY-MM-DD
        if parsed is None:
            raise ma.ValidationError(OUT_OF_CALENDAR)
        return parsed


__all__ = ["ApiSchema", "Choice", "Day", "File", "Id", "Instant", "Msg", "Number", "Text",
           "plain_text", "within"]

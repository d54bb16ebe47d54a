"""The one translation function of the portal, with zh_CN and en catalogs.

Source strings are English; catalogs are gettext ``.po`` files under
``station_portal/i18n/<locale>/LC_MESSAGES/messages.po``, read with Babel.
The locale of the current request (or job, or command) lives in a context
variable set by the web layer; domain code just calls ``_()``.

Placeholders use Python's named ``%`` style: ``_("%(n)s staff", n=3)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LOCALE_NAMES = {"zh_CN": "中文", "en": "English"}
CATALOG_DIR = Path(__file__).resolve().parent

_current: ContextVar[str] = ContextVar("portal_locale", default=DEFAULT_LOCALE)


def normalise_locale(value: object) -> str | None:
    """``"zh"``, ``"zh-CN"``, ``"zh_Hans"`` → ``"zh_CN"``; ``"en-GB"`` → ``"en"``; else None."""
    if not isinstance(value, str):
        return None
    lowered = value.strip().replace("-", "_").lower()
    if lowered.startswith("zh"):
        return "zh_CN"
    if lowered.startswith("en"):
        return "en"
    return None


def get_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> None:
    _current.set(normalise_locale(locale) or DEFAULT_LOCALE)


@contextmanager
def use_locale(locale: str) -> Iterator[str]:
    token = _current.set(normalise_locale(locale) or DEFAULT_LOCALE)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def catalog_path(locale: str) -> Path:
    return CATALOG_DIR / locale / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=len(LOCALES))
def _catalog(locale: str) -> dict[str, str]:
    path = catalog_path(locale)
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    return {m.id: m.string for m in catalog if isinstance(m.id, str) and m.id and m.string
            and not m.fuzzy}


def gettext(message: str, **params: object) -> str:
    translated = _catalog(get_locale()).get(message, message)
    return translated % params if params else translated


_ = gettext


class LazyString:
    """A message translated when it is turned into text, for module-level constants."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def __str__(self) -> str:
        return gettext(self.message)

    def __repr__(self) -> str:
        return f"LazyString({self.message!r})"


def lazy_gettext(message: str) -> LazyString:
    return LazyString(message)


_l = lazy_gettext


def negotiate(accept_language: str | None) -> str | None:
    """The first supported locale in an Accept-Language header, or None."""
    if not accept_language:
        return None
    weighted = []
    for i, part in enumerate(accept_language.split(",")):
        lang, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((-quality, i, lang))
    for _q, _i, lang in sorted(weighted):
        locale = normalise_locale(lang)
        if locale:
            return locale
    return None


class BilingualName:
    """Mixin for things named in both languages: needs ``name_zh`` and ``name_en``."""

    __slots__ = ()
    name_zh: str
    name_en: str

    def name(self, locale: str | None = None) -> str:
        """The name in ``locale`` (default: the current one)."""
        return self.name_zh if (locale or get_locale()).startswith("zh") else self.name_en

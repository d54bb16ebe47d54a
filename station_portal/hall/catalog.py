"""The hall's business catalogue from ``data/service_hall.toml``: groups (a letter each),
business types and their standard service minutes, each standard with its source.

Plain Python: no Flask, no Dash, no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from station_portal.datafiles import DataFile, read_toml
from station_portal.i18n import get_locale

DEFAULT_DAILY_TICKETS = 500  # a hall's daily ticket cap when the file names none


class CatalogError(ValueError):
    """The catalogue file is inconsistent."""


@dataclass(frozen=True)
class BusinessGroup:
    letter: str
    name_zh: str
    name_en: str

    def name(self, locale: str | None = None) -> str:
        return self.name_zh if (locale or get_locale()).startswith("zh") else self.name_en


@dataclass(frozen=True)
class BusinessType:
    code: str
    group: str
    name_zh: str
    name_en: str
    hint_zh: str = ""
    hint_en: str = ""
    standard_minutes: int | None = None
    standard_source: str = ""

    def name(self, locale: str | None = None) -> str:
        return self.name_zh if (locale or get_locale()).startswith("zh") else self.name_en

    def hint(self, locale: str | None = None) -> str:
        return self.hint_zh if (locale or get_locale()).startswith("zh") else self.hint_en


@dataclass(frozen=True)
class Catalog:
    version: str
    source: str
    groups: tuple[BusinessGroup, ...]
    businesses: tuple[BusinessType, ...]
    default_service_minutes: float
    # The most tickets a hall gives out in a day, by the hall's level ("*": the others).
    daily_tickets: dict[str, int] = field(default_factory=lambda: {"*": DEFAULT_DAILY_TICKETS})

    def daily_cap(self, level: str) -> int:
        """How many tickets a hall of ``level`` gives out in a day at most."""
        return self.daily_tickets.get(level, self.daily_tickets.get("*", DEFAULT_DAILY_TICKETS))

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(g.letter for g in self.groups)

    def business(self, code: object) -> BusinessType | None:
        return next((b for b in self.businesses if b.code == code), None)

    def group(self, letter: object) -> BusinessGroup | None:
        return next((g for g in self.groups if g.letter == letter), None)

    def in_group(self, letter: str) -> tuple[BusinessType, ...]:
        return tuple(b for b in self.businesses if b.group == letter)


def parse_catalog(raw: dict) -> Catalog:
    groups = tuple(BusinessGroup(g["letter"], g["name_zh"], g["name_en"]) for g in raw["group"])
    letters = [g.letter for g in groups]
    if len(set(letters)) != len(letters) or not all(
            len(x) == 1 and x.isascii() and x.isupper() for x in letters):
        raise CatalogError("group letters must be distinct single capital letters")
    businesses = []
    for b in raw["business"]:
        if b["group"] not in letters:
            raise CatalogError(f"business {b['code']!r}: unknown group {b['group']!r}")
        minutes = b.get("standard_minutes")
        if minutes is not None and (not isinstance(minutes, int) or minutes <= 0):
            raise CatalogError(f"business {b['code']!r}: standard_minutes must be a positive integer")
        if minutes is not None and not b.get("standard_source"):
            raise CatalogError(f"business {b['code']!r}: a standard needs its source")
        businesses.append(BusinessType(
            b["code"], b["group"], b["name_zh"], b["name_en"], b.get("hint_zh", ""),
            b.get("hint_en", ""), minutes, b.get("standard_source", "")))
    codes = [b.code for b in businesses]
    if len(set(codes)) != len(codes):
        raise CatalogError("business codes must be distinct")
    caps = dict(raw.get("daily_tickets", {}))
    if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in caps.values()):
        raise CatalogError("daily_tickets: each hall level's cap must be a positive integer")
    return Catalog(str(raw["version"]), raw["source"], groups, tuple(businesses),
                   float(raw.get("default_service_minutes", 8)),
                   {"*": DEFAULT_DAILY_TICKETS, **caps})


CATALOG_FILE = DataFile("service_hall.toml", lambda path: parse_catalog(read_toml(path)))


def load_catalog() -> Catalog:
    """The catalogue of ``data/service_hall.toml`` (re-read when it changes)."""
    return CATALOG_FILE.get()

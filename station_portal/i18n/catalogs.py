"""Keeping the zh_CN and en catalogs complete: extract, merge, check.

English is the source language, so new English entries are filled with their
own text; Chinese entries stay empty until translated, and :func:`missing`
(run by the test suite) reports them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from station_portal.i18n import LOCALES, catalog_path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
METHOD_MAP = [
    ("i18n/**.py", "ignore"),
    ("**.py", "python"),
    ("templates/**.html", "jinja2"),
]


def extract() -> Catalog:
    """Every translatable message in the package's code and templates."""
    catalog = Catalog(project="station-portal", charset="utf-8",
                      creation_date=datetime(2026, 1, 1, tzinfo=UTC))
    for filename, lineno, message, comments, context in extract_from_dir(
        PACKAGE_DIR, METHOD_MAP, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _load(locale: str) -> Catalog:
    path = catalog_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="station-portal", charset="utf-8")
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def update(locales: Iterable[str] = LOCALES) -> dict[str, int]:
    """Merge the extracted messages into each catalog; returns untranslated counts."""
    template = extract()
    result = {}
    for locale in locales:
        catalog = _load(locale)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False
        for message in catalog:
            if not message.id:
                continue
            if locale == "en" and not message.string:
                message.string = message.id
            message.flags.discard("fuzzy")
        path = catalog_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False, include_lineno=False,
                     sort_output=True)
        result[locale] = sum(1 for m in catalog if m.id and not _complete(m.string))
    return result


def _complete(string: object) -> bool:
    if isinstance(string, tuple | list):
        return bool(string) and all(string)
    return bool(string)


def missing() -> dict[str, list[str]]:
    """Per locale, the extracted messages without a translation."""
    template = extract()
    wanted = {m.id for m in template if m.id}
    out = {}
    for locale in LOCALES:
        catalog = _load(locale)
        have = {m.id for m in catalog if m.id and _complete(m.string) and not m.fuzzy}
        out[locale] = sorted(str(x) for x in wanted - have)
    return out

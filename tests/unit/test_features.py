"""The feature list (``station_portal.features``) is the one place a page, its callbacks
and its models are named: nothing on disk is left out of it."""

from __future__ import annotations

import re
from pathlib import Path

import station_portal
from station_portal.features import FEATURES, callback_modules, model_modules, page_modules
from station_portal.models import Base

PACKAGE = Path(station_portal.__file__).parent


def _named(kind: str) -> set[str]:
    return {m for f in FEATURES for m in getattr(f, kind)}


def test_every_callbacks_module_is_registered_by_a_feature():
    on_disk = {p.stem for p in (PACKAGE / "callbacks").glob("*.py") if not p.stem.startswith("_")}
    assert on_disk == _named("callbacks")
    assert all(callable(m.register) for m in callback_modules())


def test_every_module_that_declares_a_page_is_a_feature_page():
    declaring = {p.stem for p in (PACKAGE / "pages").glob("*.py")
                 if "= Page(" in p.read_text(encoding="utf-8")
                 or "PAGES = " in p.read_text(encoding="utf-8")}
    assert declaring == _named("pages")
    assert len(page_modules()) == len(_named("pages"))


def test_every_module_that_defines_a_table_is_imported_for_the_metadata():
    defining = {str(p.relative_to(PACKAGE).with_suffix("")).replace("/", ".")
                for p in PACKAGE.rglob("*.py")
                if re.search(r"^class \w+\(Base\b|Table\(\s*\"", p.read_text(encoding="utf-8"),
                             re.MULTILINE)}
    assert defining == _named("models")
    modules = {m.__name__ for m in model_modules()}
    assert {t.__module__ for t in _mapped_classes()} <= modules


def test_feature_names_are_unique():
    names = [f.name for f in FEATURES]
    assert len(names) == len(set(names))


def _mapped_classes() -> list[type]:
    return [mapper.class_ for mapper in Base.registry.mappers]

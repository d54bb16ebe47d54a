"""Data files (``data/``) go through one loader: an edit on disk is seen on the next
call, and a broken file stops the start with its name and the reason."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from station_portal.datafiles import DataFileError, check_all, data_files
from station_portal.hall.catalog import CATALOG_FILE
from station_portal.org.matrix import MATRIX_FILE
from station_portal.resources import resource_dir


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(resource_dir("data"), copy)
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    before = path.stat().st_mtime_ns
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))  # a later edit


def test_an_edited_data_file_is_seen_on_the_next_call(data_copy):
    matrix = MATRIX_FILE.at(data_copy)
    first = matrix.get()
    assert matrix.get() is first  # unchanged: the cached value
    name = first.businesses[0].name_en
    _edit(data_copy / "responsibility_matrix.toml", f'"{name}"', '"Renamed business"')
    assert matrix.get().businesses[0].name_en == "Renamed business"


def test_the_hall_catalogue_is_no_longer_read_once_per_process(data_copy):
    catalog = CATALOG_FILE.at(data_copy)
    version = catalog.get().version
    _edit(data_copy / "service_hall.toml", f'version = "{version}"', 'version = "edited"')
    assert catalog.get().version == "edited"


def test_the_shipped_data_files_pass_the_start_up_check(data_copy):
    check_all(data_copy)


def test_a_missing_key_is_refused_at_start_up_naming_file_and_key(data_copy):
    path = data_copy / "escalation.toml"
    path.write_text("[workday]\nunit_head_after = 2\n[minute]\nunit_head_after = 10\n"
                    "company_after = 60\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"escalation\.toml.*company_after"):
        check_all(data_copy)


def test_a_syntax_error_is_refused_at_start_up_naming_the_file(data_copy):
    (data_copy / "dispatch.toml").write_text("[travel\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"dispatch\.toml"):
        check_all(data_copy)


def test_a_rule_set_that_overruns_its_path_is_refused_at_start_up(data_copy):
    # a low-voltage resident's connection stage longer than their whole process (5 days)
    _edit(data_copy / "rules" / "2024-01-01-sgcc-2023.toml",
          'connection = { amount = 3, source = "allocation" }',
          'connection = { amount = 9, source = "allocation" }')
    with pytest.raises(DataFileError, match="exceed the whole-process limit"):
        check_all(data_copy)


def test_every_file_under_data_is_checked():
    covered = set()
    for file in data_files():
        path = file.path
        covered |= set(path.glob("*.toml")) if path.is_dir() else {path}
    assert set(resource_dir("data").rglob("*.toml")) <= covered

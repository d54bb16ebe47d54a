"""Browser input is coerced to known types without raising."""

import pytest

from station_portal.validate import MAX_BIG_ID, MAX_ID, as_id, id_list, mapping, text


@pytest.mark.parametrize(("value", "expected"), [
    (7, 7), ("7", 7), (" 12 ", 12), (0, None), (-3, None), (True, None), (3.0, None),
    ("1e3", None), ("", None), (None, None), (MAX_ID, MAX_ID), (MAX_ID + 1, None),
    ("99999999999", None), ([1], None),
])
def test_ids_are_positive_32_bit_integers(value, expected):
    assert as_id(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (2**40, 2**40), (str(2**40), 2**40), (MAX_BIG_ID, MAX_BIG_ID), (MAX_BIG_ID + 1, None),
    (str(MAX_BIG_ID + 1), None), ("1" * 30, None), (0, None), (True, None),
])
def test_ids_of_growing_tables_are_positive_64_bit_integers(value, expected):
    assert as_id(value, big=True) == expected


def test_lists_keep_only_ids():
    assert id_list([1, "2", "x", None, -1, 2**40]) == [1, 2]
    assert id_list("1,2") == []


def test_text_and_mappings():
    assert text("abcdef", 3) == "abc" and text(5) == ""
    assert mapping({"a": 1}) == {"a": 1} and mapping([("a", 1)]) == {}

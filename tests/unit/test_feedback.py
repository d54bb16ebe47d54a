"""pages.ui.feedback: one way to answer what a user just did."""

import pytest

from station_portal.errors import PortalError, ValidationFailed
from station_portal.pages.ui import error_text, feedback


@pytest.mark.parametrize("kind", ["success", "info", "warning", "danger"])
def test_feedback_has_its_colour_and_an_icon(kind):
    alert = feedback("Saved.", kind, id_="x-alert")
    assert alert.color == kind and alert.dismissable and alert.id == "x-alert"
    icon, text = alert.children
    assert icon.className.startswith("bi bi-") and text == "Saved."


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        feedback("Saved.", "green")


def test_error_text_names_each_bad_field_or_the_refusal():
    assert error_text(ValidationFailed({"a": "Give a name.", "b": "Too long."})) == \
        "Give a name.; Too long."
    assert error_text(PortalError("Not yours.")) == "Not yours."


def test_a_message_of_several_parts_is_one_child():
    alert = feedback(["Case ", "P-1", " opened."], "success")
    _icon, body = alert.children
    assert body.children == ["Case ", "P-1", " opened."]

"""Requests nobody's page sends: an unknown library file, a callback body that is not one.

They get a 4xx with a short message, never a 500 or a traceback."""

from __future__ import annotations

import pytest

SUITES = ["/_dash-component-suites/nope/x.js", "/_dash-component-suites/dash/nope.js",
          "/_dash-component-suites/dash/deps/nope.v1_0_0m1.js"]


@pytest.mark.parametrize("path", SUITES)
def test_an_unknown_library_file_is_404(client, path):
    answer = client.get(path)
    assert answer.status_code == 404
    assert "Traceback" not in answer.get_data(as_text=True)


BODIES = [b"garbage", b"{}", b"[]", b'"text"', b'{"output": 5}',
          b'{"output": "x.children", "inputs": "no"}',
          b'{"output": "page-content.children", "outputs": {"id": "page-content", '
          b'"property": "children"}, "inputs": [{"id": "url", "property": "pathname", '
          b'"value": {"a": 1}}], "changedPropIds": []}',
          b'{"output": "..nope.children...", "outputs": [], "inputs": [], "state": 7}']


@pytest.mark.parametrize("body", BODIES)
def test_a_malformed_callback_body_is_a_client_error(as_user, body):
    answer = as_user("head").post("/_dash-update-component", data=body,
                                  content_type="application/json")
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.get_data(as_text=True))
    assert "Traceback" not in answer.get_data(as_text=True)

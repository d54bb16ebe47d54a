"""The API's own OpenAPI document drives schemathesis against the running app: whatever
it sends, valid or not, the answer is never a 5xx.

Each operation gets a few dozen generated requests (valid and invalid data) with a
station head's bearer token, and again with a crew member's. Two operations need
care so that fuzzing them does not spoil the run:

- ``DELETE /tokens/current`` is called with a throwaway token (it would revoke ours);
- ``POST /tokens`` is called in-process from a random client address: its wrong
  passwords would otherwise lock 127.0.0.1, which other tests sign in from
  (the throttle doing its job).

The operations are driven through schemathesis' Python API (``as_strategy`` and
Hypothesis) rather than its pytest plugin, whose lazy fixture loader does not
work with pytest 9. Examples are derandomised so that a run is reproducible.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from sqlalchemy import select

from station_portal.auth.models import User
from station_portal.auth.tokens import issue_token
from tests.helpers import API, head_of

EXAMPLES = 50


@pytest.fixture(scope="session")
def api_schema(live_app):
    return schemathesis.openapi.from_url(f"{live_app.url}{API}/openapi.json")


@pytest.fixture(scope="session")
def fuzz_users(db) -> dict[str, str]:
    return {"station_head": head_of(db), "crew": "crew"}


def fresh_token(db, username: str) -> str:
    with db.write() as s:
        user = s.scalar(select(User).where(User.username == username))
        return issue_token(s, user, lifetime=timedelta(hours=1), name="fuzz").token


@pytest.fixture
def photo_folder(app, tmp_path, monkeypatch):
    """Photos that happen to pass the checks land in a temporary folder."""
    portal = app.extensions["station_portal"]
    monkeypatch.setattr(portal, "config", replace(portal.config, upload_dir=str(tmp_path)))


def strategy(operation) -> st.SearchStrategy:
    """Valid requests and, where the operation takes input, invalid ones."""
    options = [operation.as_strategy(GenerationMode.POSITIVE)]
    if operation.body or any(True for _p in operation.iter_parameters()):
        options.append(operation.as_strategy(GenerationMode.NEGATIVE))
    return st.one_of(*options)


@pytest.mark.slow
@pytest.mark.parametrize("role", ["station_head", "crew"])
def test_no_generated_request_gets_a_server_error(role, api_schema, app, db, live_app, fuzz_users,
                                                  photo_folder):
    token = fresh_token(db, fuzz_users[role])

    def call(case) -> None:
        if case.method == "POST" and case.path == f"{API}/tokens":
            address = f"10.{random.randint(100, 200)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
            case.call_and_validate(app=app, checks=[not_a_server_error],
                                   environ_base={"REMOTE_ADDR": address})
            return
        bearer = fresh_token(db, fuzz_users[role]) if case.method == "DELETE" else token
        case.call_and_validate(base_url=live_app.url, checks=[not_a_server_error], timeout=60,
                               headers={"Authorization": f"Bearer {bearer}"})

    failures, operations = [], 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        @given(case=strategy(operation))
        def fuzz(case) -> None:
            call(case)

        try:
            fuzz()
        except Exception as exc:  # collect every operation's failure, then fail once
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 14
    assert not failures, "\n\n".join(failures)

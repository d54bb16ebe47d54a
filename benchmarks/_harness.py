"""Shared pieces of the benchmark scripts: a signed-in client, timing a callback."""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask
from flask.testing import FlaskClient

from tests.dash_calls import DASH_UPDATE


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    response = client.post("/login", data={"username": username, "password": "portal-demo",
                                           "csrf": csrf})
    assert response.status_code == 302, f"cannot sign in as {username}"
    return client


def time_callback(client: FlaskClient, body: dict[str, Any], repeat: int,
                  warmup: int = 3) -> tuple[float, float]:
    """Median and 95th percentile in ms of a callback through the whole Flask stack."""
    timings = []
    for _i in range(repeat + warmup):
        started = time.perf_counter()
        response = client.post(DASH_UPDATE, json=body)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (body["output"], response.status_code, response.text[:200])
    timings = sorted(timings[warmup:])
    return statistics.median(timings), timings[min(len(timings) - 1, int(len(timings) * 0.95))]

"""Every HTML page carries a Content-Security-Policy: scripts only from the portal itself
and Dash's own inline scripts by hash (no 'unsafe-inline', no 'unsafe-eval'), no framing,
no plugins, forms and <base> only to the portal; the templates carry no inline script."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from station_portal import create_app
from station_portal.hall.demo import build_halls
from station_portal.hall.models import ServiceHall
from station_portal.web.guard import content_security_policy, tile_origin
from tests.helpers import app_config, visitor

TEMPLATES = Path(__file__).resolve().parents[2] / "station_portal" / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", re.S | re.I)


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def check_policy(response) -> dict[str, list[str]]:
    assert response.mimetype == "text/html"
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"{response.request.path}: no Content-Security-Policy"
    d = directives(policy)
    assert "'unsafe-eval'" not in policy
    assert d["script-src"][0] == "'self'" and "'unsafe-inline'" not in d["script-src"]
    assert d["default-src"] == ["'self'"] and d["object-src"] == ["'none'"]
    assert d["base-uri"] == ["'self'"] and d["form-action"] == ["'self'"]
    assert d["frame-ancestors"] == ["'none'"]
    assert d["worker-src"] == ["'self'", "blob:"]  # MapLibre's workers
    return d


def inline_scripts(html: str) -> list[str]:
    """The executable inline scripts of a page (neither a JSON data block nor one in a
    comment, such as Dash's ``<!--[if IE]>`` warning)."""
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    return [body for attrs, body in INLINE_SCRIPT.findall(html)
            if "application/json" not in attrs.lower()]


def sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


@pytest.fixture(scope="module")
def hall_code(db) -> str:
    with db.write() as s:
        if not s.scalar(select(ServiceHall.id).limit(1)):
            build_halls(s, seed=7)
        return s.scalar(select(ServiceHall.code).order_by(ServiceHall.id).limit(1))


def test_the_dash_page_allows_exactly_its_inline_scripts_by_hash(as_user):
    page = as_user("head").get("/")
    assert page.status_code == 200
    d = check_policy(page)
    scripts = inline_scripts(page.text)
    assert any("DashRenderer" in s for s in scripts), "the renderer's start script"
    assert len(scripts) >= 2, "the inline clientside callbacks (callbacks/shell.py)"
    for script in scripts:
        assert sha256(script) in d["script-src"], script[:80]


@pytest.mark.parametrize("path", ["/login", "/service", "/service/apply", "/service/report",
                                  "/service/track", "/service/no-such-page"])
def test_public_pages_and_errors_carry_the_policy(app, path):
    page = visitor(app).get(path)
    assert page.status_code == (404 if "no-such" in path else 200)
    check_policy(page)
    assert inline_scripts(page.text) == []


def test_kiosk_pages_carry_the_policy(app, hall_code):
    for path in (f"/kiosk/{hall_code}", f"/kiosk/{hall_code}/display"):
        page = visitor(app).get(path)
        assert page.status_code == 200, path
        check_policy(page)
        assert inline_scripts(page.text) == []


def test_a_signed_in_error_page_carries_the_policy(as_user):
    page = as_user("head").get("/kiosk/NO-SUCH-HALL")
    assert page.status_code == 404
    check_policy(page)


def test_json_answers_carry_no_page_policy(client):
    answer = client.get("/healthz")
    assert "Content-Security-Policy" not in answer.headers


def test_no_template_has_an_inline_script_or_handler():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert not re.search(r"\son[a-z]+\s*=", text, re.I), template
        assert "javascript:" not in text.lower(), template


def test_the_tile_server_is_allowed_for_images_and_fetches(db):
    app = create_app(app_config(db, tile_url="https://tiles.example.cn:8443/{z}/{x}/{y}.png"))
    app.config["TESTING"] = True
    d = check_policy(visitor(app).get("/login"))
    assert "https://tiles.example.cn:8443" in d["img-src"]
    assert "https://tiles.example.cn:8443" in d["connect-src"]
    assert "https://tiles.example.cn:8443" not in d["script-src"]


def test_tile_origins():
    assert tile_origin("") is None
    assert tile_origin("/tiles/{z}/{x}/{y}.png") is None  # same origin: 'self'
    assert tile_origin("http://Tiles.internal/{z}/{x}/{y}.png") == "http://tiles.internal"
    assert tile_origin("https://x.cn; script-src *") is None  # cannot widen the policy
    assert "img-src 'self' data: blob:;" in content_security_policy("")


def test_the_api_docs_page_allows_only_its_own_inline_start_script(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    d = check_policy(page)
    scripts = inline_scripts(page.text)
    assert scripts and all(sha256(s) in d["script-src"] for s in scripts)

"""Deny by default: one guard in front of every route.

Public: the sign-in page, the health check, static assets and Dash's
JavaScript bundles, the customer self-service pages (``/service``) and the
hall kiosks (``/kiosk/``), which check their own callers, and of the REST API
its OpenAPI document, its docs page and the token exchange. Everything else
needs a live server-side session or, under ``/api/v1/``, a bearer token;
anonymous JSON calls (Dash callbacks, the API) get 401, pages redirect to
sign-in. A Dash callback request is also checked against the roles its
callback declared (``callbacks/_secure.py``) before Dash runs it.

REST API calls authenticate in one of two ways:

- ``Authorization: Bearer <token>`` (mobile terminals, integrations). A bearer
  header wins over a cookie; a bad, expired or revoked token is a 401, never a
  fall-back to the cookie.
- the portal's own session cookie (its pages call the API with ``fetch``). For
  unsafe methods such a call must carry ``X-Requested-With: station-portal``,
  which a cross-site form cannot send (CSRF defence); a GET by cookie is not
  user activity, so polling does not keep a session alive.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, g, jsonify, redirect, request, session, url_for
from flask_login import LoginManager, current_user
from sqlalchemy.orm import Session

from station_portal import i18n
from station_portal.auth.models import User
from station_portal.auth.signin import check_session, end_session, expired_reason, touch
from station_portal.auth.tokens import TokenProblem, check_token, touch_token
from station_portal.i18n import _
from station_portal.web.context import (
    EXTENSION,
    SignedInUser,
    client_ip,
    close_request_session,
    portal,
    read_session,
    write_session,
)

# /logout is public so that signing out of an already expired session still lands
# on the sign-in page (the view handles an anonymous caller).
API_PREFIX = "/api/"
API_V1 = "/api/v1"
API_DOCS_STATIC = f"{API_V1}/docs/static/"
# The OpenAPI document, its docs page and the token exchange need no sign-in.
API_PUBLIC_PATHS = frozenset({f"{API_V1}/openapi.json", f"{API_V1}/docs", f"{API_V1}/tokens"})
# /readyz and /metrics: web/health.py, web/metrics.py (which checks its own callers).
PUBLIC_PATHS = frozenset({"/login", "/logout", "/healthz", "/readyz", "/metrics", "/_favicon.ico",
                          "/favicon.ico", "/service"}) \
    | API_PUBLIC_PATHS
# The public customer pages and the hall kiosks (web/public.py): HTML, answered as HTML.
PUBLIC_HTML_PREFIXES = ("/service/", "/kiosk/")
PUBLIC_BLUEPRINTS = frozenset({"customer", "outages", "kiosk"})  # the only views under those prefixes
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", API_DOCS_STATIC)
PUBLIC_PREFIXES = (*STATIC_PREFIXES, *PUBLIC_HTML_PREFIXES)
JSON_PREFIXES = ("/_dash-", "/_reload-hash", API_PREFIX)
DASH_UPDATE = "/_dash-update-component"
# Cookie-authenticated API calls with these methods must carry this header (CSRF defence).
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER, CSRF_HEADER_VALUE = "X-Requested-With", "station-portal"

login_manager = LoginManager()


def init_app(server: Flask) -> None:
    login_manager.init_app(server)
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    login_manager.request_loader(load_user_from_request)
    server.before_request(guard)
    server.after_request(protect_response)
    server.teardown_appcontext(close_request_session)


def _timeouts() -> tuple[timedelta, timedelta]:
    cfg = portal().config
    return timedelta(minutes=cfg.idle_timeout_minutes), timedelta(hours=cfg.session_max_hours)


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


def is_user_activity() -> bool:
    """False for a Dash callback fired only by a polling interval and for a GET of the API
    (polling must not keep a session alive)."""
    if is_api_path(request.path):
        return request.method in UNSAFE_METHODS
    if request.path != DASH_UPDATE:
        return True
    body = request.get_json(silent=True)
    changed = body.get("changedPropIds") if isinstance(body, dict) else None
    if not isinstance(changed, list) or not changed:
        return True
    policy = portal().callback_policies.get(body.get("output")) if isinstance(body.get("output"), str) \
        else None
    passive = policy.passive_inputs if policy is not None else frozenset()
    return not all(isinstance(p, str) and (p.endswith(".n_intervals") or p in passive) for p in changed)


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer …`` header ("" if empty), None without one."""
    scheme, _sep, value = request.headers.get("Authorization", "").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


class TokenUser(SignedInUser):
    """A user signed in by a bearer token of the REST API (no web session behind it)."""

    def __init__(self, user: User, token_id: int) -> None:
        super().__init__(user, f"api-token:{token_id}")
        self.token_id = token_id


def load_user(token: str) -> SignedInUser | None:
    if is_api_path(request.path) and bearer_token() is not None:
        return None  # the bearer header wins; Flask-Login asks load_user_from_request next
    idle, max_age = _timeouts()
    reader: Session = read_session()
    active = check_session(reader, token, idle_timeout=idle, max_age=max_age)
    if active is None:
        reason = expired_reason(reader, token, idle_timeout=idle, max_age=max_age)
        if reason is not None:
            with write_session() as writer:
                end_session(writer, token, reason, ip=client_ip())
            g.session_end_reason = reason.value
        return None
    user = reader.get(User, active.user_id)
    if user is None:
        return None
    if active.needs_touch and is_user_activity():
        with write_session() as writer:
            touch(writer, active.session_id)
    return SignedInUser(user, token)


def load_user_from_request(_request: Any) -> TokenUser | None:
    """The user behind a bearer token, for API paths only; why not, in ``g.api_token_problem``."""
    if not is_api_path(request.path):
        return None
    token = bearer_token()
    if token is None:
        return None
    reader: Session = read_session()
    active = check_token(reader, token)
    if isinstance(active, TokenProblem):
        g.api_token_problem = active
        return None
    user = reader.get(User, active.user_id)
    if user is None:
        g.api_token_problem = TokenProblem.INVALID
        return None
    signed_in = TokenUser(user, active.token_id)
    if active.needs_touch:
        with write_session() as writer:
            touch_token(writer, active.token_id)
    return signed_in


def set_request_locale() -> None:
    locale = current_user.locale if current_user.is_authenticated else None
    locale = (
        locale
        or i18n.normalise_locale(session.get("locale"))
        or i18n.negotiate(request.headers.get("Accept-Language"))
        or portal().config.default_locale
    )
    i18n.set_locale(locale)


def wants_json(path: str) -> bool:
    if path == "/service" or path.startswith(PUBLIC_HTML_PREFIXES):
        return False
    return path.startswith(JSON_PREFIXES) or request.method != "GET"


def json_error(status: int, code: str, message: str) -> tuple[Response, int]:
    body: dict[str, Any] = {"error": code, "message": message}
    if is_api_path(request.path):
        body["fields"] = {}
    response = jsonify(body)
    if status == 401 and is_api_path(request.path):
        response.headers["WWW-Authenticate"] = 'Bearer realm="station-portal"'
    return response, status


def safe_next(target: str | None) -> str:
    """Only a local path may be a redirect target after sign-in."""
    if not target or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target):
        return "/"  # whitespace or control characters (CR/LF would split the header)
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target:
        return "/"
    return target


def guard() -> Any:
    path = request.path
    set_request_locale()
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        if (path == "/service" or path.startswith(PUBLIC_HTML_PREFIXES)) \
                and request.blueprint not in PUBLIC_BLUEPRINTS:
            abort(404)  # not one of the public pages (Dash's catch-all would serve its shell)
        return None
    if not current_user.is_authenticated:
        problem = g.get("api_token_problem")
        if problem is TokenProblem.EXPIRED:
            return json_error(401, "token_expired", _("Your token has expired. Get a new one."))
        if problem is TokenProblem.INVALID:
            return json_error(401, "token_invalid",
                              _("This token is not valid (revoked, or not ours). Get a new one."))
        if wants_json(path):
            return json_error(401, "unauthenticated", _("Please sign in first."))
        target = request.full_path if request.query_string else path
        return redirect(url_for("signin.login", next=safe_next(target),
                                reason=g.get("session_end_reason")))
    if path == DASH_UPDATE:
        return check_callback_request()
    if is_api_path(path):
        return check_api_request()
    return None


def check_api_request() -> Any:
    """A cookie-authenticated unsafe call must name the portal in X-Requested-With; a user
    with a one-time password may only ask who they are."""
    user = current_user
    if not isinstance(user, TokenUser) and request.method in UNSAFE_METHODS \
            and request.headers.get(CSRF_HEADER) != CSRF_HEADER_VALUE:
        return json_error(403, "csrf_header_missing", _(
            "Calls from the portal's pages must carry the header %(header)s: %(value)s.",
            header=CSRF_HEADER, value=CSRF_HEADER_VALUE))
    if user.must_change_password and request.path != f"{API_V1}/me":
        return json_error(403, "password_change_required",
                          _("Change your one-time password in the portal first."))
    return None


def output_specs(callback_id: str) -> list[tuple[str, str]]:
    """Dash names a multi-output callback "..a.children...b.figure.."; → [(id, property)]."""
    parts = [p for p in callback_id.strip(".").split("...") if p] \
        if callback_id.startswith("..") else [callback_id]
    return [tuple(part.rsplit(".", 1)) for part in parts]  # type: ignore[misc]


def _same_ref(sent: object, component: object, prop: str) -> bool:
    """A reference in the request names the component and property the callback declared.

    Pattern-matching ids (dicts, or a JSON text in an output name) are only checked
    for shape; ``@…`` marks Dash's duplicate-output suffix.
    """
    if isinstance(component, dict) or (isinstance(component, str) and component.startswith("{")):
        items = sent if isinstance(sent, list) else [sent]
        return all(isinstance(i, dict) and isinstance(i.get("id"), dict)
                   and isinstance(i.get("property"), str) for i in items)
    return (isinstance(sent, dict) and sent.get("id") == component
            and isinstance(sent.get("property"), str)
            and sent["property"].split("@")[0] == prop.split("@")[0])


def _pattern_ref(changed: str, declared: list[dict[str, Any]]) -> bool:
    """A changed pattern-matched input ('{"crew":3,"type":"x"}.n_clicks') that fits a declared
    pattern input: the id parses to a flat object with the pattern's keys and type."""
    id_text, _dot, prop = changed.rpartition(".")
    if not id_text.startswith("{"):
        return False
    try:
        sent = json.loads(id_text)
    except ValueError:
        return False
    if not isinstance(sent, dict) or not all(
            isinstance(v, str | int | float | bool) and not isinstance(v, dict) for v in sent.values()):
        return False
    for spec in declared:
        pattern = spec["id"]
        if isinstance(pattern, str) and pattern.startswith("{"):
            try:
                pattern = json.loads(pattern)
            except ValueError:
                continue
        # Wildcards (ALL, MATCH …) are lists in Dash's JSON; other values must be equal.
        if isinstance(pattern, dict) and spec["property"] == prop and set(pattern) == set(sent) \
                and all(isinstance(v, list) or sent[k] == v for k, v in pattern.items()):
            return True
    return False


def check_callback_request() -> Any:
    """Refuse unknown callbacks, callers outside their roles, and requests that do not
    match the callback's declared inputs, state and outputs (Dash would fail on them)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        return json_error(400, "bad_request", _("This request is malformed."))
    policy = portal().callback_policies.get(body["output"])
    if policy is None or policy.clientside:
        return json_error(404, "not_found", _("No such callback."))
    if not policy.allows(current_user):
        return json_error(403, "forbidden", _("You may not do this."))
    declared = portal().dash.callback_map[body["output"]]
    declared_inputs, declared_state = declared["inputs"], declared.get("state", [])
    inputs, state = body.get("inputs", []), body.get("state", [])
    specs = output_specs(body["output"])
    outputs = body.get("outputs") if len(specs) > 1 else [body.get("outputs")]
    input_names = {f"{d['id']}.{d['property']}" for d in declared_inputs}
    changed = body.get("changedPropIds", [])
    well_formed = (
        isinstance(inputs, list) and len(inputs) == len(declared_inputs)
        and all(_same_ref(i, d["id"], d["property"])
                for i, d in zip(inputs, declared_inputs, strict=True))
        and isinstance(state, list) and len(state) == len(declared_state)
        and all(_same_ref(i, d["id"], d["property"])
                for i, d in zip(state, declared_state, strict=True))
        and isinstance(outputs, list) and len(outputs) == len(specs)
        and all(_same_ref(o, cid, prop) for o, (cid, prop) in zip(outputs, specs, strict=True))
        and isinstance(changed, list)
        and all(isinstance(c, str) and (c in input_names or _pattern_ref(c, declared_inputs))
                for c in changed)
    )
    if not well_formed:
        return json_error(400, "bad_request", _("This request is malformed."))
    return None


# Content-Security-Policy of every HTML page (Dash's page, sign-in, errors, /service, /kiosk/).
# Scripts: our own files only, plus the inline scripts Dash itself writes into its page (the
# renderer's start and the inline clientside callbacks), allowed by their hashes (see
# ``use_dash_scripts``): no 'unsafe-inline', no 'unsafe-eval' (plotly.js, MapLibre and the
# Dash bundles run without eval). Styles need 'unsafe-inline': React components (Dash's
# ``style=`` props, plotly.js, MapLibre) set inline style attributes, and the kiosk pages
# carry a <style> block. Plotly's MapLibre maps start their web workers from blob: URLs;
# chart downloads and map canvases use data:/blob: images. A deployment's raster tile server
# (PORTAL_TILE_URL) is allowed for images and fetches.
CSP_HEADER = "Content-Security-Policy"
CSP_EXTENSION = "station_portal.csp"
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-]+(:[0-9]+)?")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def tile_origin(tile_url: str) -> str | None:
    """The origin of an absolute ``PORTAL_TILE_URL`` (None for none, or a relative URL: 'self')."""
    parts = urlsplit(tile_url.strip())
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    return origin if parts.scheme and _ORIGIN.fullmatch(origin) else None


def content_security_policy(tile_url: str, script_hashes: Iterable[str] = ()) -> str:
    tiles = tile_origin(tile_url)
    extra = f" {tiles}" if tiles else ""
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *script_hashes]),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": f"'self' data: blob:{extra}",
        "font-src": "'self' data:",
        "connect-src": f"'self'{extra}",
        "worker-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",  # as X-Frame-Options: DENY
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def use_dash_scripts(server: Flask, script_hashes: Iterable[str]) -> None:
    """The policy with Dash's inline scripts (``Dash.csp_hashes()``, once every callback
    is registered)."""
    server.extensions[CSP_EXTENSION] = content_security_policy(
        server.extensions[EXTENSION].config.tile_url, list(script_hashes))


def _script_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def page_policy(response: Response) -> str:
    policy = current_app.extensions.get(CSP_EXTENSION) \
        or content_security_policy(portal().config.tile_url)
    if request.path == f"{API_V1}/docs" and not response.direct_passthrough:
        # flask-smorest's Swagger UI page starts Swagger with an inline script rendered from
        # its fixed template and our configuration (no request data in it): allow that one.
        hashes = [_script_hash(s) for s in _INLINE_SCRIPT.findall(response.get_data(as_text=True))]
        policy = policy.replace("script-src 'self'", " ".join(["script-src 'self'", *hashes]), 1)
    return policy


def protect_response(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if response.mimetype == "text/html":
        response.headers.setdefault(CSP_HEADER, page_policy(response))
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith(STATIC_PREFIXES):
        # Pages and data of a signed-in user or of a customer's case must not stay in a cache.
        response.headers["Cache-Control"] = "no-store"
    return response

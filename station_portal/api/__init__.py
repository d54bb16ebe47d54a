"""REST API v1 for mobile terminals and integrations, under ``/api/v1``.

A face like the Dash pages: it reads the request, checks the caller's role,
calls the same services and scoped queries as the portal, and answers JSON.
Built with flask-smorest: the OpenAPI 3 document (``/api/v1/openapi.json``) is
generated from the blueprints and marshmallow schemas; Swagger UI
(``/api/v1/docs``) is served from the installed ``swagger_ui_bundle``, so the
docs work without internet access.

Authentication (bearer tokens, or the portal's own session cookie with a CSRF
header) is done by the one guard, ``web/guard.py``; errors are answered by
``web/errors.py`` in this package's format (``api/errors.py``).
"""

from __future__ import annotations

from flask import Flask, current_app, request, send_from_directory
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from station_portal.api.schemas import ErrorSchema
from station_portal.services.attachments import MAX_BYTES
from station_portal.web.guard import API_DOCS_STATIC, API_PREFIX, API_V1, CSRF_HEADER, CSRF_HEADER_VALUE

JSON_BODY_LIMIT = 1024 * 1024
UPLOAD_BODY_LIMIT = MAX_BYTES + 256 * 1024  # the photo and the multipart framing
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

DESCRIPTION = f"""\
The Station Portal's REST API for mobile terminals and integrations.

**Authentication.** Exchange a username and password for a bearer token with
`POST {API_V1}/tokens` and send it as `Authorization: Bearer <token>`. Tokens
expire (PORTAL_API_TOKEN_HOURS) and can be revoked (`DELETE {API_V1}/tokens/current`).
The portal's own pages may call the API with their session cookie instead; such
calls with POST, PUT, PATCH or DELETE must carry the header
`{CSRF_HEADER}: {CSRF_HEADER_VALUE}`.

**Roles and scope** are those of the portal: every list is limited to the
caller's area, and every change is checked against the responsibility matrix.
An unknown id is 404 for a caller who sees everything; for a caller with a
limited scope, an unknown id and an id outside the scope are both 403 with
the same message.

**Errors** are JSON: `{{"error": code, "message": text, "fields": {{field: text}}}}`,
in the caller's language (the account's language, else Accept-Language).
Validation errors are 422 (400 for a body that is not JSON), a stale version
409 with the order's current state.

**Idempotency.** Field steps may carry a `client_key`: the same key sent again
returns the order with `replayed: true` and does not apply the step twice.
"""


class PortalApi(Api):
    """flask-smorest's Api, documenting our error format and leaving error handling to
    ``web/errors.py`` (which answers every API error in that format)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        return None


def _docs_static(filename: str):
    return send_from_directory(str(swagger_ui_path), filename, max_age=3600)


def _unknown(rest: str):
    """Anything under /api/ that no endpoint serves: 405 if the path exists with other
    methods, else 404 (never the portal's HTML page)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in METHODS:
        if method == request.method:
            continue
        try:
            endpoint, _args = adapter.match(request.path, method=method)
        except (NotFound, MethodNotAllowed, RequestRedirect):
            continue
        if endpoint != "api_unknown":
            allowed.append(method)
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound()


def _limit_body() -> None:
    """JSON bodies up to 1 MB; a photo upload up to its 10 MB and the multipart framing."""
    if request.path.startswith(API_PREFIX):
        upload = request.method == "POST" and request.path.endswith("/attachments")
        request.max_content_length = UPLOAD_BODY_LIMIT if upload else JSON_BODY_LIMIT


def init_api(server: Flask) -> Api:
    """Mount the API on the server (before Dash, whose catch-all route must not win)."""
    from station_portal.api import attachments, crews, notifications, tokens, workorders

    server.config.update(
        API_TITLE="Station Portal API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_V1,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=API_DOCS_STATIC,
        API_SPEC_OPTIONS={
            "info": {"description": DESCRIPTION},
            "security": [{"bearerAuth": []}, {"portalSession": []}],
        },
    )
    api = PortalApi(server)
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer",
        "description": f"A token from POST {API_V1}/tokens."})
    api.spec.components.security_scheme("portalSession", {
        "type": "apiKey", "in": "cookie", "name": "portal_session",
        "description": f"The portal's session cookie (its own pages); unsafe methods need "
                       f"the header {CSRF_HEADER}: {CSRF_HEADER_VALUE}."})
    for blueprint in (tokens.blp, workorders.blp, attachments.blp, crews.blp,
                      notifications.blp):
        api.register_blueprint(blueprint, url_prefix=API_V1)
    server.add_url_rule(f"{API_DOCS_STATIC}<path:filename>", endpoint="api_docs_static",
                        view_func=_docs_static)
    server.add_url_rule(f"{API_PREFIX}<path:rest>", endpoint="api_unknown", view_func=_unknown,
                        methods=METHODS, provide_automatic_options=False)
    server.before_request(_limit_body)
    return api

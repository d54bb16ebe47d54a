"""Bearer tokens (exchange a password for a token, revoke it) and "who am I"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from station_portal.api.core import Blueprint, authenticated_by, caller, roles
from station_portal.api.errors import ApiError
from station_portal.api.schemas import MeSchema, TokenRequestSchema, TokenSchema
from station_portal.auth.models import User
from station_portal.auth.roles import ALL_STAFF
from station_portal.auth.signin import Outcome, ThrottlePolicy, authenticate
from station_portal.auth.tokens import issue_token, revoke_token
from station_portal.i18n import _, get_locale
from station_portal.web.context import client_ip, portal, read_session, write_session
from station_portal.web.guard import TokenUser
from station_portal.web.signin import locked_message, wait_minutes

blp = Blueprint("tokens", __name__, description="Bearer tokens and the signed-in caller.")


@blp.route("/tokens", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(TokenRequestSchema, example={"username": "crew", "password": "portal-demo",
                                           "name": "phone of crew JL-CY-S-R1"})
@blp.response(201, TokenSchema)
@blp.errors(401, 403, 422, 429)
def create_token(args: dict[str, Any]):
    """Exchange a username and password for a bearer token.

    The same checks as the portal's sign-in page: wrong passwords are counted per
    account and network and per address, and make that network wait before its next
    try (429 with Retry-After; other networks, the owner's, are not held up); the demo
    password is refused outside demo mode, and every attempt is in the security log.
    The token expires after PORTAL_API_TOKEN_HOURS hours.
    An account with a one-time password must change it in the portal first.
    """
    config = portal().config
    with write_session() as session:
        result = authenticate(
            session, args["username"], args["password"], ip=client_ip(),
            demo_mode=config.is_demo, policy=ThrottlePolicy.from_config(config),
            open_session=False)
        if result.outcome is not Outcome.OK:
            # The failure is audited with the rest of this transaction.
            refusal = _refusal(result.outcome, result.locked_until)
        else:
            user = session.get(User, result.user_id)
            assert user is not None
            if user.must_change_password:
                refusal = ApiError(403, _("Change your one-time password in the portal first."),
                                   code="password_change_required")
            else:
                refusal = None
                issued = issue_token(session, user, name=args.get("name") or "",
                                     lifetime=timedelta(hours=config.api_token_hours),
                                     ip=client_ip())
                answer = {"token": issued.token, "expires_at": issued.expires_at,
                          "user": {"username": user.username, "role": user.role,
                                   "display_name": user.display_name}}
    if refusal is not None:
        raise refusal
    return answer


def _refusal(outcome: Outcome, locked_until) -> ApiError:
    if outcome in (Outcome.LOCKED_NETWORK, Outcome.LOCKED_ADDRESS):
        wait = wait_minutes(locked_until)
        return ApiError(429, locked_message(outcome, wait), code="too_many_failures",
                        headers={"Retry-After": str(wait * 60)})
    if outcome is Outcome.DEMO_PASSWORD_REFUSED:
        return ApiError(401, _("Demo passwords are not accepted on this portal. "
                               "Ask an administrator for your password."), code="bad_credentials")
    return ApiError(401, _("Wrong username or password."), code="bad_credentials")


@blp.route("/tokens/current", methods=["DELETE"])
@roles(ALL_STAFF)
@blp.response(204)
@blp.errors(400, 401)
def revoke_current_token():
    """Revoke the bearer token this call is made with; it stops working at once."""
    user = caller()
    if not isinstance(user, TokenUser):
        raise ApiError(400, _("Only a call made with a bearer token can revoke it."))
    with write_session() as session:
        revoke_token(session, user.token_id, ip=client_ip())
    return None


@blp.route("/me", methods=["GET"])
@roles(ALL_STAFF)
@blp.response(200, MeSchema)
@blp.errors(401)
def me():
    """Who the caller is: username, role, language, crew."""
    user = caller()
    row = user.model(read_session())
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "role": user.role.value, "locale": user.locale or get_locale(),
            "crew_id": user.scope().crew_id, "staff_id": row.staff_id,
            "scope_unit_id": row.scope_unit_id, "must_change_password": row.must_change_password,
            "authenticated_by": authenticated_by()}

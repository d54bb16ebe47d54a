"""Sign-in and sign-out pages (plain HTML forms with a CSRF token).

Signing in clears the old cookie session first (no session fixation) and
opens a server-side session; signing out ends that row, so a copy of the
cookie taken before is worthless afterwards.
"""

from __future__ import annotations

import hmac
import math
import secrets
from datetime import datetime

from flask import Blueprint, Response, abort, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from station_portal import i18n
from station_portal.auth.models import User
from station_portal.auth.signin import EndReason, Outcome, ThrottlePolicy, authenticate, end_session
from station_portal.db import utcnow
from station_portal.i18n import _
from station_portal.web.context import SignedInUser, client_ip, portal, read_session, write_session
from station_portal.web.guard import safe_next

bp = Blueprint("signin", __name__)

DEMO_USERS = ("admin", "manager", "head", "gridmgr", "account", "crew", "clerk")


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return token


def check_csrf() -> None:
    sent = request.form.get("csrf", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description=_("The form expired. Reload the page and try again."))


def wait_minutes(until: datetime | None) -> int:
    """Whole minutes until ``until``, at least one."""
    seconds = (until - utcnow()).total_seconds() if until is not None else 60
    return max(1, math.ceil(seconds / 60))


def locked_message(outcome: Outcome, wait: int) -> str:
    """Why a sign-in (page or API) must wait, and for how long."""
    if outcome is Outcome.LOCKED_NETWORK:
        return _("Too many failed sign-ins from your network. Try again in %(n)s minutes.",
                 n=wait)
    return _("Too many failed sign-ins from your address. Try again in %(n)s minutes.", n=wait)


def _render(message: str | None = None, status: int = 200, username: str = "",
            level: str = "danger") -> tuple[str, int]:
    reason = request.args.get("reason")
    notice = None
    if reason == "idle":
        notice = _("You were signed out after a period without activity.")
    elif reason == "expired":
        notice = _("Your session reached its maximum length; please sign in again.")
    elif request.args.get("bye"):
        notice = _("You are signed out.")
    html = render_template(
        "login.html",
        _=_,
        locale=i18n.get_locale(),
        locales=i18n.LOCALE_NAMES,
        csrf=csrf_token(),
        message=message,
        level=level,
        notice=notice,
        username=username,
        next=safe_next(request.values.get("next")),
        demo=portal().config.is_demo,
        demo_users=DEMO_USERS,
    )
    return html, status


@bp.get("/login")
def login() -> Response | tuple[str, int]:
    lang = i18n.normalise_locale(request.args.get("lang"))
    if lang:
        session["locale"] = lang
        i18n.set_locale(lang)
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    return _render()


@bp.post("/login")
def login_post() -> Response | tuple[str, int]:
    check_csrf()
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    if not username.strip() or not password:
        return _render(_("Enter your username and password."), 400, username)
    with write_session() as writer:
        result = authenticate(
            writer, username, password, ip=client_ip(),
            user_agent=request.headers.get("User-Agent"), demo_mode=portal().config.is_demo,
            policy=ThrottlePolicy.from_config(portal().config),
        )
    if result.outcome is Outcome.OK:
        user = read_session().get(User, result.user_id)
        assert user is not None and result.token is not None
        locale = session.get("locale")
        session.clear()  # a fresh cookie session: nothing carried over from before sign-in
        if locale and not user.locale:
            session["locale"] = locale
        login_user(SignedInUser(user, result.token))
        target = "/account" if user.must_change_password else request.form.get("next")
        return redirect(safe_next(target))
    if result.outcome in (Outcome.LOCKED_NETWORK, Outcome.LOCKED_ADDRESS):
        wait = wait_minutes(result.locked_until)
        html, status = _render(locked_message(result.outcome, wait), 429, username)
        return Response(html, status, headers={"Retry-After": str(wait * 60)})
    if result.outcome is Outcome.DEMO_PASSWORD_REFUSED:
        return _render(_("Demo passwords are not accepted on this portal. "
                         "Ask an administrator for your password."), 401, username)
    return _render(_("Wrong username or password."), 401, username)


@bp.post("/logout")
def logout() -> Response:
    if not current_user.is_authenticated:  # already signed out (idle timeout, elsewhere)
        return redirect(url_for("signin.login", bye=1))
    check_csrf()
    with write_session() as writer:
        end_session(writer, current_user.get_id(), EndReason.SIGN_OUT, ip=client_ip())
    logout_user()
    session.clear()
    return redirect(url_for("signin.login", bye=1))

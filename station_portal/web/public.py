"""What every public page shares (customer self-service, hall kiosks): language,
CSRF token, rate limits.

A visitor over a limit is told the real wait (until the limit's window ends) in their
language, and the 95598 hotline; a form page can answer with itself (what was typed kept,
a warning on top) instead of the bare error page (``limited(..., refused=...)``).

Public pages are plain Flask/Jinja pages (light, fast on a phone, usable
without JavaScript). The guard lets everything under ``guard.PUBLIC_HTML_PREFIXES``
through without sign-in, so each view here must check its own input and never
show more than the case the visitor proved to hold.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import render_template, request, session

from station_portal import i18n
from station_portal.i18n import _
from station_portal.ratelimit import allow, retry_after
from station_portal.web.context import client_ip, write_session
from station_portal.web.signin import check_csrf, csrf_token


def pick_language() -> None:
    """``?lang=zh_CN|en`` switches the visitor's language and keeps it for the visit."""
    lang = i18n.normalise_locale(request.args.get("lang"))
    if lang:
        session["locale"] = lang
        i18n.set_locale(lang)


def render_public(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    context.setdefault("status", status)
    html = render_template(template, _=_, locale=i18n.get_locale(), locales=i18n.LOCALE_NAMES,
                           csrf=csrf_token(), path=request.path, **context)
    return html, status


def wait_text(seconds: int) -> str:
    """A wait in the visitor's language, rounded up: "1 minute", "25 minutes", "1 hour",
    "2 hours and 5 minutes"."""
    minutes = max(1, -(-int(seconds) // 60))
    hours, minutes = divmod(minutes, 60)
    hour_text = _("1 hour") if hours == 1 else _("%(n)s hours", n=hours)
    minute_text = _("1 minute") if minutes == 1 else _("%(n)s minutes", n=minutes)
    if not hours:
        return minute_text
    if not minutes:
        return hour_text
    return _("%(hours)s and %(minutes)s", hours=hour_text, minutes=minute_text)


def limit_message(wait_seconds: int) -> str:
    return _("Too many requests from your address. Try again in %(wait)s.",
             wait=wait_text(wait_seconds))


def wait_header(wait_seconds: int) -> dict[str, str]:
    return {"Retry-After": str(max(1, int(wait_seconds)))}


def too_many(wait_seconds: int, message: str | None = None) -> tuple[str, int, dict[str, str]]:
    """The page of a visitor over a limit: the real wait and the hotline."""
    home = "/service" if request.path.startswith("/service") else None
    html, status = render_public("error.html", status=429, hotline=True, home=home,
                                 message=message or limit_message(wait_seconds))
    return html, status, wait_header(wait_seconds)


def address_key(ip: str | None, *, v4_prefix: int = 32, v6_prefix: int = 64) -> str:
    """A client address as a rate-limit key: IPv6 by its /64 (one subscriber holds a whole
    /64), IPv4 as is; wider prefixes key a network."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return "?"
    prefix = v4_prefix if address.version == 4 else v6_prefix
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def hit(bucket: str, key: str, *, limit: int, per_seconds: int) -> bool:
    """Count a hit of ``key`` in ``bucket`` (its own short transaction); True if allowed."""
    with write_session() as session:
        return allow(session, bucket, key, limit=limit, per_seconds=per_seconds)


def limited(bucket: str, *, limit: int, per_seconds: int,
            methods: tuple[str, ...] = ("GET", "POST"),
            refused: Callable[[int], Any] | None = None) -> Callable:
    """A view decorator: at most ``limit`` requests per client address per window.

    Over the limit, ``refused(wait_seconds)`` answers (a form page showing itself again),
    else :func:`too_many`. POSTs also need the form's CSRF token (checked after the count,
    so a flood of forged posts is limited too).
    """
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if request.method in methods and not hit(
                    bucket, address_key(client_ip()), limit=limit, per_seconds=per_seconds):
                wait = retry_after(per_seconds)
                return refused(wait) if refused is not None else too_many(wait)
            if request.method == "POST":
                check_csrf()
            return view(*args, **kwargs)
        return wrapper
    return decorate

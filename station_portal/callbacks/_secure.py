"""Every Dash callback is registered through :func:`secure_callback`.

It declares the roles the callback serves. The policy is stored by the
callback's output id, so the request guard refuses a caller before Dash runs
anything; the wrapper checks again at call time. A test enumerates
``app.callback_map`` and fails on any callback registered without a policy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dash import Dash
from flask import abort
from flask_login import current_user

from station_portal.auth.roles import Role
from station_portal.web.context import EXTENSION


@dataclass(frozen=True)
class CallbackPolicy:
    roles: frozenset[Role]
    # May run while the user still has to replace a one-time password.
    before_password_change: bool = False
    # Runs in the browser only; the server never answers for it.
    clientside: bool = False
    # Inputs ("id.prop") that change by themselves (a poll, a fingerprint): a call they
    # trigger is not user activity and does not keep the session alive.
    passive_inputs: frozenset[str] = frozenset()

    def allows(self, user: Any) -> bool:
        if self.clientside or not getattr(user, "is_authenticated", False):
            return False
        if getattr(user, "role", None) not in self.roles:
            return False
        return self.before_password_change or not getattr(user, "must_change_password", False)


def secure_callback(
    app: Dash,
    *dependencies: Any,
    roles: Iterable[Role],
    before_password_change: bool = False,
    passive_inputs: Iterable[str] = (),
    **kwargs: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``app.callback`` with a declared policy: ``@secure_callback(app, Output…, roles=…)``."""
    policy = CallbackPolicy(frozenset(roles), before_password_change,
                            passive_inputs=frozenset(passive_inputs))
    if not policy.roles:
        raise ValueError("a callback must serve at least one role")

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def guarded(*args: Any, **kw: Any) -> Any:
            if not current_user.is_authenticated:
                abort(401)
            if not policy.allows(current_user):
                abort(403)
            return func(*args, **kw)

        before = set(app.callback_map)
        registered = app.callback(*dependencies, **kwargs)(guarded)
        policies = app.server.extensions[EXTENSION].callback_policies
        for output_id in set(app.callback_map) - before:
            policies[output_id] = policy
        return registered

    return decorator


def clientside_callback(app: Dash, javascript: str, *dependencies: Any, **kwargs: Any) -> None:
    """A browser-only callback (no data, no server call); recorded so the guard refuses it."""
    before = set(app.callback_map)
    app.clientside_callback(javascript, *dependencies, **kwargs)
    policies = app.server.extensions[EXTENSION].callback_policies
    for output_id in set(app.callback_map) - before:
        policies[output_id] = CallbackPolicy(frozenset(Role), clientside=True)

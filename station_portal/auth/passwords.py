"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from station_portal.i18n import _

DEMO_PASSWORD = "portal-demo"  # the demo accounts' password; refused outside demo mode
MIN_LENGTH = 10
_COMMON = {"password123", "1234567890", "qwertyuiop", "administrator", "0123456789"}

# Parameters are argon2-cffi's RFC 9106 "low memory" defaults; the object is immutable.
_hasher = PasswordHasher()
# Verified against when a username does not exist, so both cases cost the same time.
_DUMMY_HASH = _hasher.hash("no such account, only here to spend the same time")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str, username: str, *, allow_demo: bool) -> str | None:
    """The reason a new password is refused, in the user's language, or None."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        return _("A password needs at least %(n)s characters.", n=MIN_LENGTH)
    if len(password) > 256:
        return _("A password can have at most 256 characters.")
    if password.strip().lower() == username.strip().lower():
        return _("The password cannot be the username.")
    if password.lower() in _COMMON:
        return _("This password is too common.")
    if password == DEMO_PASSWORD and not allow_demo:
        return _("The demo password is only accepted in demo mode.")
    return None

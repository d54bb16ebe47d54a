"""Errors that services raise for people to read.

Messages are translated where they are raised (the caller's locale is set by
then). Faces turn them into a flash message, an HTTP status or a CLI error.
"""

from __future__ import annotations


class PortalError(Exception):
    """A refusal with a message meant for the user."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(PortalError):
    """Input is wrong; ``fields`` maps each bad field to its message."""

    status = 422

    def __init__(self, fields: dict[str, str], message: str | None = None) -> None:
        super().__init__(message or "; ".join(fields.values()))
        self.fields = fields


class NotFound(PortalError):
    status = 404


class Forbidden(PortalError):
    status = 403


class Conflict(PortalError):
    """Someone else changed the record first; reload and try again."""

    status = 409

"""The one error convention of the services: a refusal the user can act on, optionally tied to a form field.

Every app's service error subclasses ``DomainError``, so a view maps any of them onto a form with
``portal.web.add_service_error`` and the idempotency guard releases a claimed submission on any of them.
"""

from __future__ import annotations


class DomainError(Exception):
    """A write the service refused; ``message`` is shown to the user, ``field`` names the form field it is about."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class StaleEditError(DomainError):
    """Someone else saved the record after this form was opened; nothing was written.

    ``current_version`` is the record's row_version now, so the form can be shown again to save over it."""

    default_message = "The record was changed by someone else."

    def __init__(self, current_version: int, message: str | None = None, field: str | None = None):
        super().__init__(message or self.default_message, field)
        self.current_version = current_version

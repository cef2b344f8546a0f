"""Errors activities raise. A data error will not mend itself on retry: fail fast, say why."""

from temporalio.exceptions import ApplicationError


def data_error(message: str) -> ApplicationError:
    """Non-retryable, with a message ops can act on (and no personal data in it)."""
    return ApplicationError(message, type="DataError", non_retryable=True)

"""Errors activities raise. A data error will not mend itself on retry: fail fast, say why."""

from sqlmodel import Session
from temporalio.exceptions import ApplicationError

from models.case import OffenderCase


def data_error(message: str) -> ApplicationError:
    """Non-retryable, with a message ops can act on (and no personal data in it)."""
    return ApplicationError(message, type="DataError", non_retryable=True)


def stored_case(session: Session, case_id: int) -> OffenderCase:
    """The case row, or a data error: an ID the workflow holds must be in the database."""
    case = session.get(OffenderCase, case_id)
    if case is None:
        raise data_error(f"case id {case_id} is not in the case database")
    return case

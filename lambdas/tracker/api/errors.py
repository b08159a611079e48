"""The Task API's errors, and their HTTP status, in one place.

Services raise these; the handler turns every one into `{error, message, details}` with its status.
Only failures of our own dependencies (DynamoDB, S3, Braket being unavailable) are 5xx.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class ApiError(Exception):
    status = HTTPStatus.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = {name: value for name, value in details.items() if value is not None}

    @property
    def name(self) -> str:
        return type(self).__name__


class BadRequest(ApiError):
    status = HTTPStatus.BAD_REQUEST


class ValidationFailed(BadRequest):
    """The request does not match the API's schema (details name the fields): `ValidationError`,
    as the schema's own validation answers."""

    @property
    def name(self) -> str:
        return "ValidationError"


class DeviceNotAllowed(BadRequest):
    """The device is not on this deployment's allowlist."""


class UnsupportedFilter(BadRequest):
    """A combination of list filters that no index serves."""


class InvalidToken(BadRequest):
    """A `next` token that this query did not hand out."""


class BraketRejected(BadRequest):
    """Braket's ValidationException, with its message."""


class Forbidden(ApiError):
    status = HTTPStatus.FORBIDDEN


class TaskNotFound(ApiError):
    status = HTTPStatus.NOT_FOUND


class Conflict(ApiError):
    status = HTTPStatus.CONFLICT


class TaskNotFinished(Conflict):
    pass


class TaskAlreadyFinished(Conflict):
    pass


class AmbiguousTaskId(Conflict):
    """A task id that recorded tasks share in several Regions: `details.taskArns` lists them."""


class IdempotencyKeyReused(Conflict):
    """The Idempotency-Key was used before with a different request."""


class ResultsGone(ApiError):
    status = HTTPStatus.GONE


class ProgramTooLarge(ApiError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class Throttled(ApiError):
    status = HTTPStatus.TOO_MANY_REQUESTS


class DependencyUnavailable(ApiError):
    """DynamoDB, S3 or Braket failed or timed out: the request may be retried as it is."""

    status = HTTPStatus.SERVICE_UNAVAILABLE


class BudgetExceeded(ApiError):
    """The submission's estimated cost would take one of its scopes past its monthly budget:
    `details` names the scope and says what remains."""

    status = HTTPStatus.PAYMENT_REQUIRED


# Hybrid jobs (issue 18): the job routes' own errors, with the same statuses as the tasks'.
class JobNotFound(ApiError):
    status = HTTPStatus.NOT_FOUND


class JobAlreadyFinished(Conflict):
    pass


class AmbiguousJobId(Conflict):
    """A job id that recorded jobs share in several Regions: `details.jobArns` lists them."""

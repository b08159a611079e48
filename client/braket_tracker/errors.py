"""The client's errors: one base class, the Task API's errors by name, and the client's own.

The API answers every error as `{error, message, details}`; `error_from_answer` turns that into
the exception of the same name (or of its HTTP status's family), carrying the server's message.
"""

from __future__ import annotations

from typing import Any


class TrackerError(Exception):
    """Base of every error the client raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- the client's own ---------------------------------------------------------------------------


class ConfigurationError(TrackerError):
    """No API URL, no Region, or an unusable setting."""


class MissingCredentials(ConfigurationError):
    """The AWS credential chain found no credentials."""


class StackNotFound(ConfigurationError):
    """No CloudFormation stack of that name in the Region, or it lacks the tracker's outputs."""


class ApiUnreachable(TrackerError):
    """The Task API did not answer (connection refused, DNS, timeout)."""


class WaitTimeout(TrackerError, TimeoutError):
    """A task did not end within the time given to `result()`."""


class LiveChannelUnavailable(TrackerError):
    """The live-updates WebSocket could not be opened (no URL, refused, handshake failed)."""


# -- the Task API's, by HTTP status and then by name --------------------------------------------


class ApiError(TrackerError):
    """An error answer of the Task API: `status`, `error` (its stable name), `message`, `details`."""

    def __init__(self, message: str, *, status: int, error: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.details = details or {}

    def __str__(self) -> str:
        return f"{self.message} ({self.status} {self.error})"


class BadRequest(ApiError):
    """400: the request does not match the schema, or was refused as invalid."""


class ValidationError(BadRequest):
    """400: `details["errors"]` lists `{path, message}` per field."""


class DeviceNotAllowed(BadRequest):
    pass


class UnsupportedFilter(BadRequest):
    pass


class InvalidToken(BadRequest):
    pass


class BraketRejected(BadRequest):
    pass


class Forbidden(ApiError):
    """403: not the submitter or an admin, an unreadable bucket, or a missing or bad signature."""


class SignatureRejected(Forbidden):
    """403: API Gateway refused the request's SigV4 signature (a wrong secret key, a skewed clock, a
    request changed after signing). `message` says so; what API Gateway adds, the canonical request
    and string to sign it expected, is in `details["signing"]`."""


class TaskNotFound(ApiError):
    """404: no such task is recorded."""


class JobNotFound(TaskNotFound):
    """404: no such hybrid job is recorded."""


class Conflict(ApiError):
    """409: the request conflicts with the task's state."""


class TaskNotFinished(Conflict):
    pass


class TaskAlreadyFinished(Conflict):
    pass


class IdempotencyKeyReused(Conflict):
    pass


class AmbiguousTaskId(Conflict):
    """409: recorded tasks in several Regions share this id; `details["taskArns"]` lists them."""


class ResultsGone(ApiError):
    """410: results.json no longer exists (the results bucket's lifecycle rule removed it)."""


class ProgramTooLarge(ApiError):
    """413: a program over 1,048,576 bytes."""


class Throttled(ApiError):
    """429: Braket or the API stage is throttling (the client retried with backoff first)."""


class ServerError(ApiError):
    """5xx: the API or one of its dependencies failed (the client retried with backoff first)."""


class DependencyUnavailable(ServerError):
    pass


_BY_NAME: dict[str, type[ApiError]] = {
    "ValidationError": ValidationError,
    "DeviceNotAllowed": DeviceNotAllowed,
    "UnsupportedFilter": UnsupportedFilter,
    "InvalidToken": InvalidToken,
    "BraketRejected": BraketRejected,
    "Forbidden": Forbidden,
    "TaskNotFound": TaskNotFound,
    "JobNotFound": JobNotFound,
    "TaskNotFinished": TaskNotFinished,
    "TaskAlreadyFinished": TaskAlreadyFinished,
    "IdempotencyKeyReused": IdempotencyKeyReused,
    "AmbiguousTaskId": AmbiguousTaskId,
    "INVALID_SIGNATURE": SignatureRejected,  # API Gateway's gateway response types
    "EXPIRED_TOKEN": SignatureRejected,
    "ResultsGone": ResultsGone,
    "ProgramTooLarge": ProgramTooLarge,
    "Throttled": Throttled,
    "DependencyUnavailable": DependencyUnavailable,
}
_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Forbidden,
    403: Forbidden,
    404: TaskNotFound,
    409: Conflict,
    410: ResultsGone,
    413: ProgramTooLarge,
    422: ValidationError,
    429: Throttled,
}


def error_from_answer(status: int, body: Any, api_url: str | None = None) -> ApiError:
    """The exception for an error answer: by the body's `error` name, else by the HTTP status.

    An answer that is not the API's shape came from something else at that URL: API Gateway itself
    answers `{"message": "Forbidden"}` to a path outside any stage (an API URL without its `/v1`).
    """
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        name = body["error"]
        message = str(body.get("message") or name)
        details = dict(body["details"]) if isinstance(body.get("details"), dict) else {}
    else:  # not the API's shape (a proxy, a load balancer, a path outside the API): keep what it said
        name = f"HTTP{status}"
        said = body.get("message") if isinstance(body, dict) else body
        message = (said if isinstance(said, str) and said else f"HTTP {status}")[:500]
        details = {}
        if status in (403, 404) and api_url is not None:
            message = (
                f"{api_url} answered {status} {message!r}, not a Task API error: is it the stack's TaskApiUrl "
                "output, with its stage (https://<id>.execute-api.<region>.amazonaws.com/v1/)?"
            )
    cls = _BY_NAME.get(name) or _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    if cls is SignatureRejected:
        summary, _, signing = message.partition("\n\n")
        message = summary.strip()
        if signing.strip():
            details["signing"] = signing.strip()
    return cls(message, status=status, error=name, details=details)


class LiveUpdatesUnavailableWarning(UserWarning):
    """Waiting reads the Task API with backoff, because the live-updates channel could not be used."""

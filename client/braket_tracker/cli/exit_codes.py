"""What the CLI exits with, and how it says what went wrong: one line a person or a script can act on."""

from __future__ import annotations

from braket_tracker.errors import (
    AmbiguousTaskId,
    ApiError,
    BadRequest,
    ConfigurationError,
    Conflict,
    Forbidden,
    MissingCredentials,
    ProgramTooLarge,
    ResultsGone,
    SignatureRejected,
    StackNotFound,
    TaskNotFound,
    WaitTimeout,
)

OK, TASK_DID_NOT_COMPLETE, USAGE, NOT_FOUND, AUTH, SERVER, TIMEOUT, CONFLICT, INTERRUPTED = 0, 1, 2, 3, 4, 5, 6, 7, 130
EXIT_CODES = {
    OK: "success (for submit --wait and result: the task COMPLETED)",
    TASK_DID_NOT_COMPLETE: "the task ended FAILED or CANCELLED (submit --wait, result, watch)",
    USAGE: "bad usage: arguments, a missing file, a request the API refused as invalid (400, 413), "
    "an id that names tasks in several Regions",
    NOT_FOUND: "no such task, stack, or results (404, 410)",
    AUTH: "missing or refused credentials (403): not allowed, bad signature",
    SERVER: "the API failed or did not answer (5xx, throttled after retries, unreachable)",
    TIMEOUT: "the task did not end within --timeout",
    CONFLICT: "the task's state does not allow it (409): cancelling a finished task, a reused key",
    INTERRUPTED: "interrupted (Ctrl-C)",
}


def exit_code(error: BaseException) -> int:
    """The exit code for an error (the table is EXIT_CODES)."""
    checks: list[tuple[type[BaseException] | tuple[type[BaseException], ...], int]] = [
        (WaitTimeout, TIMEOUT),  # first: it is a TimeoutError, hence an OSError
        ((MissingCredentials, Forbidden), AUTH),
        ((StackNotFound, TaskNotFound, ResultsGone), NOT_FOUND),
        ((ConfigurationError, BadRequest, ProgramTooLarge, AmbiguousTaskId, ValueError, OSError), USAGE),
        (Conflict, CONFLICT),
        (KeyboardInterrupt, INTERRUPTED),
    ]
    for types, code in checks:
        if isinstance(error, types):
            return code
    return SERVER


def describe(error: BaseException, *, debug: bool = False) -> str:
    """The error as the CLI prints it after `error: `. A refused signature is said plainly; what
    API Gateway adds (the canonical request it expected) only with --debug."""
    if isinstance(error, ApiError):
        return _api_error(error, debug)
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f"{error.filename}: {error.strerror}"
    return str(error) or type(error).__name__


def _api_error(error: ApiError, debug: bool) -> str:
    if error.error.startswith("HTTP"):  # not the API's answer: what was said, and what it means
        return error.message
    if isinstance(error, SignatureRejected):
        text = f"the API refused the request's signature ({error.status} {error.error}): {error.message}"
        signing = error.details.get("signing")
        if signing and debug:
            return f"{text}\n{signing}"
        return text + ("\n  (--debug shows the canonical request API Gateway expected)" if signing else "")
    text = f"{error.message} ({error.status} {error.error})"
    arns = error.details.get("taskArns") if isinstance(error, AmbiguousTaskId) else None
    if isinstance(arns, list):
        text += "".join(f"\n  {arn}" for arn in arns)
    problems = error.details.get("errors")
    if isinstance(problems, list):
        text += "".join(f"\n  {p.get('path', '?')}: {p.get('message', p)}" for p in problems if isinstance(p, dict))
    return text

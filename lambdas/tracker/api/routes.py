"""The Task API's routes on the Powertools event handler, with validation on.

Routes parse and delegate to the TaskService that the handler binds at cold start; this module
reads no configuration, so the OpenAPI document can be generated from it (tracker.api.openapi).
Every error is `{error, message, details}`: the status of each error is in api.errors;
validation errors become 400 with field paths, and anything unexpected a 500 that names the
request id (and is logged with its stack trace).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from pydantic import BaseModel

from tracker import constants
from tracker.api import errors
from tracker.api.models import (
    CancelResponse,
    ErrorResponse,
    SubmitTaskRequest,
    SubmitTaskResponse,
    TaskPage,
    TaskResult,
    TaskView,
)
from tracker.api.service import TaskService
from tracker.api.views import task_result, task_view
from tracker.logic.listing import TaskFilters
from tracker.logic.submission import SubmitRequest

logger = Logger(service=constants.API_SERVICE)
app = APIGatewayRestResolver(enable_validation=True)
_services: list[TaskService] = []


def bind(service: TaskService) -> None:
    """Give the routes their service (the handler does, once per cold start)."""
    _services[:] = [service]


def _service() -> TaskService:
    return _services[0]


TaskId = Annotated[
    str,
    Path(description="The task's ARN (URL-encoded) or its id", min_length=1, max_length=512),
]
StatusName = Literal["CREATED", "QUEUED", "RUNNING", "CANCELLING", "COMPLETED", "FAILED", "CANCELLED"]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        description="Makes retries safe: the same key and request give the first answer",
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:-]+$",
    ),
]


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"model": model}}


_ERRORS: dict[int, dict[str, Any]] = {
    status: {"description": description, "content": _json(ErrorResponse)}
    for status, description in (
        (400, "Invalid request"),
        (403, "Not allowed"),
        (404, "No such task"),
        (409, "Conflicts with the task's state"),
        (429, "Braket is throttling"),
        (503, "A dependency did not answer: retry"),
    )
}


_AMBIGUOUS = "an id that recorded tasks share in several Regions (`AmbiguousTaskId`, `details.taskArns` lists them)"


def _responses(*statuses: int, **extra: dict[str, Any]) -> dict[int, Any]:
    return {status: _ERRORS[status] for status in statuses} | {int(k[1:]): v for k, v in extra.items()}


def _conflict(description: str) -> dict[str, Any]:
    return {"description": description, "content": _json(ErrorResponse)}


def _caller() -> str:
    identity = app.current_event.request_context.identity
    caller = identity.user_arn
    if not caller:
        raise errors.Forbidden("the request carries no IAM identity: sign it with SigV4")
    return caller


def _account() -> str:
    return app.current_event.request_context.account_id


@app.post(
    "/tasks",
    status_code=201,
    summary="Submit an OpenQASM 3 task",
    responses=_responses(
        400,
        403,
        409,
        429,
        503,
        _201={"description": "Submitted", "content": _json(SubmitTaskResponse)},
        _402={
            "description": "The estimated cost would take a scope past its monthly budget (`BudgetExceeded`: "
            "`details` names the scope and the remaining amount)",
            "content": _json(ErrorResponse),
        },
        _413={"description": "Program too large", "content": _json(ErrorResponse)},
        _415={"description": "The body is not application/json", "content": _json(ErrorResponse)},
    ),
)
def submit_task(
    task: Annotated[SubmitTaskRequest, Body()], idempotency_key: IdempotencyKey = None
) -> Response[SubmitTaskResponse]:
    request = SubmitRequest(
        device_arn=task.deviceArn,
        shots=task.shots,
        program=task.program,
        inputs=task.inputs,
        tags=task.tags or {},
        device_parameters=task.deviceParameters,
    )
    submitted = _service().submit(request, _caller(), idempotency_key)
    task_id = submitted.task_arn.rsplit("/", 1)[-1]
    location = app.current_event.request_context.path.rstrip("/") + "/" + task_id
    logger.info("Submitted a task", task=submitted.task_arn, replayed=submitted.replayed)
    body = SubmitTaskResponse(taskArn=submitted.task_arn, taskId=task_id, location=location)
    headers = {"Location": location} | ({"Idempotent-Replayed": "true"} if submitted.replayed else {})
    return Response(HTTPStatus.CREATED, content_types.APPLICATION_JSON, body, headers)


@app.get(
    "/tasks",
    summary="List tasks, newest first",
    responses=_responses(400, 403, 503, _200={"description": "A page of tasks", "content": _json(TaskPage)}),
)
def list_tasks(  # noqa: PLR0917 (one argument per query parameter, as the event handler reads them)
    status: Annotated[StatusName | None, Query(description="Only tasks in this status")] = None,
    device: Annotated[
        str | None, Query(description="Only tasks on this device ARN", min_length=1, max_length=256)
    ] = None,
    submitter: Annotated[
        str | None,
        Query(
            description="Only tasks submitted by this IAM ARN through the API; `me` for yours",
            min_length=1,
            max_length=2048,
        ),
    ] = None,
    tag: Annotated[
        str | None, Query(description="key=value, on a promoted tag key", min_length=3, max_length=400)
    ] = None,
    created_after: Annotated[str | None, Query(alias="createdAfter", description="ISO-8601, inclusive")] = None,
    created_before: Annotated[str | None, Query(alias="createdBefore", description="ISO-8601, exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=constants.MAX_PAGE_SIZE)] = 25,
    next_token: Annotated[str | None, Query(alias="next", min_length=1, max_length=4096)] = None,
) -> TaskPage:
    filters = TaskFilters(
        status=status,
        device=device,
        submitter=_caller() if submitter == "me" else submitter,
        tag=tag,
        created_after=created_after,
        created_before=created_before,
    )
    records, token = _service().list(filters, account=_account(), limit=limit, token=next_token)
    return TaskPage(tasks=[task_view(record, summary=True) for record in records], next=token)


@app.get(
    "/tasks/<task_id>",
    summary="Get a task",
    responses=_responses(
        400,
        403,
        404,
        429,
        503,
        _200={"description": "The task", "content": _json(TaskView)},
        _409=_conflict(f"The id is ambiguous: {_AMBIGUOUS}"),
    ),
)
def get_task(
    task_id: TaskId,
    include: Annotated[
        Literal["queue"] | None,
        Query(
            description="`queue` adds the queue position (`queueInfo`, as Braket's GetQuantumTask gives it): "
            "read from Braket at most once a minute per task, shared by every caller; Braket's "
            '"not queued" answer, without asking it, for a task that is not QUEUED'
        ),
    ] = None,
) -> TaskView:
    record, queue = _service().get(task_id, include_queue=include == "queue")
    return task_view(record, queue)


@app.post(
    "/tasks/<task_id>/cancel",
    status_code=202,
    summary="Cancel a task (its submitter or an admin)",
    responses=_responses(
        400,
        403,
        404,
        429,
        503,
        _202={"description": "Cancelling", "content": _json(CancelResponse)},
        _409=_conflict(f"The task has finished (`TaskAlreadyFinished`), or {_AMBIGUOUS}"),
    ),
)
def cancel_task(task_id: TaskId) -> Response[CancelResponse]:
    cancelled = _service().cancel(task_id, _caller())
    record, status = cancelled.record, cancelled.status
    logger.info("Cancelled a task", task=record.task.arn, status=status)
    if cancelled.recorded is not None:
        logger.warning("The cancel is not on the item yet: Braket's event will record it", reason=cancelled.recorded)
    body = CancelResponse(taskArn=record.task.arn, status="CANCELLED" if status == "CANCELLED" else "CANCELLING")
    return Response(HTTPStatus.ACCEPTED, content_types.APPLICATION_JSON, body)


@app.get(
    "/tasks/<task_id>/result",
    summary="A finished task's result: counts or probabilities, and a link to results.json",
    responses=_responses(
        400,
        403,
        404,
        503,
        _200={"description": "The task's result", "content": _json(TaskResult)},
        _409=_conflict(f"The task has not finished (`TaskNotFinished`), or {_AMBIGUOUS}"),
        _410={"description": "Results deleted", "content": _json(ErrorResponse)},
    ),
)
def get_result(task_id: TaskId) -> TaskResult:
    return task_result(_service().result(task_id, account=_account()))


def _error(status: int, name: str, message: str, details: dict[str, Any] | None = None) -> Response[ErrorResponse]:
    body = ErrorResponse(error=name, message=message, details=details or {})
    return Response(status, content_types.APPLICATION_JSON, body)


@app.exception_handler(errors.ApiError)  # type: ignore[untyped-decorator]
def api_error(error: errors.ApiError) -> Response[ErrorResponse]:
    if error.status >= 500:
        logger.warning("A dependency failed", error=error.name, reason=error.message)
    return _error(error.status, error.name, error.message, error.details)


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def invalid_request(error: RequestValidationError) -> Response[ErrorResponse]:
    problems = [
        {"path": ".".join(str(part) for part in problem.get("loc", ())), "message": problem.get("msg", "invalid")}
        for problem in error.errors()
    ]
    summary = "; ".join(f"{p['path']}: {p['message']}" for p in problems[:5])
    return _error(400, "ValidationError", f"the request is not valid: {summary}", {"errors": problems})


@app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
def unsupported_media(_: RequestUnsupportedContentType) -> Response[ErrorResponse]:
    content_type = app.current_event.headers.get("content-type", "")
    return _error(415, "UnsupportedMediaType", _unsupported_message(content_type))


def _unsupported_message(content_type: str) -> str:
    return f"send the body as application/json, not {content_type!r}"


def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer an API Gateway proxy event. A body in another media type is refused before the event
    handler parses it (API Gateway's request model checks only JSON bodies).

    Media types are case-insensitive (RFC 9110, 8.3.1), and the event handler compares them as
    written: so the type is lowercased for it (`APPLICATION/JSON; charset=utf-8` becomes
    `application/json; charset=utf-8`)."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type") or "application/json"
    media_type, separator, parameters = content_type.partition(";")
    if event.get("body") and media_type.strip().lower() != "application/json":
        error = ErrorResponse(error="UnsupportedMediaType", message=_unsupported_message(content_type))
        return {
            "statusCode": 415,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {},
            "body": error.model_dump_json(),
            "isBase64Encoded": False,
        }
    if "content-type" in headers:
        normalized = media_type.strip().lower() + separator + parameters
        event = {**event, "headers": _with_header(event.get("headers"), "content-type", normalized)}
        if event.get("multiValueHeaders"):
            event["multiValueHeaders"] = _with_header(event["multiValueHeaders"], "content-type", [normalized])
    return app.resolve(event, context)


def _with_header(headers: dict[str, Any] | None, name: str, value: Any) -> dict[str, Any]:
    """`headers` with every spelling of `name` replaced by `value` (under the lowercase name)."""
    kept = {key: existing for key, existing in (headers or {}).items() if key.lower() != name}
    return kept | {name: value}


@app.not_found
def not_found(_: NotFoundError) -> Response[ErrorResponse]:
    return _error(404, "NotFound", f"no route {app.current_event.http_method} {app.current_event.path}")


@app.exception_handler(RecursionError)  # type: ignore[untyped-decorator]
def too_deep(_: RecursionError) -> Response[ErrorResponse]:
    """A JSON body nested deeper than the parser goes: bad input, not a failure of the API."""
    return _error(400, "ValidationError", "the request is not valid: the body nests too deeply", {"errors": []})


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def unexpected(error: Exception) -> Response[ErrorResponse]:
    logger.exception("Unexpected error")
    request_id = app.current_event.request_context.request_id
    return _error(500, "InternalError", "the tracker failed unexpectedly; it is logged", {"requestId": request_id})

"""The Task API's job routes (issue 18), on the same event handler as the task routes (api/routes.py):
the same authorization (IAM), validation, error shape and handlers. The handler binds their service."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from tracker import constants
from tracker.api.jobs_models import JobCancelResponse, JobPage, JobView, job_view
from tracker.api.jobs_service import JobService
from tracker.api.models import TaskPage
from tracker.api.routes import _account, _caller, _conflict, _json, _responses, app, logger
from tracker.api.views import task_view

_services: list[JobService] = []
JobStatusName = Literal["QUEUED", "RUNNING", "CANCELLING", "COMPLETED", "FAILED", "CANCELLED"]
JobId = Annotated[str, Path(description="The job's ARN (URL-encoded) or its id", min_length=1, max_length=512)]
_AMBIGUOUS = "an id that recorded jobs share in several Regions (`AmbiguousJobId`, `details.jobArns` lists them)"


def bind(service: JobService) -> None:
    _services[:] = [service]


def _service() -> JobService:
    return _services[0]


@app.get(
    "/jobs",
    summary="List hybrid jobs, newest first",
    responses=_responses(400, 403, 503, _200={"description": "A page of jobs", "content": _json(JobPage)}),
)
def list_jobs(
    status: Annotated[JobStatusName | None, Query(description="Only jobs in this status")] = None,
    created_after: Annotated[str | None, Query(alias="createdAfter", description="ISO-8601, inclusive")] = None,
    created_before: Annotated[str | None, Query(alias="createdBefore", description="ISO-8601, exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=constants.MAX_PAGE_SIZE)] = 25,
    next_token: Annotated[str | None, Query(alias="next", min_length=1, max_length=4096)] = None,
) -> JobPage:
    records, token = _service().list(
        status=status,
        created_after=created_after,
        created_before=created_before,
        account=_account(),
        limit=limit,
        token=next_token,
    )
    return JobPage(jobs=[job_view(record) for record in records], next=token)


@app.get(
    "/jobs/<job_id>",
    summary="Get a hybrid job",
    responses=_responses(
        400,
        403,
        404,
        429,
        503,
        _200={"description": "The job", "content": _json(JobView)},
        _409=_conflict(f"The id is ambiguous: {_AMBIGUOUS}"),
    ),
)
def get_job(
    job_id: JobId,
    include: Annotated[
        Literal["queue"] | None, Query(description="`queue` adds Braket's queue position (one GetJob)")
    ] = None,
) -> JobView:
    record, queue = _service().get(job_id, include_queue=include == "queue")
    return job_view(record, queue)


@app.get(
    "/jobs/<job_id>/tasks",
    summary="A hybrid job's tasks, newest first",
    responses=_responses(
        400,
        403,
        404,
        503,
        _200={"description": "A page of the job's tasks", "content": _json(TaskPage)},
        _409=_conflict(f"The id is ambiguous: {_AMBIGUOUS}"),
    ),
)
def list_job_tasks(
    job_id: JobId,
    limit: Annotated[int, Query(ge=1, le=constants.MAX_PAGE_SIZE)] = 25,
    next_token: Annotated[str | None, Query(alias="next", min_length=1, max_length=4096)] = None,
) -> TaskPage:
    tasks, token = _service().tasks_of(job_id, limit=limit, token=next_token)
    return TaskPage(tasks=[task_view(task) for task in tasks], next=token)


@app.post(
    "/jobs/<job_id>/cancel",
    status_code=202,
    summary="Cancel a hybrid job (an admin principal)",
    responses=_responses(
        400,
        403,
        404,
        429,
        503,
        _202={"description": "Cancelling", "content": _json(JobCancelResponse)},
        _409=_conflict(f"The job has finished (`JobAlreadyFinished`), or {_AMBIGUOUS}"),
    ),
)
def cancel_job(job_id: JobId) -> Response[JobCancelResponse]:
    record, status = _service().cancel(job_id, _caller())
    logger.info("Cancelled a job", job=record.job.arn, status=status)
    body = JobCancelResponse(jobArn=record.job.arn, status="CANCELLED" if status == "CANCELLED" else "CANCELLING")
    return Response(HTTPStatus.ACCEPTED, content_types.APPLICATION_JSON, body)

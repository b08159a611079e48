"""The Task API's job use cases: get, list, a job's tasks, and cancel (issue 18).

The same rules as tasks (api/service.py): a job is named by its ARN (URL-encoded) or its id; an id that
recorded jobs share in several Regions is a 409 naming them; listings are one Query per page with the
tasks' tokens; only failures of DynamoDB or Braket are 5xx. Cancel, as for tasks, is for the job's
submitter or an admin principal of the deployment: the tracker does not create jobs (CreateJob goes to
Braket from the SDK), so no job has a recorded submitter and only admin principals cancel through the API;
researchers cancel their own with the SDK (`AwsQuantumJob.cancel()`), as before.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any, NoReturn
from urllib.parse import unquote

from tracker.api import errors
from tracker.data.braket_jobs import BraketJobs, GetJobRefused, JobNotFound
from tracker.data.braket_tasks import BraketRefused, BraketUnavailable
from tracker.data.job_table import JobTable
from tracker.data.job_tasks import JobTasks
from tracker.data.task_table import StorageError
from tracker.domain import TaskRecord
from tracker.job_domain import JOB_ID, JobArn, JobRecord
from tracker.logic import job_listing, submission

QUEUE_READ_MAX_WAIT = 2.0


class JobService:
    def __init__(self, table: JobTable, tasks: JobTasks, braket: BraketJobs, admin_principals: tuple[str, ...]) -> None:
        self.table = table
        self.tasks = tasks
        self.braket = braket
        self.admin_principals = admin_principals

    def find(self, reference: str) -> JobRecord:
        reference = unquote(reference)
        try:
            job: JobArn | None = JobArn.parse(reference)
        except ValueError:
            job = None
        if job is not None:
            record: JobRecord | None = _storage(lambda: self.table.get(reference))
        elif JOB_ID.fullmatch(reference):
            matches: list[JobRecord] = _storage(lambda: self.table.find_by_id(reference))
            if len(matches) > 1:
                arns = sorted(match.job.arn for match in matches)
                raise errors.AmbiguousJobId(
                    f"{len(arns)} recorded jobs have the id {reference} (in different Regions): name one by its ARN",
                    jobArns=arns,
                )
            record = matches[0] if matches else None
        else:
            raise errors.ValidationFailed(
                "a hybrid job is named by its ARN (URL-encoded) or its id",
                errors=[{"path": "id", "message": "not a job ARN or id"}],
            )
        if record is None:
            raise errors.JobNotFound(f"no hybrid job {reference} is recorded", job=reference)
        return record

    def get(self, reference: str, *, include_queue: bool = False) -> tuple[JobRecord, dict[str, Any] | None]:
        record = self.find(reference)
        if not include_queue:
            return record, None
        try:  # one GetJob, under the API's own limiter: GetJob's quota is 5/s per account and Region
            answer = self.braket.get(record.job, QUEUE_READ_MAX_WAIT, queue_info=True)
        except GetJobRefused as exc:
            raise errors.Throttled(f"the queue position was not read: {exc}") from exc
        except JobNotFound as exc:
            raise errors.JobNotFound(str(exc), job=record.job.arn) from exc
        except BraketUnavailable as exc:
            raise errors.DependencyUnavailable(f"Braket did not answer: {exc}") from exc
        return record, dict(answer.get("queueInfo") or {})

    def list(
        self,
        *,
        status: str | None,
        created_after: str | None,
        created_before: str | None,
        account: str,
        limit: int,
        token: str | None,
    ) -> tuple[list[JobRecord], str | None]:
        plan = _plan(
            lambda: job_listing.plan_jobs(
                status=status,
                created_after=created_after,
                created_before=created_before,
                account=account,
                limit=limit,
                token=token,
            )
        )
        try:
            records, last = _storage(lambda: self.table.query(job_listing.request_for(plan)))
        except ValueError as exc:
            raise errors.InvalidToken("the next token is not one this API handed out") from exc
        return records, None if last is None else job_listing.encode_token(last, plan)

    def tasks_of(
        self, reference: str, *, limit: int, token: str | None
    ) -> tuple[builtins.list[TaskRecord], str | None]:
        record = self.find(reference)
        plan = _plan(lambda: job_listing.plan_tasks(record.job.arn, limit, token))
        try:
            tasks, last = _storage(lambda: self.tasks.page(record.job.arn, limit, plan.start_key))
        except ValueError as exc:
            raise errors.InvalidToken("the next token is not one this API handed out") from exc
        return tasks, None if last is None else job_listing.encode_token(last, plan)

    def cancel(self, reference: str, caller: str) -> tuple[JobRecord, str]:
        record = self.find(reference)
        if record.status.finished:
            raise errors.JobAlreadyFinished(
                f"the job is {record.status.value} and can no longer be cancelled", status=record.status.value
            )
        if not submission.principal_matches(caller, self.admin_principals):
            raise errors.Forbidden(
                "only an admin principal of this deployment may cancel a hybrid job through the API (the tracker "
                "does not know who created it): cancel your own with the SDK, AwsQuantumJob(arn).cancel()",
                job=record.job.arn,
            )
        try:
            return record, self.braket.cancel(record.job)
        except BraketRefused as refused:
            _refused(refused, record.job.arn)
        except BraketUnavailable as exc:
            raise errors.DependencyUnavailable(f"Braket did not answer: {exc}") from exc


def _refused(refused: BraketRefused, job: str) -> NoReturn:
    error: type[errors.ApiError] = {
        "ConflictException": errors.JobAlreadyFinished,
        "ResourceNotFoundException": errors.JobNotFound,
        "ThrottlingException": errors.Throttled,
        "ValidationException": errors.BraketRejected,
    }.get(refused.code, errors.DependencyUnavailable)
    raise error(f"Braket: {refused.message}", braketError=refused.code, job=job) from refused


def _plan(make: Callable[[], job_listing.JobQueryPlan]) -> job_listing.JobQueryPlan:
    try:
        return make()
    except job_listing.PlanError as exc:
        if exc.token:
            raise errors.InvalidToken(str(exc)) from exc
        message = str(exc)
        raise errors.ValidationFailed(
            f"the request is not valid: {message}", errors=[{"path": f"query.{exc.field}", "message": message}]
        ) from exc


def _storage(operation: Callable[[], Any]) -> Any:
    try:
        return operation()
    except StorageError as exc:
        raise errors.DependencyUnavailable(f"the tracker's tables did not answer: {exc}") from exc

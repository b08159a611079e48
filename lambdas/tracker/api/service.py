"""The Task API's use cases: submit, get, list, cancel and results.

Each method validates what the route's schema cannot, calls the data-access layer, and raises
the API's errors (api.errors); nothing here knows about HTTP or API Gateway.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import unquote

from tracker.api import errors, observations
from tracker.api.budgets import BudgetGuard, Hold
from tracker.config import ApiConfig
from tracker.constants import MAX_PROGRAM_BYTES, PRESIGNED_URL_SECONDS, RESULTS_BUCKET_PREFIX, RESULTS_PREFIX
from tracker.data.braket_tasks import BraketRefused, BraketSubmissions, BraketTasks, BraketUnavailable
from tracker.data.idempotency import IdempotencyStore
from tracker.data.results_store import ResultsDenied, ResultsMissing, ResultsStore, ResultsTooLarge, ResultsUnavailable
from tracker.data.task_table import ItemChanged, StorageError, TaskTable
from tracker.domain import TASK_ID, EventRefused, Status, TaskArn, TaskRecord, normalize_time
from tracker.logic import listing, submission
from tracker.logic.results import ResultSummary, UnreadableResult, summarize
from tracker.recorder.service import Recorder

QUEUE_READ_INTERVAL = timedelta(minutes=1)
"""A task's queue position is read from Braket at most this often, whoever asks (GET ?include=queue)."""


@dataclass(frozen=True)
class Submitted:
    task_arn: str
    replayed: bool  # the answer to an earlier request with the same Idempotency-Key


@dataclass(frozen=True)
class QueueAnswer:
    info: dict[str, str]  # GetQuantumTask's queueInfo
    read_at: str | None  # when Braket was asked (None: not asked, the task is not QUEUED)


@dataclass(frozen=True)
class Cancelled:
    record: TaskRecord
    status: str  # Braket's cancellationStatus: CANCELLING or CANCELLED
    recorded: str | None = None  # why the cancel is not on the item yet (Braket's event will record it)


@dataclass(frozen=True)
class ResultAnswer:
    record: TaskRecord
    summary: ResultSummary | None = None
    url: str | None = None
    url_expires_at: str | None = None


class TaskService:
    def __init__(  # noqa: PLR0917 (the service's collaborators, in order)
        self,
        config: ApiConfig,
        table: TaskTable,
        idempotency: IdempotencyStore,
        braket: BraketSubmissions,
        results: ResultsStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        recorder: Recorder | None = None,
        budgets: BudgetGuard | None = None,
    ) -> None:
        self.config = config
        self.table = table
        self.idempotency = idempotency
        self.braket = braket
        self.results = results
        self.clock = clock
        # Observations (a cancel) take the recorder's write path; only an end would ask Braket.
        self.recorder = recorder or Recorder(table, BraketTasks(max_attempts=1))
        self.budgets = budgets

    # --- POST /tasks ---

    def submit(self, request: submission.SubmitRequest, caller: str, idempotency_key: str | None) -> Submitted:
        size = submission.program_too_large(request.program)
        if size is not None:
            raise errors.ProgramTooLarge(
                f"the program is {size:,} bytes; the API takes at most {MAX_PROGRAM_BYTES:,}",
                limitBytes=MAX_PROGRAM_BYTES,
                sizeBytes=size,
            )
        if request.device_arn not in self.config.device_allowlist:
            raise errors.DeviceNotAllowed(
                f"{request.device_arn} is not on this deployment's device allowlist",
                allowed=list(self.config.device_allowlist),
            )
        region = submission.device_region(request.device_arn, self.config.region)
        bucket = self.config.results_buckets.get(region)
        if bucket is None:
            raise errors.DeviceNotAllowed(
                f"{request.device_arn} runs in {region}, where this deployment has no results bucket",
                regions=sorted(self.config.results_buckets),
            )
        key = None if idempotency_key is None else IdempotencyStore.key_of(caller, idempotency_key)
        client_token = str(uuid.uuid4())
        if key is not None:
            stored = self._storage(lambda: self.idempotency.begin(key, request.fingerprint()))
            if stored.fingerprint != request.fingerprint():
                raise errors.IdempotencyKeyReused(
                    "this Idempotency-Key was used with a different request; use a new key for a new task"
                )
            if stored.task_arn is not None:
                return Submitted(stored.task_arn, replayed=True)
            client_token = stored.client_token  # a retry: Braket answers with the task it already created
        tags = submission.task_tags(request, caller)
        parameters = submission.create_request(
            request, client_token=client_token, bucket=bucket, prefix=RESULTS_PREFIX, tags=tags
        )
        hold = self._hold_budget(request, caller, region, key)
        try:
            task_arn = self.braket.create(region, parameters)
        except BraketRefused as refused:
            self._release_budget(hold)
            if key is not None:  # nothing was created: let the caller fix the request under the same key
                self._storage(lambda: self.idempotency.forget(key))
            _braket_refused(refused)
        except BraketUnavailable as exc:
            self._release_budget(hold)
            raise errors.DependencyUnavailable(
                f"Braket did not answer: {exc}; retry with the same Idempotency-Key"
            ) from exc
        if self.budgets is not None:
            self.budgets.link(hold, task_arn)
        record = submission.submitted_record(
            task_arn, request, submitter=caller, tags=tags, bucket=bucket, prefix=RESULTS_PREFIX, at=self.clock()
        )
        self._storage(lambda: self.table.insert_submission(record))
        if key is not None:
            self._storage(lambda: self.idempotency.complete(key, task_arn))
        return Submitted(task_arn, replayed=False)

    def _hold_budget(self, request: submission.SubmitRequest, caller: str, region: str, key: str | None) -> Hold | None:
        """The estimate held against the budgets of the task's scopes (api.budgets), if any apply.
        A refusal frees the Idempotency-Key, as Braket's refusals do."""
        if self.budgets is None:
            return None
        guard = self.budgets
        try:
            held: Hold | None = self._storage(
                lambda: guard.reserve(request.device_arn, region, request.shots, caller, request.tags)
            )
        except errors.BudgetExceeded:
            if key is not None:
                self._storage(lambda: self.idempotency.forget(key))
            raise
        return held

    def _release_budget(self, hold: Hold | None) -> None:
        if self.budgets is not None and hold is not None:
            guard = self.budgets
            self._storage(lambda: guard.release(hold))

    # --- GET /tasks/{id} ---

    def get(self, reference: str, *, include_queue: bool = False) -> tuple[TaskRecord, QueueAnswer | None]:
        record = self.find(reference)
        return record, self.queue_position(record) if include_queue else None

    def queue_position(self, record: TaskRecord) -> QueueAnswer:
        """The task's queueInfo. Not QUEUED: Braket's "not queued" answer, without asking it. QUEUED:
        the read of the last minute, or a new one; one conditional write claims it, so only one
        request a minute per task asks Braket, whoever the waiters are."""
        if record.status is not Status.QUEUED:
            return QueueAnswer(observations.not_queued(record), None)
        now = self.clock()
        not_before = normalize_time(now - QUEUE_READ_INTERVAL)
        if record.queue_info_read_at is not None and record.queue_info_read_at >= not_before:
            return QueueAnswer(observations.last_read(record), record.queue_info_read_at)
        at = normalize_time(now)
        try:
            self._storage(lambda: self.table.claim_queue_read(record.task.arn, at, not_before))
        except ItemChanged as changed:  # another request has the claim, or the task moved on
            current = changed.current or record
            if current.status is not Status.QUEUED:
                return QueueAnswer(observations.not_queued(current), None)
            return QueueAnswer(observations.last_read(current), current.queue_info_read_at)
        try:
            info = self.braket.queue_info(record.task)
        except BraketRefused as refused:  # the claim stays: Braket is asked again in a minute
            _braket_refused(refused, task=record.task.arn)
        except BraketUnavailable as exc:
            raise errors.DependencyUnavailable(f"Braket did not answer: {exc}") from exc
        # Should a later claim (or an outage) have taken over, this answer stands and the item keeps the other.
        with contextlib.suppress(ItemChanged, StorageError):
            self.table.store_queue_info(record.task.arn, info, at)
        return QueueAnswer(info, at)

    def find(self, reference: str) -> TaskRecord:
        """A task by its ARN (URL-encoded or not) or by its id alone."""
        reference = unquote(reference)
        try:
            task: TaskArn | None = TaskArn.parse(reference)
        except ValueError:
            task = None
        if task is not None:
            record: TaskRecord | None = self._storage(lambda: self.table.get(reference))
        elif TASK_ID.fullmatch(reference):
            matches: list[TaskRecord] = self._storage(lambda: self.table.find_by_id(reference))
            if len(matches) > 1:
                arns = sorted(match.task.arn for match in matches)
                raise errors.AmbiguousTaskId(
                    f"{len(arns)} recorded tasks have the id {reference} (in different Regions): name one by its ARN",
                    taskArns=arns,
                )
            record = matches[0] if matches else None
        else:
            raise errors.ValidationFailed(
                "a task is named by its ARN (URL-encoded) or its id",
                errors=[{"path": "id", "message": "not an ARN or id"}],
            )
        if record is None:
            raise errors.TaskNotFound(f"no task {reference} is recorded", task=reference)
        return record

    # --- GET /tasks ---

    def list(
        self, filters: listing.TaskFilters, *, account: str, limit: int, token: str | None
    ) -> tuple[list[TaskRecord], str | None]:
        try:
            query = listing.plan(
                filters, account=account, promoted_tag_keys=self.config.promoted_tag_keys, limit=limit, token=token
            )
        except listing.PlanError as exc:
            if exc.token:
                raise errors.InvalidToken(str(exc)) from exc
            if exc.field:
                message = str(exc)
                raise errors.ValidationFailed(
                    f"the request is not valid: {message}", errors=[{"path": f"query.{exc.field}", "message": message}]
                ) from exc
            raise errors.UnsupportedFilter(str(exc), supported=list(listing.SUPPORTED)) from exc
        try:
            records, last_key = self._storage(lambda: self.table.query_page(query))
        except ValueError as exc:
            raise errors.InvalidToken("the next token is not one this API handed out") from exc
        return records, None if last_key is None else listing.encode_token(last_key, query)

    # --- POST /tasks/{id}/cancel ---

    def cancel(self, reference: str, caller: str) -> Cancelled:
        """Cancel in Braket, then record CANCELLING on the item as an observation (the recorder's
        path: one conditional write, a merge if the item changed). Should that write fail, the
        cancel still stands, and Braket's own event records it seconds later."""
        record = self.find(reference)
        if record.status.finished:
            raise errors.TaskAlreadyFinished(
                f"the task is {record.status.value} and can no longer be cancelled", status=record.status.value
            )
        if caller != record.submitter and not submission.principal_matches(caller, self.config.admin_principals):
            raise errors.Forbidden(
                "only the task's submitter or an admin principal of this deployment may cancel it",
                submitter=record.submitter,
            )
        try:
            status = self.braket.cancel(record.task, str(uuid.uuid4()))
        except BraketRefused as refused:
            _braket_refused(refused, task=record.task.arn)
        except BraketUnavailable as exc:
            raise errors.DependencyUnavailable(f"Braket did not answer: {exc}") from exc
        if observations.CANCEL_EVENT_ID in record.event_ids:
            return Cancelled(record, status)  # a retry: its first answer is on the item
        try:
            self.recorder.record(observations.cancel_observation(record, self.clock()))
        except (StorageError, EventRefused) as exc:
            return Cancelled(record, status, recorded=str(exc))
        return Cancelled(record, status)

    # --- GET /tasks/{id}/result ---

    def result(self, reference: str, *, account: str) -> ResultAnswer:
        record = self.find(reference)
        if not record.status.finished:
            raise errors.TaskNotFinished(
                f"the task is {record.status.value}: its result is not there yet", status=record.status.value
            )
        if record.status is not Status.COMPLETED:
            return ResultAnswer(record)
        bucket, region = record.output_s3_bucket, record.task.region
        ours = bucket in self.config.results_buckets.values()
        braket_named = bucket.startswith(RESULTS_BUCKET_PREFIX)  # Braket's naming rule: the SDK's default bucket is one
        if not ours and not braket_named and bucket not in self.config.readable_buckets:
            raise errors.Forbidden(
                f"the results are in s3://{bucket}, which this deployment may not read: it reads this account's "
                f"{RESULTS_BUCKET_PREFIX}* buckets; add others to the readableResultsBuckets context setting",
                bucket=bucket,
            )
        key = f"{record.output_s3_directory}/results.json"
        try:
            summary: ResultSummary | None = summarize(self.results.read_json(region, bucket, key, account))
        except ResultsMissing as exc:
            reason = "deleted by the results bucket's lifecycle rule" if ours else "gone"
            raise errors.ResultsGone(f"the results of this task are {reason}", resultsUri=record.results_uri) from exc
        except ResultsDenied as exc:
            raise errors.Forbidden(
                f"S3 refused to read {record.results_uri}: this deployment reads results only from buckets "
                f"that account {account} owns",
                bucket=bucket,
            ) from exc
        except ResultsUnavailable as exc:
            raise errors.DependencyUnavailable(f"S3 did not answer: {exc}") from exc
        except (ResultsTooLarge, UnreadableResult, ValueError):
            summary = None  # the link still works; only the summary is left out
        expires = normalize_time(self.clock() + timedelta(seconds=PRESIGNED_URL_SECONDS))
        url = self.results.presign(region, bucket, key, PRESIGNED_URL_SECONDS)
        return ResultAnswer(record, summary, url, expires)

    @staticmethod
    def _storage(operation: Callable[[], Any]) -> Any:
        try:
            return operation()
        except StorageError as exc:
            raise errors.DependencyUnavailable(f"the task table did not answer: {exc}") from exc


_REFUSED: dict[str, type[errors.ApiError]] = {
    "ValidationException": errors.BraketRejected,
    "DeviceOfflineException": errors.BraketRejected,
    "DeviceRetiredException": errors.BraketRejected,
    "ThrottlingException": errors.Throttled,
    "ServiceQuotaExceededException": errors.Throttled,
    "ConflictException": errors.TaskAlreadyFinished,
    "ResourceNotFoundException": errors.TaskNotFound,
}


def _braket_refused(refused: BraketRefused, task: str | None = None) -> NoReturn:
    """Braket's client errors, as the API's: its message is passed on as it is."""
    error = _REFUSED.get(refused.code, errors.DependencyUnavailable)
    if refused.code == "ResourceNotFoundException" and task is None:
        error = errors.BraketRejected  # on submission: the device does not exist
    raise error(f"Braket: {refused.message}", braketError=refused.code, task=task) from refused

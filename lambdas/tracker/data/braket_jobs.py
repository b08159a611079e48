"""Data access for Braket's job API: GetJob, SearchJobs and CancelJob in a job's own Region (from its
ARN), each under a request rate of its own.

GetJob's quota is 5 requests/s per account and Region (burst 25), shared with every researcher's
`AwsQuantumJob.state()`; SearchJobs' is 5/s and CancelJob's 2/s (Braket developer guide, quotas). So each
function that calls them has its own token bucket per Region, far below the quota (constants:
RECORDER_GET_JOB_RATE, RECONCILER_GET_JOB_RATE); the client's standard retry mode still backs off on a
ThrottlingException.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tracker.data.braket_api import RateLimiter
from tracker.data.braket_tasks import CONNECT_TIMEOUT, READ_TIMEOUT, BraketRefused, BraketUnavailable
from tracker.domain import TaskArn, normalize_time, plausible_time
from tracker.job_domain import JobArn, JobDetails, JobStatus

SEARCH_PAGE_SIZE = 100
MAX_HYPERPARAMETER_BYTES = 32 * 1024
"""GetJob allows 100 hyperparameters of up to 2,500 characters: the item keeps at most this much of them."""
MAX_TEXT = 2_048  # characters kept of a failure reason, an event's message, a path


class JobNotFound(Exception):
    """Braket does not know the job (in the Region of its ARN)."""


class GetJobRefused(Exception):
    """GetJob was not asked: the rate limit would have made the caller wait too long."""


ClientFactory = Callable[[str], Any]


class BraketJobs:
    """GetJob / SearchJobs / CancelJob, one client and one limiter per Region and operation."""

    def __init__(
        self,
        requests_per_second: float,
        *,
        max_attempts: int = 3,
        burst: float = 2.0,
        client_factory: ClientFactory | None = None,
    ) -> None:
        config = Config(
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
        )
        self.rate = requests_per_second
        self.burst = burst
        self._factory = client_factory or (lambda region: boto3.client("braket", region_name=region, config=config))
        self._clients: dict[str, Any] = {}
        self._limits: dict[tuple[str, str], RateLimiter] = {}
        self._lock = threading.Lock()
        self.requests: dict[str, int] = {"get": 0, "search": 0, "cancel": 0}

    def client(self, region: str) -> Any:
        with self._lock:
            if region not in self._clients:
                self._clients[region] = self._factory(region)
            return self._clients[region]

    def limiter(self, region: str, operation: str) -> RateLimiter:
        with self._lock:
            key = (region, operation)
            if key not in self._limits:
                self._limits[key] = RateLimiter(self.rate, self.burst)
            return self._limits[key]

    def get(self, job: JobArn, max_wait: float | None = None, *, queue_info: bool = False) -> dict[str, Any]:
        """GetJob in the job's Region (with its queue position if `queue_info`). Raises JobNotFound,
        BraketUnavailable, or (with `max_wait`, when the limiter would wait longer) GetJobRefused."""
        limiter = self.limiter(job.region, "get")
        if max_wait is None:
            limiter.acquire()
        elif not limiter.try_acquire(max_wait):
            raise GetJobRefused(f"GetJob's rate limit ({self.rate:g}/s) would wait over {max_wait:g} s")
        self.requests["get"] += 1
        try:
            extra = {"additionalAttributeNames": ["QueueInfo"]} if queue_info else {}
            response: dict[str, Any] = self.client(job.region).get_job(jobArn=job.arn, **extra)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise JobNotFound(f"{job.arn} is not known to Braket in {job.region}") from exc
            raise BraketUnavailable(f"GetJob: {exc}") from exc
        except BotoCoreError as exc:
            raise BraketUnavailable(f"GetJob: {exc}") from exc
        return response

    def search(self, region: str, created_from: datetime, created_to: datetime | None = None) -> Iterator[list[Any]]:
        """Pages of job summaries created in [created_from, created_to] (to now if None). SearchJobs has no
        status filter: every job of the window comes back."""
        values = [_rfc3339(created_from)] + ([_rfc3339(created_to)] if created_to is not None else [])
        filters = [{"name": "createdAt", "operator": "BETWEEN" if created_to else "GTE", "values": values}]
        token: str | None = None
        while True:
            self.limiter(region, "search").acquire()
            self.requests["search"] += 1
            request: dict[str, Any] = {"filters": filters, "maxResults": SEARCH_PAGE_SIZE}
            if token:
                request["nextToken"] = token
            try:
                response = self.client(region).search_jobs(**request)
            except (ClientError, BotoCoreError) as exc:
                raise BraketUnavailable(f"SearchJobs in {region}: {exc}") from exc
            yield list(response.get("jobs", []))
            token = response.get("nextToken")
            if not token:
                return

    def cancel(self, job: JobArn) -> str:
        """CancelJob: CANCELLING or CANCELLED. Braket's client errors are BraketRefused (ConflictException
        for a job that has finished)."""
        self.limiter(job.region, "cancel").acquire()
        self.requests["cancel"] += 1
        try:
            answer = self.client(job.region).cancel_job(jobArn=job.arn)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500) >= 500:
                raise BraketUnavailable(str(exc)) from exc
            raise BraketRefused(error.get("Code", "Unknown"), error.get("Message", str(exc))) from exc
        except BotoCoreError as exc:
            raise BraketUnavailable(str(exc)) from exc
        return str(answer["cancellationStatus"])


def details_from(answer: dict[str, Any], observed_at: datetime, *, complete: bool = True) -> JobDetails:
    """GetJob's answer (or, `complete=False`, a SearchJobs summary) as the record keeps it: within Braket's
    documented limits, each value of the expected type or left out, times in the plausible window."""
    spec = _dict(answer.get("algorithmSpecification"))
    script, image = _dict(spec.get("scriptModeConfig")), _dict(spec.get("containerImage"))
    instance = _dict(answer.get("instanceConfig"))
    status = answer.get("status")
    return JobDetails(
        complete=complete,
        observed_at=normalize_time(observed_at),
        status=JobStatus(status) if isinstance(status, str) and status in JobStatus.__members__ else None,
        job_name=_text(answer.get("jobName"), 50),
        created_at=_time(answer.get("createdAt"), observed_at),
        started_at=_time(answer.get("startedAt"), observed_at),
        ended_at=_time(answer.get("endedAt"), observed_at),
        device_arn=_text(_dict(answer.get("deviceConfig")).get("device") or answer.get("device"), 256),
        role_arn=_text(answer.get("roleArn"), 2048),
        instance_type=_text(instance.get("instanceType"), 64),
        instance_count=_whole(instance.get("instanceCount")),
        volume_size_gb=_whole(instance.get("volumeSizeInGb")),
        **_hyperparameters(answer.get("hyperParameters")),
        input_channels=_channels(answer.get("inputDataConfig")),
        output_s3_path=_text(_dict(answer.get("outputDataConfig")).get("s3Path"), 1024),
        checkpoint_s3_uri=_text(_dict(answer.get("checkpointConfig")).get("s3Uri"), 1024),
        entry_point=_text(script.get("entryPoint"), 1024),
        script_s3_uri=_text(script.get("s3Uri"), 1024),
        container_image=_text(image.get("uri"), 255),
        max_runtime_seconds=_whole(_dict(answer.get("stoppingCondition")).get("maxRuntimeInSeconds")),
        billable_duration=_whole(answer.get("billableDuration")),
        failure_reason=_text(answer.get("failureReason"), 1024),
        events=tuple(_event(e, observed_at) for e in (answer.get("events") or [])[:20] if isinstance(e, dict)),
        tags={k: v for k, v in _dict(answer.get("tags")).items() if isinstance(k, str) and isinstance(v, str) and k},
        reservation_arn=next(
            (_text(a.get("arn"), 256) for a in answer.get("associations") or [] if isinstance(a, dict)), None
        ),
    )


def _hyperparameters(value: Any) -> dict[str, Any]:
    kept: dict[str, str] = {}
    size = 0
    truncated = False
    for key, text in sorted(_dict(value).items()):
        if not isinstance(key, str) or not isinstance(text, str):
            continue
        size += len(key.encode("utf-8", "replace")) + len(text.encode("utf-8", "replace"))
        if size > MAX_HYPERPARAMETER_BYTES:
            truncated = True
            break
        kept[key] = text
    return {"hyperparameters": kept, "hyperparameters_truncated": truncated}


def _channels(value: Any) -> tuple[tuple[str, str], ...]:
    found = []
    for channel in value if isinstance(value, list) else []:
        name = _text(_dict(channel).get("channelName"), 64)
        uri = _text(_dict(_dict(_dict(channel).get("dataSource")).get("s3DataSource")).get("s3Uri"), 1024)
        if name and uri:
            found.append((name, uri))
    return tuple(found[:20])


def _event(event: dict[str, Any], observed_at: datetime) -> dict[str, str]:
    found = {
        "eventType": _text(event.get("eventType"), 64),
        "timeOfEvent": _time(event.get("timeOfEvent"), observed_at),
        "message": _text(event.get("message"), MAX_TEXT),
    }
    return {k: v for k, v in found.items() if v}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int = MAX_TEXT) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value.encode("utf-8", "replace").decode("utf-8")[:limit]


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**15 else None


def _time(value: Any, observed_at: datetime) -> str | None:
    if not isinstance(value, (str, datetime)):
        return None
    try:
        return plausible_time(value, observed_at)
    except ValueError:
        return None


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class TaskJobs(BraketJobs):
    """GetQuantumTask for a task's jobArn (the early link of a job's task), under a rate of its own, never
    waiting long: None when the limiter is full, or Braket does not answer (the task's end links it)."""

    def job_of(self, task: TaskArn, max_wait: float) -> str | None:
        if not self.limiter(task.region, "get-task").try_acquire(max_wait):
            return None
        self.requests["get"] += 1
        try:
            answer = self.client(task.region).get_quantum_task(quantumTaskArn=task.arn)
        except (ClientError, BotoCoreError):
            return None
        job = answer.get("jobArn")
        try:
            return JobArn.parse(job).arn  # Braket's word, but still a key of ours: refuse anything else
        except ValueError:
            return None

"""The job store and every job's lifecycle: QUEUED -> RUNNING -> COMPLETED | FAILED, or CANCELLING -> CANCELLED.

A job stays QUEUED for the queue delay, then waits for one of the Region's job slots (Braket's quota of
concurrent hybrid jobs is 3); RUNNING, it runs as a process of its own (runner.py). Each status change is
sent to EventBridge as a "Braket Job State Change" event (events.py), through the fault mode.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local.braket.aws import AwsClients
from local.braket.errors import (
    ConflictException,
    InternalServiceException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
    ValidationException,
)
from local.braket.events import EventPublisher
from local.braket.jobs import responses
from local.braket.jobs.events import job_state_change_entry
from local.braket.jobs.logs import ensure_log_group
from local.braket.jobs.models import JOB_FINISHED, MAX_RUNTIME_EXCEEDED, Job
from local.braket.jobs.runner import CANCEL, SHUTDOWN, Endpoints, JobRun, Outcome
from local.braket.jobs.search import job_filter
from local.braket.jobs.workspace import StorageError, parse_s3_uri
from local.braket.models import CANCELLED, CANCELLING, QUEUED, RUNNING, now
from local.braket.scheduler import Scheduler
from local.braket.search import page

log = logging.getLogger(__name__)

JOBS_ROLE_NAME = "AmazonBraketJobsExecutionRole"  # the SDK's default: /service-role/AmazonBraketJobsExecutionRole*
JOBS_ROLE_PATH = "/service-role/"
_TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"braket.amazonaws.com"},'
    '"Action":"sts:AssumeRole"}]}'
)
JOB_SLOTS = 3  # concurrent hybrid jobs per account and Region (Braket's quota)
CANCEL_DELAY = 0.1  # seconds from CANCELLING to CANCELLED for a job that never ran


class JobService:
    def __init__(
        self,
        clients: AwsClients,
        publisher: EventPublisher,
        scheduler: Scheduler,
        *,
        account: str,
        devices: Callable[[], frozenset[str]],
        queue_delay: float,
        slots: int = JOB_SLOTS,
    ) -> None:
        self._clients = clients
        self._publisher = publisher
        self._scheduler = scheduler
        self._account = account
        self._devices = devices
        self.queue_delay = queue_delay  # seconds a job stays QUEUED at least; tests may hold jobs there longer
        self.slots = slots
        self._jobs: dict[str, Job] = {}
        self._by_token: dict[tuple[str, str], str] = {}
        self._ready: set[str] = set()
        self._runs: dict[str, JobRun] = {}
        self._lock = threading.RLock()
        self._endpoints: Endpoints | None = None
        self._stopping = False

    def start(self, braket_url: str) -> None:
        """Serve jobs, with the role the SDK looks for by default present in moto's IAM."""
        self._endpoints = Endpoints(self._clients.endpoint_url, braket_url)
        iam = self._clients.client("iam", "us-east-1")
        try:
            iam.create_role(RoleName=JOBS_ROLE_NAME, Path=JOBS_ROLE_PATH, AssumeRolePolicyDocument=_TRUST)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "EntityAlreadyExists":
                raise

    def stop(self) -> None:
        """Stop every running job's process and wait for its run to end; no job starts from now on."""
        with self._lock:
            self._stopping = True
            runs = list(self._runs.values())
        for run in runs:
            run.stop(SHUTDOWN)
        for run in runs:
            run.join()

    def queued_for(self, region: str, device_arn: str) -> int:
        """The Region's jobs QUEUED for the device (GetDevice's JOBS_QUEUE size)."""
        with self._lock:
            return sum(
                j.status == QUEUED and j.region == region and j.device == device_arn for j in self._jobs.values()
            )

    def waiting(self) -> set[str]:
        """The jobs QUEUED long enough that wait for a free slot of their Region."""
        with self._lock:
            return set(self._ready)

    def pids(self) -> dict[str, int]:
        """The process id of each running job, by job ARN."""
        with self._lock:
            return {arn: pid for arn, run in self._runs.items() if (pid := run.pid) is not None}

    # --- operations ---

    def create_job(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        token = params["clientToken"]
        with self._lock:
            if (existing := self._by_token.get((region, token))) is not None:
                return {"jobArn": existing}
        self._check(region, params)
        with self._lock:
            if (existing := self._by_token.get((region, token))) is not None:
                return {"jobArn": existing}
            job = Job(
                arn=f"arn:aws:braket:{region}:{self._account}:job/{uuid.uuid4()}",
                region=region,
                request={k: v for k, v in params.items() if k != "clientToken"},
                created_at=now(),
            )
            self._jobs[job.arn] = job
            self._by_token[(region, token)] = job.arn
            job.record("QUEUED_FOR_EXECUTION", job.created_at, "The job is queued for execution.")
            self._change(job, QUEUED, job.created_at)
            self._scheduler.call_later(self.queue_delay, partial(self._queued_long_enough, job))
        return {"jobArn": job.arn}

    def get_job(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            job = self._job(region, params["jobArn"])
            with_queue = "QueueInfo" in (params.get("additionalAttributeNames") or [])
            return responses.get_job(job, self._jobs.values() if with_queue else None)

    def cancel_job(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            job = self._job(region, params["jobArn"])
            if job.status in (CANCELLING, CANCELLED):
                return {"jobArn": job.arn, "cancellationStatus": job.status}
            if job.finished:
                raise ConflictException(f"Job {job.arn} is {job.status} and can no longer be cancelled")
            before = job.status
            self._change(job, CANCELLING, now())
            run = self._runs.get(job.arn)
            if before == QUEUED:
                self._ready.discard(job.arn)
                self._scheduler.call_later(CANCEL_DELAY, partial(self._cancelled_in_queue, job))
        if run is not None:  # its process is stopped: the run then records CANCELLED
            run.stop(CANCEL)
        return {"jobArn": job.arn, "cancellationStatus": CANCELLING}

    def search_jobs(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        matches = job_filter(params["filters"])
        with self._lock:
            jobs = [job for job in self._jobs.values() if job.region == region and matches(job)]
            jobs.sort(key=lambda job: (job.created_at, job.arn), reverse=True)  # newest first
            chunk, token = page(jobs, lambda job: job.arn, params.get("maxResults"), params.get("nextToken"))
            response: dict[str, Any] = {"jobs": [responses.summary(job) for job in chunk]}
        if token:
            response["nextToken"] = token
        return response

    # --- checks beyond the service model's ---

    def _check(self, region: str, params: dict[str, Any]) -> None:
        if "scriptModeConfig" not in params["algorithmSpecification"]:
            raise ValidationException(
                "algorithmSpecification.scriptModeConfig is required in local mode: it runs scripts, not container "
                "images (containerImage alone names an image's own entry point)"
            )
        device = params["deviceConfig"]["device"]
        if not device.startswith("local:") and device not in self._devices():
            raise ValidationException(f"Device {device} does not exist or is not available in {region}")
        if params["instanceConfig"].get("instanceCount", 1) > 1:
            raise ServiceQuotaExceededException("The maximum allowed number of compute instances for a hybrid job is 1")
        channels = [channel["channelName"] for channel in params.get("inputDataConfig") or []]
        if duplicates := sorted({name for name in channels if channels.count(name) > 1}):
            raise ValidationException(f"Duplicate input data channel names are not allowed: {', '.join(duplicates)}")
        for uri in _s3_uris(params):
            try:
                parse_s3_uri(uri)
            except StorageError as exc:
                raise ValidationException(str(exc)) from exc
        role_arn = params["roleArn"]
        if role_arn.split(":")[4] != self._account:
            raise ValidationException(f"Role {role_arn} is not in account {self._account}")
        try:
            self._clients.client("iam", region).get_role(RoleName=role_arn.rsplit("/", 1)[-1])
            ensure_log_group(self._clients.client("logs", region))
        except BotoCoreError as exc:
            raise InternalServiceException(f"IAM or CloudWatch Logs is unreachable: {exc}") from exc
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
                raise ValidationException(
                    f"Role {role_arn} does not exist or cannot be assumed by Amazon Braket"
                ) from exc
            raise InternalServiceException(f"IAM or CloudWatch Logs refused a request: {exc}") from exc

    # --- lifecycle ---

    def _change(self, job: Job, status: str, at: datetime, reason: str | None = None) -> None:
        """Record a status change and send its event (callers hold the lock, so events leave in order)."""
        job.status = status
        if status == RUNNING:
            job.started_at = at
        if status in JOB_FINISHED:
            job.ended_at = at
            job.failure_reason = reason
        log.info("%s %s%s", job.arn, status, f" ({reason})" if reason else "")
        self._publisher.send(job.region, status, job_state_change_entry(job, status, at))

    def _queued_long_enough(self, job: Job) -> None:
        with self._lock:
            if job.status == QUEUED:
                self._ready.add(job.arn)
                self._admit(job.region)

    def _admit(self, region: str) -> None:
        """Start the Region's oldest ready jobs while it has free slots (callers hold the lock)."""
        if self._stopping:
            return
        running = sum(1 for run in self._runs.values() if run.job.region == region)
        waiting = sorted(
            (self._jobs[arn] for arn in self._ready if self._jobs[arn].region == region),
            key=lambda job: (job.created_at, job.arn),
        )
        for job in waiting[: max(0, self.slots - running)]:
            self._ready.discard(job.arn)
            self._start(job)

    def _start(self, job: Job) -> None:
        assert self._endpoints is not None, "JobService.start() was not called"
        moment = now()
        job.record("STARTING_INSTANCE", moment, "Starting the job's process (local mode: no instance).")
        self._change(job, RUNNING, moment)
        run = JobRun(job, self._clients, self._endpoints, self._scheduler, record=self._record, finish=self._finished)
        self._runs[job.arn] = run
        run.start()

    def _record(self, job: Job, event_type: str, message: str) -> None:
        with self._lock:
            job.record(event_type, now(), message)

    def _finished(self, job: Job, outcome: Outcome) -> None:
        with self._lock:
            self._runs.pop(job.arn, None)
            if outcome.timed_out:
                job.record(MAX_RUNTIME_EXCEEDED, outcome.ended_at, outcome.reason or "")
            job.record(outcome.status, outcome.ended_at, outcome.reason or f"The job is {outcome.status}.")
            self._change(job, outcome.status, outcome.ended_at, outcome.reason)
            self._admit(job.region)

    def _cancelled_in_queue(self, job: Job) -> None:
        with self._lock:
            if job.status == CANCELLING and job.arn not in self._runs:
                moment = now()
                job.record(CANCELLED, moment, "The job was cancelled before it ran.")
                self._change(job, CANCELLED, moment)

    def _job(self, region: str, arn: str) -> Job:
        job = self._jobs.get(arn)
        if job is None or job.region != region:
            raise ResourceNotFoundException(f"Job {arn} not found")
        return job


def _s3_uris(params: dict[str, Any]) -> list[str]:
    """Every S3 location a CreateJob request names: the script, the output, checkpoints, input channels."""
    uris = [params["algorithmSpecification"]["scriptModeConfig"]["s3Uri"], params["outputDataConfig"]["s3Path"]]
    if (checkpoint := params.get("checkpointConfig")) is not None:
        uris.append(checkpoint["s3Uri"])
    uris += [channel["dataSource"]["s3DataSource"]["s3Uri"] for channel in params.get("inputDataConfig") or []]
    return uris

"""Jobs as the API answers them: GetJobResponse, JobSummary (SearchJobs) and HybridJobQueueInfo."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from local.braket.jobs.models import DEFAULT_CHECKPOINT_PATH, DEFAULT_MAX_RUNTIME, Job
from local.braket.models import QUEUED, iso_ms

JOBS_QUEUE = "JOBS_QUEUE"
SHOWN_POSITIONS = 15  # beyond this, Braket answers the position ">15" (the SDK's queue_position() docstring)


def summary(job: Job) -> dict[str, Any]:
    """JobSummary: the device is `device` here (GetJob names it deviceConfig.device)."""
    answer: dict[str, Any] = {
        "status": job.status,
        "jobArn": job.arn,
        "jobName": job.name,
        "device": job.device,
        "createdAt": iso_ms(job.created_at),
        "tags": job.tags,
    }
    if job.started_at is not None:
        answer["startedAt"] = iso_ms(job.started_at)
    if job.ended_at is not None:
        answer["endedAt"] = iso_ms(job.ended_at)
    return answer


def get_job(job: Job, queue: Iterable[Job] | None) -> dict[str, Any]:
    """GetJobResponse, with the defaults Braket fills in; queueInfo when asked (then `queue` is every job)."""
    request = job.request
    instance = {"instanceCount": 1, **request["instanceConfig"]}
    answer: dict[str, Any] = {
        "status": job.status,
        "jobArn": job.arn,
        "jobName": job.name,
        "roleArn": job.role_arn,
        "algorithmSpecification": request["algorithmSpecification"],
        "instanceConfig": instance,
        "outputDataConfig": request["outputDataConfig"],
        "deviceConfig": request["deviceConfig"],
        "stoppingCondition": {"maxRuntimeInSeconds": DEFAULT_MAX_RUNTIME, **(request.get("stoppingCondition") or {})},
        "hyperParameters": dict(request.get("hyperParameters") or {}),
        "inputDataConfig": list(request.get("inputDataConfig") or []),
        "createdAt": iso_ms(job.created_at),
        "tags": job.tags,
        "events": [
            {"eventType": event.event_type, "timeOfEvent": iso_ms(event.at), "message": event.message}
            for event in job.events
        ],
    }
    if (checkpoint := request.get("checkpointConfig")) is not None:
        answer["checkpointConfig"] = {"localPath": DEFAULT_CHECKPOINT_PATH, **checkpoint}
    if request.get("associations"):
        answer["associations"] = request["associations"]
    if job.started_at is not None:
        answer["startedAt"] = iso_ms(job.started_at)
    if job.ended_at is not None:
        answer["endedAt"] = iso_ms(job.ended_at)
        answer["billableDuration"] = billable_duration(job)
    if job.failure_reason is not None:
        answer["failureReason"] = job.failure_reason
    if queue is not None:
        answer["queueInfo"] = queue_info(job, queue)
    return answer


def billable_duration(job: Job) -> int:
    """Milliseconds from RUNNING to the end (0 for a job that never ran). The API reference does not state
    the unit: local mode's choice, documented in the README."""
    if job.started_at is None or job.ended_at is None:
        return 0
    return max(0, round((job.ended_at - job.started_at).total_seconds() * 1000))


def queue_info(job: Job, jobs: Iterable[Job]) -> dict[str, str]:
    """HybridJobQueueInfo: the position among the Region's QUEUED jobs (">15" beyond 15); once not queued,
    the position is the string "None" and a message, as the SDK's queue_position() expects."""
    if job.status != QUEUED:
        message = f"Job is in {job.status} status. AmazonBraket does not show queue position for this status."
        return {"queue": JOBS_QUEUE, "position": "None", "message": message}
    ahead = sum(
        other.status == QUEUED
        and other.region == job.region
        and (other.created_at, other.arn) < (job.created_at, job.arn)
        for other in jobs
    )
    position = ahead + 1
    return {"queue": JOBS_QUEUE, "position": str(position) if position <= SHOWN_POSITIONS else f">{SHOWN_POSITIONS}"}

"""A hybrid job as the local service stores it: its request, its status, its times and its events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from local.braket.models import CANCELLED, CANCELLING, COMPLETED, FAILED, QUEUED, RUNNING

JOB_STATUSES = (QUEUED, RUNNING, COMPLETED, FAILED, CANCELLING, CANCELLED)  # the model's JobPrimaryStatus
JOB_FINISHED = frozenset({COMPLETED, FAILED, CANCELLED})
MAX_EVENTS = 20  # GetJobResponse.events: 0 to 20 JobEventDetails

# JobEventDetails.eventType values local mode records (the model lists them all)
QUEUED_FOR_EXECUTION = "QUEUED_FOR_EXECUTION"
STARTING_INSTANCE = "STARTING_INSTANCE"
DOWNLOADING_DATA = "DOWNLOADING_DATA"
EVENT_RUNNING = "RUNNING"
UPLOADING_RESULTS = "UPLOADING_RESULTS"
MAX_RUNTIME_EXCEEDED = "MAX_RUNTIME_EXCEEDED"
DEFAULT_MAX_RUNTIME = 432000  # seconds: the model's maximum of maxRuntimeInSeconds (5 days), the SDK's default
DEFAULT_CHECKPOINT_PATH = "/opt/braket/checkpoints/"  # the model's documented default of checkpointConfig.localPath


@dataclass(frozen=True)
class JobEvent:
    event_type: str
    at: datetime
    message: str


@dataclass
class Job:
    """What CreateJob accepted (validated against the service model) and what happened since."""

    arn: str
    region: str
    request: dict[str, Any]  # the CreateJob input, without clientToken
    created_at: datetime
    status: str = QUEUED
    started_at: datetime | None = None
    ended_at: datetime | None = None
    failure_reason: str | None = None
    events: list[JobEvent] = field(default_factory=list)

    @property
    def job_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def name(self) -> str:
        return str(self.request["jobName"])

    @property
    def device(self) -> str:
        return str(self.request["deviceConfig"]["device"])

    @property
    def role_arn(self) -> str:
        return str(self.request["roleArn"])

    @property
    def role_name(self) -> str:
        """The role's name: the last segment of its ARN (after its path)."""
        return self.role_arn.rsplit("/", 1)[-1]

    @property
    def tags(self) -> dict[str, str]:
        return dict(self.request.get("tags") or {})

    @property
    def max_runtime(self) -> int:
        condition = self.request.get("stoppingCondition") or {}
        return int(condition.get("maxRuntimeInSeconds") or DEFAULT_MAX_RUNTIME)

    @property
    def finished(self) -> bool:
        return self.status in JOB_FINISHED

    def record(self, event_type: str, at: datetime, message: str) -> None:
        """Add a JobEventDetails entry (the first 20 are kept, as the model allows no more)."""
        if len(self.events) < MAX_EVENTS:
            self.events.append(JobEvent(event_type, at, message[:2500]))

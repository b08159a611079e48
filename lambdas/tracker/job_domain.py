"""The hybrid-job domain: statuses, one observed event, what GetJob adds, and the recorded state of a job.

A job's record is a pure function of the set of distinct events seen and of GetJob's answers (see
logic/job_merge.py). AWS does not document the "Braket Job State Change" event's detail: the job's
ARN and status are relied on; `startedAt` and `endedAt` are hints; anything else is kept as sent
(`unknown`), and everything else comes from GetJob.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tracker.domain import seconds_between


class JobStatus(StrEnum):
    """GetJob's JobPrimaryStatus."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    CANCELLING = "CANCELLING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def finished(self) -> bool:
        return self.rank == JOB_FINISHED_RANK


JOB_FINISHED_RANK = 3
_RANK = {
    JobStatus.QUEUED: 0,
    JobStatus.RUNNING: 1,
    JobStatus.CANCELLING: 2,
    JobStatus.COMPLETED: JOB_FINISHED_RANK,
    JobStatus.FAILED: JOB_FINISHED_RANK,
    JobStatus.CANCELLED: JOB_FINISHED_RANK,
}
_FINISHED_TIE_ORDER = {JobStatus.COMPLETED: 0, JobStatus.FAILED: 1, JobStatus.CANCELLED: 2}

_JOB_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]{0,16}):braket:(?P<region>[a-z0-9-]{1,32}):(?P<account>[0-9]{12})"
    r":job/(?P<job_id>[A-Za-z0-9-]{1,64})"
)
JOB_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
"""A job id: the ARN's last part, a UUID today, the job's name in ARNs made before 2023 (SDK
aws_quantum_job.py: "jobs ARNs used to contain the job name ... now job ARNs use a UUID")."""


@dataclass(frozen=True)
class JobArn:
    arn: str
    region: str
    account: str
    job_id: str

    @classmethod
    def parse(cls, arn: str) -> JobArn:
        match = _JOB_ARN.fullmatch(arn) if isinstance(arn, str) else None
        if match is None:
            shown = arn if not isinstance(arn, str) or len(arn) <= 300 else arn[:300] + "..."
            raise ValueError(f"not a Braket job ARN: {shown!r}")
        return cls(arn, match["region"], match["account"], match["job_id"])


@dataclass(frozen=True)
class JobEvent:
    """One "Braket Job State Change" event (or a status observed through GetJob / SearchJobs)."""

    event_id: str
    time: str
    job: JobArn
    status: JobStatus
    started_at: str | None = None  # the event's startedAt hint, when it is a time we can read
    ended_at: str | None = None  # endedAt, on finished statuses only
    unknown: dict[str, str] = field(default_factory=dict)  # other detail fields: name -> canonical JSON
    origin: str = "event"


@dataclass(frozen=True)
class JobDetails:
    """What GetJob says about a job (or, incomplete, a SearchJobs summary; or nothing: `complete` False
    with no status, when Braket could not be asked). Bounded to Braket's documented limits."""

    complete: bool
    observed_at: str
    status: JobStatus | None = None
    job_name: str | None = None
    created_at: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    device_arn: str | None = None
    role_arn: str | None = None
    instance_type: str | None = None
    instance_count: int | None = None
    volume_size_gb: int | None = None
    hyperparameters: dict[str, str] = field(default_factory=dict)
    hyperparameters_truncated: bool = False
    input_channels: tuple[tuple[str, str], ...] = ()  # (channel name, S3 URI)
    output_s3_path: str | None = None
    checkpoint_s3_uri: str | None = None
    entry_point: str | None = None
    script_s3_uri: str | None = None
    container_image: str | None = None
    max_runtime_seconds: int | None = None
    billable_duration: int | None = None  # as GetJob gives it; its unit is not documented
    failure_reason: str | None = None
    events: tuple[dict[str, str], ...] = ()  # GetJob's events: eventType, timeOfEvent, message
    tags: dict[str, str] = field(default_factory=dict)
    reservation_arn: str | None = None

    @property
    def rank(self) -> tuple[bool, bool, str]:
        """Which of two answers a record keeps: a complete one, then one of a finished job, then the later."""
        return (self.complete, self.status is not None and self.status.finished, self.observed_at)


@dataclass(frozen=True)
class JobRecord:
    """The recorded state of a job."""

    job: JobArn
    status_times: dict[JobStatus, str]
    last_event_at: str
    event_ids: frozenset[str]
    reported_started_at: str | None = None  # earliest startedAt the events carried
    reported_ended_at: str | None = None  # earliest endedAt of the finished events
    unknown: dict[str, str] = field(default_factory=dict)
    details: JobDetails | None = None
    origin: str = "event"
    # Kept as stored, written by others: the notifier's marks, the reconciler's back-off, the task counter.
    notified_at: str | None = None
    notifications: dict[JobStatus, str] = field(default_factory=dict)
    checked_at: str | None = None
    task_counts: dict[str, int] = field(default_factory=dict)
    version: int = 0

    @property
    def status(self) -> JobStatus:
        """The highest-ranked status; between finished ones, GetJob's if it named one, else the earliest."""
        finished = [s for s in self.status_times if s.finished]
        if finished:
            said = self.details.status if self.details is not None and self.details.complete else None
            if said is not None and said.finished:
                return said
            return min(finished, key=lambda s: (self.status_times[s], _FINISHED_TIE_ORDER[s]))
        return max(self.status_times, key=lambda s: s.rank)

    @property
    def event_count(self) -> int:
        return len(self.event_ids)

    @property
    def created_at(self) -> str:
        """GetJob's createdAt; until Braket has been asked, the earliest time anything reported."""
        if self.details is not None and self.details.created_at:
            return self.details.created_at
        return min([*self.status_times.values(), *filter(None, [self.reported_started_at])])

    @property
    def started_at(self) -> str | None:
        if self.details is not None and self.details.started_at:
            return self.details.started_at
        return self.reported_started_at

    @property
    def ended_at(self) -> str | None:
        if not self.status.finished:
            return None
        if self.details is not None and self.details.ended_at:
            return self.details.ended_at
        return self.reported_ended_at or self.status_times.get(self.status)

    @property
    def queue_seconds(self) -> Decimal | None:
        started = self.started_at
        return None if started is None else max(Decimal(0), seconds_between(self.created_at, started))

    @property
    def run_seconds(self) -> Decimal | None:
        started, ended = self.started_at, self.ended_at
        return None if started is None or ended is None else max(Decimal(0), seconds_between(started, ended))

    @property
    def announced(self) -> dict[JobStatus, str]:
        if self.notifications or self.notified_at is None:
            return dict(self.notifications)
        return {self.status: self.notified_at}

    @property
    def last_announced(self) -> JobStatus | None:
        announced = self.announced
        return max(announced, key=lambda s: (announced[s], s.value)) if announced else None

    @property
    def name(self) -> str | None:
        return self.details.job_name if self.details is not None else None

    @property
    def task_count(self) -> int:
        return sum(self.task_counts.values())

    @property
    def failed_task_count(self) -> int:
        return self.task_counts.get("FAILED", 0)

    @property
    def results_uri(self) -> str | None:
        """Where AwsQuantumJob.result() reads the job's results: `<s3Path>/output/model.tar.gz`."""
        path = self.details.output_s3_path if self.details is not None else None
        return None if not path else f"{path.rstrip('/')}/output/model.tar.gz"


def job_summary(record: JobRecord) -> dict[str, Any]:
    """A short description for logs."""
    return {"job": record.job.arn, "status": record.status.value, "name": record.name}

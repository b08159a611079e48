"""The task domain: statuses, one observed event, and the recorded state of a task."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    CREATED = "CREATED"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    CANCELLING = "CANCELLING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def rank(self) -> int:
        """Progress of the lifecycle. All finished statuses share the highest rank."""
        return _RANK[self]

    @property
    def finished(self) -> bool:
        return self.rank == FINISHED_RANK


FINISHED_RANK = 4
_RANK = {
    Status.CREATED: 0,
    Status.QUEUED: 1,
    Status.RUNNING: 2,
    Status.CANCELLING: 3,
    Status.COMPLETED: FINISHED_RANK,
    Status.FAILED: FINISHED_RANK,
    Status.CANCELLED: FINISHED_RANK,
}
FINISHED_STATUSES = frozenset(s for s in Status if s.finished)

MAX_TASK_ARN_LENGTH = 256
"""Braket's own limit on a quantum task ARN; ARNs are ASCII, so also their size in bytes."""
_TASK_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]{0,16}):braket:(?P<region>[a-z0-9-]{1,32}):(?P<account>[0-9]{12})"
    r":quantum-task/(?P<task_id>[A-Za-z0-9-]{1,128})"
)
TASK_ID = re.compile(r"[A-Za-z0-9-]{1,128}")
"""A task id (the ARN's last part). Patterns are matched whole (fullmatch), never with `$`, which
also matches before a final newline."""


@dataclass(frozen=True)
class TaskArn:
    """A quantum task ARN. The task's Region and account come from here, never from an envelope."""

    arn: str
    region: str
    account: str
    task_id: str

    @classmethod
    def parse(cls, arn: str) -> TaskArn:
        match = _TASK_ARN.fullmatch(arn) if isinstance(arn, str) else None
        if match is None:
            shown = arn if not isinstance(arn, str) or len(arn) <= 300 else arn[:300] + "..."
            raise ValueError(f"not a Braket quantum task ARN: {shown!r}")
        return cls(arn, match["region"], match["account"], match["task_id"])


EARLIEST_TIME = datetime(2019, 1, 1, tzinfo=UTC)
"""No Braket time is older: Amazon Braket opened (in preview) on 2 December 2019."""
FUTURE_TOLERANCE = timedelta(days=1)
"""How far ahead of the reader's clock a reported time may be. Braket's clocks and ours differ by
seconds; a day ahead is no clock skew but a wrong time, which would lead every newest-first listing."""


def normalize_time(value: str | datetime) -> str:
    """ISO-8601 UTC with milliseconds (`2026-11-20T08:00:01.120Z`): it sorts as it reads.

    Raises ValueError for anything else: no time zone, not ISO-8601, or out of datetime's range
    once converted to UTC. Years are always four digits, so every normalized time sorts right.
    """
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"time without a time zone: {value.isoformat()}")
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"time out of range: {value.isoformat()}") from None
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:"
        f"{value.second:02d}.{value.microsecond // 1000:03d}Z"
    )


def plausible_time(value: str | datetime, now: datetime | None = None) -> str:
    """A time that Braket can have reported, normalized: from EARLIEST_TIME to FUTURE_TOLERANCE
    after `now`. Raises ValueError naming the window otherwise (before converting to UTC, so a
    time at the edge of datetime's range is refused rather than overflowing)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    if parsed.tzinfo is None:
        raise ValueError(f"time without a time zone: {parsed.isoformat()}")
    latest = (now or datetime.now(UTC)) + FUTURE_TOLERANCE
    if not EARLIEST_TIME <= parsed <= latest:
        raise ValueError(
            f"time {parsed.isoformat()} is outside {normalize_time(EARLIEST_TIME)} .. {normalize_time(latest)} "
            "(no Braket task is older, and none is reported from the future)"
        )
    return normalize_time(parsed)


def seconds_between(start: str, end: str) -> Decimal:
    """Exact seconds (millisecond precision) between two normalized times."""
    delta = parse_time(end) - parse_time(start)
    millis = delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
    return Decimal(millis).scaleb(-3)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


MAX_EVENTS_PER_TASK = 100
"""Distinct events one task may have. A real lifecycle has a handful (seven statuses, redelivered
events keep their id); the bound keeps a task's item far below DynamoDB's 400 KB whatever arrives."""


class EventRefused(ValueError):
    """A valid event that still cannot be recorded (its task has too many events): rejected, not retried."""


@dataclass(frozen=True)
class TaskEvent:
    """One "Braket Task State Change" event, validated and normalized."""

    event_id: str
    time: str
    task: TaskArn
    status: Status
    device_arn: str
    shots: int
    output_s3_bucket: str
    output_s3_directory: str
    created_at: str
    ended_at: str | None = None
    origin: str = "event"
    """Where an item this event creates comes from: "event" (EventBridge), or an observation of
    Braket's API by the reconciler ("reconciler") or the backfill ("backfill")."""


@dataclass(frozen=True)
class ActionMetadata:
    """GetQuantumTask's `actionMetadata`: the kind of program (`braket.ir.openqasm.program`, ...) and,
    for a program set, how many programs and executables it has."""

    action_type: str
    program_count: int | None = None
    executable_count: int | None = None


@dataclass(frozen=True)
class Enrichment:
    """What GetQuantumTask adds at a task's end. `complete` is False when Braket could not be asked."""

    complete: bool
    failure_reason: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    num_successful_shots: int | None = None
    job_arn: str | None = None
    device_parameters: str | None = None
    """The task's deviceParameters, the JSON string Braket answers (left out beyond MAX_DEVICE_PARAMETERS_BYTES)."""
    action_metadata: ActionMetadata | None = None
    associations: tuple[dict[str, str], ...] = ()
    """GetQuantumTask's `associations`, as it returns them: `{arn, type}` each (a Braket Direct
    reservation the task ran in is `RESERVATION_TIME_WINDOW_ARN`: it changes what the task costs)."""


@dataclass(frozen=True)
class TaskRecord:
    """The recorded state of a task: a pure function of the set of distinct events seen.

    Besides the events: who submitted it (`submitter`), the tags it was submitted with (`tags`),
    where the record came from (`origin`: "event" for EventBridge events, "api" for the Task API)
    and when its end was notified; a merge keeps those as stored.
    """

    task: TaskArn
    device_arn: str
    shots: int
    output_s3_bucket: str
    output_s3_directory: str
    created_at: str
    status_times: dict[Status, str]
    last_event_at: str
    event_ids: frozenset[str]
    ended_at: str | None = None
    enrichment: Enrichment | None = None
    submitter: str | None = None
    origin: str = "event"
    notified_at: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    checked_at: str | None = None
    """When the reconciler last asked Braket about this unfinished task (its back-off)."""
    notifications: dict[Status, str] = field(default_factory=dict)
    """Each final status announced on the notification topic, and when (the notifier's marks):
    the first end, then any correction. What was said, not what the events say, so not merged."""
    queue_info: dict[str, str] | None = None
    """The last queue position the Task API read from Braket (GetQuantumTask's queueInfo), and when
    (`queue_info_read_at`): shared by every reader, read at most once a minute. Not merged: kept as stored."""
    queue_info_read_at: str | None = None
    cost_usd: Decimal | None = None
    """What the task cost (written by the cost keeper when it ends; None while unknown or unpriced)."""
    cost_basis: dict[str, Any] | None = None
    """How `cost_usd` was reached (logic.costs.CostBasis.to_item, with the status it priced)."""
    job_arn: str | None = None
    """The hybrid job that created the task: from GetQuantumTask, linked early for a job's tasks (under
    `jobs/`) by the job-updates function, or at the end with Braket's details."""
    job_counted: str | None = None
    """The final status the job-task counter counted for this task (its per-task ledger: issue 18)."""

    @property
    def announced(self) -> dict[Status, str]:
        """The final statuses announced so far. An item notified before corrections existed has
        `notifiedAt` alone: its status then is the one that was announced."""
        if self.notifications or self.notified_at is None:
            return dict(self.notifications)
        return {self.status: self.notified_at}

    @property
    def last_announced(self) -> Status | None:
        """The final status the topic said last: the one a correction corrects."""
        announced = self.announced
        return max(announced, key=lambda s: (announced[s], s.value)) if announced else None

    @property
    def superseded(self) -> Status | None:
        """Another final status reported for this task, which its status supersedes (the latest
        reported, if several): what a subscriber may have been told before a correction."""
        others = [s for s in self.status_times if s.finished and s is not self.status]
        return max(others, key=lambda s: (self.status_times[s], s.value)) if others else None

    @property
    def status(self) -> Status:
        return current_status(self.status_times)

    @property
    def event_count(self) -> int:
        return len(self.event_ids)

    @property
    def queue_seconds(self) -> Decimal | None:
        """From creation to the start of the run (see `started_at`): never negative."""
        started = self.started_at
        return None if started is None else seconds_between(self.created_at, started)

    @property
    def run_seconds(self) -> Decimal | None:
        """From the start of the run to the end (see `started_at`): never negative."""
        started = self.started_at
        if started is None or self.ended_at is None:
            return None
        return seconds_between(started, max(self.ended_at, self.created_at))

    @property
    def started_at(self) -> str | None:
        """When the task started running: the first RUNNING event's time, within what the other
        times allow: never before createdAt, and never after the end.

        Reported times can disagree. Event times have one-second resolution (EventBridge's `time`)
        while createdAt and endedAt have milliseconds, so a task that starts within a second of its
        creation would seem to queue for a negative time, and one that runs for less than a second
        could seem to end before it started. Taking the start within [createdAt, endedAt] (and an
        end before createdAt as createdAt) keeps every duration at zero or more, with
        queueSeconds + runSeconds = endedAt - createdAt whenever the task ended after it was created.
        """
        running = self.status_times.get(Status.RUNNING)
        if running is None:
            return None
        started = max(running, self.created_at)
        return started if self.ended_at is None else min(started, max(self.ended_at, self.created_at))

    @property
    def results_uri(self) -> str:
        return f"s3://{self.output_s3_bucket}/{self.output_s3_directory}/results.json"

    @property
    def device_name(self) -> str:
        return self.device_arn.rsplit("/", 1)[-1]


# Among finished statuses seen at the same time, this order decides (it never arises in practice).
_FINISHED_TIE_ORDER = {Status.COMPLETED: 0, Status.FAILED: 1, Status.CANCELLED: 2}


def current_status(status_times: dict[Status, str]) -> Status:
    """The highest-ranked status seen. Between finished statuses, the earliest one wins."""
    if not status_times:
        raise ValueError("a task has at least one status")
    finished = [s for s in status_times if s.finished]
    if finished:
        return min(finished, key=lambda s: (status_times[s], _FINISHED_TIE_ORDER[s]))
    return max(status_times, key=lambda s: s.rank)

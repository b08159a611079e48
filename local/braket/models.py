"""A quantum task as the local service stores it, and Braket's timestamp format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CREATED, QUEUED, RUNNING, COMPLETED, FAILED, CANCELLING, CANCELLED = (
    "CREATED",
    "QUEUED",
    "RUNNING",
    "COMPLETED",
    "FAILED",
    "CANCELLING",
    "CANCELLED",
)
STATUSES = (CREATED, QUEUED, RUNNING, COMPLETED, FAILED, CANCELLING, CANCELLED)
FINISHED = frozenset({COMPLETED, FAILED, CANCELLED})


def now() -> datetime:
    """The current UTC time, to the millisecond (Braket's precision)."""
    current = datetime.now(UTC)
    return current.replace(microsecond=current.microsecond // 1000 * 1000)


def iso_ms(moment: datetime) -> str:
    """2026-11-20T08:00:01.120Z, as Braket writes times in events and results."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Task:
    arn: str
    region: str
    device_arn: str
    shots: int
    program: dict[str, Any]  # the OpenQASM action, parsed
    output_bucket: str
    output_directory: str
    device_parameters: str
    created_at: datetime
    client_token: str
    tags: dict[str, str] = field(default_factory=dict)
    job_arn: str | None = None
    associations: list[dict[str, str]] = field(default_factory=list)
    experimental_capabilities: dict[str, str] | None = None
    status: str = CREATED
    ended_at: datetime | None = None
    failure_reason: str | None = None

    @property
    def task_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

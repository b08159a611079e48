"""Reconciliation, pure: what Braket's API says about a task, as an event the recorder can merge.

A status observed through the API (GetQuantumTask or a SearchQuantumTasks summary) becomes a
`TaskEvent` with the id `braket-api:<STATUS>`, so it goes through the same merge as EventBridge
events: observing the same status again is a duplicate (no write), and a real event that arrives
later merges with it in any order. Its time:
- a finished status: the task's `endedAt` (as its event would carry);
- CREATED: the task's `createdAt`;
- any other status: when it was observed (never before `createdAt`), as no API tells when a task
  started running; so the `statusTimes` of such a status are when it was first seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tracker.constants import OBSERVED_EVENT_PREFIX
from tracker.domain import Status, TaskArn, TaskEvent, normalize_time, plausible_time

MAX_CHECK_INTERVAL = timedelta(hours=6)
"""The longest wait between two checks of a task that stays unfinished (a QPU queue can take days)."""


class InvalidObservation(ValueError):
    """Braket's answer lacks what a task record needs (it should never happen)."""


def observed_event(task: Mapping[str, Any], observed_at: datetime, origin: str) -> TaskEvent:
    """The event for the status Braket reports in `task` (a GetQuantumTask response or a
    SearchQuantumTasks summary, as boto3 returns them: times are datetimes)."""
    try:
        status = Status(task["status"])
        created_at = plausible_time(task["createdAt"], observed_at)  # the same window as events'
        ended = task.get("endedAt")
        ended_at = plausible_time(ended, observed_at) if ended is not None and status.finished else None
        if status.finished:
            time = ended_at or normalize_time(observed_at)
        elif status is Status.CREATED:
            time = created_at
        else:
            time = max(normalize_time(observed_at), created_at)
        return TaskEvent(
            event_id=observed_event_id(status),
            time=time,
            task=TaskArn.parse(task["quantumTaskArn"]),
            status=status,
            device_arn=str(task["deviceArn"]),
            shots=int(task["shots"]),
            output_s3_bucket=str(task["outputS3Bucket"]),
            output_s3_directory=str(task["outputS3Directory"]),
            created_at=created_at,
            ended_at=ended_at,
            origin=origin,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidObservation(f"Braket's answer for {task.get('quantumTaskArn')!r} is unusable: {exc!r}") from exc


def observed_event_id(status: Status) -> str:
    return f"{OBSERVED_EVENT_PREFIX}{status.value}"


def is_news(stored_status: Status | None, observed: Status) -> bool:
    """Whether an observed status tells the table something: the task is unknown, or it moved on.

    A finished task never changes, and an observation of the status already stored (or an
    older one, seen late) adds nothing but an event id, so it is not written.
    """
    if stored_status is None:
        return True
    return not stored_status.finished and observed.rank > stored_status.rank


def check_due(last_event_at: str, checked_at: str | None, now: datetime, stale_after: timedelta) -> bool:
    """Back-off per task: ask Braket again once a quarter of the task's silence has passed since the
    last check, at least `stale_after` and at most MAX_CHECK_INTERVAL apart.

    A task silent for an hour is checked every 15 minutes; one queued on a QPU for two days, every
    6 hours. Never checked: due now (it is already stale when the reconciler sees it).
    """
    if checked_at is None:
        return True
    silence = now - _parse(last_event_at)
    interval = min(max(silence / 4, stale_after), MAX_CHECK_INTERVAL)
    return now - _parse(checked_at) >= interval


@dataclass(frozen=True)
class SweepWindow:
    """The createdAt range a sweep searches: from the stored watermark (on a first run, from when
    the tracker was deployed: what came before is the backfill's) to `stale_after` ago, so tasks
    whose events are merely in flight are left to the events."""

    start: datetime
    end: datetime

    @property
    def empty(self) -> bool:
        return self.end <= self.start


def sweep_window(watermark: str, now: datetime, stale_after: timedelta) -> SweepWindow:
    return SweepWindow(_parse(watermark), now - stale_after)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))

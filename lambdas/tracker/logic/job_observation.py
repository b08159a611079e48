"""What Braket's job API says about a job, as an event the job merge takes: pure.

GetJob's answer (or a SearchJobs summary) names a status; it becomes a `JobEvent` with the id
`braket-api:<STATUS>` (the task table's convention), so observing it again is a duplicate and a real
event merges with it in any order. Its time: the job's endedAt for a finished status, createdAt for
QUEUED, startedAt for RUNNING, else when it was observed (never before createdAt).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tracker.constants import OBSERVED_EVENT_PREFIX
from tracker.domain import normalize_time
from tracker.job_domain import JobArn, JobDetails, JobEvent, JobStatus

MAX_CHECK_INTERVAL = timedelta(hours=6)


def observed_event(job: JobArn, details: JobDetails, origin: str) -> JobEvent | None:
    """The status `details` names, as an event (None if it names none)."""
    status = details.status
    if status is None:
        return None
    if status.finished:
        time = details.ended_at or details.observed_at
    elif status is JobStatus.QUEUED:
        time = details.created_at or details.observed_at
    elif status is JobStatus.RUNNING:
        time = details.started_at or details.observed_at
    else:
        time = details.observed_at
    if details.created_at:
        time = max(time, details.created_at)
    return JobEvent(
        event_id=f"{OBSERVED_EVENT_PREFIX}{status.value}",
        time=time,
        job=job,
        status=status,
        started_at=details.started_at,
        ended_at=(details.ended_at or time) if status.finished else None,
        origin=origin,
    )


def is_news(stored: JobStatus | None, observed: JobStatus) -> bool:
    """Whether an observed status tells the table something: the job is unknown, or it moved on."""
    return stored is None or (not stored.finished and observed.rank > stored.rank)


def check_due(last_event_at: str, checked_at: str | None, now: datetime, stale_after: timedelta) -> bool:
    """The back-off of the task reconciler (a quarter of the silence, between stale_after and 6 hours)."""
    if checked_at is None:
        return True
    silence = now - _parse(last_event_at)
    interval = min(max(silence / 4, stale_after), MAX_CHECK_INTERVAL)
    return now - _parse(checked_at) >= interval


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def now_text(moment: datetime) -> str:
    return normalize_time(moment)

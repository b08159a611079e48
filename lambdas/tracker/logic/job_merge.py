"""Merging a job event (and GetJob's answer) into a job record: pure, order-independent, idempotent.

The same rules as a task's (logic/merge.py), each field a join over what was seen:
- statusTimes: per status, the earliest time reported; eventIds: union; lastEventAt: max;
- the reported startedAt: the earliest; the reported endedAt: the earliest of the finished events;
- status: the highest rank (QUEUED < RUNNING < CANCELLING < the finished three); between finished
  statuses, GetJob's if a complete answer named one, else the earliest (JobRecord.status);
- unknown detail fields: per name, the smallest canonical JSON (so two bodies join the same way in
  any order);
- GetJob's answer (`details`): a complete answer beats an incomplete one, then one of a finished job,
  then the later; the same answer twice changes nothing.
Observed statuses (GetJob and SearchJobs, by the reconciler and the backfill) are events with the id
`braket-api:<STATUS>`, as for tasks: seen again, they are duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from tracker.job_domain import JobDetails, JobEvent, JobRecord

MAX_EVENTS_PER_JOB = 100
"""Distinct events one job may have (six statuses, redelivered events keep their id)."""
MAX_UNKNOWN_BYTES = 32 * 1024
"""The unknown detail fields a job's item keeps, all events together (in UTF-8 bytes)."""


def merge(record: JobRecord | None, event: JobEvent | None, details: JobDetails | None = None) -> JobRecord:
    """The record after also seeing `event` and/or GetJob's answer `details` (one of them at least)."""
    if record is None:
        if event is None:
            raise ValueError("a job's first record needs an event")
        return JobRecord(
            job=event.job,
            status_times={event.status: event.time},
            last_event_at=event.time,
            event_ids=frozenset({event.event_id}),
            reported_started_at=event.started_at,
            reported_ended_at=event.ended_at,
            unknown=dict(event.unknown),
            details=details,
            origin=event.origin,
        )
    if event is not None:
        record = _merge_event(record, event)
    return replace(record, details=better_details(record.details, details))


def _merge_event(record: JobRecord, event: JobEvent) -> JobRecord:
    status_times = dict(record.status_times)
    seen = status_times.get(event.status)
    if seen is None or event.time < seen:
        status_times[event.status] = event.time
    unknown = dict(record.unknown)
    for name, value in event.unknown.items():
        unknown[name] = value if name not in unknown else min(unknown[name], value)
    return replace(
        record,
        status_times=status_times,
        last_event_at=max(record.last_event_at, event.time),
        event_ids=record.event_ids | {event.event_id},
        reported_started_at=_earliest(record.reported_started_at, event.started_at),
        reported_ended_at=_earliest(record.reported_ended_at, event.ended_at),
        unknown=unknown,
    )


def better_details(current: JobDetails | None, new: JobDetails | None) -> JobDetails | None:
    if current is None or new is None:
        return current or new
    if new.rank != current.rank:
        return new if new.rank > current.rank else current
    return min(current, new, key=repr)  # the same moment twice: any fixed choice keeps the order out


def fold(events: Iterable[JobEvent], details: Iterable[JobDetails] = ()) -> JobRecord | None:
    """The record of a sequence of events of one job, and GetJob's answers."""
    record: JobRecord | None = None
    for event in events:
        record = merge(record, event)
    for answer in details:
        if record is not None:
            record = merge(record, None, answer)
    return record


def too_big(record: JobRecord) -> str | None:
    """Why the record cannot be stored (too many events, too many unknown fields), or None."""
    if record.event_count > MAX_EVENTS_PER_JOB:
        return f"{record.job.arn} already has {MAX_EVENTS_PER_JOB} distinct events"
    size = sum(len(name.encode("utf-8")) + len(value) for name, value in record.unknown.items())
    if size > MAX_UNKNOWN_BYTES:
        return f"{record.job.arn}'s unknown event fields would take {size:,} bytes (at most {MAX_UNKNOWN_BYTES:,})"
    return None


def _earliest(current: str | None, new: str | None) -> str | None:
    if current is None or new is None:
        return current or new
    return min(current, new)

"""Merging an event into a task record: pure, order-independent and idempotent.

Every field is a join over the events seen (union, min or max), so the result depends only
on the set of distinct events, whatever order and however often they arrive. An event is merged
even when its id was seen before: a redelivery joins in nothing new, and should one id ever come
with two different bodies (a conflict, see `is_conflict`), both are joined in, so the record
still does not depend on which came first:
- statusTimes: for each status, the earliest event time that reported it;
- status: derived from statusTimes (highest rank; the earliest finished status if several);
- eventIds: union; lastEventAt: max; endedAt: min over the finished events;
- Braket's details at the end (enrichment): a complete answer replaces an incomplete one, also
  when it comes with a redelivered event; otherwise the first one stays;
- task properties (device, shots, output location, createdAt) are the same in every real event;
  should two events ever disagree, the smallest value wins so the result stays order-independent;
- tags known at submission move into Braket's details once those arrive (Braket's tags include
  them), so a record holds its tags in one place;
- the task's job (jobArn): the one any source named (Braket's details at the end, or the early link
  of a job's task); should two ever differ, the smallest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TypeVar

from tracker.domain import Enrichment, TaskEvent, TaskRecord

T = TypeVar("T", str, int)


def merge(record: TaskRecord | None, event: TaskEvent, enrichment: Enrichment | None = None) -> TaskRecord:
    """The record after also seeing `event` (and, at a task's end, what Braket added)."""
    if record is None:
        return TaskRecord(
            task=event.task,
            device_arn=event.device_arn,
            shots=event.shots,
            output_s3_bucket=event.output_s3_bucket,
            output_s3_directory=event.output_s3_directory,
            created_at=event.created_at,
            status_times={event.status: event.time},
            last_event_at=event.time,
            event_ids=frozenset({event.event_id}),
            ended_at=event.ended_at,
            enrichment=enrichment if event.status.finished else None,
            origin=event.origin,
            job_arn=enrichment.job_arn if enrichment is not None and event.status.finished else None,
        )
    return _tags_in_one_place(_merge_into(record, event, enrichment))


def is_conflict(record: TaskRecord | None, event: TaskEvent) -> bool:
    """Whether `event` reuses an event id the record has seen with a different body: merging it
    changes what that id's first body left. (A body that changes nothing cannot be told apart
    from a redelivery, and needs no telling: the record is the same either way.)"""
    if record is None or event.event_id not in record.event_ids:
        return False
    return _merge_into(record, event, None) != record


def _merge_into(record: TaskRecord, event: TaskEvent, enrichment: Enrichment | None) -> TaskRecord:
    # A redelivery joins in nothing new, except that Braket's details, missing when the end was
    # first recorded (Braket did not answer), are filled in when a redelivery brings them.
    status_times = dict(record.status_times)
    seen = status_times.get(event.status)
    if seen is None or event.time < seen:
        status_times[event.status] = event.time
    return replace(
        record,
        device_arn=_smallest(record.device_arn, event.device_arn),
        shots=_smallest(record.shots, event.shots),
        output_s3_bucket=_smallest(record.output_s3_bucket, event.output_s3_bucket),
        output_s3_directory=_smallest(record.output_s3_directory, event.output_s3_directory),
        created_at=_smallest(record.created_at, event.created_at),
        status_times=status_times,
        last_event_at=max(record.last_event_at, event.time),
        event_ids=record.event_ids | {event.event_id},
        ended_at=_earliest(record.ended_at, event.ended_at),
        enrichment=_better_enrichment(record.enrichment, enrichment if event.status.finished else None),
        job_arn=_earliest(
            record.job_arn, enrichment.job_arn if enrichment is not None and event.status.finished else None
        ),
    )


def fold(events: Iterable[TaskEvent], enrichment: Enrichment | None = None) -> TaskRecord | None:
    """The record made from a sequence of events of one task."""
    record: TaskRecord | None = None
    for event in events:
        record = merge(record, event, enrichment)
    return record


def _tags_in_one_place(record: TaskRecord) -> TaskRecord:
    if record.enrichment is None or not record.tags:
        return record
    tags = {**record.tags, **record.enrichment.tags}
    return replace(record, tags={}, enrichment=replace(record.enrichment, tags=tags))


def _smallest(current: T, new: T) -> T:
    return min(current, new)


def _earliest(current: str | None, new: str | None) -> str | None:
    if current is None or new is None:
        return current or new
    return min(current, new)


def _better_enrichment(current: Enrichment | None, new: Enrichment | None) -> Enrichment | None:
    """A complete enrichment beats an incomplete one; otherwise the first one stays."""
    if current is None:
        return new
    if new is not None and new.complete and not current.complete:
        return new
    return current

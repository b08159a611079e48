"""Recording one event: enrich a task's end, then write with the cheapest safe path."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tracker.data.braket_tasks import BraketTasks, BraketUnavailable
from tracker.data.task_table import ItemChanged, StorageError, TaskTable
from tracker.domain import MAX_EVENTS_PER_TASK, Enrichment, EventRefused, Status, TaskEvent, TaskRecord
from tracker.logic.merge import is_conflict, merge

MAX_MERGE_ATTEMPTS = 8
WRITE_RESERVE_SECONDS = 5.0
"""Time kept for the DynamoDB writes after asking Braket."""


class Outcome(StrEnum):
    RECORDED = "recorded"  # the event moved the task forward
    LATE = "late"  # recorded, but older than what the item already showed
    DUPLICATE = "duplicate"  # already recorded: the item is unchanged
    CONFLICT = "conflict"  # an event id seen before with another body: both bodies are merged


@dataclass(frozen=True)
class RecordResult:
    outcome: Outcome
    status: Status
    enrichment_error: str | None = None
    record: TaskRecord | None = None  # the item as written (or found, for a duplicate); always for an end
    previous: Status | None = None  # the status it replaced: None for no item, or an unfinished one not read


class Recorder:
    def __init__(self, table: TaskTable, braket: BraketTasks) -> None:
        self.table = table
        self.braket = braket

    def record(self, event: TaskEvent, seconds_left: float | None = None) -> RecordResult:
        """Record `event`. `seconds_left` is the invocation's remaining time: enrichment is skipped
        (the end is recorded with enriched=false) when Braket might not answer in time."""
        enrichment, error = self._enrich(event, seconds_left)
        try:
            if event.status is Status.CREATED:
                record = merge(None, event, enrichment)
                self.table.insert_first(record)
                return RecordResult(Outcome.RECORDED, event.status, error, record=record)
            written = self.table.apply_in_order(event, enrichment, return_new=event.status.finished)
            return RecordResult(Outcome.RECORDED, event.status, error, record=written)
        except ItemChanged as changed:
            current = changed.current
        return self._merge_until_written(current, event, enrichment, error)

    def record_over(
        self, current: TaskRecord | None, event: TaskEvent, seconds_left: float | None = None
    ) -> RecordResult:
        """Record `event` over the item as the caller just read it (None: absent), as `record` does
        when its first write finds the item: merge, then one conditional write, merging again if
        the item changed meanwhile. Saves the first attempt when a batch read already has the item."""
        enrichment, error = self._enrich(event, seconds_left)
        return self._merge_until_written(current, event, enrichment, error)

    def _merge_until_written(
        self, current: TaskRecord | None, event: TaskEvent, enrichment: Enrichment | None, error: str | None
    ) -> RecordResult:
        """Out of order, duplicate, or racing another writer: merge with what is stored."""
        for _ in range(MAX_MERGE_ATTEMPTS):
            merged = merge(current, event, enrichment)
            if merged == current:
                return RecordResult(Outcome.DUPLICATE, merged.status, error, record=merged, previous=current.status)
            if merged.event_count > MAX_EVENTS_PER_TASK:
                raise EventRefused(
                    f"{event.task.arn} already has {MAX_EVENTS_PER_TASK} distinct events; "
                    f"event {event.event_id} would make one too many"
                )
            conflict = is_conflict(current, event)
            try:
                self.table.replace(merged, expected=current)
            except ItemChanged as changed:
                current = changed.current
                continue
            previous = current.status if current is not None else None
            if conflict:
                return RecordResult(Outcome.CONFLICT, merged.status, error, record=merged, previous=previous)
            late = current is not None and (event.time < current.last_event_at or merged.status != event.status)
            outcome = Outcome.LATE if late else Outcome.RECORDED
            return RecordResult(outcome, merged.status, error, record=merged, previous=previous)
        raise StorageError(f"the item of {event.task.arn} kept changing; giving up for a retry")

    def _enrich(self, event: TaskEvent, seconds_left: float | None) -> tuple[Enrichment | None, str | None]:
        """At a task's end, ask Braket for what the event lacks. A failure never blocks the status."""
        if not event.status.finished:
            return None, None
        if seconds_left is not None and seconds_left < self.braket.worst_case_seconds + WRITE_RESERVE_SECONDS:
            return Enrichment(complete=False), f"not enough time left to ask Braket ({seconds_left:.0f} s)"
        try:
            return self.braket.describe_end(event.task), None
        except BraketUnavailable as exc:
            return Enrichment(complete=False), str(exc)

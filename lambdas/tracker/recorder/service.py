"""Recording one event: write it with the cheapest safe path, push a task's end to its waiters at
once, and record what Braket adds about a finished task (GetQuantumTask).

The order at a task's end (docs/latency.md): with `details_after_end`, the end is written and pushed
first and Braket's details are written after it, in a second write, so nobody waiting for the end
waits for GetQuantumTask (a round trip to the task's Region, retried when Braket throttles); without
it, the end waits for the details and is written once. Either way the item is the same merge of
events and details, and the details land: a redelivered end fills them in if they are missing.
A caller with a batch (the handler) may defer the details (`defer_details`) and write them with
`write_details` once every end of the batch is written and pushed, so that no end waits for the
GetQuantumTask of another end before it in the batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from tracker.data.braket_tasks import BraketTasks, BraketUnavailable
from tracker.data.connections_api import PostFailed
from tracker.data.task_table import ItemChanged, StorageError, TaskTable
from tracker.domain import MAX_EVENTS_PER_TASK, Enrichment, EventRefused, Status, TaskEvent, TaskRecord
from tracker.live.fan_out import OutOfTime, Pusher, PushResult
from tracker.logic.live import recorder_pushes
from tracker.logic.merge import is_conflict, merge

MAX_MERGE_ATTEMPTS = 8
WRITE_RESERVE_SECONDS = 5.0
"""Time kept for the DynamoDB writes after asking Braket."""
PUSH_RESERVE_MS = 2000
"""Time kept after pushing an end, for its details and the rest of the batch."""


class Outcome(StrEnum):
    RECORDED = "recorded"  # the event moved the task forward
    LATE = "late"  # recorded, but older than what the item already showed
    DUPLICATE = "duplicate"  # already recorded: the item is unchanged
    CONFLICT = "conflict"  # an event id seen before with another body: both bodies are merged


@dataclass(frozen=True)
class Pushed:
    """The end the recorder pushed after writing it (or tried to)."""

    status: Status
    corrects: Status | None
    sent: int = 0
    gone: int = 0
    error: str | None = None  # the push failed (after the client's retries) or ran out of time
    at: float = field(default_factory=time.time)  # when the posts were done (epoch seconds)


@dataclass(frozen=True)
class RecordResult:
    outcome: Outcome
    status: Status
    enrichment_error: str | None = None
    pushed: Pushed | None = None
    details: str | None = None  # "written" when Braket's details were written after the end
    written_at: float | None = None  # when the event's write was done (epoch seconds)
    details_due: DetailsDue | None = None  # deferred: the caller writes them (`Recorder.write_details`)
    record: TaskRecord | None = None  # the item as written (or found, for a duplicate); always for an end
    previous: Status | None = None  # the status it replaced: None for no item, or an unfinished one not read


@dataclass(frozen=True)
class DetailsDue:
    """An end written (and pushed) without Braket's details, which are to be written next."""

    event: TaskEvent
    written: TaskRecord  # the item as the end's write left it (saves a read when the details are merged)


@dataclass(frozen=True)
class _Written:
    outcome: Outcome
    after: TaskRecord  # the item as written (or found, for a duplicate)
    previous: Status | None  # the status it replaced: None for no item, or an unfinished one not read
    added: bool  # the write added the event's id
    at: float = field(default_factory=time.time)


Clock = Callable[[], float]
"""Seconds left in the invocation (None: no limit)."""


class Recorder:
    """`live`: pushes the ends this recorder writes (None: the stream pusher pushes every change).
    `details_after_end`: write and push an end before asking Braket for its details."""

    def __init__(
        self,
        table: TaskTable,
        braket: BraketTasks,
        live: Pusher | None = None,
        *,
        details_after_end: bool = False,
    ) -> None:
        self.table = table
        self.braket = braket
        self.live = live
        self.details_after_end = details_after_end

    def record(
        self,
        event: TaskEvent,
        seconds_left: float | Callable[[], float] | None = None,
        *,
        redelivered: bool = False,
        defer_details: bool = False,
    ) -> RecordResult:
        """Record `event`. `seconds_left`: the invocation's remaining time (a number, or a function
        giving it): enrichment is skipped (the end is recorded with enriched=false) when Braket might
        not answer in time. `redelivered`: the message came before (its earlier attempt may have
        written the end without pushing it), so a finished task is pushed again (clients dedupe).
        `defer_details`: an end's details, when due after it, are left to the caller (`details_due`)."""
        left = _clock(seconds_left)
        first_details = not (self.details_after_end and event.status.finished)
        enrichment, error = self._enrich(event, left) if first_details else (None, None)
        written = self._write(event, enrichment)
        pushed = self._push(written, event, left, redelivered)
        due = DetailsDue(event, written.after) if not first_details and _lacks_details(written.after) else None
        result = RecordResult(
            written.outcome,
            written.after.status,
            error,
            pushed,
            None,
            written.at,
            record=written.after,
            previous=written.previous,
        )
        if due is None:
            return result
        if defer_details:
            return replace(result, details_due=due)
        return replace(result, enrichment_error=self.write_details(due, left), details="written")

    def write_details(self, due: DetailsDue, seconds_left: float | Callable[[], float] | None = None) -> str | None:
        """Ask Braket for a finished task's details and write them over the end (merging again if the
        item changed meanwhile). Returns why they are incomplete, if Braket did not answer (the
        item then says enriched=false, and the reconciler asks again); raises StorageError."""
        enrichment, error = self._enrich(due.event, _clock(seconds_left))
        self._merge_until_written(due.written, due.event, enrichment)
        return error

    def record_over(
        self, current: TaskRecord | None, event: TaskEvent, seconds_left: float | None = None
    ) -> RecordResult:
        """Record `event` over the item as the caller just read it (None: absent), as `record` does
        when its first write finds the item: merge, then one conditional write, merging again if
        the item changed meanwhile. Saves the first attempt when a batch read already has the item."""
        enrichment, error = self._enrich(event, _clock(seconds_left))
        written = self._merge_until_written(current, event, enrichment)
        return RecordResult(
            written.outcome,
            written.after.status,
            error,
            written_at=written.at,
            record=written.after,
            previous=written.previous,
        )

    def _write(self, event: TaskEvent, enrichment: Enrichment | None) -> _Written:
        """The cheapest safe write: one PutItem for a first event, one UpdateItem for an event that
        moves the task forward (returning the item it wrote when that is an end), else a merge."""
        try:
            if event.status is Status.CREATED:
                record = merge(None, event, enrichment)
                self.table.insert_first(record)
                return _Written(Outcome.RECORDED, record, None, added=True)
            written = self.table.apply_in_order(event, enrichment, return_new=event.status.finished)
            # The condition held: the item was unfinished and had not seen this event.
            return _Written(Outcome.RECORDED, written or merge(None, event, enrichment), None, added=True)
        except ItemChanged as changed:
            return self._merge_until_written(changed.current, event, enrichment)

    def _merge_until_written(
        self, current: TaskRecord | None, event: TaskEvent, enrichment: Enrichment | None
    ) -> _Written:
        """Out of order, duplicate, or racing another writer: merge with what is stored."""
        for _ in range(MAX_MERGE_ATTEMPTS):
            merged = merge(current, event, enrichment)
            if merged == current:
                return _Written(Outcome.DUPLICATE, merged, current.status, added=False)
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
            added = current is None or event.event_id not in current.event_ids
            if conflict:
                return _Written(Outcome.CONFLICT, merged, previous, added)
            late = current is not None and (event.time < current.last_event_at or merged.status != event.status)
            return _Written(Outcome.LATE if late else Outcome.RECORDED, merged, previous, added)
        raise StorageError(f"the item of {event.task.arn} kept changing; giving up for a retry")

    def _push(self, written: _Written, event: TaskEvent, left: Clock | None, redelivered: bool) -> Pushed | None:
        """Push the end this write made (`recorder_pushes`), or, on a redelivery, the end the item has."""
        if self.live is None:
            return None
        after, previous = written.after, written.previous
        if recorder_pushes(previous, after.status, event.event_id if written.added else None):
            corrects = previous if previous is not None and previous.finished else None
        elif redelivered and event.status.finished and after.status.finished:
            corrects = after.superseded  # as a snapshot marks it
        else:
            return None
        remaining_ms = (lambda: int(left() * 1000)) if left is not None else (lambda: 60_000)
        try:
            result: PushResult = self.live.push(after, remaining_ms, PUSH_RESERVE_MS, corrects=corrects)
        except (PostFailed, OutOfTime) as exc:
            return Pushed(after.status, corrects, error=str(exc))
        return Pushed(after.status, corrects, result.sent, len(result.gone))

    def _enrich(self, event: TaskEvent, left: Clock | None) -> tuple[Enrichment | None, str | None]:
        """At a task's end, ask Braket for what the event lacks. A failure never blocks the status."""
        if not event.status.finished:
            return None, None
        seconds = left() if left is not None else None
        if seconds is not None and seconds < self.braket.worst_case_seconds + WRITE_RESERVE_SECONDS:
            return Enrichment(complete=False), f"not enough time left to ask Braket ({seconds:.0f} s)"
        try:
            return self.braket.describe_end(event.task), None
        except BraketUnavailable as exc:
            return Enrichment(complete=False), str(exc)


def _clock(seconds_left: float | Callable[[], float] | None) -> Clock | None:
    if seconds_left is None or callable(seconds_left):
        return seconds_left
    fixed = float(seconds_left)
    return lambda: fixed


def _lacks_details(record: TaskRecord) -> bool:
    """A finished item without Braket's complete details (never asked, or Braket did not answer)."""
    return record.status.finished and (record.enrichment is None or not record.enrichment.complete)

"""What the Task API learns from Braket's answers, pure: a cancel as an observation the merge orders
like any event, and a task's queue position as GetQuantumTask gives it.

A cancel that Braket accepted is recorded at once as CANCELLING, so every reader (the Task API, the
live channel, `TrackerSession` in another process) says CANCELLING before Braket's own event
arrives. It is a `TaskEvent` with a fixed id per task (`task-api:CANCELLING`), written through the
recorder's path: a retried cancel is a duplicate, Braket's CANCELLING event merges with it (the
earliest time wins), and as CANCELLING ranks below every end, a late one never undoes an end.
"""

from __future__ import annotations

from datetime import datetime

from tracker.domain import Status, TaskEvent, TaskRecord, normalize_time

CANCEL_EVENT_ID = "task-api:CANCELLING"
"""The id of a cancel's observation: one per task, however often it is cancelled."""
QUEUE = "QUANTUM_TASKS_QUEUE"
NOT_QUEUED = "Task is in {status} status. AmazonBraket does not show queue position for this status."
"""Braket's message for a task that is not queued (the SDK's `queue_position()` quotes it)."""
NOT_READ_YET = "The queue position is being read from Braket: ask again in a moment."


def cancel_observation(record: TaskRecord, at: datetime) -> TaskEvent:
    """The event for a cancel that Braket accepted at `at`, on the task as `record` shows it."""
    return TaskEvent(
        event_id=CANCEL_EVENT_ID,
        time=max(normalize_time(at), record.created_at),
        task=record.task,
        status=Status.CANCELLING,
        device_arn=record.device_arn,
        shots=record.shots,
        output_s3_bucket=record.output_s3_bucket,
        output_s3_directory=record.output_s3_directory,
        created_at=record.created_at,
        origin=record.origin,
    )


def not_queued(record: TaskRecord) -> dict[str, str]:
    """Braket's queueInfo for a task that is not QUEUED (position "None"), given without asking it.
    The queue's priority (Priority for a hybrid job's tasks) is known once Braket's details are."""
    info = {"queue": QUEUE, "position": "None", "message": NOT_QUEUED.format(status=record.status.value)}
    if record.enrichment is not None and record.enrichment.complete:
        info["queuePriority"] = "Priority" if record.enrichment.job_arn else "Normal"
    return info


def last_read(record: TaskRecord) -> dict[str, str]:
    """The queue position read last (by another request), or, before the first read has answered,
    the queue without a position."""
    return dict(record.queue_info) if record.queue_info else {"queue": QUEUE, "message": NOT_READ_YET}

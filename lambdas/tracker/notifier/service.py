"""Notifying a task's end once, and each correction once: read, publish, then mark (a conditional write).

The first announcement is the task's end; should the final status change afterwards (the merge
rules let a FAILED event with an earlier end win over COMPLETED), the table's status is announced
as a correction naming the status announced last, whenever the two differ (also when the status
returns to one announced before): the topic always ends on the table's status. The item's
`notifications` keeps each status announced and when it was last announced, so a retry finds its
announcement made and sends nothing; each message's notification id names the final state it
announces (logic.notification.notification_id), so no two messages share one.

The message carries the task's cost: the item's, if the cost keeper has written it for this status,
else priced here with the same code and inputs (the catalogue in use and, for a completed simulator
task, results.json), so the end is announced without waiting for the cost keeper. If results.json
cannot be read now, the message goes without a cost (the item gets it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tracker.costs.pricer import TaskPricer
from tracker.data.execution_times import ResultsUnavailable
from tracker.data.task_table import StorageError, TaskTable
from tracker.data.topic import NotificationTopic
from tracker.domain import Status, TaskRecord, normalize_time
from tracker.logic.notification import Cost, build
from tracker.logic.task_costs import cost_for_status

MAX_ROUNDS = 4
"""Announcements one call may make: the end, then a correction for each final status reported while
it was being announced (three finished statuses at most)."""


@dataclass(frozen=True)
class NotifyResult:
    sent: bool
    notification_id: str | None = None
    message_id: str | None = None
    mark_error: str | None = None
    corrects: Status | None = None  # the last message sent was a correction of this status


class Notifier:
    def __init__(self, table: TaskTable, topic: NotificationTopic, pricer: TaskPricer | None = None) -> None:
        self.table = table
        self.topic = topic
        self.pricer = pricer
        self.cost_error: str | None = None

    def notify(self, task_arn: str) -> NotifyResult:
        """Announce the final status of `task_arn` unless it was already announced.

        The stream record may be a retry or a late duplicate, so the item is read first (one
        consistent read). Only a crash between the publish and the mark can send a message twice;
        both then carry the same notification id. If the final status changed while it was being
        announced, the correction follows at once.
        """
        record: TaskRecord | None = self.table.get(task_arn)
        result = NotifyResult(sent=False)
        for _ in range(MAX_ROUNDS):
            if record is None or not record.status.finished or record.status is record.last_announced:
                break
            corrects = record.last_announced
            notification = build(record, corrects, self._cost(record))
            message_id = self.topic.publish(notification)
            result = NotifyResult(True, notification.notification_id, message_id, corrects=corrects)
            try:
                record = self.table.mark_announced(record, record.status, normalize_time(datetime.now(UTC)))
            except StorageError as exc:
                # Sent but not marked: a retry would send it again, so do not fail the record. The
                # task stays in the unnotified index, where reconciliation finds it.
                return NotifyResult(True, notification.notification_id, message_id, str(exc), corrects)
        return result

    def _cost(self, record: TaskRecord) -> Cost | None:
        """The item's cost for this status, or the task priced now (None if it cannot be yet)."""
        self.cost_error = None
        stored = cost_for_status(record)
        if stored is not None or self.pricer is None:
            return stored
        try:
            return self.pricer.price(record).as_cost(record)
        except ResultsUnavailable as exc:
            self.cost_error = f"results.json could not be read now: {exc}"
            return None

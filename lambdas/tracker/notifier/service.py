"""Notifying a task's end once, and correcting it once: read, publish, then mark (a conditional write).

Every final status of a task is announced at most once (the item's `notifications` keeps which,
and when). The first one is the task's end; should the final status change afterwards (the merge
rules let a FAILED event with an earlier end win over COMPLETED), the new one is announced as a
correction naming the status it corrects: the topic never contradicts the table for long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tracker.data.task_table import StorageError, TaskTable
from tracker.data.topic import NotificationTopic
from tracker.domain import Status, TaskRecord, normalize_time
from tracker.logic.notification import build

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
    def __init__(self, table: TaskTable, topic: NotificationTopic) -> None:
        self.table = table
        self.topic = topic

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
            if record is None or not record.status.finished or record.status in record.announced:
                break
            corrects = record.last_announced
            notification = build(record, corrects)
            message_id = self.topic.publish(notification)
            result = NotifyResult(True, notification.notification_id, message_id, corrects=corrects)
            try:
                record = self.table.mark_announced(record, record.status, normalize_time(datetime.now(UTC)))
            except StorageError as exc:
                # Sent but not marked: a retry would send it again, so do not fail the record. The
                # task stays in the unnotified index, where reconciliation finds it.
                return NotifyResult(True, notification.notification_id, message_id, str(exc), corrects)
        return result

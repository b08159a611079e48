"""Notifying a task's end once: read, publish, then mark (a conditional write)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tracker.data.task_table import StorageError, TaskTable
from tracker.data.topic import NotificationTopic
from tracker.domain import normalize_time
from tracker.logic.notification import build


@dataclass(frozen=True)
class NotifyResult:
    sent: bool
    notification_id: str | None = None
    message_id: str | None = None
    mark_error: str | None = None


class Notifier:
    def __init__(self, table: TaskTable, topic: NotificationTopic) -> None:
        self.table = table
        self.topic = topic

    def notify(self, task_arn: str) -> NotifyResult:
        """Publish the end of `task_arn` unless it was already notified.

        The stream record may be a retry or a late duplicate, so the item is read first (one
        consistent read). Only a crash between the publish and the mark can send a message twice;
        both then carry the same notification id.
        """
        record = self.table.get(task_arn)
        if record is None or not record.status.finished or record.notified_at is not None:
            return NotifyResult(sent=False)
        notification = build(record)
        message_id = self.topic.publish(notification)
        try:
            self.table.mark_notified(task_arn, normalize_time(datetime.now(UTC)))
        except StorageError as exc:
            # Sent but not marked: a retry would send it again, so do not fail the record. The
            # task stays in the unnotified index, where reconciliation finds it.
            return NotifyResult(True, notification.notification_id, message_id, mark_error=str(exc))
        return NotifyResult(True, notification.notification_id, message_id)

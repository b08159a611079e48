"""Notifying a job's end once, and correcting it once: read, publish, then mark (a conditional write).
The same rules as a task's (notifier/service.py): each final status of a job is announced at most once
(the item's `notifications`); a crash between publish and mark is the one way to send twice, and both
messages then carry the same notification id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tracker.data.job_table import JobTable
from tracker.data.task_table import StorageError
from tracker.data.topic import NotificationTopic
from tracker.domain import normalize_time
from tracker.job_domain import JobRecord, JobStatus
from tracker.logic.job_notification import build

MAX_ROUNDS = 4


@dataclass(frozen=True)
class JobNotifyResult:
    sent: bool
    notification_id: str | None = None
    message_id: str | None = None
    mark_error: str | None = None
    corrects: JobStatus | None = None


class JobNotifier:
    def __init__(self, table: JobTable, topic: NotificationTopic) -> None:
        self.table = table
        self.topic = topic

    def notify(self, job_arn: str) -> JobNotifyResult:
        record: JobRecord | None = self.table.get(job_arn)
        result = JobNotifyResult(sent=False)
        for _ in range(MAX_ROUNDS):
            if record is None or not record.status.finished or record.status in record.announced:
                break
            corrects = record.last_announced
            notification = build(record, corrects)
            message_id = self.topic.publish(notification)
            result = JobNotifyResult(True, notification.notification_id, message_id, corrects=corrects)
            try:
                record = self.table.mark_announced(record, record.status, normalize_time(datetime.now(UTC)))
            except StorageError as exc:
                return JobNotifyResult(True, notification.notification_id, message_id, str(exc), corrects)
        return result

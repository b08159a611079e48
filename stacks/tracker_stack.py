"""TrackerStack: capture -> recorder -> task table, with alarms."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from stacks.capture import EventCapture
from stacks.config import TrackerConfig
from stacks.nag import acknowledge, nag_resource
from stacks.names import OUTPUT_RECONCILER_STATE_TABLE
from stacks.notifications import Notifications
from stacks.operations import Operations
from stacks.reconciliation import Reconciliation, acknowledge_reconciler
from stacks.recorder import TIMEOUT, Recorder
from stacks.task_tables import TaskTables

# Output keys: stable names that scripts, local mode and the client look up.
OUTPUT_TASK_TABLE = "TaskTableName"
OUTPUT_TASK_TABLE_STREAM = "TaskTableStreamArn"
OUTPUT_REJECTED_TABLE = "RejectedEventsTableName"
OUTPUT_EVENT_QUEUE = "EventQueueUrl"
OUTPUT_DEAD_LETTER_QUEUE = "DeadLetterQueueUrl"
OUTPUT_ALARM_TOPIC = "AlarmTopicArn"
OUTPUT_NOTIFICATION_TOPIC = "NotificationTopicArn"
OUTPUT_FAILED_NOTIFICATIONS = "FailedNotificationsQueueUrl"


class TrackerStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: TrackerConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="Braket Task Tracker: every quantum task, recorded", **kwargs)
        Tags.of(self).add("project", "braket-task-tracker")

        tables = TaskTables(self, "Tables")
        capture = EventCapture(self, "Capture", consumer_timeout=TIMEOUT)
        recorder = Recorder(self, "Recording", capture=capture, tables=tables, log_retention=config.log_retention)
        notifications = Notifications(
            self,
            "Notifications",
            table=tables.tasks,
            log_retention=config.log_retention,
            emails=config.notification_emails,
            extra=config.notification_subscriptions,
            notify_imported=config.notify_imported,
        )
        operations = Operations(
            self,
            "Operations",
            queue=capture.queue,
            dead_letter_queue=capture.dead_letter_queue,
            recorder=recorder.function,
            notifier=notifications.function,
            failed_notifications=notifications.failures,
            alarm_emails=config.alarm_emails,
        )

        reconciliation = Reconciliation(
            self,
            "Reconciliation",
            table=tables.tasks,
            notifications=notifications,
            log_retention=config.log_retention,
            regions=config.braket_regions,
            every_minutes=config.reconcile_every_minutes,
            stale_after_minutes=config.reconcile_after_minutes,
            requests_per_second=config.braket_requests_per_second,
        )
        reconciliation.add_alarms(operations, capture.rule)
        acknowledge_reconciler(self, reconciliation)

        acknowledge(
            recorder.role,
            f"AwsSolutions-IAM5[Resource::{nag_resource(self, recorder.braket_task_arns)}]",
            "GetQuantumTask on this account's quantum tasks in any Region: tasks are created at run "
            "time by any submitter, and a task must be read in its own Region. Read-only.",
        )

        acknowledge(
            notifications.failures,
            "AwsSolutions-SQS3",
            "This queue is the notifier's on-failure destination: it is the dead-letter store of the stream mapping.",
        )
        acknowledge(
            notifications.role,
            "AwsSolutions-IAM5[Resource::*]",
            "dynamodb:ListStreams, added by the stream event source: it supports no resource-level permission.",
        )

        for key, value, description in (
            (OUTPUT_TASK_TABLE, tables.tasks.table_name, "The task table"),
            (OUTPUT_TASK_TABLE_STREAM, tables.tasks.table_stream_arn or "", "The task table's stream"),
            (OUTPUT_REJECTED_TABLE, tables.rejected_events.table_name, "Events that could not be recorded"),
            (OUTPUT_EVENT_QUEUE, capture.queue.queue_url, "Captured Braket task events"),
            (OUTPUT_DEAD_LETTER_QUEUE, capture.dead_letter_queue.queue_url, "Events parked after failed deliveries"),
            (OUTPUT_ALARM_TOPIC, operations.topic.topic_arn, "Operator alarms"),
            (OUTPUT_FAILED_NOTIFICATIONS, notifications.failures.queue_url, "Stream batches the notifier gave up on"),
        ):
            CfnOutput(self, key, value=value, description=description)
        CfnOutput(
            self,
            OUTPUT_RECONCILER_STATE_TABLE,
            value=reconciliation.state.table_name,
            description="The reconciler's sweep watermarks and the backfill's checkpoints",
        )
        CfnOutput(
            self,
            OUTPUT_NOTIFICATION_TOPIC,
            value=notifications.topic.topic_arn,
            description="One message per finished task: subscribe here",
            export_name=f"{self.stack_name}-{OUTPUT_NOTIFICATION_TOPIC}",
        )

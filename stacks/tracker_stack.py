"""TrackerStack: capture -> recorder -> task table, with alarms."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from stacks.capture import EventCapture
from stacks.config import TrackerConfig
from stacks.costs import Costs
from stacks.dashboard import Dashboard, Watched, alarms_of
from stacks.dashboard_sections import add_costs, add_jobs
from stacks.jobs import JobFunctions, JobTables
from stacks.live_updates import LiveUpdates
from stacks.nag import acknowledge, nag_resource
from stacks.names import OUTPUT_JOB_TABLE, OUTPUT_JOB_TABLE_STREAM, OUTPUT_RECONCILER_STATE_TABLE
from stacks.notifications import Notifications
from stacks.operations import Operations
from stacks.prices import Prices
from stacks.reconciliation import Reconciliation, acknowledge_reconciler
from stacks.recorder import TIMEOUT, Recorder
from stacks.task_api import TaskApi
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
OUTPUT_API_URL = "TaskApiUrl"
OUTPUT_RESULTS_BUCKET = "ResultsBucketName"
OUTPUT_LIVE_UPDATES_URL = "LiveUpdatesUrl"
OUTPUT_CONNECTIONS_TABLE = "ConnectionsTableName"
OUTPUT_FAILED_PUSHES = "FailedPushesQueueUrl"
OUTPUT_DASHBOARD = "DashboardUrl"
OUTPUT_COST_TOTALS_TABLE = "CostTotalsTableName"

__all__ = ["OUTPUT_JOB_TABLE", "OUTPUT_JOB_TABLE_STREAM", "OUTPUT_RECONCILER_STATE_TABLE", "TrackerStack"]


class TrackerStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: TrackerConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="Braket Task Tracker: every quantum task, recorded", **kwargs)
        Tags.of(self).add("project", "braket-task-tracker")

        tables = TaskTables(self, "Tables", promoted_tag_keys=config.api.promoted_tag_keys)
        capture = EventCapture(self, "Capture", consumer_timeout=TIMEOUT)
        recorder = Recorder(
            self,
            "Recording",
            capture=capture,
            tables=tables,
            log_retention=config.log_retention,
            latency=config.latency,
        )
        jobs = JobTables(self, "Jobs", tasks=tables.tasks)
        jobs.grant_recording(recorder.function, recorder.role)
        notifications = Notifications(
            self,
            "Notifications",
            table=tables.tasks,
            log_retention=config.log_retention,
            emails=config.notification_emails,
            extra=config.notification_subscriptions,
            notify_imported=config.notify_imported,
        )
        task_api = TaskApi(
            self,
            "TaskApi",
            tasks=tables.tasks,
            settings=config.api,
            log_retention=config.log_retention,
            other_regions=config.braket_regions,
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
        jobs.grant_reconciling(reconciliation.function, reconciliation.role, config.braket_regions)
        acknowledge_reconciler(self, reconciliation)
        self.prices = Prices(self, "Prices", log_retention=config.log_retention)
        self.prices.add_alarms(operations)
        self.costs = Costs(
            self,
            "Costs",
            tasks=tables.tasks,
            prices=self.prices,
            notifications=notifications,
            budgets=config.budgets,
            promoted_tag_keys=config.api.promoted_tag_keys,
            readable_buckets=config.api.readable_results_buckets,
            log_retention=config.log_retention,
        )
        self.costs.add_alarms(operations)
        self.costs.attach_to_api(task_api, config.braket_regions)
        self.costs.attach_to_notifier(notifications.function, notifications.role)

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

        jobs.add_api(task_api)
        operations.watch_api(task_api.api)
        self._acknowledge_api(task_api, config)
        live = self._add_live_updates(config, tables, operations, recorder)
        job_functions = JobFunctions(
            self,
            "JobFunctions",
            tables=jobs,
            notifications=notifications,
            live=live,
            log_retention=config.log_retention,
            notify_imported=config.notify_imported,
        )

        for key, value, description in (
            (OUTPUT_TASK_TABLE, tables.tasks.table_name, "The task table"),
            (OUTPUT_TASK_TABLE_STREAM, tables.tasks.table_stream_arn or "", "The task table's stream"),
            (OUTPUT_REJECTED_TABLE, tables.rejected_events.table_name, "Events that could not be recorded"),
            (OUTPUT_EVENT_QUEUE, capture.queue.queue_url, "Captured Braket task events"),
            (OUTPUT_DEAD_LETTER_QUEUE, capture.dead_letter_queue.queue_url, "Events parked after failed deliveries"),
            (OUTPUT_ALARM_TOPIC, operations.topic.topic_arn, "Operator alarms"),
            (OUTPUT_FAILED_NOTIFICATIONS, notifications.failures.queue_url, "Stream batches the notifier gave up on"),
            (OUTPUT_API_URL, task_api.api.url, "The Task API (IAM-authorized: sign requests with SigV4)"),
            (OUTPUT_RESULTS_BUCKET, task_api.results.bucket_name, "Results of tasks submitted through the API"),
            (OUTPUT_COST_TOTALS_TABLE, self.costs.totals.table_name, "Monthly cost totals by submitter, device, tag"),
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

        # Last, so that its alarm widget has every alarm defined above.
        watched = Watched(
            capture_rule=capture.rule,
            queue=capture.queue,
            dead_letter_queue=capture.dead_letter_queue,
            recorder=recorder.function,
            notifier=notifications.function,
            notification_topic=notifications.topic,
            failed_notifications=notifications.failures,
            pusher=live.pusher,
            failed_pushes=live.failures,
            api=task_api.api,
            reconciler=reconciliation.function,
        )
        self.dashboard = Dashboard(self, "Dashboard", watched=watched, alarms=alarms_of(self))
        add_jobs(self.dashboard, job_functions)
        add_costs(self.dashboard, self.costs)
        CfnOutput(self, OUTPUT_DASHBOARD, value=self.dashboard.url, description="The operator's CloudWatch dashboard")

    def _acknowledge_api(self, task_api: TaskApi, config: TrackerConfig) -> None:
        for bucket in config.api.readable_results_buckets:
            acknowledge(
                task_api.role,
                f"AwsSolutions-IAM5[Resource::{nag_resource(self, f'arn:{self.partition}:s3:::{bucket}/*')}]",
                f"Reads results.json of tasks submitted outside the API, which Braket writes under any prefix of "
                f"{bucket}, a bucket the deployment's readableResultsBuckets names.",
            )
        acknowledge(
            task_api.api,
            "AwsSolutions-APIG3",
            "Every method is IAM-authorized (SigV4) and the stage is throttled; a WAF web ACL would add a "
            "per-request cost without a rule that IAM authorization does not already cover.",
        )
        acknowledge(
            task_api.api,
            "AwsSolutions-COG4",
            "The API authorizes callers with IAM (SigV4), the way researchers already reach Braket; no Cognito.",
        )
        for region in task_api.results_buckets:
            acknowledge(
                task_api.role,
                f"AwsSolutions-IAM5[Resource::{nag_resource(self, TaskApi.task_arns(self, region))}]",
                "CreateQuantumTask (and TagResource, which tags at creation need) on quantum tasks in a Region "
                "whose results bucket the tracker owns: a task's ARN does not exist before it is created.",
            )
        for region in task_api.other_regions:
            acknowledge(
                task_api.role,
                f"AwsSolutions-IAM5[Resource::{nag_resource(self, task_api.regional_results(self, region))}/tasks/*]",
                f"Reads results.json in the {region} results bucket (a forwarder stack owns it); each task has its "
                "own key under the results prefix.",
            )
        acknowledge(
            task_api.role,
            f"AwsSolutions-IAM5[Resource::{nag_resource(self, TaskApi.task_arns(self, '*'))}]",
            "Cancel and queue position for any tracked task of this account, which may run in any Braket Region.",
        )
        acknowledge(
            task_api.role,
            f"AwsSolutions-IAM5[Resource::{nag_resource(self, task_api.results.arn_for_objects('tasks/*'))}]",
            "Reads results.json under the results prefix; each task has its own key under it.",
        )
        acknowledge(
            task_api.role,
            "AwsSolutions-IAM5[Resource::*]",
            "braket:SearchSpendingLimits supports no resource-level permission (Service Authorization Reference, "
            "Amazon Braket); it reads the account's spending limits, in the Braket Regions (aws:RequestedRegion), "
            "for GET /spending-limits.",
        )

    def _add_live_updates(
        self, config: TrackerConfig, tables: TaskTables, operations: Operations, recorder: Recorder
    ) -> LiveUpdates:
        """Live updates (WebSocket push of every status change), with its alarms and outputs."""
        live = LiveUpdates(
            self,
            "LiveUpdates",
            tasks=tables.tasks,
            log_retention=config.log_retention,
            account_logging=config.api.owns_cloudwatch_role,
        )
        live.push_ends_from(recorder.function, recorder.role)  # an end reaches its waiters without the stream
        live.add_alarms(operations.topic)
        for route in live.unauthorized_routes:
            acknowledge(
                route,
                "AwsSolutions-APIG4",
                "WebSocket APIs authorize at $connect only (IAM, SigV4); this route runs on that authorized "
                "connection, and API Gateway takes no authorizer on it.",
            )
        for role in (live.handler_role, live.pusher_role, recorder.role):
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::{nag_resource(self, live.manage_connections_arn)}]",
                "Connection ids are created at run time: this is POST to @connections of this API's stage only.",
            )
        acknowledge(
            live.pusher_role,
            "AwsSolutions-IAM5[Resource::*]",
            "dynamodb:ListStreams, added by the stream event source: it supports no resource-level permission.",
        )
        acknowledge(
            live.failures,
            "AwsSolutions-SQS3",
            "This queue is the pusher's on-failure destination: it is the dead-letter store of the stream mapping.",
        )
        for key, value, description in (
            (OUTPUT_LIVE_UPDATES_URL, live.url, "Live updates: the WebSocket URL (IAM, SigV4-signed connect)"),
            (OUTPUT_CONNECTIONS_TABLE, live.connections.table_name, "Open live-update connections and subscriptions"),
            (OUTPUT_FAILED_PUSHES, live.failures.queue_url, "Stream records the live-updates pusher gave up on"),
        ):
            CfnOutput(self, key, value=value, description=description)
        return live

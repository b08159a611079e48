"""Recorder: a function that reads the capture queue in batches, writes the task table and pushes each
task's end to its live subscribers. Nothing on an end's way waits by design: the mapping has no
batching window (docs/latency.md)."""

from __future__ import annotations

import json

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from lambdas.tracker import constants
from stacks.capture import EventCapture
from stacks.config import LatencySettings
from stacks.functions import TrackerFunction
from stacks.task_tables import TaskTables

TIMEOUT = Duration.seconds(60)
BATCH_SIZE = 10
MAX_CONCURRENCY = 5
"""Caps the recorder's DynamoDB and GetQuantumTask load whatever the event rate (min 2), in standard
mode; with provisioned pollers, their number caps it instead (the two are exclusive)."""


class Recorder(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        capture: EventCapture,
        tables: TaskTables,
        log_retention: logs.RetentionDays,
        latency: LatencySettings | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        latency = latency or LatencySettings()
        recorder = TrackerFunction(
            self,
            "Recorder",
            handler="tracker.recorder.handler.lambda_handler",
            service=constants.RECORDER_SERVICE,
            description="Records Braket task state changes in the task table",
            log_retention=log_retention,
            timeout=TIMEOUT,
            memory_size=latency.recorder_memory_mb,
            environment={
                constants.ENV_TASK_TABLE: tables.tasks.table_name,
                constants.ENV_REJECTED_TABLE: tables.rejected_events.table_name,
                constants.ENV_ENRICH_MAX_ATTEMPTS: "3",
                constants.ENV_PROMOTED_TAG_KEYS: json.dumps(list(tables.promoted_tag_keys)),
                constants.ENV_DETAILS_AFTER_END: "true" if latency.details_after_end else "false",
            },
        )
        self.function = recorder.function
        self.role = recorder.role

        # Least privilege, spelled out: grant_* helpers would add index wildcards and Scan/Query.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RecordTasks",
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                resources=[tables.tasks.table_arn],
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="KeepRejectedEvents",
                actions=["dynamodb:PutItem"],
                resources=[tables.rejected_events.table_arn],
            )
        )
        stack = Stack.of(self)
        self.braket_task_arns = stack.format_arn(
            service="braket", region="*", resource="quantum-task", resource_name="*"
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadFinishedTasks", actions=["braket:GetQuantumTask"], resources=[self.braket_task_arns]
            )
        )

        # No batching window: with one, Lambda may hold a quiet queue's message for up to 20 s.
        pollers = latency.capture_pollers
        self.function.add_event_source(
            sources.SqsEventSource(
                capture.queue,
                batch_size=BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=None if pollers else MAX_CONCURRENCY,
                provisioned_poller_config=(
                    lambda_.ProvisionedPollerConfig(minimum_pollers=pollers, maximum_pollers=pollers)
                    if pollers
                    else None
                ),
            )
        )

"""Reconciliation: a scheduled function that heals what lost events left behind, its state table
(one sweep watermark per Region) and the alarms of a broken capture path."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from lambdas.tracker import constants
from stacks.functions import TrackerFunction
from stacks.nag import acknowledge, nag_resource
from stacks.notifications import Notifications
from stacks.operations import Operations
from stacks.task_tables import working_table

TIMEOUT = Duration.minutes(5)
"""Well under the schedule's period, so runs do not overlap (they would be harmless: every write is
conditional and every observation idempotent)."""


class Reconciliation(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.Table,
        notifications: Notifications,
        log_retention: logs.RetentionDays,
        regions: tuple[str, ...],
        every_minutes: int,
        stale_after_minutes: int,
        requests_per_second: float,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # The sweeps' watermarks and the backfill's checkpoints; its creation time is where the
        # first sweep starts.
        self.state = working_table(self, "State", key=constants.STATE_KEY)
        reconciler = TrackerFunction(
            self,
            "Reconciler",
            handler="tracker.reconciler.handler.lambda_handler",
            service=constants.RECONCILER_SERVICE,
            description="Heals tasks whose events were lost: asks Braket, records through the recorder's logic",
            log_retention=log_retention,
            timeout=TIMEOUT,
            environment={
                constants.ENV_TASK_TABLE: table.table_name,
                constants.ENV_STATE_TABLE: self.state.table_name,
                constants.ENV_TOPIC_ARN: notifications.topic.topic_arn,
                constants.ENV_BRAKET_REGIONS: ",".join(regions),
                constants.ENV_STALE_AFTER_MINUTES: str(stale_after_minutes),
                constants.ENV_BRAKET_RATE: f"{requests_per_second:g}",
                constants.ENV_ENRICH_MAX_ATTEMPTS: "3",
            },
        )
        self.function = reconciler.function
        self.role = reconciler.role

        indexes = [f"{table.table_arn}/index/{name}" for name in constants.SPARSE_INDEXES]
        self.role.add_to_principal_policy(
            iam.PolicyStatement(sid="FindStaleAndUnnotifiedTasks", actions=["dynamodb:Query"], resources=indexes)
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RecordTasks",
                actions=["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                resources=[table.table_arn],
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="KeepWatermarks",
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DescribeTable"],
                resources=[self.state.table_arn],
            )
        )
        self.braket_task_arns = stack.format_arn(
            service="braket", region="*", resource="quantum-task", resource_name="*"
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(sid="ReadTasks", actions=["braket:GetQuantumTask"], resources=[self.braket_task_arns])
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="SearchTasks",
                actions=["braket:SearchQuantumTasks"],
                resources=["*"],  # SearchQuantumTasks supports no resource-level permission
                conditions={"StringEquals": {"aws:RequestedRegion": list(regions)}},
            )
        )
        # The notifier's own code sends the notifications that never went out: the same topic and key.
        notifications.grant_publish(self.role, "AllowTheReconcilerToPublish")

        self.schedule = events.Rule(
            self,
            "Schedule",
            description="Runs the reconciler",
            schedule=events.Schedule.rate(Duration.minutes(every_minutes)),
        )
        # A missed run is made up by the next one: no retries of a failed one.
        self.schedule.add_target(targets.LambdaFunction(self.function, retry_attempts=0))

    def add_alarms(self, operations: Operations, capture_rule: events.Rule) -> None:
        """A broken capture path: the rule could not deliver, or the reconciler had to repair tasks."""
        operations.add_alarm(
            "CaptureRuleFailedInvocations",
            "EventBridge could not deliver Braket events to the capture queue: they are parked in the "
            "dead-letter queue (see the README's runbook).",
            _failed_invocations(capture_rule),
        )
        operations.add_alarm(
            "ReconcilerRepairedTasks",
            "The reconciler recorded task statuses that no event had: events are being lost "
            "(a forwarder, the capture rule, or Braket). See the reconciler's logs for the tasks.",
            cloudwatch.Metric(
                namespace=constants.METRICS_NAMESPACE,
                metric_name=constants.METRIC_TASKS_REPAIRED,
                dimensions_map={"service": constants.RECONCILER_SERVICE},
                period=Duration.minutes(15),
                statistic="Sum",
            ),
        )
        operations.add_alarm(
            "ReconcilerErrors",
            "The reconciler failed, or could not reconcile some tasks: see its logs.",
            cloudwatch.MathExpression(
                expression="errors + failures",
                using_metrics={
                    "errors": self.function.metric_errors(period=Duration.minutes(15), statistic="Sum"),
                    "failures": cloudwatch.Metric(
                        namespace=constants.METRICS_NAMESPACE,
                        metric_name=constants.METRIC_RECONCILE_ERRORS,
                        dimensions_map={"service": constants.RECONCILER_SERVICE},
                        period=Duration.minutes(15),
                        statistic="Sum",
                    ),
                },
                period=Duration.minutes(15),
            ),
        )


def _failed_invocations(rule: events.Rule) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/Events",
        metric_name="FailedInvocations",
        dimensions_map={"RuleName": rule.rule_name},
        period=Duration.minutes(5),
        statistic="Sum",
    )


def acknowledge_reconciler(stack: Stack, reconciliation: Reconciliation) -> None:
    acknowledge(
        reconciliation.role,
        f"AwsSolutions-IAM5[Resource::{nag_resource(stack, reconciliation.braket_task_arns)}]",
        "GetQuantumTask on this account's quantum tasks in any Region: the reconciler reads each "
        "unfinished task in its own Region, and tasks are created at run time by any submitter. Read-only.",
    )
    acknowledge(
        reconciliation.role,
        "AwsSolutions-IAM5[Resource::*]",
        "braket:SearchQuantumTasks and braket:SearchJobs support no resource-level permission; they are limited to "
        "the configured Braket Regions (aws:RequestedRegion) and are read-only.",
    )

"""Costs: each ended task's cost on its item, monthly totals (by submitter, device, promoted tag and
account) with budgets and their alerts, Braket's spending limits beside them, and the Task API's
routes and budget holds.

The cost keeper does not read the task table's stream: DynamoDB Streams serve two readers per shard
without throttling, the live pusher and the notifier. The notifier hands it the tasks whose cost
may have changed through the cost queue (logic.stream_records)."""

from __future__ import annotations

import json

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambdas.tracker import constants
from stacks.budget_settings import BudgetSetting, budgets_json
from stacks.capture import MAX_RECEIVE_COUNT, encrypted_queue
from stacks.functions import TrackerFunction
from stacks.nag import acknowledge, nag_resource
from stacks.notifications import Notifications
from stacks.operations import Operations
from stacks.prices import Prices
from stacks.task_api import TaskApi

TIMEOUT = Duration.seconds(60)
_STRING = dynamodb.AttributeType.STRING


class Costs(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tasks: dynamodb.Table,
        prices: Prices,
        notifications: Notifications,
        budgets: tuple[BudgetSetting, ...],
        promoted_tag_keys: tuple[str, ...],
        readable_buckets: tuple[str, ...],
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.budgets = budgets
        self.readable_buckets = readable_buckets
        self.prices = prices
        self.totals = self._table("Totals", constants.TOTALS_KEY, constants.TOTALS_SORT_KEY)
        self.ledger = self._table("Ledger", constants.LEDGER_KEY)
        self.dead_letters = encrypted_queue(self, "CostQueueDeadLetterQueue")
        self.queue = encrypted_queue(
            self,
            "CostQueue",
            visibility_timeout=Duration.seconds(TIMEOUT.to_seconds() * 6),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=MAX_RECEIVE_COUNT),
        )
        keeper = TrackerFunction(
            self,
            "Keeper",
            handler="tracker.costs.handler.lambda_handler",
            service=constants.COSTS_SERVICE,
            description="Prices each ended Braket task, keeps the monthly cost totals, sends budget alerts",
            log_retention=log_retention,
            timeout=TIMEOUT,
            environment={
                constants.ENV_TASK_TABLE: tasks.table_name,
                **self.environment(),
                constants.ENV_TOPIC_ARN: notifications.topic.topic_arn,
                constants.ENV_PROMOTED_TAG_KEYS: json.dumps(list(promoted_tag_keys)),
            },
        )
        self.function: lambda_.Function = keeper.function
        self.role = keeper.role
        for sid, actions, resources in (
            ("ReadTasksAndWriteTheirCost", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [tasks.table_arn]),
            (
                "KeepTotals",
                ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"],
                [self.totals.table_arn],
            ),
            ("KeepLedger", ["dynamodb:GetItem", "dynamodb:PutItem"], [self.ledger.table_arn]),
        ):
            self.role.add_to_principal_policy(iam.PolicyStatement(sid=sid, actions=actions, resources=resources))
        prices.grant_read(self.role)
        self.grant_results_read(self.role)
        notifications.grant_publish(self.role, "AllowTheCostKeeperToPublishBudgetAlerts")
        self.function.add_event_source(
            sources.SqsEventSource(self.queue, batch_size=10, report_batch_item_failures=True)
        )
        self._spending_limits(log_retention)
        self._acknowledge()

    def _table(self, construct_id: str, key: str, sort_key: str | None = None) -> dynamodb.Table:
        """Totals and the ledger are records of money: kept like the task table (retained, protected)."""
        return dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name=key, type=_STRING),
            sort_key=dynamodb.Attribute(name=sort_key, type=_STRING) if sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )

    def environment(self) -> dict[str, str]:
        return {
            constants.ENV_TOTALS_TABLE: self.totals.table_name,
            constants.ENV_LEDGER_TABLE: self.ledger.table_name,
            constants.ENV_PRICES_TABLE: self.prices.table.table_name,
            constants.ENV_BUDGETS: budgets_json(self.budgets),
        }

    def grant_results_read(self, role: iam.IRole) -> None:
        """results.json (its tail: a simulator's billed duration) in the buckets Braket writes to: those
        named amazon-braket-* that this account owns (the tracker's own among them), and the
        deployment's readableResultsBuckets."""
        stack = Stack.of(self)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadResultsForCosts",
                actions=["s3:GetObject"],
                resources=[f"arn:{stack.partition}:s3:::{constants.RESULTS_BUCKET_PREFIX}*/*"],
                conditions={"StringEquals": {"s3:ResourceAccount": stack.account}},
            )
        )
        if self.readable_buckets:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="ReadResultsForCostsInReadableBuckets",
                    actions=["s3:GetObject"],
                    resources=[f"arn:{stack.partition}:s3:::{bucket}/*" for bucket in self.readable_buckets],
                )
            )
        resource = f"arn:{stack.partition}:s3:::{constants.RESULTS_BUCKET_PREFIX}*/*"
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{nag_resource(stack, resource)}]",
            "Reads results.json (its last 16 KiB: a simulator's billed duration) in the buckets Braket may write "
            f"results to (named {constants.RESULTS_BUCKET_PREFIX}*), only those this account owns "
            "(s3:ResourceAccount).",
        )
        for bucket in self.readable_buckets:
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::{nag_resource(stack, f'arn:{stack.partition}:s3:::{bucket}/*')}]",
                f"Reads results.json of tasks whose results Braket writes under any prefix of {bucket}, a bucket "
                "the deployment's readableResultsBuckets names.",
            )

    def attach_to_api(self, task_api: TaskApi, regions: tuple[str, ...]) -> None:
        """The Task API's cost routes and budget holds: its environment, grants and two GET routes.
        `regions`: the Braket Regions whose spending limits GET /spending-limits reads."""
        function = task_api.function
        for name, value in self.environment().items():
            function.add_environment(name, value)
        for sid, actions, resources in (
            (
                "CostTotalsAndBudgetHolds",
                [
                    "dynamodb:GetItem",
                    "dynamodb:BatchGetItem",
                    "dynamodb:Query",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:ConditionCheckItem",
                ],
                [self.totals.table_arn],
            ),
            ("LinkBudgetHolds", ["dynamodb:UpdateItem"], [self.ledger.table_arn]),
        ):
            task_api.role.add_to_principal_policy(iam.PolicyStatement(sid=sid, actions=actions, resources=resources))
        task_api.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="BraketSpendingLimits",
                actions=["braket:SearchSpendingLimits"],
                resources=["*"],  # SearchSpendingLimits supports no resource-level permission
                conditions={"StringEquals": {"aws:RequestedRegion": list(regions)}},
            )
        )
        self.prices.grant_read(task_api.role)
        integration = apigw.LambdaIntegration(function, proxy=True)
        task_api.api.root.add_resource("costs").add_method("GET", integration)
        task_api.api.root.add_resource("spending-limits").add_method("GET", integration)

    def attach_to_notifier(self, notifier: lambda_.Function, role: iam.IRole) -> None:
        """The notifier hands the keeper its tasks (the cost queue), and prices an end that the keeper
        has not yet: the catalogue and results.json."""
        notifier.add_environment(constants.ENV_COST_QUEUE_URL, self.queue.queue_url)
        notifier.add_environment(constants.ENV_PRICES_TABLE, self.prices.table.table_name)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="HandTasksToTheCostKeeper", actions=["sqs:SendMessage"], resources=[self.queue.queue_arn]
            )
        )
        self.prices.grant_read(role)
        self.grant_results_read(role)

    def _spending_limits(self, log_retention: logs.RetentionDays) -> None:
        """Braket's spend change events (every Region's, the forwarders bring them) -> a queue -> a
        function that keeps each limit's latest report on its device's monthly total."""
        self.spend_dead_letters = encrypted_queue(self, "SpendChangeDeadLetterQueue")
        self.spend_queue = encrypted_queue(
            self,
            "SpendChangeQueue",
            visibility_timeout=Duration.seconds(30 * 6),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.spend_dead_letters, max_receive_count=MAX_RECEIVE_COUNT),
        )
        self.spend_rule = events.Rule(
            self,
            "SpendChangeRule",
            description="Amazon Braket's spending limit spend changes, kept beside the tracker's cost totals",
            event_pattern=events.EventPattern(
                source=[constants.BRAKET_EVENT_SOURCE], detail_type=[constants.SPENDING_LIMIT_SPEND_CHANGE]
            ),
        )
        self.spend_rule.add_target(
            targets.SqsQueue(
                self.spend_queue,
                dead_letter_queue=self.spend_dead_letters,
                retry_attempts=185,
                max_event_age=Duration.hours(24),
            )
        )
        limits = TrackerFunction(
            self,
            "SpendingLimits",
            handler="tracker.spending.handler.lambda_handler",
            service=constants.SPENDING_LIMITS_SERVICE,
            description="Keeps Braket's spending limit reports beside the tracker's cost totals",
            log_retention=log_retention,
            timeout=Duration.seconds(30),
            environment={constants.ENV_TOTALS_TABLE: self.totals.table_name},
        )
        self.spending_function = limits.function
        self.spending_role = limits.role
        limits.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="KeepSpendingLimits", actions=["dynamodb:UpdateItem"], resources=[self.totals.table_arn]
            )
        )
        self.spending_function.add_event_source(
            sources.SqsEventSource(self.spend_queue, batch_size=10, report_batch_item_failures=True)
        )

    def add_alarms(self, operations: Operations) -> None:
        operations.add_alarm(
            "CostKeeperErrors",
            "The cost keeper failed; its messages are being retried (costs and totals wait for them).",
            self.function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
        )
        operations.add_alarm(
            "CostQueueDeadLetters",
            "Tasks were not counted after 5 attempts: their messages are in the cost queue's dead-letter queue "
            "(fix the cause, then redrive them).",
            self.dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ),
        )
        operations.add_alarm(
            "SpendingLimitEventsFailed",
            "Braket's spending limit events could not be kept: see the spend change dead-letter queue.",
            self.spend_dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ),
        )

    def _acknowledge(self) -> None:
        for queue, what in (
            (self.dead_letters, "the cost queue's dead-letter queue"),
            (self.spend_dead_letters, "the spend change queue's dead-letter queue"),
        ):
            acknowledge(queue, "AwsSolutions-SQS3", f"This queue is {what}.")

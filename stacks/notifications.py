"""Notifications: one SNS message per finished task, from the task table's stream."""

from __future__ import annotations

import hashlib
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambdas.tracker import constants
from stacks.capture import encrypted_queue
from stacks.config import EmailSubscription, ExtraSubscription
from stacks.functions import TrackerFunction

TIMEOUT = Duration.seconds(30)
RETRY_ATTEMPTS = 5


def stream_filters() -> list[dict[str, Any]]:
    """Every write of a finished item: a task's end, a correction, and whatever may change its cost
    (Braket's details filled in, a submitter written late), which the notifier hands the cost keeper.
    Which records ask for an announcement, or a cost, the function tells (logic.stream_records):
    filters cannot compare a record's two images."""
    return [
        {
            "eventName": ["INSERT", "MODIFY"],
            "dynamodb": {"NewImage": {"status": {"S": list(constants.FINISHED_STATUSES)}}},
        }
    ]


class Notifications(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.Table,
        log_retention: logs.RetentionDays,
        emails: tuple[EmailSubscription, ...],
        extra: tuple[ExtraSubscription, ...],
        notify_imported: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self, "TopicKey", description="Encrypts the task notification topic", enable_key_rotation=True
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="Braket task notifications",
            master_key=self.key,
            enforce_ssl=True,
        )
        self.failures = encrypted_queue(self, "FailedNotifications")
        notifier = TrackerFunction(
            self,
            "Notifier",
            handler="tracker.notifier.handler.lambda_handler",
            service=constants.NOTIFIER_SERVICE,
            description="Publishes one notification per finished Braket task",
            log_retention=log_retention,
            timeout=TIMEOUT,
            environment={
                constants.ENV_TASK_TABLE: table.table_name,
                constants.ENV_TOPIC_ARN: self.topic.topic_arn,
                constants.ENV_NOTIFY_IMPORTED: "true" if notify_imported else "false",
            },
        )
        self.function: lambda_.Function = notifier.function
        self.role = notifier.role
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadAndMarkTasks",
                actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                resources=[table.table_arn],
            )
        )
        self.grant_publish(self.role, "AllowTheNotifierToPublish")
        self.function.add_event_source(
            sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=10,
                bisect_batch_on_error=True,
                retry_attempts=RETRY_ATTEMPTS,
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(self.failures),
                filters=[lambda_.FilterCriteria.filter(pattern) for pattern in stream_filters()],
            )
        )
        for email in emails:
            self.topic.add_subscription(
                subscriptions.EmailSubscription(email.address, filter_policy=_status_filter(email.statuses))
            )
        for subscription in extra:
            self._subscribe(subscription)

    def _subscribe(self, subscription: ExtraSubscription) -> None:
        policy = _status_filter(subscription.statuses)
        if subscription.protocol == "sqs":
            # Named by its ARN, so adding or removing another subscriber never renames (replaces) it.
            name = "Subscriber" + hashlib.sha256(subscription.endpoint.encode()).hexdigest()[:12]
            queue = sqs.Queue.from_queue_arn(self, name, subscription.endpoint)
            self.topic.add_subscription(subscriptions.SqsSubscription(queue, filter_policy=policy))
        else:
            self.topic.add_subscription(subscriptions.UrlSubscription(subscription.endpoint, filter_policy=policy))

    def grant_publish(self, role: iam.IRole, key_policy_sid: str) -> None:
        """Let `role` publish to the topic. The key admits only what must publish, and only through SNS."""
        via_sns = {"StringEquals": {"kms:ViaService": f"sns.{Stack.of(self).region}.amazonaws.com"}}
        role.add_to_principal_policy(
            iam.PolicyStatement(sid="Publish", actions=["sns:Publish"], resources=[self.topic.topic_arn])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="EncryptForTheTopic",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[self.key.key_arn],
                conditions=via_sns,
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=key_policy_sid,
                principals=[role],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions=via_sns,
            )
        )


def _status_filter(statuses: tuple[str, ...]) -> dict[str, sns.SubscriptionFilter] | None:
    return {"status": sns.SubscriptionFilter.string_filter(allowlist=list(statuses))} if statuses else None

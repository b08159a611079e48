"""Forwarders: Braket sends each task event only to the default bus of the Region where the task
ran, so a small stack in every other Braket Region forwards them to the home Region's default bus,
where the tracker's capture rule takes them like local ones."""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, CfnOutput, Duration, Stack, Tags
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from lambdas.tracker.constants import (
    BRAKET_EVENT_SOURCE,
    JOB_STATE_CHANGE,
    SPENDING_LIMIT_SPEND_CHANGE,
    TASK_STATE_CHANGE,
)
from stacks.alarms import alarm_to_topic
from stacks.capture import encrypted_queue
from stacks.nag import acknowledge
from stacks.names import OUTPUT_FORWARDER_ALARM_TOPIC, OUTPUT_FORWARDER_DEAD_LETTER_QUEUE, forwarder_stack_name
from stacks.results_bucket import results_bucket, results_bucket_name

__all__ = ["ForwarderStack", "forwarder_stack_name"]


class ForwarderStack(Stack):
    """In one Braket Region: a rule for Braket task state changes, whose target is the home Region's
    default bus, through a role that may only put events on that bus; undeliverable events go to a
    dead-letter queue in this Region, which has an alarm, as do the rule's failed invocations. And
    the Region's results bucket for tasks submitted through the Task API."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        home_region: str,
        alarm_emails: tuple[str, ...],
        tracker_stack_name: str,
        results_retention_days: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"Braket Task Tracker: forwards this Region's Braket task events to {home_region}",
            **kwargs,
        )
        Tags.of(self).add("project", "braket-task-tracker")
        if self.region == home_region:
            raise ValueError(f"the home Region {home_region} needs no forwarder")
        self.home_bus_arn = self.format_arn(
            service="events", region=home_region, resource="event-bus", resource_name="default"
        )
        home_bus = events.EventBus.from_event_bus_arn(self, "HomeBus", self.home_bus_arn)
        # Tasks submitted through the Task API to a device of this Region write their results here.
        self.results = results_bucket(
            self,
            "Results",
            name=results_bucket_name(tracker_stack_name, self.account, self.region),
            retention_days=results_retention_days,
        )
        self.dead_letter_queue = encrypted_queue(self, "DeadLetterQueue")
        self.role = iam.Role(
            self,
            "ForwardRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description=f"Puts this Region's Braket task events on the default bus of {home_region}",
        )
        self.rule = events.Rule(
            self,
            "TaskStateChangeRule",
            description=f"Every Amazon Braket task and hybrid job state change and spending limit spend change, "
            f"forwarded to {home_region}",
            event_pattern=events.EventPattern(
                source=[BRAKET_EVENT_SOURCE],
                detail_type=[TASK_STATE_CHANGE, JOB_STATE_CHANGE, SPENDING_LIMIT_SPEND_CHANGE],
            ),
        )
        # The target grants the role events:PutEvents on the home bus only, and a queue policy that
        # admits this rule only. EventBridge retries delivery to a bus for 24 hours (185 attempts,
        # with backoff; an event bus target takes no other retry policy), then parks the event here.
        self.rule.add_target(targets.EventBus(home_bus, dead_letter_queue=self.dead_letter_queue, role=self.role))
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue of the forwarding rule's target: it has none of its own.",
        )

        self.alarm_topic = _alarm_topic(self, alarm_emails)
        for name, description, metric in (
            (
                "ForwarderFailedInvocations",
                f"Braket task events of {self.region} could not be forwarded to {home_region}.",
                cloudwatch.Metric(
                    namespace="AWS/Events",
                    metric_name="FailedInvocations",
                    dimensions_map={"RuleName": self.rule.rule_name},
                    period=Duration.minutes(5),
                    statistic="Sum",
                ),
            ),
            (
                "ForwarderDeadLetterQueueNotEmpty",
                f"Braket task events of {self.region} are parked in the forwarder's dead-letter queue: "
                "fix the cause, then run `python -m ops replay` (see the README's runbook).",
                self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
            ),
        ):
            alarm_to_topic(self, name, description, metric, self.alarm_topic)

        CfnOutput(
            self,
            OUTPUT_FORWARDER_DEAD_LETTER_QUEUE,
            value=self.dead_letter_queue.queue_url,
            description="Events that could not be forwarded",
        )
        CfnOutput(self, OUTPUT_FORWARDER_ALARM_TOPIC, value=self.alarm_topic.topic_arn, description="Alarms")


def _alarm_topic(stack: Stack, alarm_emails: tuple[str, ...]) -> sns.Topic:
    """CloudWatch alarms notify topics of their own Region only: each forwarder has an encrypted one."""
    alarms_of_this_account = {
        "StringEquals": {"aws:SourceAccount": stack.account},
        "ArnLike": {
            "aws:SourceArn": stack.format_arn(
                service="cloudwatch", resource="alarm", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
            )
        },
    }
    key = kms.Key(stack, "AlarmTopicKey", description="Encrypts the forwarder's alarm topic", enable_key_rotation=True)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsOfThisAccount",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy, "*" means this key
            conditions=alarms_of_this_account,
        )
    )
    topic = sns.Topic(
        stack, "AlarmTopic", display_name="Braket task tracker forwarder alarms", master_key=key, enforce_ssl=True
    )
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsOfThisAccount",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions=alarms_of_this_account,
        )
    )
    for email in alarm_emails:
        topic.add_subscription(subscriptions.EmailSubscription(email))
    return topic

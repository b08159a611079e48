"""Operations: alarms for a capture path that stops recording, sent to an operator topic."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambdas.tracker import constants
from stacks.alarms import alarm_to_topic

BACKLOG_AGE_ALARM = Duration.minutes(15)


class Operations(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
        recorder: lambda_.IFunction,
        notifier: lambda_.IFunction,
        failed_notifications: sqs.IQueue,
        alarm_emails: tuple[str, ...],
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        alarms_of_this_account = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {
                "aws:SourceArn": stack.format_arn(
                    service="cloudwatch", resource="alarm", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
                )
            },
        }
        self.key = kms.Key(
            self,
            "AlarmTopicKey",
            description="Encrypts the tracker's operator alarm topic",
            enable_key_rotation=True,
        )
        # CloudWatch publishes alarm notifications to the encrypted topic, so it must be able to
        # use the key, and only for alarms of this account.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsOfThisAccount",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions=alarms_of_this_account,
            )
        )
        self.topic = sns.Topic(
            self, "AlarmTopic", display_name="Braket task tracker alarms", master_key=self.key, enforce_ssl=True
        )
        # A topic policy replaces SNS's default one, so CloudWatch needs its own Allow to publish.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsOfThisAccount",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=alarms_of_this_account,
            )
        )
        for email in alarm_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

        self.alarms = [
            self._alarm(
                "DeadLetterQueueNotEmpty",
                "Events that could not be recorded are parked in the dead-letter queue: fix the cause, then redrive.",
                dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
            ),
            self._alarm(
                "RecorderErrors",
                "The recorder function failed; events are being retried.",
                recorder.metric_errors(period=Duration.minutes(5), statistic="Sum"),
            ),
            self._alarm(
                "RejectedEvents",
                "Malformed Braket events were rejected (has the format changed?): see the rejected-events table.",
                cloudwatch.Metric(
                    namespace=constants.METRICS_NAMESPACE,
                    metric_name=constants.METRIC_REJECTED_EVENTS,
                    dimensions_map={"service": constants.RECORDER_SERVICE},
                    period=Duration.minutes(5),
                    statistic="Sum",
                ),
            ),
            self._alarm(
                "NotifierErrors",
                "The notifier function failed; the stream batch is being retried.",
                notifier.metric_errors(period=Duration.minutes(5), statistic="Sum"),
            ),
            self._alarm(
                "NotificationsFailed",
                "Task ends were not notified after the notifier's retries: see the failed-notifications queue.",
                failed_notifications.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
            ),
            self._alarm(
                "CaptureBacklog",
                "Task events have waited in the capture queue for over 15 minutes: is the recorder running?",
                queue.metric_approximate_age_of_oldest_message(period=Duration.minutes(5), statistic="Maximum"),
                threshold=BACKLOG_AGE_ALARM.to_seconds(),
            ),
        ]

    def watch_api(self, api: apigw.RestApi) -> None:
        """An alarm on the Task API's 5xx answers: bad input never gets one, so each is our fault."""
        self.add_alarm(
            "ApiServerErrors",
            "The Task API answered 5xx (a dependency failed, or the function did): read its logs.",
            api.metric_server_error(period=Duration.minutes(5), statistic="Sum"),
        )

    def _alarm(self, name: str, description: str, metric: cloudwatch.IMetric, threshold: float = 0) -> cloudwatch.Alarm:
        return alarm_to_topic(self, name, description, metric, self.topic, threshold=threshold)

    def add_alarm(
        self, name: str, description: str, metric: cloudwatch.IMetric, threshold: float = 0
    ) -> cloudwatch.Alarm:
        """Another alarm on the alarm topic, added by the construct that owns the metric."""
        alarm = self._alarm(name, description, metric, threshold)
        self.alarms.append(alarm)
        return alarm

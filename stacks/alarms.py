"""One way to raise an alarm: over a threshold (default: anything at all), missing data is fine,
and both the alarm and its recovery go to an SNS topic."""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct


def alarm_to_topic(
    scope: Construct,
    name: str,
    description: str,
    metric: cloudwatch.IMetric,
    topic: sns.ITopic,
    *,
    threshold: float = 0,
) -> cloudwatch.Alarm:
    alarm = cloudwatch.Alarm(
        scope,
        name,
        alarm_description=description,
        metric=metric,
        threshold=threshold,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    alarm.add_alarm_action(actions.SnsAction(topic))
    alarm.add_ok_action(actions.SnsAction(topic))
    return alarm

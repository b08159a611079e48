"""Operations: the alarm topic, its key, the six alarms and the alarm email subscription."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.infrastructure.helpers import (
    ALARM_EMAIL,
    LOG_RETENTION_DAYS,
    LogicalIds,
    arn_of,
    as_list,
    denies_insecure_transport,
    flatten,
    logical_id,
    ref,
)
from tests.support.app import SynthesizedApp
from tracker import constants

pytestmark = pytest.mark.infrastructure

ALARM_SOURCE_ARN = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"


@pytest.fixture(scope="module")
def key(resources: dict[str, Any], ids: LogicalIds) -> dict[str, Any]:
    return resources[ids.key]["Properties"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def alarms(synthesized: SynthesizedApp) -> dict[str, dict[str, Any]]:
    """Every alarm's properties, by logical id."""
    return {
        name: alarm["Properties"] for name, alarm in synthesized.resources_of_type("AWS::CloudWatch::Alarm").items()
    }


@pytest.fixture(scope="module")
def topic_policy(synthesized: SynthesizedApp, ids: LogicalIds) -> list[dict[str, Any]]:
    (policy,) = (
        policy["Properties"]
        for policy in synthesized.resources_of_type("AWS::SNS::TopicPolicy").values()
        if ref(ids.topic) in policy["Properties"]["Topics"]
    )
    return as_list(policy["PolicyDocument"]["Statement"])


def test_alarm_topic_key_rotates(key: dict[str, Any]) -> None:
    assert key["EnableKeyRotation"] is True


def test_alarm_topic_key_lets_cloudwatch_alarms_of_this_account_use_it(key: dict[str, Any]) -> None:
    (statement,) = (
        statement
        for statement in key["KeyPolicy"]["Statement"]
        if statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    )
    assert statement["Effect"] == "Allow"
    assert set(as_list(statement["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ref("AWS::AccountId")}
    assert flatten(statement["Condition"]["ArnLike"]["aws:SourceArn"]) == ALARM_SOURCE_ARN


def test_alarm_topic_is_encrypted_with_the_key(resources: dict[str, Any], ids: LogicalIds) -> None:
    assert resources[ids.topic]["Properties"]["KmsMasterKeyId"] == arn_of(ids.key)


def test_alarm_topic_policy_denies_publishing_without_tls(topic_policy: list[dict[str, Any]], ids: LogicalIds) -> None:
    assert any(
        denies_insecure_transport(statement, "sns:Publish") and statement["Resource"] == ref(ids.topic)
        for statement in topic_policy
    ), topic_policy


def test_alarm_topic_policy_lets_only_this_accounts_alarms_publish(topic_policy: list[dict[str, Any]]) -> None:
    # A topic policy replaces SNS's default one: without this Allow, alarms could not notify.
    allows = [statement for statement in topic_policy if statement["Effect"] == "Allow"]

    assert len(allows) == 1, topic_policy
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert as_list(allow["Action"]) == ["sns:Publish"]
    assert set(allow["Condition"]) == {"StringEquals", "ArnLike"}
    assert "aws:SourceAccount" in allow["Condition"]["StringEquals"]
    assert "aws:SourceArn" in allow["Condition"]["ArnLike"]


Dimension = Callable[[LogicalIds], Any]

ALARMS: dict[str, tuple[str, str, str, Dimension, str, int, float]] = {
    # construct id: (namespace, metric, dimension name, dimension value, statistic, period, threshold)
    "DeadLetterQueueNotEmpty": (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "QueueName",
        lambda ids: arn_of(ids.dead_letter_queue, "QueueName"),
        "Maximum",
        60,
        0,
    ),
    "RecorderErrors": ("AWS/Lambda", "Errors", "FunctionName", lambda ids: ref(ids.function), "Sum", 300, 0),
    "RejectedEvents": (
        constants.METRICS_NAMESPACE,
        constants.METRIC_REJECTED_EVENTS,
        "service",
        lambda _: constants.RECORDER_SERVICE,
        "Sum",
        300,
        0,
    ),
    "NotifierErrors": ("AWS/Lambda", "Errors", "FunctionName", lambda ids: ref(ids.notifier_function), "Sum", 300, 0),
    "NotificationsFailed": (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "QueueName",
        lambda ids: arn_of(ids.failed_notifications, "QueueName"),
        "Maximum",
        60,
        0,
    ),
    "CaptureBacklog": (
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        "QueueName",
        lambda ids: arn_of(ids.queue, "QueueName"),
        "Maximum",
        300,
        15 * 60,
    ),
    "ApiServerErrors": ("AWS/ApiGateway", "5XXError", "ApiName", lambda _: "BraketTaskTracker-tasks", "Sum", 300, 0),
}


def test_operations_has_seven_alarms_notifying_the_topic(
    alarms: dict[str, dict[str, Any]], synthesized: SynthesizedApp, ids: LogicalIds
) -> None:
    assert len(ALARMS) == 7
    live_updates = {logical_id(synthesized.stack, f"LiveUpdates/{name}") for name in ("PusherErrors", "PushesFailed")}
    # Plus the capture path's alarms that reconciliation adds (tests/infrastructure/test_reconciliation.py),
    # the price refresher's (test_prices.py) and the costs' (test_costs.py).
    added = (
        "CaptureRuleFailedInvocations",
        "ReconcilerRepairedTasks",
        "ReconcilerErrors",
        "PriceRefreshFailed",
        "CostKeeperErrors",
        "CostQueueDeadLetters",
        "SpendingLimitEventsFailed",
    )
    assert (
        set(alarms)
        == {logical_id(synthesized.stack, f"Operations/{name}") for name in (*ALARMS, *added)} | live_updates
    )
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [ref(ids.topic)]
        assert alarm["OKActions"] == [ref(ids.topic)]


@pytest.mark.parametrize("name", ALARMS)
def test_operations_alarm_watches_its_metric(
    alarms: dict[str, dict[str, Any]], synthesized: SynthesizedApp, ids: LogicalIds, name: str
) -> None:
    namespace, metric, dimension, value, statistic, period, threshold = ALARMS[name]
    alarm = alarms[logical_id(synthesized.stack, f"Operations/{name}")]
    assert (alarm["Namespace"], alarm["MetricName"]) == (namespace, metric)
    assert alarm["Dimensions"] == [{"Name": dimension, "Value": value(ids)}]
    assert (alarm["Statistic"], alarm["Period"]) == (statistic, period)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == threshold
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"


def test_alarm_topic_has_no_subscription_without_alarm_email(synthesized: SynthesizedApp) -> None:
    assert synthesized.resources_of_type("AWS::SNS::Subscription") == {}


def test_alarm_email_context_subscribes_the_address(synthesized_with_email: SynthesizedApp) -> None:
    topic = logical_id(synthesized_with_email.stack, "Operations/AlarmTopic")
    (subscription,) = synthesized_with_email.resources_of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"] == {"Protocol": "email", "Endpoint": ALARM_EMAIL, "TopicArn": ref(topic)}


def test_log_retention_context_sets_the_log_group_retention(synthesized_with_email: SynthesizedApp) -> None:
    ids = LogicalIds.of(synthesized_with_email.stack)
    log_groups = synthesized_with_email.resources_of_type("AWS::Logs::LogGroup")
    assert {name: log_group["Properties"]["RetentionInDays"] for name, log_group in log_groups.items()} == {
        ids.log_group: LOG_RETENTION_DAYS,
        ids.notifier_log_group: LOG_RETENTION_DAYS,
        ids.api_log_group: LOG_RETENTION_DAYS,
        ids.api_access_logs: LOG_RETENTION_DAYS,
        ids.connections_handler_log_group: LOG_RETENTION_DAYS,
        ids.pusher_log_group: LOG_RETENTION_DAYS,
        ids.access_logs: LOG_RETENTION_DAYS,
        logical_id(synthesized_with_email.stack, "Reconciliation/Reconciler/Logs"): LOG_RETENTION_DAYS,
        logical_id(synthesized_with_email.stack, "Prices/Refresher/Logs"): LOG_RETENTION_DAYS,
        logical_id(synthesized_with_email.stack, "Costs/Keeper/Logs"): LOG_RETENTION_DAYS,
        logical_id(synthesized_with_email.stack, "Costs/SpendingLimits/Logs"): LOG_RETENTION_DAYS,
        **{
            logical_id(synthesized_with_email.stack, f"JobFunctions/{name}/Logs"): LOG_RETENTION_DAYS
            for name in ("Notifier", "Updates", "LiveRoutes")
        },
    }

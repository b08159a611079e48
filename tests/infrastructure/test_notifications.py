"""Notifications: the topic and its key, the notifier's grants, its filtered stream mapping (and which
stream records its filters really let through), the subscriptions and their configuration."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from moto.events.models import EventPattern

import stacks.config
from stacks import notifications, tracker_stack
from stacks.config import ConfigurationError, EmailSubscription, ExtraSubscription, TrackerConfig
from tests.infrastructure.helpers import (
    NOTIFICATION_CONTEXT,
    LogicalIds,
    arn_of,
    as_list,
    denies_insecure_transport,
    flatten,
    grants,
    logical_id,
    queue_policy_statements,
    ref,
    role_statements,
)
from tests.support.app import STACK_NAME, SynthesizedApp
from tracker import constants
from tracker.config import NotifierConfig
from tracker.domain import Status
from tracker.logic.stream_records import announces, moves_cost

pytestmark = pytest.mark.infrastructure

ACCOUNT_ROOT = "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
SNS_OF_THIS_REGION = "sns.${AWS::Region}.amazonaws.com"
FINISHED = ["COMPLETED", "FAILED", "CANCELLED"]
UNFINISHED = ["CREATED", "QUEUED", "RUNNING", "CANCELLING"]


# --- Fixtures ------------------------------------------------------------------------------------


def _canonical(value: Any) -> str:
    """JSON with sorted keys: to sort dicts and compare them as sets."""
    return json.dumps(value, sort_keys=True)


@pytest.fixture(scope="module")
def key(resources: dict[str, Any], ids: LogicalIds) -> dict[str, Any]:
    return resources[ids.notification_key]["Properties"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def notifier(resources: dict[str, Any], ids: LogicalIds) -> dict[str, Any]:
    return resources[ids.notifier_function]["Properties"]  # type: ignore[no-any-return]


def _notifier_mapping(app: SynthesizedApp) -> dict[str, Any]:
    function = ref(LogicalIds.of(app.stack).notifier_function)
    (mapping,) = (
        mapping["Properties"]
        for mapping in app.resources_of_type("AWS::Lambda::EventSourceMapping").values()
        if mapping["Properties"]["FunctionName"] == function
    )
    return mapping  # type: ignore[no-any-return]


def _patterns(mapping: dict[str, Any]) -> list[dict[str, Any]]:
    """The filter patterns, parsed from the JSON strings that Lambda takes."""
    filters = mapping["FilterCriteria"]["Filters"]
    assert all(set(item) == {"Pattern"} and isinstance(item["Pattern"], str) for item in filters), filters
    return [json.loads(item["Pattern"]) for item in filters]


@pytest.fixture(scope="module")
def mapping(synthesized: SynthesizedApp) -> dict[str, Any]:
    """The notifier's event source mapping in the default synth."""
    return _notifier_mapping(synthesized)


@pytest.fixture(scope="module")
def patterns(mapping: dict[str, Any]) -> list[dict[str, Any]]:
    return _patterns(mapping)


@pytest.fixture(scope="module")
def imported_patterns(synthesized_with_notifications: SynthesizedApp) -> list[dict[str, Any]]:
    """The filter patterns with context notifyImported=true."""
    return _patterns(_notifier_mapping(synthesized_with_notifications))


# --- The topic and its key -----------------------------------------------------------------------


def test_notification_topic_is_encrypted_with_the_notification_key(resources: dict[str, Any], ids: LogicalIds) -> None:
    assert resources[ids.notification_topic]["Properties"]["KmsMasterKeyId"] == arn_of(ids.notification_key)
    assert ids.notification_key != ids.key  # its own key, not the alarm topic's


def test_notification_topic_policy_only_denies_publishing_without_tls(
    synthesized: SynthesizedApp, ids: LogicalIds
) -> None:
    (policy,) = (
        policy["Properties"]
        for policy in synthesized.resources_of_type("AWS::SNS::TopicPolicy").values()
        if ref(ids.notification_topic) in policy["Properties"]["Topics"]
    )
    assert policy["Topics"] == [ref(ids.notification_topic)]
    # The notifier publishes with its role's permission: the topic policy admits no one.
    (statement,) = as_list(policy["PolicyDocument"]["Statement"])
    assert denies_insecure_transport(statement, "sns:Publish"), statement
    assert statement["Resource"] == ref(ids.notification_topic)


def test_notification_key_rotates(key: dict[str, Any]) -> None:
    assert key["EnableKeyRotation"] is True


def test_notification_key_lets_only_the_notifier_use_it_and_only_through_sns(
    key: dict[str, Any], ids: LogicalIds, synthesized: SynthesizedApp
) -> None:
    statements = as_list(key["KeyPolicy"]["Statement"])
    root = [s for s in statements if flatten(s["Principal"].get("AWS", "")) == ACCOUNT_ROOT]
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in root] == [("Allow", "kms:*", "*")]

    # The notifier, the job notifier (hybrid jobs' ends on the same topic), the reconciler, which sends
    # the notifications that never went out with the notifiers' code, and the cost keeper, which sends
    # budget alerts.
    reconciler_role = logical_id(synthesized.stack, "Reconciliation/Reconciler/Role")
    keeper_role = logical_id(synthesized.stack, "Costs/Keeper/Role")
    job_notifier_role = logical_id(synthesized.stack, "JobFunctions/Notifier/Role")
    publishers = [s for s in statements if s not in root]
    assert sorted(str(s["Principal"]) for s in publishers) == sorted(
        str({"AWS": arn_of(role)}) for role in (ids.notifier_role, reconciler_role, keeper_role, job_notifier_role)
    )
    for statement in publishers:
        assert statement["Effect"] == "Allow"
        assert sorted(as_list(statement["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert statement["Resource"] == "*"  # in a key policy: this key
        (operator, condition), *others = statement["Condition"].items()
        assert others == []
        assert operator == "StringEquals"
        assert {name: flatten(value) for name, value in condition.items()} == {"kms:ViaService": SNS_OF_THIS_REGION}


# --- The notifier --------------------------------------------------------------------------------


def test_notifier_role_grants_exactly_what_the_notifier_calls(
    resources: dict[str, Any], ids: LogicalIds, synthesized: SynthesizedApp
) -> None:
    table, stream = f"${{{ids.task_table}.Arn}}", f"${{{ids.task_table}.StreamArn}}"
    key_arn, queue = f"${{{ids.notification_key}.Arn}}", f"${{{ids.failed_notifications}.Arn}}"
    logs = f"${{{ids.notifier_log_group}.Arn}}"
    prices = f"${{{logical_id(synthesized.stack, 'Prices/Catalogue')}.Arn}}"
    cost_queue = f"${{{logical_id(synthesized.stack, 'Costs/CostQueue')}.Arn}}"
    assert grants(role_statements(resources, ids.notifier_role)) == {
        # The cost of an end the cost keeper has not priced yet, and the tasks it hands the keeper.
        ("dynamodb:GetItem", prices),
        ("s3:GetObject", "arn:${AWS::Partition}:s3:::amazon-braket-*/*"),
        ("sqs:SendMessage", cost_queue),
        ("dynamodb:GetItem", table),
        ("dynamodb:UpdateItem", table),
        ("sns:Publish", f"${{{ids.notification_topic}}}"),
        ("kms:GenerateDataKey", key_arn),
        ("kms:Decrypt", key_arn),
        ("dynamodb:DescribeStream", stream),
        ("dynamodb:GetRecords", stream),
        ("dynamodb:GetShardIterator", stream),
        ("dynamodb:ListStreams", "*"),  # no resource-level permission exists for it
        ("sqs:SendMessage", queue),
        ("sqs:GetQueueAttributes", queue),
        ("sqs:GetQueueUrl", queue),
        ("logs:CreateLogStream", logs),
        ("logs:PutLogEvents", logs),
    }


def test_notifier_handler_is_in_the_code_asset(notifier: dict[str, Any], synthesized: SynthesizedApp) -> None:
    assert notifier["Handler"] == "tracker.notifier.handler.lambda_handler"
    asset = synthesized.outdir / f"asset.{notifier['Code']['S3Key'].removesuffix('.zip')}"
    handler = asset / "tracker" / "notifier" / "handler.py"
    assert re.search(r"^def lambda_handler\(", handler.read_text(), re.MULTILINE)


def test_notifier_environment_names_the_task_table_and_the_topic(notifier: dict[str, Any], ids: LogicalIds) -> None:
    variables = notifier["Environment"]["Variables"]
    assert variables[constants.ENV_TASK_TABLE] == ref(ids.task_table)
    assert variables[constants.ENV_TOPIC_ARN] == ref(ids.notification_topic)  # a topic's Ref is its ARN
    assert variables["POWERTOOLS_SERVICE_NAME"] == constants.NOTIFIER_SERVICE
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == constants.METRICS_NAMESPACE


def test_notifier_environment_passes_the_functions_own_config_check(notifier: dict[str, Any], ids: LogicalIds) -> None:
    # References are resolved at deploy time: stand in what each resolves to.
    resolved = {
        json.dumps(ref(ids.task_table)): "BraketTaskTracker-TablesTasks",
        json.dumps(ref(ids.notification_topic)): "arn:aws:sns:us-east-1:123456789012:BraketTaskTracker-Topic",
    }
    for name, value in notifier["Environment"]["Variables"].items():
        if not isinstance(value, str) and json.dumps(value) not in resolved:
            resolved[json.dumps(value)] = f"resolved-{name}"  # the prices table, the cost queue's URL
    variables = {
        name: value if isinstance(value, str) else resolved[json.dumps(value)]
        for name, value in notifier["Environment"]["Variables"].items()
    }
    config = NotifierConfig.from_env(variables)
    assert config.topic_arn.startswith("arn:aws:sns:")
    assert (config.prices_table, config.cost_queue_url, config.notify_imported) == (
        "resolved-PRICES_TABLE_NAME",
        "resolved-COST_QUEUE_URL",
        False,
    )


def test_notifier_logs_to_its_own_log_group_with_retention(
    notifier: dict[str, Any], resources: dict[str, Any], ids: LogicalIds
) -> None:
    assert notifier["LoggingConfig"]["LogGroup"] == ref(ids.notifier_log_group)
    assert ids.notifier_log_group != ids.log_group
    assert resources[ids.notifier_log_group]["Properties"]["RetentionInDays"] == 30


def test_failed_notifications_queue_keeps_messages_fourteen_days(resources: dict[str, Any], ids: LogicalIds) -> None:
    assert resources[ids.failed_notifications]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_failed_notifications_queue_policy_admits_no_one(resources: dict[str, Any], ids: LogicalIds) -> None:
    # The mapping sends with the notifier role's permission; the policy only denies requests without TLS.
    (statement,) = queue_policy_statements(resources, ids.failed_notifications)
    assert denies_insecure_transport(statement, "sqs:*")


# --- The stream mapping --------------------------------------------------------------------------


def test_notifier_mapping_reads_the_task_table_stream_from_the_start(mapping: dict[str, Any], ids: LogicalIds) -> None:
    assert mapping["EventSourceArn"] == arn_of(ids.task_table, "StreamArn")
    assert mapping["FunctionName"] == ref(ids.notifier_function)
    assert mapping["StartingPosition"] == "TRIM_HORIZON"


def test_notifier_mapping_retries_by_halves_then_parks_the_record_in_the_failed_notifications_queue(
    mapping: dict[str, Any], ids: LogicalIds
) -> None:
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == notifications.RETRY_ATTEMPTS == 5
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": arn_of(ids.failed_notifications)}}


def test_notifier_and_pusher_are_the_two_readers_of_the_stream(synthesized: SynthesizedApp, ids: LogicalIds) -> None:
    # DynamoDB Streams serve at most two simultaneous readers per shard without throttling: the cost
    # keeper reads the cost queue that the notifier fills, and the spending limits function its queue.
    pusher = logical_id(synthesized.stack, "LiveUpdates/Pusher/Function")
    keeper = logical_id(synthesized.stack, "Costs/Keeper/Function")
    limits = logical_id(synthesized.stack, "Costs/SpendingLimits/Function")
    mappings = [m["Properties"] for m in synthesized.resources_of_type("AWS::Lambda::EventSourceMapping").values()]
    on_stream = [m["FunctionName"] for m in mappings if m["EventSourceArn"] == arn_of(ids.task_table, "StreamArn")]
    assert sorted(map(_canonical, on_stream)) == sorted(map(_canonical, [ref(ids.notifier_function), ref(pusher)]))
    # The jobs table's stream has two readers of its own: the job notifier and job updates.
    on_jobs = [m["FunctionName"] for m in mappings if m["EventSourceArn"] == arn_of(ids.job_table, "StreamArn")]
    job_functions = [logical_id(synthesized.stack, f"JobFunctions/{name}/Function") for name in ("Notifier", "Updates")]
    assert sorted(map(_canonical, on_jobs)) == sorted(_canonical(ref(function)) for function in job_functions)
    assert sorted(_canonical(m["FunctionName"]) for m in mappings) == sorted(
        _canonical(ref(function))
        for function in (ids.function, ids.notifier_function, pusher, keeper, limits, *job_functions)
    )


def test_status_lists_match_the_domain() -> None:
    # The filters, the configuration and the function must agree on which statuses are ends.
    assert list(constants.FINISHED_STATUSES) == FINISHED
    assert list(constants.UNFINISHED_STATUSES) == UNFINISHED
    assert stacks.config.FINISHED == constants.FINISHED_STATUSES
    assert {status.value for status in Status if status.finished} == set(FINISHED)
    assert {status.value for status in Status if not status.finished} == set(UNFINISHED)
    assert constants.ORIGIN_EVENT == "event"


def test_notifier_mapping_passes_every_write_of_a_finished_item(
    patterns: list[dict[str, Any]], imported_patterns: list[dict[str, Any]]
) -> None:
    # Which of them ask for an announcement, or a cost, the function decides (logic.stream_records).
    expected = [{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"status": {"S": FINISHED}}}}]
    assert patterns == imported_patterns == expected


def test_notify_imported_reaches_the_function(synthesized_with_notifications: SynthesizedApp) -> None:
    function = LogicalIds.of(synthesized_with_notifications.stack).notifier_function
    variables = synthesized_with_notifications.resources[function]["Properties"]["Environment"]["Variables"]
    assert variables[constants.ENV_NOTIFY_IMPORTED] == "true"


# --- The filters in moto's pattern engine, against golden Lambda DynamoDB stream records ---------

TASK_ARN = "arn:aws:braket:us-east-1:123456789012:quantum-task/6a1e2f3b-9c4d-4e5f-8a7b-0c1d2e3f4a5b"


def _image(
    status: str, origin: str = "event", *, notified: bool = False, announced: str | None = None, details: bool = True
) -> dict[str, Any]:
    """A task item as the stream carries it (DynamoDB JSON). `details`: a finished item has Braket's
    details (`enriched`), unless the recorder wrote its end first and has not added them yet."""
    image: dict[str, Any] = {
        "taskArn": {"S": TASK_ARN},
        "taskId": {"S": TASK_ARN.rsplit("/", 1)[1]},
        "region": {"S": "us-east-1"},
        "account": {"S": "123456789012"},
        "deviceArn": {"S": "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"},
        "shots": {"N": "100"},
        "status": {"S": status},
        "statusTimes": {"M": {"CREATED": {"S": "2026-11-20T08:00:00Z"}, status: {"S": "2026-11-20T08:05:00Z"}}},
        "createdAt": {"S": "2026-11-20T08:00:00Z"},
        "lastEventAt": {"S": "2026-11-20T08:05:00Z"},
        "eventCount": {"N": "2"},
        "eventIds": {"SS": ["0f6c8a42-1111-4e8b-9d1e-6f1c2b3a4d5e", "8d2b7c13-2222-4b7a-a6c9-3e4f5a6b7c8d"]},
        "origin": {"S": origin},
    }
    if status in FINISHED:
        image["endedAt"] = {"S": "2026-11-20T08:05:00Z"}
        if details:
            image["enriched"] = {"BOOL": True}
        image["notifiedAt" if notified else "awaitingNotification"] = {
            "S": "2026-11-20T08:05:01Z" if notified else "us-east-1"
        }
        if announced is not None:  # the end announced was another status: a correction awaits
            image["notifiedAt"] = {"S": "2026-11-20T08:05:01Z"}
            image["notifications"] = {"M": {announced: {"S": "2026-11-20T08:05:01Z"}}}
            image["awaitingNotification"] = {"S": "us-east-1"}
    else:
        image["unfinishedRegion"] = {"S": "us-east-1"}
    return image


def _record(event_name: str, new: dict[str, Any] | None = None, old: dict[str, Any] | None = None) -> dict[str, Any]:
    """A record as Lambda hands it to the function (and as the filters see it)."""
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": 1795680300,
        "Keys": {"taskArn": {"S": TASK_ARN}},
        "SequenceNumber": "4421584500000000017450439091",
        "SizeBytes": 612,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        dynamodb["NewImage"] = new
    if old is not None:
        dynamodb["OldImage"] = old
    return {
        "eventID": "c81e728d9d4c2f636f067f89cc14862c",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": dynamodb,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/Tasks/stream/2026-11-20T00:00:00.000",
    }


def _delivered(patterns: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    """Whether the mapping's filters let `record` through (Lambda invokes when any does)."""
    return any(EventPattern.load(json.dumps(pattern)).matches_event(record) for pattern in patterns)


_deserializer = TypeDeserializer()


def _images(record: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
    """The record as the function reads it: its event name and deserialized images."""
    images = [
        {k: _deserializer.deserialize(v) for k, v in image.items()} if image is not None else None
        for image in (record["dynamodb"].get("OldImage"), record["dynamodb"].get("NewImage"))
    ]
    return record["eventName"], images[0], images[1]


def _announced(patterns: list[dict[str, Any]], record: dict[str, Any], notify_imported: bool) -> bool:
    """Whether the notifier announces it: delivered, and asking for it."""
    return _delivered(patterns, record) and announces(*_images(record), notify_imported)


DELIVERED = {
    "MODIFY RUNNING->COMPLETED": _record("MODIFY", _image("COMPLETED"), _image("RUNNING")),
    "MODIFY QUEUED->FAILED": _record("MODIFY", _image("FAILED"), _image("QUEUED")),
    "MODIFY CANCELLING->CANCELLED": _record("MODIFY", _image("CANCELLED"), _image("CANCELLING")),
    "INSERT CANCELLED": _record("INSERT", _image("CANCELLED")),
    "MODIFY COMPLETED->FAILED, COMPLETED announced": _record(
        "MODIFY", _image("FAILED", announced="COMPLETED"), _image("COMPLETED", notified=True)
    ),
    # The end was written first (and pushed), then Braket's details: the notification goes out now.
    "MODIFY COMPLETED->COMPLETED, details added, unannounced": _record(
        "MODIFY", _image("COMPLETED"), _image("COMPLETED", details=False)
    ),
}
IGNORED = {
    # A later merge into a finished task (enrichment, a duplicate end, the notifier's own mark).
    "MODIFY COMPLETED->COMPLETED": _record("MODIFY", _image("COMPLETED", notified=True), _image("COMPLETED")),
    # Details filled in before the end was announced: the first end's record does that.
    "MODIFY COMPLETED->COMPLETED, unannounced": _record("MODIFY", _image("COMPLETED"), _image("COMPLETED")),
    # The correction's own mark: the new status is announced, nothing awaits.
    "MODIFY FAILED->FAILED, marked": _record(
        "MODIFY", _image("FAILED", notified=True), _image("FAILED", announced="COMPLETED")
    ),
    # The end written before Braket's details (docs/latency.md): the write that adds them is announced.
    "MODIFY RUNNING->COMPLETED, without details yet": _record(
        "MODIFY", _image("COMPLETED", details=False), _image("RUNNING")
    ),
    "INSERT FAILED, without details yet": _record("INSERT", _image("FAILED", details=False)),
    # Details added after the end was announced (the reconciler announced it meanwhile).
    "MODIFY COMPLETED->COMPLETED, details added, announced": _record(
        "MODIFY", _image("COMPLETED", notified=True), _image("COMPLETED", notified=True, details=False)
    ),
    "MODIFY QUEUED->RUNNING": _record("MODIFY", _image("RUNNING"), _image("QUEUED")),
    "INSERT QUEUED": _record("INSERT", _image("QUEUED")),
    "REMOVE": _record("REMOVE", old=_image("COMPLETED", notified=True)),
}
IMPORTED = {
    "INSERT COMPLETED from a backfill": _record("INSERT", _image("COMPLETED", "backfill")),
    "MODIFY RUNNING->FAILED from a backfill": _record(
        "MODIFY", _image("FAILED", "backfill"), _image("RUNNING", "backfill")
    ),
}


@pytest.mark.parametrize("name", DELIVERED)
def test_a_first_end_or_a_correction_is_announced(patterns: list[dict[str, Any]], name: str) -> None:
    assert _announced(patterns, DELIVERED[name], notify_imported=False)


@pytest.mark.parametrize("name", [*IGNORED, *IMPORTED])
def test_what_is_not_a_first_end_from_events_is_not_announced(patterns: list[dict[str, Any]], name: str) -> None:
    record = IGNORED[name] if name in IGNORED else IMPORTED[name]
    assert not _announced(patterns, record, notify_imported=False)


@pytest.mark.parametrize("name", [*DELIVERED, *IMPORTED])
def test_with_notify_imported_imported_ends_are_announced(imported_patterns: list[dict[str, Any]], name: str) -> None:
    record = DELIVERED[name] if name in DELIVERED else IMPORTED[name]
    assert _announced(imported_patterns, record, notify_imported=True)


@pytest.mark.parametrize("name", IGNORED)
def test_with_notify_imported_what_is_not_a_first_end_is_still_not_announced(
    imported_patterns: list[dict[str, Any]], name: str
) -> None:
    assert not _announced(imported_patterns, IGNORED[name], notify_imported=True)


def _enriched(image: dict[str, Any]) -> dict[str, Any]:
    return {**image, "enriched": {"BOOL": True}, "numSuccessfulShots": {"N": "100"}}


@pytest.mark.parametrize(
    ("name", "record", "expected"),
    [
        ("a first end", DELIVERED["MODIFY RUNNING->COMPLETED"], True),
        ("a correction", DELIVERED["MODIFY COMPLETED->FAILED, COMPLETED announced"], True),
        ("an imported end", IMPORTED["INSERT COMPLETED from a backfill"], True),
        (
            "Braket's details filled in",
            _record("MODIFY", _enriched(_image("COMPLETED", notified=True)), _image("COMPLETED", notified=True)),
            True,
        ),
        ("the notifier's mark", IGNORED["MODIFY COMPLETED->COMPLETED"], False),
        ("the correction's mark", IGNORED["MODIFY FAILED->FAILED, marked"], False),
        ("an unfinished change", IGNORED["MODIFY QUEUED->RUNNING"], False),
        ("a removal", IGNORED["REMOVE"], False),
    ],
)
def test_the_notifier_hands_the_cost_keeper_what_may_change_a_cost(
    patterns: list[dict[str, Any]], name: str, record: dict[str, Any], expected: bool
) -> None:
    assert (_delivered(patterns, record) and moves_cost(*_images(record))) is expected, name


# --- Output and subscriptions --------------------------------------------------------------------


def test_notification_topic_output_is_the_only_export(template_json: dict[str, Any], ids: LogicalIds) -> None:
    exported = {key: output for key, output in template_json["Outputs"].items() if "Export" in output}
    assert exported == {
        tracker_stack.OUTPUT_NOTIFICATION_TOPIC: {
            "Description": "One message per finished task: subscribe here",
            "Value": ref(ids.notification_topic),
            "Export": {"Name": f"{STACK_NAME}-NotificationTopicArn"},
        }
    }


def test_notification_context_subscribes_emails_and_endpoints_with_status_filters(
    synthesized_with_notifications: SynthesizedApp,
) -> None:
    topic = ref(LogicalIds.of(synthesized_with_notifications.stack).notification_topic)
    found = [
        s["Properties"] for s in synthesized_with_notifications.resources_of_type("AWS::SNS::Subscription").values()
    ]
    expected = [
        {"Protocol": "email", "Endpoint": "a@example.com", "FilterPolicy": {"status": ["FAILED"]}, "TopicArn": topic},
        {"Protocol": "email", "Endpoint": "b@example.com", "TopicArn": topic},
        {
            "Protocol": "sqs",
            "Endpoint": "arn:aws:sqs:us-east-1:123456789012:inbox",
            "FilterPolicy": {"status": ["COMPLETED"]},
            "TopicArn": topic,
        },
        {"Protocol": "https", "Endpoint": "https://example.com/hook", "TopicArn": topic},
        {"Protocol": "sqs", "Endpoint": "arn:aws:sqs:eu-north-1:123456789012:second-inbox", "TopicArn": topic},
    ]
    assert len(found) == 5  # two queues: their constructs are named by ARN, so they never collide
    assert sorted(found, key=_canonical) == sorted(expected, key=_canonical)


# --- Configuration (no synth) --------------------------------------------------------------------


def test_config_reads_every_notification_setting() -> None:
    config = TrackerConfig.from_context(NOTIFICATION_CONTEXT.get)

    assert config.notify_imported is True
    assert config.notification_emails == (
        EmailSubscription("a@example.com", ("FAILED",)),
        EmailSubscription("b@example.com"),
    )
    assert config.notification_subscriptions == (
        ExtraSubscription("sqs", "arn:aws:sqs:us-east-1:123456789012:inbox", ("COMPLETED",)),
        ExtraSubscription("https", "https://example.com/hook"),
        ExtraSubscription("sqs", "arn:aws:sqs:eu-north-1:123456789012:second-inbox"),
    )


def test_config_defaults_to_no_notification_subscription_and_events_only() -> None:
    config = TrackerConfig.from_context({}.get)

    assert (config.notification_emails, config.notification_subscriptions, config.notify_imported) == ((), (), False)


def test_config_reads_notification_settings_given_as_strings_on_the_command_line() -> None:
    # `cdk synth -c key=value` passes strings.
    context = {
        "notifyImported": "true",
        "notificationEmails": "a@example.com, b@example.com",
        "notificationSubscriptions": json.dumps(NOTIFICATION_CONTEXT["notificationSubscriptions"]),
    }
    config = TrackerConfig.from_context(context.get)

    assert config.notify_imported is True
    assert config.notification_emails == (EmailSubscription("a@example.com"), EmailSubscription("b@example.com"))
    assert (
        config.notification_subscriptions
        == TrackerConfig.from_context(NOTIFICATION_CONTEXT.get).notification_subscriptions
    )


BAD_NOTIFICATION_CONTEXTS = {
    "not an email address": ({"notificationEmails": ["a@example.com", "ops-team"]}, "notificationEmails", "ops-team"),
    "unknown status": (
        {"notificationEmails": [{"address": "a@example.com", "statuses": ["FAILED", "RUNNING"]}]},
        "notificationEmails",
        "RUNNING",
    ),
    "sqs endpoint not a queue ARN": (
        {
            "notificationSubscriptions": [
                {"protocol": "sqs", "endpoint": "https://sqs.us-east-1.amazonaws.com/123456789012/inbox"}
            ]
        },
        "notificationSubscriptions",
        "not an SQS queue ARN",
    ),
    "http URL": (
        {"notificationSubscriptions": [{"protocol": "https", "endpoint": "http://example.com/hook"}]},
        "notificationSubscriptions",
        "http://example.com/hook",
    ),
    "unknown protocol": (
        {"notificationSubscriptions": [{"protocol": "lambda", "endpoint": "arn:aws:lambda:us-east-1:1:function:f"}]},
        "notificationSubscriptions",
        "lambda",
    ),
    "notifyImported maybe": ({"notifyImported": "maybe"}, "notifyImported", "maybe"),
}


@pytest.mark.parametrize("name", BAD_NOTIFICATION_CONTEXTS)
def test_config_rejects_bad_notification_settings_naming_the_key(name: str) -> None:
    context, key, culprit = BAD_NOTIFICATION_CONTEXTS[name]

    with pytest.raises(ConfigurationError, match=key) as raised:
        TrackerConfig.from_context(context.get)

    assert culprit in str(raised.value)

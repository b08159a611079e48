"""Helpers for reading the synthesized template: logical ids, intrinsics and policy statements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import Stack
from constructs import IConstruct

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ALARM_EMAIL = "ops@example.com"
LOG_RETENTION_DAYS = 90
LATENCY_CONTEXT = {"detailsAfterEnd": "false", "recorderMemorySize": 512, "captureProvisionedPollers": 3}
"""The latency settings, each other than its default (docs/latency.md)."""
NOTIFICATION_CONTEXT: dict[str, Any] = {
    "notifyImported": True,
    "notificationEmails": [{"address": "a@example.com", "statuses": ["FAILED"]}, "b@example.com"],
    "notificationSubscriptions": [
        {"protocol": "sqs", "endpoint": "arn:aws:sqs:us-east-1:123456789012:inbox", "statuses": ["COMPLETED"]},
        {"protocol": "https", "endpoint": "https://example.com/hook"},
        {"protocol": "sqs", "endpoint": "arn:aws:sqs:eu-north-1:123456789012:second-inbox"},
    ],
}
"""Every notification setting at once, so that one extra synth covers them all."""


def logical_id(stack: Stack, path: str) -> str:
    """The logical id of the CloudFormation resource behind the construct at `path` in `stack`."""
    construct: IConstruct = stack
    for part in path.split("/"):
        child = construct.node.try_find_child(part)
        assert child is not None, f"no construct {part!r} on the way to {path!r}"
        construct = child
    element = construct.node.default_child or construct
    return stack.get_logical_id(element)  # type: ignore[arg-type]


@dataclass(frozen=True)
class LogicalIds:
    """Logical ids of the stack's resources, found by construct path rather than hashed names."""

    task_table: str
    rejected_table: str
    queue: str
    dead_letter_queue: str
    rule: str
    function: str
    role: str
    log_group: str
    key: str
    topic: str
    notification_key: str
    notification_topic: str
    failed_notifications: str
    notifier_function: str
    notifier_role: str
    notifier_policy: str
    notifier_log_group: str
    api: str
    api_function: str
    api_log_group: str
    api_access_logs: str
    results_bucket: str
    pusher_policy: str
    live_api: str
    live_stage: str
    connections_table: str
    connections_handler: str
    connections_handler_role: str
    connections_handler_log_group: str
    pusher_function: str
    pusher_role: str
    pusher_log_group: str
    access_logs: str
    failed_pushes: str
    job_table: str
    job_failures: str

    @classmethod
    def of(cls, stack: Stack) -> LogicalIds:
        return cls(
            task_table=logical_id(stack, "Tables/Tasks"),
            rejected_table=logical_id(stack, "Tables/RejectedEvents"),
            queue=logical_id(stack, "Capture/Queue"),
            dead_letter_queue=logical_id(stack, "Capture/DeadLetterQueue"),
            rule=logical_id(stack, "Capture/TaskStateChangeRule"),
            function=logical_id(stack, "Recording/Recorder/Function"),
            role=logical_id(stack, "Recording/Recorder/Role"),
            log_group=logical_id(stack, "Recording/Recorder/Logs"),
            key=logical_id(stack, "Operations/AlarmTopicKey"),
            topic=logical_id(stack, "Operations/AlarmTopic"),
            notification_key=logical_id(stack, "Notifications/TopicKey"),
            notification_topic=logical_id(stack, "Notifications/Topic"),
            failed_notifications=logical_id(stack, "Notifications/FailedNotifications"),
            notifier_function=logical_id(stack, "Notifications/Notifier/Function"),
            notifier_role=logical_id(stack, "Notifications/Notifier/Role"),
            notifier_policy=logical_id(stack, "Notifications/Notifier/Role/DefaultPolicy"),
            notifier_log_group=logical_id(stack, "Notifications/Notifier/Logs"),
            api=logical_id(stack, "TaskApi/Api"),
            api_function=logical_id(stack, "TaskApi/Handler/Function"),
            api_log_group=logical_id(stack, "TaskApi/Handler/Logs"),
            api_access_logs=logical_id(stack, "TaskApi/AccessLogs"),
            results_bucket=logical_id(stack, "TaskApi/Results"),
            pusher_policy=logical_id(stack, "LiveUpdates/Pusher/Role/DefaultPolicy"),
            live_api=logical_id(stack, "LiveUpdates/Api"),
            live_stage=logical_id(stack, "LiveUpdates/Stage"),
            connections_table=logical_id(stack, "LiveUpdates/Connections"),
            connections_handler=logical_id(stack, "LiveUpdates/ConnectionsHandler/Function"),
            connections_handler_role=logical_id(stack, "LiveUpdates/ConnectionsHandler/Role"),
            connections_handler_log_group=logical_id(stack, "LiveUpdates/ConnectionsHandler/Logs"),
            pusher_function=logical_id(stack, "LiveUpdates/Pusher/Function"),
            pusher_role=logical_id(stack, "LiveUpdates/Pusher/Role"),
            pusher_log_group=logical_id(stack, "LiveUpdates/Pusher/Logs"),
            access_logs=logical_id(stack, "LiveUpdates/AccessLogs"),
            failed_pushes=logical_id(stack, "LiveUpdates/FailedPushes"),
            job_table=logical_id(stack, "Jobs/Jobs"),
            job_failures=logical_id(stack, "JobFunctions/FailedRecords"),
        )


def ref(name: str) -> dict[str, Any]:
    return {"Ref": name}


def arn_of(name: str, attribute: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [name, attribute]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def flatten(value: Any) -> str:
    """Render a value built from Ref, Fn::GetAtt and Fn::Join as text: `${Name}`, `${Name.Attr}`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (function, argument), *_ = value.items()
        if function == "Ref":
            return f"${{{argument}}}"
        if function == "Fn::GetAtt":
            return f"${{{argument[0]}.{argument[1]}}}"
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(flatten(part) for part in parts)
    raise AssertionError(f"cannot flatten {value!r}")


def policy_statements(resources: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every statement of every policy document in the template, as (logical id, type, statement)."""

    def documents(value: Any) -> Iterator[dict[str, Any]]:
        if isinstance(value, dict):
            if "Statement" in value:
                yield value
            else:
                for item in value.values():
                    yield from documents(item)
        elif isinstance(value, list):
            for item in value:
                yield from documents(item)

    for name, resource in resources.items():
        for document in documents(resource.get("Properties", {})):
            for statement in as_list(document["Statement"]):
                yield name, resource["Type"], statement


def role_statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """Statements of the inline policies of `role` and of the policies attached to it."""
    found: list[dict[str, Any]] = []
    for policy in resources[role]["Properties"].get("Policies", []):
        found.extend(as_list(policy["PolicyDocument"]["Statement"]))
    for resource in resources.values():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and ref(role) in resource[
            "Properties"
        ].get("Roles", []):
            found.extend(as_list(resource["Properties"]["PolicyDocument"]["Statement"]))
    return found


def grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """The (action, resource) pairs that the Allow statements grant, resources flattened to text.

    An Allow with NotAction or NotResource fails: it grants more than it names."""
    pairs: set[tuple[str, str]] = set()
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        assert "NotAction" not in statement and "NotResource" not in statement, statement
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                pairs.add((action, flatten(resource)))
    return pairs


def queue_policy_statements(resources: dict[str, Any], queue: str) -> list[dict[str, Any]]:
    """Statements of the queue policies that apply to `queue`."""
    found: list[dict[str, Any]] = []
    for resource in resources.values():
        if resource["Type"] == "AWS::SQS::QueuePolicy" and ref(queue) in resource["Properties"]["Queues"]:
            found.extend(as_list(resource["Properties"]["PolicyDocument"]["Statement"]))
    assert found, f"no queue policy for {queue}"
    return found


def denies_insecure_transport(statement: dict[str, Any], action: str) -> bool:
    """True if `statement` denies `action` to everyone when the request is not over TLS."""
    principal = statement.get("Principal")
    return (
        statement["Effect"] == "Deny"
        and action in as_list(statement["Action"])
        and principal in ("*", {"AWS": "*"})
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    )

"""The capture queue, its dead-letter queue (and the failed-notifications queue): encryption, redrive,
timeouts and access."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.capture import MAX_RECEIVE_COUNT
from tests.infrastructure.helpers import (
    LogicalIds,
    arn_of,
    as_list,
    denies_insecure_transport,
    logical_id,
    queue_policy_statements,
)
from tests.support.app import SynthesizedApp

pytestmark = pytest.mark.infrastructure

EVENTS = {"Service": "events.amazonaws.com"}
SEND_ACTIONS = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
QUEUES = ["queue", "dead_letter_queue", "failed_notifications", "failed_pushes", "job_failures"]
"""LogicalIds fields of the stack's queues; the costs' own are tested in test_costs.py."""
COST_QUEUES = [
    "Costs/CostQueue",
    "Costs/CostQueueDeadLetterQueue",
    "Costs/SpendChangeQueue",
    "Costs/SpendChangeDeadLetterQueue",
]


@pytest.fixture(scope="module")
def queue(resources: dict[str, Any], ids: LogicalIds) -> dict[str, Any]:
    return resources[ids.queue]["Properties"]  # type: ignore[no-any-return]


def _allows(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [statement for statement in statements if statement["Effect"] == "Allow"]


def test_stack_has_exactly_these_queues(
    resources: dict[str, Any], ids: LogicalIds, synthesized: SynthesizedApp
) -> None:
    queues = {name for name, resource in resources.items() if resource["Type"] == "AWS::SQS::Queue"}
    costs = {logical_id(synthesized.stack, path) for path in COST_QUEUES}
    assert queues == {getattr(ids, name) for name in QUEUES} | costs


@pytest.mark.parametrize("name", QUEUES)
def test_queue_uses_sqs_managed_encryption(resources: dict[str, Any], ids: LogicalIds, name: str) -> None:
    assert resources[getattr(ids, name)]["Properties"]["SqsManagedSseEnabled"] is True


def test_capture_queue_redrives_to_dead_letter_queue(queue: dict[str, Any], ids: LogicalIds) -> None:
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": arn_of(ids.dead_letter_queue),
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    }


def test_capture_queue_visibility_timeout_is_six_times_the_recorder_timeout(
    queue: dict[str, Any], resources: dict[str, Any], ids: LogicalIds
) -> None:
    recorder_timeout = resources[ids.function]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * recorder_timeout


@pytest.mark.parametrize("name", QUEUES)
def test_queue_policy_denies_requests_without_tls(resources: dict[str, Any], ids: LogicalIds, name: str) -> None:
    queue_id = getattr(ids, name)
    statements = queue_policy_statements(resources, queue_id)
    assert any(
        denies_insecure_transport(statement, "sqs:*") and statement["Resource"] == arn_of(queue_id)
        for statement in statements
    ), statements


@pytest.mark.parametrize("queue", ["queue", "dead_letter_queue"])
def test_queue_policy_admits_eventbridge_for_the_capture_rule_only(
    resources: dict[str, Any], ids: LogicalIds, queue: str
) -> None:
    # The dead-letter queue needs it too: EventBridge parks there what it fails to deliver
    # (the target's DeadLetterConfig).
    allows = _allows(queue_policy_statements(resources, getattr(ids, queue)))
    assert allows
    assert "sqs:SendMessage" in {action for statement in allows for action in as_list(statement["Action"])}
    for statement in allows:
        assert statement["Principal"] == EVENTS
        assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": arn_of(ids.rule)}}
        # Only what a SendMessage target needs: nothing that reads, deletes or administers messages.
        assert set(as_list(statement["Action"])) <= SEND_ACTIONS

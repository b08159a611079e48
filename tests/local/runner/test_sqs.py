"""SQS event source mappings: Lambda's SQS event, partial batch failures, redrive, fault-mode redelivery."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest

from local.faults import FaultPlan
from local.runner.functions import Invocation
from local.runner.sqs import failed_message_ids
from tests.local.runner import templates
from tests.local.runner.moto_stack import REGION, Deployed, QueueReader, eventually


def queue_template(window: int) -> dict[str, Any]:
    return templates.stack(
        Dlq=templates.queue(),
        Work=templates.queue_with_dlq("Dlq", max_receive_count=2),
        Output=templates.queue(),
        Consumer=templates.function("batch.handler", timeout=10, OUTPUT_QUEUE_URL={"Ref": "Output"}),
        Mapping=templates.sqs_mapping(
            "Consumer",
            "Work",
            BatchSize=10,
            MaximumBatchingWindowInSeconds=window,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            ScalingConfig={"MaximumConcurrency": 2},
        ),
    )


@pytest.fixture
def queue_stack(deploy: Callable[[dict[str, Any]], Deployed]) -> Deployed:
    return deploy(queue_template(window=0))


def send(deployed: Deployed, *bodies: str) -> dict[str, str]:
    """Send messages; returns body -> message id."""
    sqs = deployed.aws.client("sqs")
    ids = {}
    for body in bodies:
        ids[body] = sqs.send_message(
            QueueUrl=deployed.physical["Work"],
            MessageBody=body,
            MessageAttributes={"kind": {"DataType": "String", "StringValue": body.split("-")[0]}},
        )["MessageId"]
    return ids


def receive_counts(records: list[dict[str, Any]]) -> dict[str, list[int]]:
    counts: dict[str, list[int]] = defaultdict(list)
    for record in records:
        counts[record["body"]].append(int(record["attributes"]["ApproximateReceiveCount"]))
    return {body: sorted(c) for body, c in counts.items()}


def test_records_have_lambdas_sqs_event_shape(queue_stack: Deployed) -> None:
    output = QueueReader(queue_stack.aws, queue_stack.physical["Output"])
    with queue_stack.running():
        ids = send(queue_stack, "ok-1")
        [record] = output.until(1)

    queue_arn = queue_stack.aws.client("sqs").get_queue_attributes(
        QueueUrl=queue_stack.physical["Work"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert set(record) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert record["messageId"] == ids["ok-1"]
    assert record["body"] == "ok-1"
    assert record["md5OfBody"] == hashlib.md5(b"ok-1").hexdigest()
    assert set(record["attributes"]) == {
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    }
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"] == {
        "kind": {"stringValue": "ok", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    }
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == ("aws:sqs", queue_arn, REGION)


def test_partial_batch_failure_deletes_successes_and_redrives_failures(queue_stack: Deployed) -> None:
    """ReportBatchItemFailures: successes are deleted at once, reported failures come back (after
    retry_visibility_seconds) and, after maxReceiveCount (2) receives, SQS moves them to the DLQ."""
    output = QueueReader(queue_stack.aws, queue_stack.physical["Output"])
    dlq = QueueReader(queue_stack.aws, queue_stack.physical["Dlq"], as_json=False)
    ids = send(queue_stack, "ok-1", "fail-1", "ok-2", "fail-2")
    with queue_stack.running(retry_visibility_seconds=1):
        parked = dlq.until(2, timeout=20)
        seen = receive_counts(output.poll())

    assert sorted(m["MessageId"] for m in parked) == sorted([ids["fail-1"], ids["fail-2"]])
    assert seen == {"ok-1": [1], "ok-2": [1], "fail-1": [1, 2], "fail-2": [1, 2]}
    attributes = queue_stack.aws.client("sqs").get_queue_attributes(
        QueueUrl=queue_stack.physical["Work"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_function_error_leaves_the_whole_batch(deploy: Callable[[dict[str, Any]], Deployed]) -> None:
    """Both messages, sent one after the other while the runner polls, share a batch (the batching
    window gathers them); the function fails, so the good message is retried with the bad one."""
    queue_stack = deploy(queue_template(window=1))
    output = QueueReader(queue_stack.aws, queue_stack.physical["Output"])
    dlq = QueueReader(queue_stack.aws, queue_stack.physical["Dlq"], as_json=False)
    with queue_stack.running(retry_visibility_seconds=0):
        send(queue_stack, "ok-1", "crash-1")
        dlq.until(2, timeout=20)
        seen = receive_counts(output.poll())

    assert seen == {"ok-1": [1, 2], "crash-1": [1, 2]}


def test_fault_mode_redelivers_the_same_message(queue_stack: Deployed) -> None:
    output = QueueReader(queue_stack.aws, queue_stack.physical["Output"])
    with queue_stack.running(faults=FaultPlan(redeliver_message=1.0)):
        ids = send(queue_stack, "ok-1")
        first, second = output.until(2)[:2]

    assert first["messageId"] == second["messageId"] == ids["ok-1"]
    assert (first["attributes"]["ApproximateReceiveCount"], second["attributes"]["ApproximateReceiveCount"]) == (
        "1",
        "2",
    )
    unchanged = ("body", "md5OfBody", "messageAttributes", "eventSourceARN")
    assert {k: first[k] for k in unchanged} == {k: second[k] for k in unchanged}
    assert first["attributes"]["SentTimestamp"] == second["attributes"]["SentTimestamp"]


def test_maximum_concurrency_caps_concurrent_invocations(deploy: Callable[[dict[str, Any]], Deployed]) -> None:
    """Six slow single-message batches with ScalingConfig.MaximumConcurrency 2: two workers, no more."""
    template = queue_template(window=0)
    template["Resources"]["Mapping"]["Properties"]["BatchSize"] = 1
    deployed = deploy(template)
    output = QueueReader(deployed.aws, deployed.physical["Output"])
    send(deployed, *(f"slow-{n}" for n in range(6)))
    with deployed.running() as runner:
        output.until(6)
        workers = runner.functions["Consumer"].worker_pids()
    assert len(workers) == 2


def test_without_faults_a_processed_message_is_delivered_once(queue_stack: Deployed) -> None:
    output = QueueReader(queue_stack.aws, queue_stack.physical["Output"])
    with queue_stack.running(retry_visibility_seconds=0):
        send(queue_stack, "ok-1")
        output.until(1)
        eventually(lambda: _queue_empty(queue_stack))
    assert len(output.poll()) == 1


def _queue_empty(deployed: Deployed) -> bool:
    attributes = deployed.aws.client("sqs").get_queue_attributes(
        QueueUrl=deployed.physical["Work"], AttributeNames=["All"]
    )["Attributes"]
    return attributes["ApproximateNumberOfMessages"] == attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def _invocation(payload: Any = None, error: dict[str, Any] | None = None) -> Invocation:
    return Invocation("F", "r", payload, error, cold_start=False, worker_pid=1, duration_ms=1.0)


@pytest.mark.parametrize(
    ("payload", "error", "failed"),
    [
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, None, {"b"}),
        ({"batchItemFailures": []}, None, set()),
        ({"batchItemFailures": None}, None, set()),
        ({}, None, set()),
        (None, None, set()),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, None, {"a", "b"}),  # not in the batch
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, None, {"a", "b"}),
        ({"batchItemFailures": [{"id": "a"}]}, None, {"a", "b"}),  # a bad key name
        ("nonsense", None, {"a", "b"}),
        (None, {"errorType": "Sandbox.Timedout"}, {"a", "b"}),
    ],
)
def test_partial_batch_response_rules(payload: Any, error: dict[str, Any] | None, failed: set[str]) -> None:
    assert failed_message_ids(_invocation(payload, error), ["a", "b"], report_item_failures=True) == failed


def test_without_report_batch_item_failures_a_returned_list_is_ignored() -> None:
    invocation = _invocation({"batchItemFailures": [{"itemIdentifier": "a"}]})
    assert failed_message_ids(invocation, ["a", "b"], report_item_failures=False) == set()

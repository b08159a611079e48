"""The recorder handler end to end against moto server: SQS batches in, task items out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.stub import Stubber

from tests.integration.conftest import DEVICE_PARAMETERS, RESERVATION, DocumentedBraket, Recorder
from tests.support.events import load_fixture, sqs_batch, state_change, task_arn
from tests.support.failures import missing_resource
from tests.support.lambda_context import FakeLambdaContext
from tracker.data.braket_tasks import BraketTasks

_deserialize = TypeDeserializer().deserialize


def stored(dynamodb: Any, table: str, key: dict[str, str]) -> dict[str, Any] | None:
    response = dynamodb.get_item(TableName=table, Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True)
    item = response.get("Item")
    return None if item is None else {name: _deserialize(value) for name, value in item.items()}


def raw_item(dynamodb: Any, table: str, arn: str) -> dict[str, Any]:
    response = dynamodb.get_item(TableName=table, Key={"taskArn": {"S": arn}}, ConsistentRead=True)
    return response["Item"]  # type: ignore[no-any-return]


def lifecycle(arn: str) -> list[dict[str, Any]]:
    return [
        state_change(arn, "CREATED", "2026-11-20T08:00:01Z"),
        state_change(arn, "QUEUED", "2026-11-20T08:00:02Z"),
        state_change(arn, "RUNNING", "2026-11-20T09:41:10Z"),
        state_change(arn, "COMPLETED", "2026-11-20T09:41:19Z", ended_at="2026-11-20T09:41:18.504Z"),
    ]


def test_real_lifecycle_fixture_becomes_a_readable_item(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str]
) -> None:
    events = load_fixture("task-lifecycle-qpu-completed.json")

    response = recorder.deliver([json.dumps(e) for e in events])

    assert response == {"batchItemFailures": []}
    arn = events[0]["detail"]["quantumTaskArn"]
    item = stored(dynamodb, table_names["taskArn"], {"taskArn": arn})
    assert item == {
        "taskArn": arn,
        "taskId": "a3e1f6d2-7c44-4f0b-8b1e-3d5c9e2f7a41",
        "region": "eu-north-1",
        "account": "012345678901",
        "deviceArn": "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet",
        "deviceName": "Garnet",
        "shots": Decimal(1000),
        "status": "COMPLETED",
        "statusTimes": {
            "CREATED": "2026-11-20T08:00:01.000Z",
            "QUEUED": "2026-11-20T08:00:02.000Z",
            "RUNNING": "2026-11-20T09:41:10.000Z",
            "COMPLETED": "2026-11-20T09:41:19.000Z",
        },
        "createdAt": "2026-11-20T08:00:01.120Z",
        "endedAt": "2026-11-20T09:41:18.504Z",
        "queueSeconds": Decimal("6068.880"),
        "runSeconds": Decimal("8.504"),
        "outputS3Bucket": "amazon-braket-eu-north-1-012345678901",
        "outputS3Directory": "tasks/a3e1f6d2-7c44-4f0b-8b1e-3d5c9e2f7a41",
        "resultsUri": "s3://amazon-braket-eu-north-1-012345678901/tasks/a3e1f6d2-7c44-4f0b-8b1e-3d5c9e2f7a41/results.json",
        "lastEventAt": "2026-11-20T09:41:19.000Z",
        "eventCount": Decimal(4),
        "eventIds": {e["id"] for e in events},
        "enriched": True,
        "tags": {"team": "qml"},
        "numSuccessfulShots": Decimal(1000),
        "deviceParameters": DEVICE_PARAMETERS,
        "actionMetadata": {"actionType": "braket.ir.openqasm.program"},
        "associations": [{"arn": RESERVATION, "type": "RESERVATION_TIME_WINDOW_ARN"}],
        "origin": "event",
        "awaitingNotification": "eu-north-1",
    }


@pytest.fixture
def details_first(recorder: Recorder) -> Iterator[Recorder]:
    """The recorder with detailsAfterEnd=false: an end waits for Braket's details, one write."""
    recorder.module.recorder.details_after_end = False
    yield recorder
    recorder.module.recorder.details_after_end = True


def test_in_order_events_cost_one_write_each_and_the_details_one_more(recorder: Recorder) -> None:
    events = lifecycle(task_arn())

    recorder.deliver([json.dumps(e) for e in events])

    # The end is written (and pushed) first; Braket's details follow in a write of their own.
    assert recorder.requests == ["PutItem", "UpdateItem", "UpdateItem", "UpdateItem", "PutItem"]


def test_with_details_first_in_order_events_cost_one_write_each(details_first: Recorder) -> None:
    details_first.deliver([json.dumps(e) for e in lifecycle(task_arn())])

    assert details_first.requests == ["PutItem", "UpdateItem", "UpdateItem", "UpdateItem"]


class WatchingBraket(DocumentedBraket):
    """Answers GetQuantumTask, noting the status the task table showed when Braket was asked."""

    def __init__(self, table: Any) -> None:
        super().__init__()
        self.table = table
        self.seen: list[tuple[str | None, bool]] = []

    def get_quantum_task(self, quantumTaskArn: str) -> dict[str, Any]:
        item = self.table.get(quantumTaskArn)
        self.seen.append((item and item.status.value, item is not None and item.enrichment is not None))
        return super().get_quantum_task(quantumTaskArn)


@pytest.mark.parametrize(("after_end", "seen"), [(True, ("COMPLETED", False)), (False, ("RUNNING", False))])
def test_the_end_is_written_before_braket_is_asked_unless_details_come_first(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str], after_end: bool, seen: tuple[str, bool]
) -> None:
    module = recorder.module.recorder
    watching = WatchingBraket(module.table)
    module.braket = BraketTasks(max_attempts=1, client_factory=lambda region: watching)
    module.details_after_end = after_end
    arn = task_arn()
    try:
        recorder.deliver([json.dumps(e) for e in lifecycle(arn)])
    finally:
        module.details_after_end = True

    assert watching.seen == [seen]
    item = stored(dynamodb, table_names["taskArn"], {"taskArn": arn})
    assert item is not None
    assert (item["status"], item["enriched"], item["tags"], item["numSuccessfulShots"]) == (
        "COMPLETED",
        True,
        {"team": "qml"},
        1000,
    )


class BatchWatchingBraket(DocumentedBraket):
    """Answers GetQuantumTask, noting every watched task's status in the table at each call."""

    def __init__(self, table: Any, arns: list[str]) -> None:
        super().__init__()
        self.table, self.arns = table, arns
        self.seen: list[list[str | None]] = []

    def get_quantum_task(self, quantumTaskArn: str) -> dict[str, Any]:
        self.seen.append([(item.status.value if (item := self.table.get(arn)) else None) for arn in self.arns])
        return super().get_quantum_task(quantumTaskArn)


def test_every_end_of_a_batch_is_written_before_braket_is_asked_about_any(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str]
) -> None:
    arns = [task_arn() for _ in range(3)]
    module = recorder.module.recorder
    watching = BatchWatchingBraket(module.table, arns)
    module.braket = BraketTasks(max_attempts=1, client_factory=lambda region: watching)
    recorder.deliver([json.dumps(e) for arn in arns for e in lifecycle(arn)[:3]])

    response = recorder.deliver([json.dumps(lifecycle(arn)[3]) for arn in arns])  # three ends in one batch

    assert response == {"batchItemFailures": []}
    assert watching.seen == [["COMPLETED"] * 3] * 3  # no end waited for another's GetQuantumTask
    for arn in arns:
        item = stored(dynamodb, table_names["taskArn"], {"taskArn": arn})
        assert item is not None and item["enriched"] is True


def test_details_that_cannot_be_written_retry_only_their_message_and_the_redelivery_writes_them(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str]
) -> None:
    doomed, fine = task_arn(), task_arn()
    recorder.deliver([json.dumps(e) for arn in (doomed, fine) for e in lifecycle(arn)[:3]])
    ends = [json.dumps(lifecycle(arn)[3]) for arn in (doomed, fine)]
    event = sqs_batch(ends)
    table = recorder.module.recorder.table
    # A real DynamoDB error for the doomed task's details write only (its end's write went through).
    with missing_resource(
        table, "replace", "table_name", "no-such-table", lambda record, *_: record.task.arn == doomed
    ):
        response = recorder.module.lambda_handler(event, FakeLambdaContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    first = stored(dynamodb, table_names["taskArn"], {"taskArn": doomed})
    assert first is not None and first["status"] == "COMPLETED" and "enriched" not in first
    assert (stored(dynamodb, table_names["taskArn"], {"taskArn": fine}) or {}).get("enriched") is True

    assert recorder.deliver(ends[:1], receive_count=2) == {"batchItemFailures": []}  # SQS delivers it again

    assert (stored(dynamodb, table_names["taskArn"], {"taskArn": doomed}) or {}).get("enriched") is True


def test_an_end_already_detailed_is_not_asked_about_again(recorder: Recorder, braket: DocumentedBraket) -> None:
    arn = task_arn()
    events = [json.dumps(e) for e in lifecycle(arn)]
    recorder.deliver(events)
    recorder.requests.clear()

    recorder.deliver(events[-1:])  # Braket (or SQS) delivered the end again

    assert braket.calls == [arn]  # once, for the first delivery
    assert recorder.requests == ["UpdateItem"]  # its condition fails: a duplicate, nothing written


def test_unfinished_task_is_in_the_unfinished_index_until_it_ends(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str]
) -> None:
    arn = task_arn(region="us-west-1")
    events = lifecycle(arn)
    table = table_names["taskArn"]

    recorder.deliver([json.dumps(e) for e in events[:3]])
    assert stored(dynamodb, table, {"taskArn": arn})["unfinishedRegion"] == "us-west-1"  # type: ignore[index]
    recorder.deliver([json.dumps(events[3])])

    assert "unfinishedRegion" not in stored(dynamodb, table, {"taskArn": arn})  # type: ignore[operator]


def test_shuffled_and_redelivered_events_give_the_same_item_as_in_order(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str]
) -> None:
    table = table_names["taskArn"]
    in_order, shuffled = task_arn(), task_arn()
    ordered_events = lifecycle(in_order)
    same_events = [json.loads(json.dumps(e).replace(in_order, shuffled)) for e in ordered_events]
    scrambled = [same_events[i] for i in (3, 1, 3, 0, 2, 1, 0)]

    recorder.deliver([json.dumps(e) for e in ordered_events])
    recorder.deliver([json.dumps(e) for e in scrambled[:4]])
    recorder.deliver([json.dumps(e) for e in scrambled[4:]])

    a = stored(dynamodb, table, {"taskArn": in_order})
    b = stored(dynamodb, table, {"taskArn": shuffled})
    assert a is not None and b is not None
    differing = {"taskArn", "taskId", "outputS3Directory", "resultsUri", "eventIds"}
    assert {k: v for k, v in a.items() if k not in differing} == {k: v for k, v in b.items() if k not in differing}


def test_redelivered_event_leaves_the_item_byte_for_byte_unchanged(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str]
) -> None:
    arn = task_arn()
    events = lifecycle(arn)
    recorder.deliver([json.dumps(e) for e in events])
    before = raw_item(dynamodb, table_names["taskArn"], arn)
    recorder.requests.clear()

    recorder.deliver([json.dumps(events[3]), json.dumps(events[1])])

    assert raw_item(dynamodb, table_names["taskArn"], arn) == before
    assert recorder.requests == ["UpdateItem", "UpdateItem"]  # one failed condition each, no write


def test_late_queued_after_completed_keeps_completed(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str]
) -> None:
    arn = task_arn()
    created, queued, running, completed = lifecycle(arn)

    recorder.deliver([json.dumps(e) for e in (created, running, completed)])
    recorder.deliver([json.dumps(queued)])

    item = stored(dynamodb, table_names["taskArn"], {"taskArn": arn})
    assert item is not None
    assert item["status"] == "COMPLETED"
    assert item["statusTimes"]["QUEUED"] == "2026-11-20T08:00:02.000Z"
    assert item["eventCount"] == 4


def test_first_event_seen_late_is_still_recorded(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str]
) -> None:
    arn = task_arn()
    created, queued, *_ = lifecycle(arn)

    recorder.deliver([json.dumps(queued)])
    recorder.deliver([json.dumps(created)])

    item = stored(dynamodb, table_names["taskArn"], {"taskArn": arn})
    assert item is not None
    assert item["status"] == "QUEUED"
    assert set(item["statusTimes"]) == {"CREATED", "QUEUED"}


def test_malformed_events_go_to_the_rejected_table_and_do_not_block_the_batch(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    good = state_change(task_arn(), "CREATED", "2026-11-20T08:00:01Z")
    unknown_status = state_change(task_arn(), "PAUSED", "2026-11-20T08:00:01Z")
    event = sqs_batch(["{not json", json.dumps(unknown_status), json.dumps(good)])

    response = recorder.module.lambda_handler(event, FakeLambdaContext())

    assert response == {"batchItemFailures": []}
    first, second, _ = event["Records"]
    bad_json = stored(dynamodb, table_names["messageId"], {"messageId": first["messageId"]})
    bad_status = stored(dynamodb, table_names["messageId"], {"messageId": second["messageId"]})
    assert bad_json is not None and bad_json["body"] == "{not json" and "JSON" in bad_json["reason"]
    assert bad_status is not None and "detail.status" in bad_status["reason"]
    assert json.loads(bad_status["body"]) == unknown_status
    assert stored(dynamodb, table_names["taskArn"], {"taskArn": good["detail"]["quantumTaskArn"]}) is not None
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(m.get("RejectedEvents") == [1.0, 1.0] for m in metrics)


def test_storage_failure_reports_only_that_message_for_retry(recorder: Recorder) -> None:
    table = recorder.module.recorder.table
    doomed, fine = task_arn(), task_arn()
    event = sqs_batch([json.dumps(state_change(arn, "CREATED", "2026-11-20T08:00:01Z")) for arn in (doomed, fine)])
    # A real DynamoDB error (ResourceNotFoundException) for the doomed task only.
    with missing_resource(table, "insert_first", "table_name", "no-such-table", lambda r: r.task.arn == doomed):
        response = recorder.module.lambda_handler(event, FakeLambdaContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert recorder.module.recorder.table.get(fine) is not None
    assert recorder.module.recorder.table.get(doomed) is None


def test_failed_task_is_enriched_from_braket_in_the_tasks_region(
    recorder: Recorder, braket: DocumentedBraket, dynamodb: Any, table_names: dict[str, str]
) -> None:
    event = load_fixture("task-state-change-failed.json")
    event["region"] = "us-east-1"

    recorder.deliver([json.dumps(event)])

    arn = event["detail"]["quantumTaskArn"]
    assert braket.calls == [arn]
    item = stored(dynamodb, table_names["taskArn"], {"taskArn": arn})
    assert item is not None
    assert item["status"] == "FAILED"
    assert item["enriched"] is True
    assert item["region"] == "us-west-2"


def test_end_is_recorded_unenriched_when_braket_keeps_throttling(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    client = boto3.client("braket", region_name="us-west-2")
    stubber = Stubber(client)
    stubber.add_client_error("get_quantum_task", service_error_code="ThrottlingException", http_status_code=429)
    recorder.module.recorder.braket = BraketTasks(max_attempts=1, client_factory=lambda region: client)
    arn = task_arn(region="us-west-2")

    with stubber:
        response = recorder.deliver([json.dumps(state_change(arn, "FAILED", "2026-11-22T16:30:04Z"))])

    assert response == {"batchItemFailures": []}
    item = stored(dynamodb, table_names["taskArn"], {"taskArn": arn})
    assert item is not None
    assert item["status"] == "FAILED"
    assert item["enriched"] is False
    assert "failureReason" not in item
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(m.get("EnrichmentFailures") == [1.0] for m in metrics)


def test_failure_reason_from_braket_is_on_the_item_with_the_failed_status(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str]
) -> None:
    arn = task_arn(region="us-west-2")
    client = boto3.client("braket", region_name="us-west-2")
    stubber = Stubber(client)
    stubber.add_response(
        "get_quantum_task",
        {
            "quantumTaskArn": arn,
            "status": "FAILED",
            "failureReason": "Circuit exceeds the device's qubit count",
            "deviceArn": "arn:aws:braket:::device/quantum-simulator/amazon/dm1",
            "deviceParameters": "{}",
            "shots": 0,
            "outputS3Bucket": "amazon-braket-us-west-2-012345678901",
            "outputS3Directory": f"tasks/{arn.rsplit('/', 1)[-1]}",
            "createdAt": datetime(2026, 11, 22, 16, 30, tzinfo=UTC),
            "tags": {"experiment": "vqe"},
        },
        {"quantumTaskArn": arn},
    )
    recorder.module.recorder.braket = BraketTasks(max_attempts=1, client_factory=lambda region: client)
    created = state_change(arn, "CREATED", "2026-11-22T16:30:01Z")
    failed = state_change(arn, "FAILED", "2026-11-22T16:30:04Z")

    with stubber:
        recorder.deliver([json.dumps(created), json.dumps(failed)])

    item = stored(dynamodb, table_names["taskArn"], {"taskArn": arn})
    assert item is not None
    assert (item["status"], item["failureReason"], item["tags"]) == (
        "FAILED",
        "Circuit exceeds the device's qubit count",
        {"experiment": "vqe"},
    )
    # A task that never ran has no RUNNING time for the one-write update: the end is merged, then
    # Braket's details follow.
    assert recorder.requests == ["PutItem", "UpdateItem", "PutItem", "PutItem"]


def test_an_end_is_recorded_unenriched_when_braket_could_not_answer_in_time(
    recorder: Recorder, braket: DocumentedBraket, dynamodb: Any, table_names: dict[str, str]
) -> None:
    arn = task_arn()
    event = sqs_batch([json.dumps(state_change(arn, "COMPLETED", "2026-11-20T08:00:09Z"))])
    short = FakeLambdaContext(remaining_millis=8_000)  # less than Braket's worst case plus the writes

    response = recorder.module.lambda_handler(event, short)

    assert response == {"batchItemFailures": []}
    assert braket.calls == []
    item = stored(dynamodb, table_names["taskArn"], {"taskArn": arn})
    assert item is not None and item["status"] == "COMPLETED" and item["enriched"] is False

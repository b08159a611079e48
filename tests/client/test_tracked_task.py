"""TrackedTask as the SDK's task interface where they overlap: metadata() in GetQuantumTask's shape
(keys and types), from_arn with a bare id, and cancel() then state() reading CANCELLING at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
from braket_tracker import TrackedTask, TrackerClient
from braket_tracker.quantum_task import GET_QUANTUM_TASK_KEYS

from tests.client.conftest import FakeTime
from tests.client.fakes import FakeTaskApi, item, task_arn

DEVICE_PARAMETERS = '{"braketSchemaHeader": {"name": "braket.device_schema.simulators.gate_model_simulator_device_parameters", "version": "1"}}'  # noqa: E501


def test_metadata_has_get_quantum_tasks_keys_and_types(client: TrackerClient, api: FakeTaskApi) -> None:
    arn = task_arn()
    api.add(item(arn, "COMPLETED", endedAt="2026-11-24T10:00:09.250Z", numSuccessfulShots=100, tags={"p": "x"}))

    metadata = TrackedTask.from_arn(arn, client).metadata()
    seen = api.requests[-1]

    assert metadata["quantumTaskArn"] == arn
    assert metadata["status"] == "COMPLETED"
    assert metadata["createdAt"] == datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)
    assert metadata["endedAt"] == datetime(2026, 11, 24, 10, 0, 9, 250000, tzinfo=UTC)
    assert (metadata["shots"], metadata["numSuccessfulShots"], metadata["tags"]) == (100, 100, {"p": "x"})
    assert metadata["outputS3Directory"] == f"tasks/{arn.rsplit('/', 1)[1]}"
    assert metadata["queueInfo"] == {
        "queue": "QUANTUM_TASKS_QUEUE",
        "position": "None",
        "queuePriority": "Normal",
        "message": "Task is in COMPLETED status. AmazonBraket does not show queue position for this status.",
    }
    assert "deviceParameters" not in metadata  # not recorded yet: never made up
    # ResponseMetadata is the Task API's answer's, as botocore builds it from Braket's.
    response = metadata["ResponseMetadata"]
    assert response["HTTPStatusCode"] == 200
    assert response["RetryAttempts"] == 0
    assert parsedate_to_datetime(response["HTTPHeaders"]["date"]).tzinfo is not None
    assert response["RequestId"] == response["HTTPHeaders"]["x-amzn-requestid"]
    assert seen.method == "GET"
    # The tracker's own fields are under one key, and none of them collides with Braket's.
    assert {"statusTimes", "submitter", "resultsUri", "origin", "eventCount", "taskId"} <= set(metadata["tracker"])
    assert not set(metadata["tracker"]) & GET_QUANTUM_TASK_KEYS
    assert set(metadata) - {"tracker", "ResponseMetadata"} <= GET_QUANTUM_TASK_KEYS


def test_metadata_takes_braket_s_details_from_the_item(client: TrackerClient, api: FakeTaskApi) -> None:
    arn = task_arn()
    reservation = [
        {"arn": "arn:aws:braket:us-east-1:123456789012:reservation/r", "type": "RESERVATION_TIME_WINDOW_ARN"}
    ]
    action = {"actionType": "braket.ir.openqasm.program"}
    details = {"deviceParameters": DEVICE_PARAMETERS, "actionMetadata": action, "associations": reservation}
    api.add(item(arn, "FAILED", failureReason="bad qubit", **details))

    metadata = TrackedTask.from_arn(arn, client).metadata()

    assert metadata["deviceParameters"] == DEVICE_PARAMETERS
    assert metadata["actionMetadata"] == {"actionType": "braket.ir.openqasm.program"}
    assert metadata["associations"] == reservation
    assert metadata["failureReason"] == "bad qubit"


def test_queued_metadata_reads_the_queue_position_at_most_once_a_minute(
    client: TrackerClient, api: FakeTaskApi, fake_time: FakeTime
) -> None:
    arn = task_arn()
    api.add(item(arn, "QUEUED", jobArn="arn:aws:braket:us-east-1:123456789012:job/j"))
    api.queue[arn] = {"queue": "QUANTUM_TASKS_QUEUE", "position": "12", "queuePriority": "Priority"}
    task = TrackedTask.from_arn(arn, client)

    first = task.metadata()
    again = task.metadata()
    fake_time.now += 60
    later = task.metadata()

    queue_reads = [r for r in api.requests if r.query.get("include") == "queue"]
    assert first["queueInfo"] == again["queueInfo"] == later["queueInfo"] == api.queue[arn]
    assert len(queue_reads) == 2  # the first read, and one more a minute later
    assert len(api.requests) == 5


def test_from_arn_takes_a_bare_task_id_for_one_read(client: TrackerClient, api: FakeTaskApi) -> None:
    arn = task_arn()
    api.add(item(arn, "RUNNING"))

    task = TrackedTask.from_arn(arn.rsplit("/", 1)[1], client)

    assert task.id == arn
    assert len(api.requests) == 1
    with pytest.raises(ValueError, match="not a quantum task ARN or id"):
        TrackedTask.from_arn("not an id!", client)


def test_cancel_then_state_reads_cancelling_before_the_tracker_records_it(
    client: TrackerClient, api: FakeTaskApi
) -> None:
    arn = task_arn()
    api.add(item(arn, "QUEUED"))
    task = TrackedTask.from_arn(arn, client)

    assert task.cancel() == "CANCELLING"
    api.tasks[arn]["status"] = "QUEUED"  # as the Task API does today: its cancel writes nothing on the item

    assert task.state() == "CANCELLING"
    assert TrackedTask.from_arn(arn, client).metadata()["status"] == "CANCELLING"  # any task object of this client
    api.tasks[arn]["status"] = "CANCELLED"  # then Braket's event is recorded
    assert task.state() == "CANCELLED"
    api.tasks[arn]["status"] = "COMPLETED"  # or the task had ended first: the recorded end stands
    assert task.state() == "COMPLETED"


def test_item_keeps_the_task_apis_json(client: TrackerClient, api: FakeTaskApi) -> None:
    arn = task_arn()
    api.add(recorded := item(arn, "COMPLETED", endedAt="2026-11-24T10:00:09.000Z"))

    assert TrackedTask.from_arn(arn, client).item() == recorded  # ISO strings, as the API sends them


def test_metadata_of_a_listed_task_uses_the_listing_without_another_read(
    make_client: Callable[..., TrackerClient], api: FakeTaskApi
) -> None:
    client = make_client()
    api.add(item(task_arn(), "COMPLETED"))

    (task,) = client.list()
    metadata = task.metadata(use_cached_value=True)

    assert len(api.requests) == 1
    assert isinstance(metadata["createdAt"], datetime)
    assert metadata["ResponseMetadata"]["HTTPHeaders"]["x-braket-tracker-source"] == "api"

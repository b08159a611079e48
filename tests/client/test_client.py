"""TrackerClient and TrackedTask against an in-memory Task API (signatures verified), no network."""

from __future__ import annotations

import json
import uuid
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from braket_tracker import (
    ApiUnreachable,
    Conflict,
    Forbidden,
    LiveUpdatesUnavailableWarning,
    MissingCredentials,
    ServerError,
    StackNotFound,
    TaskNotFound,
    TaskResult,
    TrackedTask,
    TrackerClient,
    WaitTimeout,
)
from braket_tracker.errors import BadRequest, TaskAlreadyFinished, ValidationError, error_from_answer
from braket_tracker.settings import resolve
from braket_tracker.transport import HttpResponse
from moto import mock_aws

from tests.client.conftest import FakeTime
from tests.client.fakes import SV1, FakeTaskApi, answer, item, session, task_arn

BELL = "OPENQASM 3.0; bit[2] b; qubit[2] q; h q[0]; cnot q[0], q[1]; b = measure q;"


def test_submit_signs_the_request_and_sends_an_idempotency_key(client: TrackerClient, api: FakeTaskApi) -> None:
    task = client.submit(BELL, "sv1", 100, tags={"project": "bell"}, inputs={"theta": 0.5})

    (request,) = api.requests
    assert (request.method, request.path) == ("POST", "tasks")
    assert request.body == {
        "deviceArn": SV1,
        "shots": 100,
        "program": BELL,
        "tags": {"project": "bell"},
        "inputs": {"theta": 0.5},
    }
    assert "/us-east-1/execute-api/aws4_request" in request.headers["Authorization"]
    uuid.UUID(request.headers["Idempotency-Key"])  # a fresh UUID
    assert isinstance(task, TrackedTask)
    assert task.id in api.tasks
    assert task.id.startswith("arn:aws:braket:us-east-1:123456789012:quantum-task/")


def test_a_retried_submission_carries_the_same_key(
    client: TrackerClient, api: FakeTaskApi, fake_time: FakeTime
) -> None:
    unavailable = {"error": "DependencyUnavailable", "message": "Braket did not answer", "details": {}}
    api.scripted = [answer(503, unavailable), answer(429, {"error": "THROTTLED", "message": "slow down"})]

    task = client.submit(BELL, SV1, 10, idempotency_key="bell-001")

    keys = [request.headers["Idempotency-Key"] for request in api.requests]
    assert keys == ["bell-001"] * 3
    assert len(api.tasks) == 1
    assert task.id in api.tasks
    assert len(fake_time.sleeps) == 2


def test_server_errors_are_retried_then_raised_with_the_server_message(client: TrackerClient, api: FakeTaskApi) -> None:
    unavailable = answer(503, {"error": "DependencyUnavailable", "message": "DynamoDB did not answer", "details": {}})
    api.scripted = [unavailable] * 4

    with pytest.raises(ServerError) as raised:
        client.task("abc")

    assert raised.value.status == 503
    assert raised.value.error == "DependencyUnavailable"
    assert raised.value.message == "DynamoDB did not answer"
    assert len(api.requests) == 4


def test_task_by_id_reads_the_arn_and_by_arn_url_encodes_it(client: TrackerClient, api: FakeTaskApi) -> None:
    arn = task_arn()
    api.add(item(arn, "RUNNING"))

    by_id = client.task(arn.rsplit("/", 1)[-1])
    by_arn = client.task(arn)

    assert by_id.id == by_arn.id == arn
    assert by_id == by_arn
    assert api.requests[1].path == "tasks/" + quote(arn, safe="")
    assert by_arn.state(use_cached_value=True) == "RUNNING"
    assert len(api.requests) == 2  # the cached state made no request


def test_from_arn_makes_no_request_until_used(client: TrackerClient, api: FakeTaskApi) -> None:
    arn = task_arn()
    api.add(item(arn, "RUNNING", failureReason=None))

    task = TrackedTask.from_arn(arn, client)
    assert api.requests == []

    recorded = task.item()
    assert task.state() == "RUNNING"
    assert len(api.requests) == 2
    assert recorded["resultsUri"].startswith("s3://amazon-braket-tracker-")
    assert {"shots", "createdAt", "outputS3Bucket", "outputS3Directory", "statusTimes"} <= set(recorded)
    with pytest.raises(ValueError, match="not a quantum task ARN or id"):
        TrackedTask.from_arn("arn:aws:braket:us-east-1:123456789012:job/x", client)


def test_an_unknown_task_is_task_not_found_with_the_server_message(client: TrackerClient) -> None:
    with pytest.raises(TaskNotFound, match="no task nope") as raised:
        client.task("nope")

    assert raised.value.status == 404


def test_cancel_and_a_conflict(client: TrackerClient, api: FakeTaskApi) -> None:
    running, done = api.add(item(task_arn(), "RUNNING")), api.add(item(task_arn(), "COMPLETED"))

    assert TrackedTask.from_arn(running["taskArn"], client).cancel() == "CANCELLING"
    with pytest.raises(TaskAlreadyFinished) as raised:
        TrackedTask.from_arn(done["taskArn"], client).cancel()

    assert isinstance(raised.value, Conflict)
    assert "already COMPLETED" in raised.value.message


def test_list_follows_pages_up_to_the_limit(client: TrackerClient, api: FakeTaskApi) -> None:
    for minute in range(7):
        api.add(item(task_arn(), "COMPLETED", createdAt=f"2026-11-24T10:0{minute}:00.000Z"))
    api.page_size_cap = 3

    everything = list(client.list(status="COMPLETED"))
    five = list(client.list(status="COMPLETED", limit=5, page_size=2))

    assert [t.item(use_cached_value=True)["createdAt"][11:16] for t in everything] == [
        f"10:0{minute}" for minute in reversed(range(7))
    ]
    assert [t.id for t in five] == [t.id for t in everything[:5]]
    last_query = api.requests[-1].query
    assert last_query["status"] == "COMPLETED"
    assert last_query["limit"] == "1"  # only what the limit still needs
    assert "next" in last_query


def test_list_sends_every_filter(client: TrackerClient, api: FakeTaskApi) -> None:
    from datetime import datetime

    list(client.list(device="dm1", created_after=datetime(2026, 11, 1), created_before="2026-11-30T00:00:00Z"))
    list(client.list(submitter="me", tag=("project", "bell")))

    first, second = (request.query for request in api.requests)
    assert first == {
        "device": "arn:aws:braket:::device/quantum-simulator/amazon/dm1",
        "createdAfter": "2026-11-01T00:00:00+00:00",
        "createdBefore": "2026-11-30T00:00:00Z",
        "limit": "100",
    }
    assert second == {"submitter": "me", "tag": "project=bell", "limit": "100"}


@pytest.mark.parametrize(
    ("status", "body", "expected", "name"),
    [
        (400, {"error": "ValidationError", "message": "bad", "details": {"errors": []}}, ValidationError, "bad"),
        (400, {"error": "SomethingNew", "message": "new"}, BadRequest, "new"),
        (403, {"error": "MISSING_AUTHENTICATION_TOKEN", "message": "Missing Authentication Token"}, Forbidden, None),
        (502, "<html>Bad Gateway</html>", ServerError, "<html>Bad Gateway</html>"),
    ],
)
def test_error_answers_become_typed_exceptions(status: int, body: Any, expected: type, name: str | None) -> None:
    error = error_from_answer(status, body)

    assert type(error) is expected
    assert error.status == status
    if name:
        assert error.message == name


def test_a_wrong_signature_is_forbidden(api: FakeTaskApi, make_client: Callable[..., TrackerClient]) -> None:
    wrong = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="wrong", region_name="us-east-1")
    client = make_client(session=wrong)

    with pytest.raises(Forbidden, match="signature we calculated does not match"):
        client.task("x")


def test_missing_credentials_are_named(make_client: Callable[..., TrackerClient]) -> None:
    class NoCredentials:
        region_name = "us-east-1"

        def get_credentials(self) -> None:
            return None

    client = make_client(session=NoCredentials())

    with pytest.raises(MissingCredentials, match="no AWS credentials found"):
        client.task("x")


def test_an_unreachable_api_is_retried_for_reads_only(
    client: TrackerClient, api: FakeTaskApi, fake_time: FakeTime
) -> None:
    api.unreachable = True

    with pytest.raises(ApiUnreachable):
        client.task("x")
    reads = len(fake_time.sleeps)
    with pytest.raises(ApiUnreachable):
        client.cancel("x")

    assert reads == 3
    assert len(fake_time.sleeps) == reads  # a cancel is not retried blindly


def test_result_waits_by_reading_the_api_when_there_is_no_live_channel(
    client: TrackerClient, api: FakeTaskApi, fake_time: FakeTime
) -> None:
    arn = task_arn()
    api.add(item(arn, "QUEUED"))
    api.results[arn] = {
        "taskArn": arn,
        "status": "COMPLETED",
        "kind": "gate-model",
        "shots": 100,
        "measuredQubits": [0, 1],
        "counts": {"00": 52, "11": 48},
        "resultsUrl": "https://example/presigned",
    }

    def progress(count: int) -> None:
        api.tasks[arn]["status"] = {2: "RUNNING", 4: "COMPLETED"}.get(count, api.tasks[arn]["status"])

    fake_time.on_sleep = progress
    seen: list[str] = []
    with pytest.warns(LiveUpdatesUnavailableWarning, match="no live-updates URL"):
        result = TrackedTask.from_arn(arn, client).result(on_update=lambda update: seen.append(update.status))

    assert isinstance(result, TaskResult)
    assert result.measurement_counts == {"00": 52, "11": 48}
    assert result.measurement_probabilities == {"00": 0.52, "11": 0.48}
    assert seen == ["QUEUED", "RUNNING", "COMPLETED"]
    assert fake_time.sleeps == sorted(fake_time.sleeps)  # backing off, never faster
    assert all(0 < delay <= 15 for delay in fake_time.sleeps)


def test_the_fallback_is_said_once_per_client(client: TrackerClient, api: FakeTaskApi) -> None:
    first, second = api.add(item(task_arn(), "COMPLETED")), api.add(item(task_arn(), "FAILED", failureReason="boom"))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.wait([first["taskArn"]])
        failed = TrackedTask.from_arn(second["taskArn"], client).result()

    assert [type(w.message) for w in caught] == [LiveUpdatesUnavailableWarning]
    assert (failed.status, failed.failure_reason, failed.counts) == ("FAILED", "boom", None)


def test_waiting_gives_up_after_the_timeout(client: TrackerClient, api: FakeTaskApi, fake_time: FakeTime) -> None:
    arn = api.add(item(task_arn(), "RUNNING"))["taskArn"]

    with pytest.warns(LiveUpdatesUnavailableWarning), pytest.raises(WaitTimeout, match="RUNNING"):
        TrackedTask.from_arn(arn, client).result(timeout=30)

    assert 30 <= fake_time.now - 1_000 <= 30.001


def test_waiting_for_a_task_never_recorded_ends_in_task_not_found(client: TrackerClient, fake_time: FakeTime) -> None:
    with pytest.warns(LiveUpdatesUnavailableWarning), pytest.raises(TaskNotFound):
        client.wait([task_arn()])

    assert fake_time.now - 1_000 >= 120  # it gave the recorder time to see the task first


def test_a_task_recorded_late_is_waited_for(client: TrackerClient, api: FakeTaskApi, fake_time: FakeTime) -> None:
    arn = task_arn()  # submitted outside the tracker: no item until its first event is recorded
    fake_time.on_sleep = lambda count: api.add(item(arn, "COMPLETED", origin="event")) if count == 3 else None

    with pytest.warns(LiveUpdatesUnavailableWarning):
        ended = client.wait([arn])

    assert ended[arn].status == "COMPLETED"


def test_sdk_results_are_built_from_results_json(
    api: FakeTaskApi, make_client: Callable[..., TrackerClient], fake_time: FakeTime
) -> None:
    pytest.importorskip("braket.tasks", reason="amazon-braket-sdk (the [sdk] extra) is not installed")
    from braket.default_simulator import StateVectorSimulator
    from braket.ir.openqasm import Program
    from braket.tasks import GateModelQuantumTaskResult

    simulated = StateVectorSimulator().run_openqasm(Program(source=BELL), shots=200)
    arn = api.add(item(arn_ := task_arn(), "COMPLETED"))["taskArn"]
    simulated.taskMetadata.id = arn_
    api.files["https://bucket.s3.amazonaws.com/tasks/x/results.json?X-Amz-Signature=abc"] = simulated.json().encode()
    api.results[arn] = {
        "taskArn": arn,
        "status": "COMPLETED",
        "counts": {"00": 1},
        "resultsUrl": "https://bucket.s3.amazonaws.com/tasks/x/results.json?X-Amz-Signature=abc",
    }

    with pytest.warns(LiveUpdatesUnavailableWarning):
        result = TrackedTask.from_arn(arn, make_client(sdk_results=True)).result()

    assert isinstance(result, GateModelQuantumTaskResult)
    assert sum(result.measurement_counts.values()) == 200
    assert set(result.measurement_counts) <= {"00", "11"}
    assert result.task_metadata.id == arn
    assert list(result.measured_qubits) == [0, 1]


def test_a_stack_name_reads_the_outputs_and_an_unknown_stack_is_named() -> None:
    template = {
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {
            "TaskApiUrl": {"Value": "https://xyz789.execute-api.eu-west-2.amazonaws.com/v1/"},
            "LiveUpdatesUrl": {"Value": "wss://live42.execute-api.eu-west-2.amazonaws.com/live"},
        },
    }
    with mock_aws():
        aws = boto3.Session(region_name="eu-west-2")
        aws.client("cloudformation").create_stack(StackName="Tracker", TemplateBody=json.dumps(template))

        endpoints = resolve(aws, stack_name="Tracker")
        with pytest.raises(StackNotFound, match="no stack 'Missing' in eu-west-2"):
            resolve(aws, stack_name="Missing")

    assert endpoints.api_url == "https://xyz789.execute-api.eu-west-2.amazonaws.com/v1/"
    assert endpoints.live_url == "wss://live42.execute-api.eu-west-2.amazonaws.com/live"
    assert endpoints.region == "eu-west-2"


def test_the_environment_names_the_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAKET_TRACKER_API_URL", "http://127.0.0.1:8000/v1")
    monkeypatch.setenv("BRAKET_TRACKER_LIVE_URL", "ws://127.0.0.1:8001/live")

    endpoints = resolve(session())

    assert (endpoints.api_url, endpoints.live_url, endpoints.region) == (
        "http://127.0.0.1:8000/v1/",
        "ws://127.0.0.1:8001/live",
        "us-east-1",
    )
    assert endpoints.stack_name is None


def test_a_non_json_success_is_an_error(client: TrackerClient, api: FakeTaskApi) -> None:
    api.scripted = [HttpResponse(200, b"<html>captive portal</html>")]

    with pytest.raises(ServerError):
        client.task("x")


def test_an_sdk_circuit_is_submitted_as_openqasm(client: TrackerClient, api: FakeTaskApi) -> None:
    pytest.importorskip("braket.circuits", reason="amazon-braket-sdk (the [sdk] extra) is not installed")
    from braket.circuits import Circuit, FreeParameter

    circuit = Circuit().rx(0, FreeParameter("theta")).cnot(0, 1)

    client.submit(circuit, "sv1", 10, inputs={"theta": 0.25})

    body = api.requests[0].body
    assert body["program"].startswith("OPENQASM 3.0;")
    assert "input float theta;" in body["program"]
    assert "rx(theta) q[0];" in body["program"]
    assert body["inputs"] == {"theta": 0.25}


def test_from_arn_without_a_client_uses_one_shared_default(api: FakeTaskApi, monkeypatch: pytest.MonkeyPatch) -> None:
    from braket_tracker import client as module

    made: list[Any] = []
    monkeypatch.setattr(module, "_DEFAULT", [])
    monkeypatch.setattr(
        module.TrackerClient,
        "__init__",
        lambda self, *args, **kwargs: made.append(self) or None,
    )

    first, second = TrackedTask.from_arn(task_arn()), TrackedTask.from_arn(task_arn())

    assert first.client is second.client
    assert made == [first.client]

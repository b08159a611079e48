"""The unmodified Braket SDK over TrackerSession: its own objects (AwsDevice, AwsQuantumTask,
AwsQuantumTaskBatch, Tracker) driven against a small Braket on 127.0.0.1 that counts every request,
with the tracker's Task API in memory and its live channel a real WebSocket server."""

from __future__ import annotations

import asyncio
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

pytest.importorskip("braket.aws", reason="amazon-braket-sdk (the [sdk] extra) is not installed")

from braket.aws import AwsDevice, AwsQuantumTask, AwsSession
from braket.circuits import Circuit
from braket.tracking import Tracker
from braket_tracker import LiveUpdatesUnavailableWarning, TrackerClient, TrackerSession
from braket_tracker.board import TrackerAnswerWarning

from tests.client.braket_fake import FORTE, SV1, FakeBraket
from tests.client.fakes import FakeTaskApi, LiveServer, document, item, task_arn

BUCKET = "amazon-braket-us-east-1-123456789012"
BELL = Circuit().h(0).cnot(0, 1)


@pytest.fixture
def braket(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBraket]:
    with FakeBraket() as fake:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BRAKET", fake.url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", fake.url)
        monkeypatch.delenv("BRAKET_ENDPOINT", raising=False)
        yield fake


@pytest.fixture
def live() -> Iterator[LiveServer]:
    with LiveServer() as server:
        yield server


def boto_session(region: str = "us-east-1") -> Any:
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)


@pytest.fixture
def make_session(
    braket: FakeBraket, live: LiveServer, make_client: Callable[..., TrackerClient]
) -> Iterator[Callable[..., TrackerSession]]:
    made: list[TrackerSession] = []

    def make(region: str = "us-east-1", live_url: str | None = live.url) -> TrackerSession:
        tracker = make_client(live_url=live_url, clock=time.monotonic, sleep=time.sleep)
        made.append(TrackerSession(boto_session=boto_session(region), tracker=tracker))
        return made[-1]

    yield make
    for session in made:
        session.close()


@pytest.fixture
def session(make_session: Callable[..., TrackerSession]) -> TrackerSession:
    return make_session()


class Pipeline:
    """What the tracker would record and push as Braket's events arrive, for the fake Braket's tasks."""

    def __init__(self, braket: FakeBraket, api: FakeTaskApi, live: LiveServer | None) -> None:
        self.braket, self.api, self.live = braket, api, live

    def record(self, arn: str, status: str, *, push: bool = True, **extra: Any) -> None:
        task = self.braket.finish(arn, status) if status in {"COMPLETED", "FAILED", "CANCELLED"} else None
        task = task or self.braket.tasks[arn]
        task["status"] = status
        fields = {
            "deviceArn": task["deviceArn"],
            "shots": task["shots"],
            "createdAt": task["createdAt"],
            "outputS3Bucket": task["outputS3Bucket"],
            "outputS3Directory": task["outputS3Directory"],
            **({"endedAt": task["endedAt"]} if "endedAt" in task else {}),
            **extra,
        }
        self.api.add(item(arn, status, **fields))
        if push and self.live is not None:
            self.live.push(document(arn, status, **{k: fields[k] for k in ("shots", "createdAt", *extra)}))


@pytest.fixture
def pipeline(braket: FakeBraket, api: FakeTaskApi, live: LiveServer) -> Pipeline:
    return Pipeline(braket, api, live)


def until(condition: Callable[[], Any], timeout: float = 10) -> Any:
    """Wait for a condition (the board applies pushes on its own thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"not reached within {timeout} s")


def test_device_run_waits_on_the_tracker_with_no_get_quantum_task(
    session: TrackerSession, braket: FakeBraket, api: FakeTaskApi, pipeline: Pipeline
) -> None:
    device = AwsDevice(SV1, aws_session=session)
    task = device.run(BELL, (BUCKET, "tasks"), shots=100, poll_interval_seconds=0.05)

    assert task.state() == "CREATED"  # what the session did, answered at once
    assert api.requests == []  # not even the Task API was asked
    assert task.metadata()["ResponseMetadata"]["HTTPHeaders"]["x-braket-tracker-source"] == "session"
    api.queue[task.id] = {"queue": "QUANTUM_TASKS_QUEUE", "position": "4", "queuePriority": "Normal"}
    pipeline.record(task.id, "QUEUED")
    until(lambda: task.state() == "QUEUED")
    assert task.queue_position().queue_position == "4"  # read through the Task API, not from Braket
    pipeline.record(task.id, "RUNNING")
    pipeline.record(task.id, "COMPLETED")
    result = task.result()
    metadata = task.metadata()

    assert sum(result.measurement_counts.values()) == 100
    assert set(result.measurement_counts) <= {"00", "11"}
    assert metadata["status"] == "COMPLETED"
    assert metadata["actionMetadata"] == {"actionType": "braket.ir.openqasm.program"}
    assert metadata["deviceParameters"] == braket.tasks[task.id]["deviceParameters"]  # from the create request
    assert braket.count("GetQuantumTask") == 0
    assert braket.count("CreateQuantumTask") == 1


def test_cancel_then_state_reads_cancelling_at_once(session: TrackerSession, braket: FakeBraket) -> None:
    task = AwsDevice(SV1, aws_session=session).run(BELL, (BUCKET, "tasks"), shots=10)

    task.cancel()

    assert task.state() == "CANCELLING"
    assert AwsQuantumTask(task.id, aws_session=session).state() == "CANCELLING"
    assert braket.count("CancelQuantumTask") == 1
    assert braket.count("GetQuantumTask") == 0


def test_run_batch_s_copies_stay_on_the_tracker(
    session: TrackerSession, braket: FakeBraket, pipeline: Pipeline
) -> None:
    device = AwsDevice(SV1, aws_session=session)

    batch = device.run_batch([BELL] * 3, (BUCKET, "tasks"), shots=20, poll_interval_seconds=0.05)
    for task in batch.tasks:
        pipeline.record(task.id, "COMPLETED")
    results = batch.results()

    assert isinstance(batch._aws_session, TrackerSession)  # AwsSession.copy_session(session, ...)
    assert batch._aws_session is not session
    assert batch._aws_session.board is session.board
    assert [sum(result.measurement_counts.values()) for result in results] == [20, 20, 20]
    assert braket.count("GetQuantumTask") == 0


def test_a_device_in_another_region_gets_a_tracker_session_there(
    make_session: Callable[..., TrackerSession], braket: FakeBraket, pipeline: Pipeline
) -> None:
    session = make_session("us-west-2")

    device = AwsDevice(FORTE, aws_session=session)  # IonQ runs in us-east-1
    task = device.run(BELL, (BUCKET, "tasks"), shots=10, poll_interval_seconds=0.05)
    pipeline.record(task.id, "COMPLETED")
    result = task.result()

    assert isinstance(device._aws_session, TrackerSession)
    assert device._aws_session.region == "us-east-1"
    assert task.id.startswith("arn:aws:braket:us-east-1:")
    assert braket.count("GetDevice", "us-east-1") == 1
    assert sum(result.measurement_counts.values()) == 10
    assert braket.count("GetQuantumTask") == 0


def test_a_plain_session_s_copies_are_what_the_sdk_builds(session: TrackerSession) -> None:
    plain = AwsSession(boto_session=boto_session())

    assert type(AwsSession.copy_session(plain, "us-west-1")) is AwsSession
    assert type(AwsSession.copy_session(session, "us-west-1")) is TrackerSession


def test_a_task_the_tracker_has_not_seen_costs_one_get_quantum_task(
    session: TrackerSession, braket: FakeBraket, pipeline: Pipeline
) -> None:
    params = {"deviceArn": SV1, "shots": 5, "outputS3Bucket": BUCKET, "outputS3KeyPrefix": "elsewhere"}
    arn = braket.create("us-east-1", {**params, "action": BELL.to_ir("OPENQASM").json()})  # submitted elsewhere
    task = AwsQuantumTask(arn, aws_session=session, poll_interval_seconds=0.05)

    assert task.state() == "CREATED"
    assert task.state() == "CREATED"
    pipeline.record(arn, "COMPLETED")
    assert sum(task.result().measurement_counts.values()) == 5

    assert braket.count("GetQuantumTask") == 1  # the first read; the tracker answered every other


def test_a_failed_task_without_its_action_type_costs_one_get_quantum_task(
    session: TrackerSession, braket: FakeBraket, pipeline: Pipeline
) -> None:
    params = {"deviceArn": SV1, "shots": 5, "outputS3Bucket": BUCKET, "outputS3KeyPrefix": "elsewhere"}
    arn = braket.create("us-east-1", {**params, "action": BELL.to_ir("OPENQASM").json()})
    pipeline.record(arn, "FAILED", failureReason="the device went offline")

    task = AwsQuantumTask(arn, aws_session=session)

    assert task.state() == "FAILED"  # the SDK reads actionMetadata.actionType for a FAILED task
    assert task.result() is None
    assert task.state() == "FAILED"
    assert braket.count("GetQuantumTask") == 1


def test_the_end_s_push_has_what_the_sdk_reads_for_a_task_loaded_by_its_arn(
    session: TrackerSession, braket: FakeBraket, pipeline: Pipeline
) -> None:
    params = {"deviceArn": SV1, "shots": 5, "outputS3Bucket": BUCKET, "outputS3KeyPrefix": "elsewhere"}
    failing, reserved = (
        braket.create("us-east-1", {**params, "action": BELL.to_ir("OPENQASM").json()}) for _ in range(2)
    )
    for arn in (failing, reserved):
        pipeline.record(arn, "RUNNING")
    action = {"actionType": "braket.ir.openqasm.program"}
    reservation = [
        {"arn": "arn:aws:braket:us-east-1:123456789012:reservation/r", "type": "RESERVATION_TIME_WINDOW_ARN"}
    ]
    tasks = [AwsQuantumTask(arn, aws_session=session, poll_interval_seconds=0.05) for arn in (failing, reserved)]
    assert [task.state() for task in tasks] == ["RUNNING", "RUNNING"]  # read from the Task API, before the end

    pipeline.record(failing, "FAILED", failureReason="the device went offline", actionMetadata=action)
    pipeline.record(reserved, "COMPLETED", actionMetadata=action, associations=reservation)

    assert tasks[0].result() is None  # FAILED: the SDK read actionMetadata.actionType from the push
    assert sum(tasks[1].result().measurement_counts.values()) == 5
    assert tasks[1].metadata(use_cached_value=True)["associations"] == reservation  # the SDK's Tracker prices by it
    assert braket.count("GetQuantumTask") == 0


def test_async_result_and_the_sdk_tracker_work_over_the_session(
    session: TrackerSession, braket: FakeBraket, pipeline: Pipeline
) -> None:
    with Tracker() as costs:
        task = AwsDevice(SV1, aws_session=session).run(BELL, (BUCKET, "tasks"), shots=30, poll_interval_seconds=0.05)
        future = task.async_result()
        pipeline.record(task.id, "COMPLETED")
        result = asyncio.get_event_loop().run_until_complete(future)

    statistics = costs.quantum_tasks_statistics()[SV1]
    assert sum(result.measurement_counts.values()) == 30
    assert statistics["shots"] == 30
    assert statistics["tasks"] == {"COMPLETED": 1}  # broadcast_event reached the Tracker
    assert braket.count("GetQuantumTask") == 0


def test_a_new_user_agent_keeps_the_client_on_the_tracker(session: TrackerSession, braket: FakeBraket) -> None:
    session.add_braket_user_agent("SomePlugin/1.0")  # AwsSession builds a new Braket client

    task = AwsDevice(SV1, aws_session=session).run(BELL, (BUCKET, "tasks"), shots=10)

    assert task.state() == "CREATED"
    assert braket.count("GetQuantumTask") == 0


def test_without_the_live_channel_polls_read_the_task_api_at_most_once_a_second(
    make_session: Callable[..., TrackerSession], braket: FakeBraket, api: FakeTaskApi
) -> None:
    session = make_session(live_url=None)
    pipeline = Pipeline(braket, api, None)

    with pytest.warns(LiveUpdatesUnavailableWarning):
        task = AwsDevice(SV1, aws_session=session).run(BELL, (BUCKET, "tasks"), shots=10, poll_interval_seconds=0.05)
        pipeline.record(task.id, "QUEUED")
        started = time.monotonic()
        pipeline.record(task.id, "COMPLETED")
        result = task.result()
    waited = time.monotonic() - started
    reads = [r for r in api.requests if r.method == "GET" and not r.query]

    assert sum(result.measurement_counts.values()) == 10
    assert len(reads) <= waited + 2  # at most one a second (plus the first), though the SDK polled every 50 ms
    assert braket.count("GetQuantumTask") == 0


def test_when_the_task_api_is_down_the_board_answers_from_what_it_knew(
    session: TrackerSession, braket: FakeBraket, api: FakeTaskApi, live: LiveServer
) -> None:
    task = AwsDevice(SV1, aws_session=session).run(BELL, (BUCKET, "tasks"), shots=10)
    live.wait_for_subscribes(1)
    session.board.channel_state = "down"  # as if the channel had just dropped: polls read the Task API
    session.tracker.api.sleep = lambda seconds: None  # its retries, at once
    api.unreachable = True

    with pytest.warns(TrackerAnswerWarning, match="did not answer"):
        assert task.state() == "CREATED"
    assert braket.count("GetQuantumTask") == 0


def test_without_warnings_when_all_is_well(session: TrackerSession, pipeline: Pipeline) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        task = AwsDevice(SV1, aws_session=session).run(BELL, (BUCKET, "tasks"), shots=10, poll_interval_seconds=0.05)
        pipeline.record(task.id, "COMPLETED")
        assert task.result() is not None


def test_the_board_forgets_the_oldest_ends_and_reads_them_again(
    session: TrackerSession, api: FakeTaskApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("braket_tracker.board.MAX_FINISHED", 2)
    arns = [api.add(item(task_arn(), "COMPLETED"))["taskArn"] for _ in range(3)]

    for arn in arns:
        assert session.board.answer(arn)["status"] == "COMPLETED"  # type: ignore[index]
    reads = len(api.requests)
    assert session.board.answer(arns[2])["status"] == "COMPLETED"  # type: ignore[index]
    assert len(api.requests) == reads  # still known
    assert session.board.answer(arns[0])["status"] == "COMPLETED"  # type: ignore[index]
    assert len(api.requests) == reads + 1  # forgotten, read again


def test_a_busy_loop_of_polls_is_paced_and_a_change_answers_it_at_once(
    session: TrackerSession, pipeline: Pipeline, live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guide's `while status != "COMPLETED": status = task.state()` must not spin a core (and starve
    the process's other threads): an unchanged unfinished task is answered at most once per
    REPEAT_WAIT_SECONDS, and a push ends the wait."""
    task = AwsDevice(SV1, aws_session=session).run(BELL, (BUCKET, "tasks"), shots=10)
    live.wait_for_subscribes(1)
    polls, stop = 0, time.monotonic() + 0.5
    while time.monotonic() < stop:
        assert task.state() == "CREATED"
        polls += 1
    assert polls <= 0.5 / 0.05 + 2  # without the pacing: tens of thousands

    monkeypatch.setattr("braket_tracker.board.REPEAT_WAIT_SECONDS", 3600.0)  # only a change can end the wait
    answers: list[str] = []
    waiter = threading.Thread(target=lambda: answers.append(task.state()))
    waiter.start()
    pipeline.record(task.id, "QUEUED")
    waiter.join(timeout=30)
    assert answers == ["QUEUED"]


def test_a_handshake_slower_than_a_poll_lets_polls_read_the_task_api(
    session: TrackerSession, pipeline: Pipeline, live: LiveServer, api: FakeTaskApi
) -> None:
    task = AwsDevice(SV1, aws_session=session).run(BELL, (BUCKET, "tasks"), shots=10)
    live.wait_for_subscribes(1)
    session.board.channel_state = "opening"  # as if a reconnect's handshake were still pending...
    session.board._opening_since -= 10  # ...for 10 s: pushes cannot arrive meanwhile
    pipeline.record(task.id, "RUNNING", push=False)

    assert until(lambda: task.state() == "RUNNING")
    session.board.channel_state = "opening"
    session.board._opening_since = session.board.clock()  # a handshake just begun: no read
    pipeline.record(task.id, "COMPLETED", push=False)
    reads = len(api.requests)
    assert task.state() == "RUNNING"
    assert len(api.requests) == reads


def test_a_failed_end_pushed_before_its_details_reads_them_once_from_the_task_api(
    session: TrackerSession, braket: FakeBraket, api: FakeTaskApi, live: LiveServer
) -> None:
    """The recorder pushes an end before it asks Braket for the task's details (detailsAfterEnd): a
    FAILED task loaded by its ARN learns its actionMetadata from one Task API read, not from Braket."""
    params = {"deviceArn": SV1, "shots": 5, "outputS3Bucket": BUCKET, "outputS3KeyPrefix": "elsewhere"}
    arn = braket.create("us-east-1", {**params, "action": BELL.to_ir("OPENQASM").json()})
    braket.tasks[arn]["status"] = "RUNNING"
    api.add(item(arn, "RUNNING"))
    task = AwsQuantumTask(arn, aws_session=session)
    assert task.state() == "RUNNING"
    live.wait_for_subscribes(1)

    api.add(item(arn, "FAILED", failureReason="offline", actionMetadata={"actionType": "braket.ir.openqasm.program"}))
    live.push(document(arn, "FAILED", failureReason="offline"))  # the end, without the details

    assert until(lambda: task.state() == "FAILED")
    assert task.result() is None
    assert braket.count("GetQuantumTask") == 0

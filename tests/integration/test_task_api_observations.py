"""The Task API's use of what Braket answers, against moto server's DynamoDB: a cancel recorded as an
observation (racing Braket's end), the queue position read once a minute per task whoever asks
(several API instances at once), and results refused in a bucket another account owns.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tracker.api import errors
from tracker.api.service import TaskService
from tracker.config import ApiConfig
from tracker.data.braket_tasks import BraketTasks
from tracker.data.idempotency import IdempotencyStore
from tracker.data.results_store import ResultsStore
from tracker.data.task_table import TaskTable
from tracker.domain import Status, TaskArn, TaskEvent, TaskRecord, normalize_time
from tracker.recorder.service import Recorder

ACCOUNT = "123456789012"
REGION = "us-east-1"
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
ADA = f"arn:aws:iam::{ACCOUNT}:user/ada"
QUEUED_INFO = {"queue": "QUANTUM_TASKS_QUEUE", "position": "3", "queuePriority": "Normal"}


class CountingBraket:
    """BraketSubmissions' double: counts queue reads (slowly, so that callers overlap) and cancels."""

    def __init__(self, on_cancel: Any = None) -> None:
        self.queue_reads: list[str] = []
        self.cancels: list[str] = []
        self.on_cancel = on_cancel
        self._lock = threading.Lock()

    def queue_info(self, task: TaskArn) -> dict[str, str]:
        with self._lock:
            self.queue_reads.append(task.arn)
        time.sleep(0.2)  # Braket's answer takes a while: the other callers arrive meanwhile
        return dict(QUEUED_INFO, position=str(len(self.queue_reads)))

    def cancel(self, task: TaskArn, client_token: str) -> str:
        self.cancels.append(task.arn)
        if self.on_cancel is not None:
            self.on_cancel(task)
        return "CANCELLING"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def table(table_names: dict[str, str]) -> TaskTable:
    return TaskTable(table_names["taskArn"])


def service(table: TaskTable, table_names: dict[str, str], braket: Any, clock: Clock, **kwargs: Any) -> TaskService:
    config = ApiConfig.from_env(
        {
            "TASK_TABLE_NAME": table.table_name,
            "IDEMPOTENCY_TABLE_NAME": table_names["idempotencyKey"],
            "RESULTS_BUCKETS": f'{{"{REGION}": "amazon-braket-tracker-{ACCOUNT}-{REGION}"}}',
            "READABLE_RESULTS_BUCKETS": "[]",
            "DEVICE_ALLOWLIST": f'["{SV1}"]',
            "ADMIN_PRINCIPALS": f'["{ADA}"]',  # tasks recorded from events have no submitter: an admin cancels
            "PROMOTED_TAG_KEYS": "[]",
            "AWS_REGION": REGION,
        }
    )
    idempotency = IdempotencyStore(table_names["idempotencyKey"], 3600)
    return TaskService(config, table, idempotency, braket, kwargs.pop("results", ResultsStore()), clock, **kwargs)


def event(task: TaskArn, status: Status, at: datetime, event_id: str | None = None) -> TaskEvent:
    created = normalize_time(at - timedelta(seconds=5))
    return TaskEvent(
        event_id=event_id or f"{status.value}-{uuid.uuid4()}",
        time=normalize_time(at),
        task=task,
        status=status,
        device_arn=SV1,
        shots=100,
        output_s3_bucket=f"amazon-braket-{REGION}-{ACCOUNT}",
        output_s3_directory=f"tasks/{task.task_id}",
        created_at=created,
        ended_at=normalize_time(at) if status.finished else None,
    )


def recorded(table: TaskTable, status: Status, at: datetime) -> TaskRecord:
    """A task whose events up to `status` the recorder has written."""
    task = TaskArn.parse(f"arn:aws:braket:{REGION}:{ACCOUNT}:quantum-task/{uuid.uuid4()}")
    recorder = Recorder(table, BraketTasks(1))
    recorder.record(event(task, Status.CREATED, at - timedelta(seconds=5)))
    if status is not Status.CREATED:
        recorder.record(event(task, status, at))
    record = table.get(task.arn)
    assert record is not None
    return record


# --- the queue position: one Braket read a minute per task, whoever asks ---


def test_concurrent_waiters_on_several_api_instances_share_one_braket_read_a_minute(
    table: TaskTable, table_names: dict[str, str]
) -> None:
    clock, braket = Clock(), CountingBraket()
    instances = [service(table, table_names, braket, clock) for _ in range(3)]  # three warm Lambda instances
    task = recorded(table, Status.QUEUED, clock.now)
    answers: list[Any] = []

    def wait_like_the_sdk(api: TaskService) -> None:
        answers.append(api.get(task.task.task_id, include_queue=True)[1])

    def many_waiters() -> None:
        threads = [threading.Thread(target=wait_like_the_sdk, args=(api,)) for api in instances for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    many_waiters()
    first = list(braket.queue_reads)
    clock.now += timedelta(seconds=59)
    many_waiters()
    within_the_minute = list(braket.queue_reads)
    clock.now += timedelta(seconds=2)
    many_waiters()

    assert first == within_the_minute == [task.task.arn]  # 24 requests in a minute: one Braket read
    assert len(braket.queue_reads) == 2  # and one more after it
    stored = table.get(task.task.arn)
    assert stored is not None
    assert stored.queue_info == dict(QUEUED_INFO, position="2")
    assert stored.queue_info_read_at == normalize_time(clock.now)
    read_answers = [answer for answer in answers if answer.info.get("position")]
    assert {answer.info["position"] for answer in read_answers} <= {"1", "2"}


def test_tasks_that_are_not_queued_are_answered_without_braket(table: TaskTable, table_names: dict[str, str]) -> None:
    clock, braket = Clock(), CountingBraket()
    api = service(table, table_names, braket, clock)

    for status in (Status.CREATED, Status.RUNNING, Status.CANCELLING, Status.COMPLETED):
        task = recorded(table, status, clock.now)
        info = api.get(task.task.arn, include_queue=True)[1]
        assert info is not None
        assert (info.info["position"], info.read_at) == ("None", None)
        assert info.info["message"].startswith(f"Task is in {status.value} status.")

    assert braket.queue_reads == []


def test_a_task_that_moved_on_while_its_read_was_claimed_is_not_read(
    table: TaskTable, table_names: dict[str, str]
) -> None:
    clock, braket = Clock(), CountingBraket()
    api = service(table, table_names, braket, clock)
    task = recorded(table, Status.QUEUED, clock.now)
    Recorder(table, BraketTasks(1)).record(event(task.task, Status.RUNNING, clock.now + timedelta(seconds=1)))

    answer = api.queue_position(task)  # as read before it started running

    assert braket.queue_reads == []
    assert answer.info["message"].startswith("Task is in RUNNING status.")


# --- a cancel, recorded at once as an observation ---


def test_a_cancel_reads_cancelling_at_once_and_a_retry_changes_nothing(
    table: TaskTable, table_names: dict[str, str]
) -> None:
    clock, braket = Clock(), CountingBraket()
    api = service(table, table_names, braket, clock)
    task = recorded(table, Status.QUEUED, clock.now)

    cancelled = api.cancel(task.task.task_id, ADA)
    after = table.get(task.task.arn)
    clock.now += timedelta(seconds=3)
    api.cancel(task.task.task_id, ADA)  # retried: Braket answers CANCELLING again

    assert cancelled.status == "CANCELLING"
    assert cancelled.recorded is None
    assert after is not None
    assert after.status is Status.CANCELLING
    assert after.status_times[Status.CANCELLING] == normalize_time(clock.now - timedelta(seconds=3))
    assert table.get(task.task.arn) == after  # already observed: nothing written
    assert len(braket.cancels) == 2


def test_an_end_recorded_while_the_cancel_is_answered_is_never_undone(
    table: TaskTable, table_names: dict[str, str]
) -> None:
    clock = Clock()
    recorder = Recorder(table, BraketTasks(1))

    def braket_ends_it_meanwhile(task: TaskArn) -> None:
        recorder.record(event(task, Status.COMPLETED, clock.now - timedelta(seconds=1), "end"), seconds_left=0)

    api = service(table, table_names, CountingBraket(on_cancel=braket_ends_it_meanwhile), clock)
    task = recorded(table, Status.RUNNING, clock.now)
    clock.now += timedelta(seconds=2)  # the cancel's observation is later than the end

    cancelled = api.cancel(task.task.arn, ADA)
    stored = table.get(task.task.arn)

    assert cancelled.recorded is None
    assert stored is not None
    assert stored.status is Status.COMPLETED
    assert {"end", "task-api:CANCELLING"} <= stored.event_ids
    assert stored.ended_at == normalize_time(clock.now - timedelta(seconds=1))
    assert stored.status_times[Status.CANCELLING] == normalize_time(clock.now)


# --- results: the account's own amazon-braket-* buckets, and no other account's ---


def test_an_amazon_braket_bucket_of_another_account_is_refused_by_its_owner(
    table: TaskTable, table_names: dict[str, str]
) -> None:
    clock = Clock()
    s3 = boto3.client("s3", region_name=REGION)
    stub = Stubber(s3)
    task = recorded(table, Status.COMPLETED, clock.now)
    key = f"{task.output_s3_directory}/results.json"
    stub.add_client_error(
        "get_object",
        service_error_code="AccessDenied",
        http_status_code=403,
        expected_params={"Bucket": task.output_s3_bucket, "Key": key, "ExpectedBucketOwner": ACCOUNT},
    )
    api = service(table, table_names, CountingBraket(), clock, results=ResultsStore(client_factory=lambda _: s3))

    with stub, pytest.raises(errors.Forbidden) as refused:
        api.result(task.task.arn, account=ACCOUNT)

    stub.assert_no_pending_responses()
    assert task.output_s3_bucket.startswith("amazon-braket-")
    assert "owns" in refused.value.message
    assert ACCOUNT in refused.value.message

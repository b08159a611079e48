"""The reconciler handler against moto server (tables from the synthesized template, the real SNS
topic), with Braket answered by a double in the documented shapes, one per Region."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import Recorder
from tests.integration.test_notifier import (  # noqa: F401 (fixtures)
    Subscriber,
    notify,
    stream,
    topic_arn,
)
from tests.support.braket_jobs import DocumentedJobs
from tests.support.events import state_change, task_arn
from tests.support.lambda_context import FakeLambdaContext
from tests.support.streams import FilteredStream
from tracker.data.braket_jobs import BraketJobs

pytestmark = pytest.mark.integration
# Regions no other integration test writes tasks in, so each test sees only its own tasks.
REGIONS = ("eu-west-2", "eu-north-1", "us-west-2")


class RegionalBraket:
    """One Region's Braket: GetQuantumTask and SearchQuantumTasks over the tasks created there."""

    def __init__(self, region: str, world: Braket) -> None:
        self.region = region
        self.world = world

    def get_quantum_task(self, quantumTaskArn: str) -> dict[str, Any]:
        self.world.calls.append(("GetQuantumTask", self.region, quantumTaskArn))
        if quantumTaskArn in self.world.throttled:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetQuantumTask")
        task = self.world.tasks.get(quantumTaskArn)
        if task is None or quantumTaskArn.split(":")[3] != self.region:
            raise ClientError(
                {"Error": {"Code": "ResourceNotFoundException", "Message": "not found"}}, "GetQuantumTask"
            )
        return dict(task)

    def search_quantum_tasks(self, filters: list[dict[str, Any]], maxResults: int, nextToken: str = "") -> Any:
        self.world.calls.append(("SearchQuantumTasks", self.region, json.dumps(filters)))
        (created,) = filters
        low, high = (datetime.fromisoformat(v.replace("Z", "+00:00")) for v in created["values"])
        assert created["name"] == "createdAt" and created["operator"] == "BETWEEN"
        found = sorted(
            (t for arn, t in self.world.tasks.items() if arn.split(":")[3] == self.region),
            key=lambda t: t["quantumTaskArn"],
        )
        found = [t for t in found if low <= t["createdAt"] <= high]
        start = int(nextToken or 0)
        page = found[start : start + maxResults]
        summaries = [{k: v for k, v in t.items() if k not in ("failureReason", "numSuccessfulShots")} for t in page]
        more = start + maxResults < len(found)
        return {"quantumTasks": summaries, **({"nextToken": str(start + maxResults)} if more else {})}


class Braket:
    def __init__(self) -> None:
        self.tasks: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str, str]] = []
        self.throttled: set[str] = set()

    def add(self, arn: str, status: str, created: datetime, **extra: Any) -> None:
        task_id = arn.rsplit("/", 1)[-1]
        region = arn.split(":")[3]
        self.tasks[arn] = {
            "quantumTaskArn": arn,
            "status": status,
            "deviceArn": "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
            "shots": 1000,
            "outputS3Bucket": f"amazon-braket-{region}-012345678901",
            "outputS3Directory": f"tasks/{task_id}",
            "createdAt": created,
            **({"endedAt": created + timedelta(seconds=8)} if status in ("COMPLETED", "FAILED") else {}),
            **extra,
        }


@pytest.fixture(scope="session")
def reconciler_module(table_names: dict[str, str], topic_arn: str) -> ModuleType:  # noqa: F811
    os.environ["NOTIFICATION_TOPIC_ARN"] = topic_arn
    os.environ["TASK_TABLE_NAME"] = table_names["taskArn"]
    os.environ["RECONCILER_STATE_TABLE_NAME"] = table_names["name"]
    os.environ["BRAKET_REGIONS"] = ",".join(REGIONS)
    os.environ["BRAKET_REQUESTS_PER_SECOND"] = "50"
    os.environ["JOB_TABLE_NAME"] = table_names["jobArn"]
    module = importlib.import_module("tracker.reconciler.handler")
    # Its job passes ask a Braket with no jobs (tests/integration/test_job_reconciler.py covers them).
    module.jobs.recorder.braket = BraketJobs(100, client_factory=lambda region: DocumentedJobs())
    return module


@pytest.fixture
def braket(reconciler_module: ModuleType) -> Iterator[Braket]:
    world = Braket()
    api = reconciler_module.api
    original = api._factory
    api._factory, api._clients = (lambda region: RegionalBraket(region, world)), {}
    yield world
    api._factory, api._clients = original, {}


def reconcile(module: ModuleType, event: dict[str, Any] | None = None) -> dict[str, Any]:
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    return module.lambda_handler(event or scheduled, FakeLambdaContext())  # type: ignore[no-any-return]


def read(table: str, arn: str) -> dict[str, Any] | None:
    raw = boto3.client("dynamodb").get_item(TableName=table, Key={"taskArn": {"S": arn}}, ConsistentRead=True)
    deserialize = boto3.dynamodb.types.TypeDeserializer().deserialize
    return {k: deserialize(v) for k, v in raw["Item"].items()} if "Item" in raw else None


def item(table: str, arn: str) -> dict[str, Any]:
    found = read(table, arn)
    assert found is not None, arn
    return found


def test_a_lost_end_is_healed_through_the_recorder_and_notified_like_an_event(
    reconciler_module: ModuleType,
    braket: Braket,
    recorder: Recorder,
    stream: FilteredStream,  # noqa: F811
    table_names: dict[str, str],
) -> None:
    arn = task_arn(region="eu-west-2")
    inbox = Subscriber(reconciler_module.config.topic_arn)
    created, running = (
        state_change(arn, "CREATED", "2026-11-20T08:00:01Z"),
        state_change(arn, "RUNNING", "2026-11-20T08:00:05Z"),
    )
    recorder.deliver([json.dumps(created), json.dumps(running)])  # the COMPLETED event never came
    created_at = datetime(2026, 11, 20, 8, 0, 0, 250000, tzinfo=UTC)
    braket.add(arn, "COMPLETED", created_at, tags={"team": "qml"}, numSuccessfulShots=1000)

    summary = reconcile(reconciler_module, {"regions": ["eu-west-2"]})

    assert (summary["checked"], summary["repaired"], summary["errors"]) == (1, 1, 0)
    healed = item(table_names["taskArn"], arn)
    assert healed["status"] == "COMPLETED" and healed["endedAt"] == "2026-11-20T08:00:08.250Z"
    assert healed["origin"] == "event"  # a live task: notified as if its event had come
    assert (healed["enriched"], healed["tags"], healed["numSuccessfulShots"]) == (True, {"team": "qml"}, 1000)
    assert "braket-api:COMPLETED" in healed["eventIds"] and "unfinishedRegion" not in healed
    # One GetQuantumTask, in the task's Region: its answer also served as the enrichment.
    assert [c for c in braket.calls if c[0] == "GetQuantumTask"] == [("GetQuantumTask", "eu-west-2", arn)]
    # The notifier's stream filter passes the heal, as it would the COMPLETED event (and the writes of
    # the finished item that follow: the notification's mark, which asks for nothing).
    records = stream.records({arn})
    assert [r["eventName"] for r in records][:1] == ["MODIFY"]
    notify(importlib.import_module("tracker.notifier.handler"), records)
    (message,) = inbox.drain()
    assert json.loads(message["Message"])["notificationId"] == f"{arn}#COMPLETED"

    again = reconcile(reconciler_module, {"regions": ["eu-west-2"]})  # healed: nothing stale any more
    assert (again["checked"], again["repaired"]) == (0, 0)


def test_an_unfinished_task_is_checked_again_only_after_its_back_off(
    reconciler_module: ModuleType, braket: Braket, recorder: Recorder, table_names: dict[str, str]
) -> None:
    arn = task_arn(region="us-west-2")
    recorder.deliver([json.dumps(state_change(arn, "QUEUED", "2026-11-20T08:00:02Z"))])
    braket.add(arn, "QUEUED", datetime(2026, 11, 20, 8, 0, 0, tzinfo=UTC))  # a QPU queue: days

    first = reconcile(reconciler_module, {"regions": ["us-west-2"]})
    second = reconcile(reconciler_module, {"regions": ["us-west-2"]})

    assert (first["checked"], first["repaired"], first["backedOff"]) == (1, 0, 0)
    assert (second["checked"], second["backedOff"]) == (0, 1)
    stored = item(table_names["taskArn"], arn)
    assert stored["status"] == "QUEUED" and stored["eventCount"] == 1  # nothing recorded, only checked
    assert stored["lastCheckedAt"] >= "2026-11-24"
    assert len([c for c in braket.calls if c[0] == "GetQuantumTask"]) == 1


def test_a_task_whose_every_event_was_lost_is_found_by_the_sweep_and_notified_once(
    reconciler_module: ModuleType, braket: Braket, table_names: dict[str, str]
) -> None:
    inbox = Subscriber(reconciler_module.config.topic_arn)
    arn = task_arn(region="eu-north-1")
    before = task_arn(region="eu-north-1")  # created before the tracker was deployed: the backfill's
    braket.add(before, "COMPLETED", datetime.now(UTC) - timedelta(days=2))
    created = datetime.now(UTC) - timedelta(seconds=1)
    braket.add(arn, "FAILED", created, failureReason="Device is offline")

    first = reconcile(reconciler_module, {"regions": ["eu-north-1"], "staleAfterMinutes": 0})

    assert (first["found"], first["repaired"], first["notified"], first["errors"]) == (1, 1, 1, 0)
    stored = item(table_names["taskArn"], arn)
    assert (stored["status"], stored["region"], stored["origin"]) == ("FAILED", "eu-north-1", "reconciler")
    assert (stored["failureReason"], stored["enriched"]) == ("Device is offline", True)
    assert "notifiedAt" in stored and "awaitingNotification" not in stored
    (message,) = inbox.drain()
    assert json.loads(message["Message"])["status"] == "FAILED"
    searches = [c for c in braket.calls if c[0] == "SearchQuantumTasks"]
    assert [region for _, region, _ in searches] == ["eu-north-1"]
    watermark = boto3.client("dynamodb").get_item(
        TableName=table_names["name"], Key={"name": {"S": "sweep#eu-north-1"}}, ConsistentRead=True
    )["Item"]["watermark"]["S"]
    assert watermark > created.isoformat()
    assert read(table_names["taskArn"], before) is None

    second = reconcile(reconciler_module, {"regions": ["eu-north-1"], "staleAfterMinutes": 0})  # on from there
    assert (second["found"], second["notified"]) == (0, 0)
    assert inbox.drain() == []
    (_, _, later_filters) = [c for c in braket.calls if c[0] == "SearchQuantumTasks"][-1]
    assert json.loads(later_filters)[0]["values"][0].startswith(watermark[:16])


def test_an_end_the_stream_never_notified_is_notified_by_the_reconciler(
    reconciler_module: ModuleType,
    braket: Braket,
    recorder: Recorder,
    table_names: dict[str, str],
) -> None:
    inbox = Subscriber(reconciler_module.config.topic_arn)
    arn = task_arn(region="eu-west-2")
    recorder.deliver([json.dumps(state_change(arn, "COMPLETED", "2026-11-20T08:00:09Z"))])  # stream records expired

    summary = reconcile(reconciler_module, {"regions": ["eu-west-2"]})

    assert summary["notified"] == 1
    assert "awaitingNotification" not in item(table_names["taskArn"], arn)
    (message,) = inbox.drain()
    assert json.loads(message["Message"])["taskArn"] == arn
    assert [c for c in braket.calls if c[0] == "GetQuantumTask"] == []


def test_a_braket_failure_is_counted_and_leaves_the_task_for_the_next_run(
    reconciler_module: ModuleType,
    braket: Braket,
    recorder: Recorder,
    table_names: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    throttled, fine = task_arn(region="us-west-2"), task_arn(region="us-west-2")
    for arn in (throttled, fine):
        recorder.deliver([json.dumps(state_change(arn, "RUNNING", "2026-11-21T08:00:05Z"))])
        braket.add(arn, "COMPLETED", datetime(2026, 11, 21, 8, 0, 0, tzinfo=UTC))
    braket.throttled.add(throttled)

    summary = reconcile(reconciler_module, {"regions": ["us-west-2"], "staleAfterMinutes": 0})

    assert summary["errors"] == 1 and summary["repaired"] == 1
    assert item(table_names["taskArn"], throttled)["status"] == "RUNNING"
    assert "lastCheckedAt" not in item(table_names["taskArn"], throttled)  # due again next run
    assert item(table_names["taskArn"], fine)["status"] == "COMPLETED"
    # The run's metrics, as Powertools writes them (EMF on stdout): checked, repaired, errors.
    (emf,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"TasksRepaired"' in line]
    assert (emf["TasksChecked"], emf["TasksRepaired"], emf["ReconcileErrors"]) == ([1.0], [1.0], [1.0])
    assert emf["service"] == "task-reconciler"


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # it fails before it measures anything
@pytest.mark.parametrize(
    "event",
    [{"regions": ["mars-1"]}, {"staleAfterMinutes": -1}, {"staleAfterMinutes": "5"}, {"unknown": 1}, {"regions": []}],
)
def test_a_hand_made_invocation_with_bad_overrides_fails_with_the_reason(
    reconciler_module: ModuleType, braket: Braket, event: dict[str, Any]
) -> None:
    with pytest.raises(reconciler_module.InvalidInput):
        reconcile(reconciler_module, event)
    assert braket.calls == []

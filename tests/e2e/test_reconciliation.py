"""Never lose a task, in local mode: lost events are healed by one reconciler run, tasks Braket
already had are backfilled (silently, and a second run writes nothing), parked events are replayed,
and a task is always read in the Region of its ARN.

The fault mode's `drop_event` is switched on and off around each task, so that each loses exactly
the events the test means it to lose.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from local.faults import FaultPlan
from local.tracker import PROJECT, LocalTracker
from tests.e2e.conftest import (
    FINISHED,
    Inbox,
    announced,
    read_item,
    submit,
    wait_for,
    wait_until_recorded,
)
from tests.support.events import state_change

pytestmark = pytest.mark.e2e
OTHER_REGION = "eu-north-1"  # IQM's Region
BACKFILL_REGION = "us-west-2"
BACKFILL_TASKS = 300  # three pages of SearchQuantumTasks (100 each), past the rate limit of 90 a second
_deserialize = TypeDeserializer().deserialize


@pytest.fixture(scope="module")
def tracker(cdk_out: Path) -> Iterator[LocalTracker]:
    local = LocalTracker(cdk_out=cdk_out, faults=FaultPlan(), queue_delay=2.0, synth=False).start()
    local.client("s3").create_bucket(Bucket="amazon-braket-us-east-1-123456789012")
    for region in (OTHER_REGION, BACKFILL_REGION):
        local.moto.client("s3", region).create_bucket(  # type: ignore[union-attr]
            Bucket=f"amazon-braket-{region}-123456789012", CreateBucketConfiguration={"LocationConstraint": region}
        )
    yield local
    local.stop()


@contextmanager
def events_dropped(tracker: LocalTracker) -> Iterator[None]:
    assert tracker.braket is not None
    tracker.braket.faults.drop_event = 1.0
    try:
        yield
    finally:
        tracker.braket.faults.drop_event = 0.0


def regional_braket(tracker: LocalTracker, region: str) -> Any:
    """An unmodified boto3 Braket client of `region`, sent to the local service (which serves every Region)."""
    assert tracker.braket is not None
    return boto3.client(
        "braket",
        region_name=region,
        endpoint_url=tracker.braket.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def submit_in(tracker: LocalTracker, region: str, shots: int = 10) -> str:
    action = {
        "braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"},
        "source": "OPENQASM 3.0; bit[2] b; qubit[2] q; h q[0]; cnot q[0], q[1]; b = measure q;",
    }
    return regional_braket(tracker, region).create_quantum_task(  # type: ignore[no-any-return]
        action=json.dumps(action),
        deviceArn="arn:aws:braket:::device/quantum-simulator/amazon/sv1",
        shots=shots,
        outputS3Bucket=f"amazon-braket-{region}-123456789012",
        outputS3KeyPrefix="tasks",
    )["quantumTaskArn"]


def truth(tracker: LocalTracker, arn: str) -> str:
    return regional_braket(tracker, arn.split(":")[3]).get_quantum_task(quantumTaskArn=arn)["status"]  # type: ignore[no-any-return]


def function_id(tracker: LocalTracker, handler: str) -> str:
    assert tracker.stack is not None
    (found,) = [
        logical_id
        for logical_id, resource in tracker.stack.template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function" and resource["Properties"].get("Handler") == handler
    ]
    return found


def ops(tracker: LocalTracker, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m ops ...` as an operator runs it, with local mode's environment."""
    env = {**os.environ, **tracker.environment()}
    return subprocess.run(
        [sys.executable, "-m", "ops", *args],
        check=False,
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_one_reconciler_run_heals_lost_events_in_every_region(tracker: LocalTracker) -> None:
    inbox = Inbox(tracker)
    fine = submit(tracker, shots=10)
    wait_for(lambda: (item := read_item(tracker, fine)) and item["status"] in FINISHED)
    lost_end = submit(tracker, shots=10)
    wait_for(lambda: truth(tracker, lost_end) == "QUEUED", interval=0.05)  # it waits QUEUED for 2 s
    with events_dropped(tracker):  # RUNNING and COMPLETED never reach EventBridge
        wait_for(lambda: truth(tracker, lost_end) in FINISHED)
        lost_all = submit(tracker, shots=10)
        wait_for(lambda: truth(tracker, lost_all) in FINISHED)
        elsewhere = submit_in(tracker, OTHER_REGION)
        wait_for(lambda: truth(tracker, elsewhere) in FINISHED)
    wait_until_recorded(tracker)  # any event still in flight
    wait_for(lambda: (item := read_item(tracker, lost_end)) and item["status"] == "QUEUED")
    assert read_item(tracker, lost_all) is None and read_item(tracker, elsewhere) is None

    assert tracker.runner is not None
    run = tracker.runner.invoke(
        function_id(tracker, "tracker.reconciler.handler.lambda_handler"), {"staleAfterMinutes": 0}
    )

    assert run.ok, run.error
    assert run.payload["repaired"] == 3 and run.payload["errors"] == 0, run.payload
    for arn in (fine, lost_end, lost_all, elsewhere):
        item = read_item(tracker, arn)
        assert item is not None and item["status"] == truth(tracker, arn), (arn, item)
        assert item["enriched"] is True  # GetQuantumTask answered: in the Region of the ARN
        assert "unfinishedRegion" not in item
    assert read_item(tracker, elsewhere)["region"] == OTHER_REGION  # type: ignore[index]
    assert read_item(tracker, lost_end)["origin"] == "event"  # type: ignore[index]
    assert read_item(tracker, lost_all)["origin"] == "reconciler"  # type: ignore[index]
    # Every end is notified exactly once: the healed one by the stream, as an event would have been,
    # the ones found by the sweep by the reconciler itself.
    announced(tracker, [fine, lost_end, lost_all, elsewhere])
    documents = inbox.drain()
    assert sorted(d["taskArn"] for d in documents) == sorted([fine, lost_end, lost_all, elsewhere])


def test_a_task_of_another_region_is_forwarded_and_recorded_with_the_region_of_its_arn(tracker: LocalTracker) -> None:
    assert set(tracker.forwarder_stacks) == {"us-west-1", "us-west-2", "eu-west-2", "eu-north-1"}
    arn = submit_in(tracker, OTHER_REGION)

    item = wait_for(lambda: (i := read_item(tracker, arn)) and i["status"] in FINISHED and "enriched" in i and i)

    # The forwarded events carry the home Region in their envelope (moto, like a forwarding rule,
    # rewrites it): the item's Region comes from the ARN, and Braket was asked there.
    assert (item["region"], item["status"], item["enriched"]) == (OTHER_REGION, truth(tracker, arn), True)
    assert item["eventCount"] == 4 and item["origin"] == "event"


def test_a_backfill_imports_every_task_silently_and_a_second_run_writes_nothing(tracker: LocalTracker) -> None:
    inbox = Inbox(tracker)
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    with events_dropped(tracker):  # tasks that existed before the tracker did
        with ThreadPoolExecutor(max_workers=8) as pool:
            arns = list(pool.map(lambda i: pre_existing(tracker, i), range(BACKFILL_TASKS)))
        wait_for(lambda: all(truth(tracker, arn) in FINISHED for arn in arns[-5:]), timeout=120)
        wait_for(lambda: all(truth(tracker, arn) in FINISHED for arn in arns), timeout=120)
    assert read_item(tracker, arns[0]) is None

    first = ops(tracker, "backfill", "--region", BACKFILL_REGION, "--since", since, "--rate", "90")

    assert first.returncode == 0, first.stderr + first.stdout
    assert (
        f"Backfill done: {BACKFILL_TASKS} tasks found, {BACKFILL_TASKS} recorded, 0 already recorded, 0 errors"
        in first.stdout
    )
    items = table_items(tracker, BACKFILL_REGION)
    assert set(items) == set(arns)
    statuses = {arn: truth(tracker, arn) for arn in arns}
    for arn, item in items.items():
        assert item["status"] == statuses[arn]
        assert (item["origin"], item["enriched"], item["shots"]) == ("backfill", True, 1)
        assert item["eventIds"] == {f"braket-api:{statuses[arn]}"}
        assert "awaitingNotification" not in item and "notifiedAt" not in item  # imported tasks are silent

    resumed = ops(tracker, "backfill", "--region", BACKFILL_REGION, "--since", since, "--rate", "90")
    again = ops(tracker, "backfill", "--region", BACKFILL_REGION, "--since", since, "--rate", "90", "--restart")

    assert "resuming after" in resumed.stdout and "0 recorded" in resumed.stdout, resumed.stdout
    assert f"{BACKFILL_TASKS} tasks found, 0 recorded, {BACKFILL_TASKS} already recorded, 0 errors" in again.stdout
    # Byte for byte, but for the cost keeper's attributes: it prices each imported task after the
    # backfill wrote it, at its own pace (a task counts, silently), so they may be filled in meanwhile.
    assert without_costs(table_items(tracker, BACKFILL_REGION)) == without_costs(items)
    assert {item["status"] for item in items.values()} == {"COMPLETED", "CANCELLED"}
    # The notifier reads the stream in order: once a task recorded after the import is announced, the
    # imported tasks' records were read before it, and none was announced.
    after = submit(tracker, shots=10)
    announced(tracker, [after])
    assert not [d for d in inbox.drain() if d["taskArn"] in items]


def pre_existing(tracker: LocalTracker, index: int) -> str:
    """A task that ran (one in ten) or was cancelled while queued (so that a thousand need no
    thousand simulations)."""
    arn = submit_in(tracker, BACKFILL_REGION, shots=1)
    if index % 10:
        regional_braket(tracker, BACKFILL_REGION).cancel_quantum_task(quantumTaskArn=arn)
    return arn


COST_ATTRIBUTES = frozenset({"costUsd", "costBasis"})
"""What the cost keeper writes on a task item, after (and apart from) the writes that record it."""


def without_costs(items: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {arn: {name: v for name, v in item.items() if name not in COST_ATTRIBUTES} for arn, item in items.items()}


def table_items(tracker: LocalTracker, region: str) -> dict[str, dict[str, Any]]:
    """Every item of the Region's tasks (the test reads the whole table to compare it)."""
    dynamodb = tracker.client("dynamodb")
    items: dict[str, dict[str, Any]] = {}
    request: dict[str, Any] = {"TableName": tracker.output("TaskTableName")}
    while True:
        page = dynamodb.scan(**request)
        for raw in page["Items"]:
            item = {name: _deserialize(value) for name, value in raw.items()}
            if item["region"] == region:
                items[item["taskArn"]] = item
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_replay_recovers_the_events_parked_in_the_dead_letter_queue(tracker: LocalTracker) -> None:
    with events_dropped(tracker):
        arn = submit_in(tracker, OTHER_REGION)
        wait_for(lambda: truth(tracker, arn) in FINISHED)
    task = regional_braket(tracker, OTHER_REGION).get_quantum_task(quantumTaskArn=arn)
    created, ended = (task[key].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") for key in ("createdAt", "endedAt"))
    parked = [
        state_change(arn, status, f"{at[:19]}Z", created_at=created, shots="10", ended_at=ended)
        for status, at in (("CREATED", created), ("QUEUED", created), ("RUNNING", ended), (task["status"], ended))
    ]
    for event in parked:  # as EventBridge parks an event it could not deliver: the event's JSON
        event["account"], event["detail"]["outputS3Bucket"] = "123456789012", task["outputS3Bucket"]
        event["detail"]["outputS3Directory"] = task["outputS3Directory"]
    sqs = tracker.client("sqs")
    dead_letters = tracker.output("DeadLetterQueueUrl")
    for event in parked[:2]:  # forwarded, but the recorder could not record them
        sqs.send_message(QueueUrl=dead_letters, MessageBody=json.dumps(event))
    # never forwarded: parked in the forwarder's dead-letter queue, in the task's Region
    forwarder = tracker.forwarder_stacks[OTHER_REGION].outputs["ForwarderDeadLetterQueueUrl"]
    assert tracker.moto is not None
    for event in parked[2:]:
        tracker.moto.client("sqs", OTHER_REGION).send_message(QueueUrl=forwarder, MessageBody=json.dumps(event))

    replay = ops(tracker, "replay")

    assert replay.returncode == 0, replay.stderr + replay.stdout
    assert "Replay done: 4 events moved to the capture queue, 0 left parked" in replay.stdout
    assert f"{OTHER_REGION}: redriving {forwarder}" in replay.stdout
    item = wait_for(lambda: (i := read_item(tracker, arn)) and i["status"] in FINISHED and i["eventCount"] == 4 and i)
    assert (item["status"], item["origin"], item["region"]) == (task["status"], "event", OTHER_REGION)
    remaining = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["ApproximateNumberOfMessages"])
    assert remaining["Attributes"]["ApproximateNumberOfMessages"] == "0"

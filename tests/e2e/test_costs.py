"""Costs end to end in local mode, under the fault mode (events duplicated, delayed and dropped; SQS
redelivering processed messages): SV1 and DM1 tasks run by the unmodified SDK inside its cost
Tracker, tasks submitted through the Task API and outside it, and QPU tasks recorded from events of
Braket's shape (the local service runs no QPU). Then:
- each ended task's item carries its cost, and the SDK's Tracker agrees on the same price file;
- the end's notification carries the same cost;
- the totals by submitter and by project equal the task table, whatever the deliveries;
- a budget refuses the API submission that would pass it (402), and its crossing sends exactly one
  alert per threshold reached."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from braket.aws import AwsDevice, AwsSession  # type: ignore[import-untyped]
from braket.circuits import Circuit  # type: ignore[import-untyped]
from braket.tracking import Tracker, pricing  # type: ignore[import-untyped]

from local.aws import CREDENTIALS
from local.faults import FaultPlan
from local.signed_http import SignedApi
from local.tracker import LocalTracker
from ops.offer_file import offer_file
from tests.e2e.conftest import (
    BELL_PAIR,
    BUDGET_PROJECT,
    DM1,
    FINISHED,
    REGION,
    RESULTS_BUCKET,
    SV1,
    read_item,
    start,
    wait_for,
    wait_until_recorded,
)
from tests.support.price_offers import serve_offer_file
from tracker.data.price_catalogue import shipped_catalogue

pytestmark = pytest.mark.e2e
FORTE = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"
ACCOUNT = "123456789012"


@dataclass
class Scenario:
    tracker: LocalTracker
    sdk_costs: dict[str, Decimal] = field(default_factory=dict)  # task ARN -> the SDK Tracker's figure
    arns: list[str] = field(default_factory=list)
    qpu: list[str] = field(default_factory=list)  # recorded from events alone
    api_answers: list[int] = field(default_factory=list)
    refusal: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)


def qpu_events(tracker: LocalTracker, arn: str, shots: int) -> None:
    """A QPU task's lifecycle as Braket sends it, each event twice and out of order."""
    now = datetime.now(UTC)
    created = (now - timedelta(seconds=20)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    ended = (now - timedelta(seconds=2)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    entries = []
    for status, seconds in (("CREATED", 20), ("QUEUED", 19), ("RUNNING", 10), ("COMPLETED", 2)):
        detail = {
            "quantumTaskArn": arn,
            "status": status,
            "deviceArn": FORTE,
            "shots": str(shots),
            "outputS3Bucket": RESULTS_BUCKET,
            "outputS3Directory": f"tasks/{arn.rsplit('/', 1)[-1]}",
            "createdAt": created,
            "eventName": "INSERT" if status == "CREATED" else "MODIFY",
        } | ({"endedAt": ended} if status == "COMPLETED" else {})
        entry = {
            "Source": "aws.braket",
            "DetailType": "Braket Task State Change",
            "Detail": json.dumps(detail),
            "Resources": [arn],
            "Time": now - timedelta(seconds=seconds),
        }
        entries += [entry, entry]
    answer = tracker.client("events").put_events(Entries=list(reversed(entries)))
    assert answer["FailedEntryCount"] == 0


@pytest.fixture(scope="module")
def scenario(cdk_out: Path) -> Iterator[Scenario]:
    tracker = start(cdk_out, replace(FaultPlan.chaos(seed=23), fail_task=0.0))
    found = Scenario(tracker)
    previous = {name: os.environ.get(name) for name in ("BRAKET_PRICE_OFFERS_URL", *tracker.environment())}
    try:
        os.environ.update(tracker.environment())
        inbox = _subscribe(tracker)
        with serve_offer_file(offer_file(shipped_catalogue())) as url:
            os.environ["BRAKET_PRICE_OFFERS_URL"] = url
            pricing._pricing._price_list = []
            pricing.Pricing.price_search.cache_clear()
            _run_sdk_tasks(found)
        _run_api_tasks(found)
        program = {"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, "source": BELL_PAIR}
        outside = tracker.client("braket").create_quantum_task(
            action=json.dumps(program),
            deviceArn=SV1,
            shots=10,
            outputS3Bucket=RESULTS_BUCKET,
            outputS3KeyPrefix="tasks",
            tags={"project": BUDGET_PROJECT},
        )["quantumTaskArn"]
        found.arns.append(outside)
        for shots in (10, 250):
            arn = f"arn:aws:braket:us-east-1:{ACCOUNT}:quantum-task/{uuid.uuid4()}"
            qpu_events(tracker, arn, shots)
            found.arns.append(arn)
            found.qpu.append(arn)
        _settle(found)
        found.messages = _drain(tracker, inbox)
        yield found
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        tracker.stop()


def _run_sdk_tasks(found: Scenario) -> None:
    session = AwsSession(boto_session=boto3.Session(region_name=REGION))
    bell = Circuit().h(0).cnot(0, 1)
    for device, project in ((SV1, "qml"), (DM1, "qml"), (SV1, "chem"), (DM1, None)):
        with Tracker() as one:
            task = AwsDevice(device, aws_session=session).run(
                bell,
                s3_destination_folder=(RESULTS_BUCKET, "tasks"),
                shots=100,
                poll_interval_seconds=0.1,
                tags={"project": project} if project else {},
            )
            task.result()
            found.sdk_costs[task.id] = one.simulator_tasks_cost()
        found.arns.append(task.id)


def _run_api_tasks(found: Scenario) -> None:
    assert found.tracker.runner is not None
    api = SignedApi(found.tracker.runner.api_endpoints()[0].url, REGION, *CREDENTIALS)
    for index in range(3):  # the budget is $0.01: two 3 s minimums ($0.0075) fit, a third does not
        answer = api.request(
            "POST",
            "/tasks",
            body={"deviceArn": SV1, "shots": 100, "program": BELL_PAIR, "tags": {"project": BUDGET_PROJECT}},
            headers={"Idempotency-Key": f"budget-{index}"},
        )
        found.api_answers.append(answer.status)
        if answer.status == 201:
            found.arns.append(answer["taskArn"])
        else:
            found.refusal = answer.body


def _settle(found: Scenario) -> None:
    """Until every task Braket ran has ended in the table (or lost its end to a dropped event), and the
    cost keeper has priced each ended one."""
    braket = found.tracker.client("braket")
    local = [arn for arn in found.arns if arn not in found.qpu]
    wait_for(lambda: all(braket.get_quantum_task(quantumTaskArn=a)["status"] in FINISHED for a in local), 120)
    time.sleep(2)  # the longest event delay
    wait_until_recorded(found.tracker)

    def priced() -> bool:
        items = [read_item(found.tracker, arn) for arn in found.arns]
        ended = [i for i in items if i and i["status"] in FINISHED]
        return bool(ended) and all(i.get("costBasis", {}).get("status") == i["status"] for i in ended)

    wait_for(priced, 90)
    time.sleep(2)  # messages of the cost queue that SQS redelivers (the fault mode) come back meanwhile


def _subscribe(tracker: LocalTracker) -> str:
    sqs, sns = tracker.client("sqs"), tracker.client("sns")
    url: str = sqs.create_queue(QueueName=f"costs-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=tracker.output("NotificationTopicArn"), Protocol="sqs", Endpoint=arn)
    return url


def _drain(tracker: LocalTracker, url: str, linger: float = 3) -> list[dict[str, Any]]:
    sqs, found = tracker.client("sqs"), []
    deadline = time.monotonic() + linger
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            found.append(json.loads(json.loads(message["Body"])["Message"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            deadline = time.monotonic() + linger
    return found


def _ended(found: Scenario) -> list[dict[str, Any]]:
    items = [read_item(found.tracker, arn) for arn in found.arns]
    return [item for item in items if item and item["status"] in FINISHED]


def test_each_ended_task_costs_what_the_sdks_tracker_says(scenario: Scenario) -> None:
    ended = {item["taskArn"]: item for item in _ended(scenario)}
    compared = [arn for arn in scenario.sdk_costs if arn in ended]
    assert len(compared) >= 2  # some ends may be lost to dropped events: reconciliation's job
    for arn in compared:
        assert ended[arn]["costUsd"] == scenario.sdk_costs[arn], ended[arn]["costBasis"]
    qpu = [item for item in ended.values() if item["deviceArn"] == FORTE]
    assert sorted(item["costUsd"] for item in qpu) == [Decimal("1.10"), Decimal("20.30")]  # $0.30 + $0.08 a shot
    assert all(item["costBasis"]["rule"] == "qpu" for item in qpu)


def test_each_ends_notification_carries_the_items_cost(scenario: Scenario) -> None:
    ends = [m for m in scenario.messages if m["type"] == "braket-task-tracker.task-finished"]
    assert ends
    for message in ends:
        item = read_item(scenario.tracker, message["taskArn"])
        assert item is not None and Decimal(message["costUsd"]) == item["costUsd"], message["notificationId"]


def test_the_totals_by_submitter_and_project_equal_the_table(scenario: Scenario) -> None:
    assert scenario.tracker.runner is not None
    api = SignedApi(scenario.tracker.runner.api_endpoints()[0].url, REGION, *CREDENTIALS)
    month = datetime.now(UTC).strftime("%Y-%m")
    expected: dict[str, dict[str, tuple[Decimal, int]]] = {"submitter": {}, "tag:project": {}}
    sums: dict[str, dict[str, list[Any]]] = {by: defaultdict(lambda: [Decimal(0), 0]) for by in expected}
    for item in _ended(scenario):
        for by, value in (("submitter", item.get("submitter") or ""), ("tag:project", item.get("tag:project") or "")):
            sums[by][value][0] += item.get("costUsd", Decimal(0))
            sums[by][value][1] += 1
    for by, values in sums.items():
        report = api.request("GET", "/costs", query={"by": by, "month": month})
        assert report.status == 200
        found = {row["value"]: (Decimal(row["usd"]), row["tasks"]) for row in report["rows"]}
        assert found == {value: (usd, tasks) for value, (usd, tasks) in values.items()}, by


def test_a_budget_refuses_the_submission_that_would_pass_it_and_alerts_once_per_threshold(
    scenario: Scenario,
) -> None:
    assert scenario.api_answers == [201, 201, 402]
    assert scenario.refusal["error"] == "BudgetExceeded"
    assert scenario.refusal["details"]["remainingUsd"] == "0.0025"
    counted = [item for item in _ended(scenario) if item.get("tag:project") == BUDGET_PROJECT]
    spent = sum((item["costUsd"] for item in counted), Decimal(0))
    reached = [percent for percent in ("50", "100") if spent >= Decimal("0.01") * Decimal(percent) / 100]
    alerts = [m for m in scenario.messages if m["type"] == "braket-task-tracker.budget-alert"]
    assert sorted(a["thresholdPercent"] for a in alerts) == sorted(reached)
    assert reached  # the three tasks of the project ($0.01125 if none lost its end) reach at least 50 %

"""The cost keeper against moto server: each ended task's cost on its item, the monthly totals kept exactly
once whatever the deliveries (hypothesis, like the merge), corrected ends moving the totals, budget
alerts sent once per threshold, and the Task API's budget holds that concurrent submissions cannot
race past."""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import uuid
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.events import sqs_batch, task_arn
from tests.support.lambda_context import FakeLambdaContext
from tracker import constants
from tracker.costs.alerts import BudgetAlerts
from tracker.costs.pricer import TaskPricer
from tracker.costs.service import CostKeeper, Outcome
from tracker.data.budget_holds import BudgetHolds, BudgetWouldBeExceeded
from tracker.data.cost_totals import CostTotals
from tracker.data.execution_times import ExecutionTimes
from tracker.data.price_catalogue import CatalogueSource, shipped_catalogue
from tracker.data.task_costs import TaskCosts
from tracker.data.task_table import TaskTable
from tracker.data.topic import NotificationTopic
from tracker.domain import Enrichment, Status, TaskArn, TaskRecord
from tracker.logic.budgets import Budget
from tracker.logic.costs import TaskUsage, task_cost
from tracker.logic.totals import Reservation

pytestmark = pytest.mark.integration

ACCOUNT = "012345678901"
BUCKET = f"amazon-braket-us-east-1-{ACCOUNT}"
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
DM1 = "arn:aws:braket:::device/quantum-simulator/amazon/dm1"
FORTE = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"
ADA = f"arn:aws:iam::{ACCOUNT}:user/ada"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
SHIPPED = shipped_catalogue()


@pytest.fixture(scope="module")
def s3(moto_endpoint: str) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(scope="module")
def topic(moto_endpoint: str) -> str:
    return str(boto3.client("sns").create_topic(Name=f"costs-{uuid.uuid4().hex[:6]}")["TopicArn"])


class Harness:
    def __init__(self, table_names: dict[str, str], topic_arn: str, budgets: tuple[Budget, ...] = ()) -> None:
        dynamodb = boto3.client("dynamodb")
        self.tasks = TaskTable(table_names["taskArn"], dynamodb, ("project",))
        self.totals = CostTotals(table_names["month"], table_names["entry"], dynamodb)
        self.topic = NotificationTopic(topic_arn)
        alerts = BudgetAlerts(budgets, self.totals, self.topic) if budgets else None
        self.keeper = CostKeeper(
            self.tasks,
            TaskCosts(table_names["taskArn"], dynamodb),
            self.totals,
            TaskPricer(CatalogueSource(None, SHIPPED), ExecutionTimes()),
            alerts=alerts,
            promoted_tag_keys=("project",),
        )


@pytest.fixture(scope="module")
def harness(table_names: dict[str, str], topic: str, s3: Any) -> Harness:
    return Harness(table_names, topic)


_MONTHS = iter(range(uuid.uuid4().int % 40_000 + 20_000, 10**6))


def month_of_test() -> str:
    """Each test (and example) counts in a month of its own, so no other adds to its totals."""
    n = next(_MONTHS)
    return f"{n // 12 % 9000 + 1000:04d}-{n % 12 + 1:02d}"


def finished(
    arn: str,
    device: str,
    status: Status,
    ended_at: str,
    *,
    shots: int = 100,
    submitter: str | None = None,
    project: str | None = None,
    enriched: bool = True,
) -> TaskRecord:
    task = TaskArn.parse(arn)
    created = ended_at[:8] + "01T00:00:00.000Z"
    return TaskRecord(
        task=task,
        device_arn=device,
        shots=shots,
        output_s3_bucket=BUCKET,
        output_s3_directory=f"tasks/{task.task_id}",
        created_at=created,
        status_times={Status.CREATED: created, status: ended_at},
        last_event_at=ended_at,
        event_ids=frozenset({f"e-{status.value}-{ended_at}"}),
        ended_at=ended_at,
        enrichment=Enrichment(complete=enriched, tags={"project": project} if project else {}),
        submitter=submitter,
        origin="api" if submitter else "event",
    )


def write_results(s3: Any, record: TaskRecord, execution_ms: int) -> None:
    document = {
        "braketSchemaHeader": {"name": "braket.task_result.gate_model_task_result", "version": "1"},
        "measurements": [[0, 1]] * 50,
        "additionalMetadata": {
            "action": {"source": '"simulatorMetadata": {"executionDuration": 99999}'},  # a decoy in a string
            "simulatorMetadata": {"executionDuration": execution_ms},
        },
    }
    s3.put_object(Bucket=BUCKET, Key=f"{record.output_s3_directory}/results.json", Body=json.dumps(document))


def store(harness: Harness, record: TaskRecord) -> None:
    """Write the task item as the recorder would: the whole item, over whatever is stored."""
    current = harness.tasks.get(record.task.arn)
    kept = record if current is None else replace(record, cost_usd=current.cost_usd, cost_basis=current.cost_basis)
    harness.tasks.replace(kept, current)


def expected_cost(record: TaskRecord, execution_ms: int | None) -> Decimal | None:
    usage = TaskUsage(record.device_arn, record.task.region, record.shots, record.status, execution_ms=execution_ms)
    return task_cost(usage, SHIPPED).usd


# --- one task ---------------------------------------------------------------------------------------


def test_a_simulator_task_is_priced_from_results_json_and_counted_once(harness: Harness, s3: Any) -> None:
    month = month_of_test()
    record = finished(task_arn(), SV1, Status.COMPLETED, f"{month}-05T10:00:00.000Z", submitter=ADA, project="qml")
    write_results(s3, record, 12_345)
    store(harness, record)

    first = harness.keeper.keep(record.task.arn)
    again = harness.keeper.keep(record.task.arn)  # a redelivery

    assert (first.outcome, again.outcome) == (Outcome.COUNTED, Outcome.UNCHANGED)
    assert (first.spent_usd, again.spent_usd) == (Decimal("0.01543125"), Decimal(0))  # the dashboard's spend
    assert first.cost_usd == Decimal("0.01543125")  # 12,345 ms at $0.075 a minute
    item = harness.tasks.get(record.task.arn)
    assert item is not None and item.cost_usd == Decimal("0.01543125")
    assert item.cost_basis is not None
    assert (item.cost_basis["rule"], item.cost_basis["billedMs"], item.cost_basis["status"]) == (
        "simulator",
        12_345,
        "COMPLETED",
    )
    totals = harness.totals.totals(
        [(month, s) for s in ("account", f"device:{SV1}", f"submitter:{ADA}", "tag:project=qml")]
    )
    assert {key[1]: (t.usd, t.tasks) for key, t in totals.items()} == dict.fromkeys(
        ("account", f"device:{SV1}", f"submitter:{ADA}", "tag:project=qml"), (Decimal("0.01543125"), 1)
    )


def test_a_corrected_end_moves_the_task_and_a_failed_qpu_task_costs_nothing(harness: Harness) -> None:
    month = month_of_test()
    arn = task_arn()
    completed = finished(arn, FORTE, Status.COMPLETED, f"{month}-28T23:59:59.000Z", shots=1000, project="chem")
    store(harness, completed)
    harness.keeper.keep(arn)
    assert harness.totals.total(month, "tag:project=chem").usd == Decimal("80.30")

    # FAILED with an earlier end: the task is FAILED (not billed), and still counts once, in its month.
    failed = replace(
        completed,
        status_times={**completed.status_times, Status.FAILED: f"{month}-28T23:00:00.000Z"},
        ended_at=f"{month}-28T23:00:00.000Z",
        event_ids=completed.event_ids | {"e-failed"},
    )
    store(harness, failed)
    moved = harness.keeper.keep(arn)

    assert (moved.outcome, moved.cost_usd, moved.basis["rule"]) == (Outcome.MOVED, Decimal(0), "not-billed")
    assert moved.spent_usd == Decimal("-80.30")  # the spend metric takes the count back
    chem = harness.totals.total(month, "tag:project=chem")
    assert (chem.usd, chem.tasks) == (Decimal(0), 1)


def test_a_task_without_a_price_counts_as_unpriced_and_says_why(harness: Harness) -> None:
    month = month_of_test()
    record = finished(task_arn(), SV1, Status.COMPLETED, f"{month}-02T08:00:00.000Z")  # no results.json
    store(harness, record)

    result = harness.keeper.keep(record.task.arn)

    assert result.cost_usd is None and result.basis["rule"] == "unpriced"
    assert "results.json" in result.basis["reason"]
    account = harness.totals.total(month, "account")
    assert (account.usd, account.tasks, account.unpriced_tasks) == (Decimal(0), 1, 1)


def test_the_keeper_emits_what_it_counted_as_the_dashboards_spend(
    table_names: dict[str, str], topic: str, harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    """The handler's SpendUsd (EMF on stdout, summed per day by the dashboard): a task's cost when it is
    counted, nothing on a redelivery, the difference (negative here) when its count moves."""
    environment = {
        constants.ENV_TASK_TABLE: table_names["taskArn"],
        constants.ENV_TOTALS_TABLE: table_names["month"],
        constants.ENV_LEDGER_TABLE: table_names["entry"],
        constants.ENV_PRICES_TABLE: table_names[constants.PRICES_KEY],
        constants.ENV_TOPIC_ARN: topic,
    }
    previous = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    sys.modules.pop("tracker.costs.handler", None)
    handler = importlib.import_module("tracker.costs.handler")
    month = month_of_test()
    arn = task_arn()
    completed = finished(arn, FORTE, Status.COMPLETED, f"{month}-03T10:00:00.000Z", shots=1000)
    message = sqs_batch([json.dumps({"taskArn": arn})], queue_arn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:costs")
    try:
        store(harness, completed)
        capsys.readouterr()
        handler.lambda_handler(message, FakeLambdaContext())
        handler.lambda_handler(message, FakeLambdaContext())  # a redelivery
        store(
            harness,
            replace(completed, status_times={**completed.status_times, Status.FAILED: f"{month}-03T09:00:00.000Z"}),
        )
        handler.lambda_handler(message, FakeLambdaContext())
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    spend = [d[constants.METRIC_SPEND] for d in documents if constants.METRIC_SPEND in d]
    assert spend == [[80.3], [-80.3]]
    (directive,) = next(d for d in documents if constants.METRIC_SPEND in d)["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == constants.METRICS_NAMESPACE
    assert directive["Dimensions"] == [["service"]]
    assert {"Name": constants.METRIC_SPEND, "Unit": "None"} in directive["Metrics"]


# --- exactly once, whatever the deliveries (hypothesis) --------------------------------------------

DEVICES = st.sampled_from([SV1, DM1, FORTE])
STATUSES = st.sampled_from([Status.COMPLETED, Status.FAILED, Status.CANCELLED])


@st.composite
def histories(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    """A few tasks, each a sequence of states the table goes through once it has ended: its end, then
    perhaps a correction (another status, an earlier end: perhaps the month before) and details filled
    in later. States are described (ARNs and months are made fresh by the test, outside the draws)."""
    found = []
    for _ in range(draw(st.integers(1, 4))):
        day = draw(st.integers(2, 28))
        states = [
            {
                "device": draw(DEVICES),
                "status": draw(STATUSES),
                "day": day,
                "shots": draw(st.integers(1, 2000)),
                "submitter": draw(st.sampled_from([None, ADA, BOB])),
                "project": draw(st.sampled_from([None, "qml", "chem"])),
                "enriched": draw(st.booleans()),
            }
        ]
        for _ in range(draw(st.integers(0, 2))):
            if draw(st.booleans()):  # details filled in later (Braket's answer, with a tag)
                states.append({"details": True})
            else:  # a correction: the earlier end wins
                states.append({"status": draw(STATUSES), "day": draw(st.integers(1, day))})
        found.append(states)
    return found


def build(month: str, descriptions: list[dict[str, Any]]) -> list[TaskRecord]:
    first = descriptions[0]
    states = [
        finished(
            task_arn(),
            first["device"],
            first["status"],
            f"{month}-{first['day']:02d}T12:00:00.000Z",
            shots=first["shots"],
            submitter=first["submitter"],
            project=first["project"],
            enriched=first["enriched"],
        )
    ]
    for change in descriptions[1:]:
        last = states[-1]
        if change.get("details"):
            states.append(replace(last, enrichment=Enrichment(complete=True, tags={"project": "late"})))
            continue
        ended = f"{month}-{change['day']:02d}T06:00:00.000Z"
        status = change["status"]
        states.append(
            replace(
                last,
                status_times={**last.status_times, status: min(ended, last.status_times.get(status, ended))},
                ended_at=min(ended, last.ended_at or ended),
                event_ids=last.event_ids | {f"e-{len(states)}"},
            )
        )
    return states


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(described=histories(), data=st.data())
def test_the_totals_equal_the_table_whatever_the_deliveries(
    harness: Harness, s3: Any, described: list[list[dict[str, Any]]], data: st.DataObject
) -> None:
    """Each state is written, then delivered to the keeper 0 to 3 times, interleaved across tasks; the
    last state of each task is delivered at least once (the stream delivers every write), and some
    again later. Then the totals, by every scope, equal a single pass over the final items."""
    month = month_of_test()
    tasks = [build(month, descriptions) for descriptions in described]
    executions: dict[int, int] = {}
    for index, states in enumerate(tasks):
        if device_is_simulator(states[0].device_arn):
            executions[index] = data.draw(st.integers(0, 20_000), label="executionDuration")
            write_results(s3, states[0], executions[index])
    pending = dict.fromkeys(range(len(tasks)), 0)
    spent = Decimal(0)  # the spend metric's sum: what the keeper reports it moved
    while pending:  # the tasks' writes interleave; each task's in order, as the table makes them
        task = data.draw(st.sampled_from(sorted(pending)), label="next write")
        index = pending[task]
        store(harness, tasks[task][index])
        last = index == len(tasks[task]) - 1
        for _ in range(data.draw(st.integers(1 if last else 0, 3), label="deliveries")):
            spent += harness.keeper.keep(tasks[task][0].task.arn).spent_usd
        if last:
            del pending[task]
        else:
            pending[task] = index + 1
    for task in data.draw(st.lists(st.sampled_from(range(len(tasks))), max_size=4), label="late redeliveries"):
        spent += harness.keeper.keep(tasks[task][0].task.arn).spent_usd

    expected: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [Decimal(0), 0])
    for index, states in enumerate(tasks):
        final = states[-1]
        tags = final.enrichment.tags if final.enrichment else {}
        cost = expected_cost(final, executions.get(index)) or Decimal(0)
        for scope in (
            "account",
            f"device:{final.device_arn}",
            f"submitter:{final.submitter or ''}",
            f"tag:project={tags.get('project') or ''}",
        ):
            key = ((final.ended_at or "")[:7], scope)
            expected[key][0] += cost
            expected[key][1] += 1
    found = harness.totals.totals(expected)
    assert {key: (t.usd, t.tasks) for key, t in found.items()} == {k: tuple(v) for k, v in expected.items()}
    assert spent == sum((usd for (_, scope), (usd, _) in expected.items() if scope == "account"), Decimal(0))
    for states in tasks:
        item = harness.tasks.get(states[0].task.arn)
        assert item is not None and item.cost_basis is not None
        assert item.cost_basis["status"] == states[-1].status.value


def device_is_simulator(arn: str) -> bool:
    return "quantum-simulator" in arn


def test_concurrent_keepers_count_each_task_once(harness: Harness) -> None:
    month = month_of_test()
    records = [finished(task_arn(), FORTE, Status.COMPLETED, f"{month}-10T10:00:00.000Z", shots=1) for _ in range(6)]
    for record in records:
        store(harness, record)
    errors: list[BaseException] = []

    def keep_all() -> None:
        try:
            for record in records:
                harness.keeper.keep(record.task.arn)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=keep_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    account = harness.totals.total(month, "account")
    assert (account.usd, account.tasks) == (Decimal("0.38") * 6, 6)


# --- budgets: alerts once per threshold; holds that concurrent submissions cannot race past ---------


class Inbox:
    def __init__(self, topic_arn: str) -> None:
        self.sqs = boto3.client("sqs")
        self.url = self.sqs.create_queue(QueueName=f"alerts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        boto3.client("sns").subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"FilterPolicy": json.dumps({"type": ["budget-alert"]})},
        )

    def drain(self) -> list[dict[str, Any]]:
        received = []
        while messages := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                received.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return received


def test_a_budget_crossing_sends_one_alert_per_threshold_whatever_the_deliveries(
    table_names: dict[str, str], topic: str
) -> None:
    project = f"grant-{uuid.uuid4().hex[:6]}"
    budget = Budget(f"tag:project={project}", Decimal(1), (Decimal(50), Decimal(100)))
    harness = Harness(table_names, topic, (budget,))
    inbox = Inbox(topic)
    month = month_of_test()
    records = [
        finished(task_arn(), FORTE, Status.COMPLETED, f"{month}-1{i}T10:00:00.000Z", shots=1, project=project)
        for i in range(3)
    ]  # $0.38 each: 38 %, 76 % (the 50 % alert), 114 % (the 100 % alert)
    for record in records:
        store(harness, record)
    threads = [
        threading.Thread(target=lambda: [harness.keeper.keep(r.task.arn) for r in records * 2]) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    alerts = [json.loads(message["Message"]) for message in inbox.drain()]
    assert sorted((a["thresholdPercent"], a["scope"], a["month"]) for a in alerts) == [
        ("100", budget.scope, month),
        ("50", budget.scope, month),
    ]
    assert {a["notificationId"] for a in alerts} == {f"budget#{budget.scope}#{month}#{p}" for p in ("50", "100")}
    total = harness.totals.total(month, budget.scope)
    assert set(total.alerts) == {"50", "100"} and all("sentAt" in a for a in total.alerts.values())


def test_concurrent_holds_cannot_pass_a_budget_and_a_refusal_says_what_remains(
    table_names: dict[str, str], harness: Harness
) -> None:
    holds = BudgetHolds(harness.totals)
    month = month_of_test()
    budget = Budget(f"submitter:{ADA}-{uuid.uuid4().hex[:6]}", Decimal(1), (Decimal(100),))
    now, later = f"{month}-01T00:00:00.000Z", f"{month}-01T00:05:00.000Z"
    accepted: list[Reservation] = []
    refused: list[BudgetWouldBeExceeded] = []

    def submit() -> None:
        reservation = Reservation(str(uuid.uuid4()), month, Decimal("0.38"), (budget.scope,))
        try:
            holds.reserve(reservation, [budget], now, later)
            accepted.append(reservation)
        except BudgetWouldBeExceeded as exc:
            refused.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (len(accepted), len(refused)) == (2, 4)  # $0.76 held; a third would be $1.14
    total = harness.totals.total(month, budget.scope)
    assert (total.reserved_usd, total.committed_usd) == (Decimal("0.76"), Decimal("0.76"))
    assert budget.remaining(refused[0].total.committed_usd) == Decimal("0.24")

    assert holds.release(accepted[0], later) and not holds.release(accepted[0], later)  # given back once
    assert holds.link(accepted[1], task_arn(), later)
    assert harness.totals.total(month, budget.scope).committed_usd == Decimal("0.38")
    assert holds.expired(month, "9999") == []  # neither pending any more

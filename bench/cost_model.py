"""Cost model: dollars per million tracked tasks, from AWS list prices, written to bench/cost.md.

Not a measurement of AWS: a model whose every input is stated. What can be computed from this
repository is computed: the task table's write units per event come from the synthesized indexes
(keys and projections read from the template) and from the item images the tracker's own code
writes for one task's life (logic.merge, models.item.to_item, the cost keeper's basis); requests per
event come from bench/results/recorder-cost.md's measurement (one write per in-order event); Braket's
prices come from the catalogue the functions ship with (lambdas/tracker/data/price-catalogue.json),
priced by the tracker's own cost logic. Everything else is an assumption, listed in the output.

Run: .venv/bin/python -m bench.cost_model
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import PROJECT
from bench.write_units import item_size, task_table, write_units

PRICES_AS_OF = "AWS list prices for us-east-1 (N. Virginia) as published in 2025"
OUT = Path(__file__).resolve().parent / "cost.md"

# US East (N. Virginia) list prices, in dollars. Free tiers ignored.
LAMBDA_REQUEST = 0.20 / 1e6
LAMBDA_GB_SECOND_ARM = 0.0000133334
DYNAMODB_WRITE_UNIT = 0.625 / 1e6  # on-demand, per write request unit (after the November 2024 cut)
DYNAMODB_READ_UNIT = 0.125 / 1e6  # on-demand, per read request unit
SQS_REQUEST = 0.40 / 1e6  # standard queue, per request (64 KB chunk)
SNS_PUBLISH = 0.50 / 1e6  # standard topic, per publish (64 KB chunk); delivery to SQS is free
REST_API_REQUEST = 3.50 / 1e6  # API Gateway REST API, first 333 million a month
WEBSOCKET_MESSAGE = 1.00 / 1e6  # API Gateway WebSocket, per message (32 KB chunk), both ways
WEBSOCKET_CONNECTION_MINUTE = 0.25 / 1e6
LOG_INGESTION_GB = 0.50  # CloudWatch Logs, standard class
EVENTBRIDGE_CROSS_REGION_EVENT = 1.00 / 1e6  # an event sent to a bus in another Region is a custom event
S3_GET = 0.40 / 1e6  # S3 Standard, per GET (a ranged GET is one request)
CATALOGUE = "lambdas/tracker/data/price-catalogue.json"
"""Braket's prices: the catalogue shipped with the functions (its date and sources are in it)."""
BRAKET_TASKS = (  # what a task on Braket costs, priced by the tracker's own logic from CATALOGUE
    ("SV1, the 3 s minimum", "arn:aws:braket:::device/quantum-simulator/amazon/sv1", "us-east-1", 0),
    ("IQM Garnet, 1,000 shots", "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet", "eu-north-1", 1000),
    ("IonQ Forte-1, 1,000 shots", "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1", "us-east-1", 1000),
    ("QuEra Aquila, 1,000 shots", "arn:aws:braket:us-east-1::device/qpu/quera/Aquila", "us-east-1", 1000),
)
# The cost keeper's transaction, per ended task: its ledger entry and the totals of its scopes (the
# account, its device, its submitter, each promoted tag): each item under 1 KB, 2 units in a transaction.
COST_TOTALS_PER_TASK = 3  # plus one per promoted tag key

# Assumptions about one task's life.
EVENTS = ("CREATED", "QUEUED", "RUNNING", "COMPLETED")
RECORDER_MS_PER_EVENT = 25  # billed ms per event, one event per invocation (the worst case: no batching)
RECORDER_MS_ENRICH = 60  # the finishing event's GetQuantumTask
RECORDER_MS_PUSH = 20  # the end's push: two index queries and a post per subscriber (docs/latency.md)
NOTIFIER_MS, PUSHER_MS, API_MS = 60, 30, 40
NOTIFIER_IDLE_MS = 5  # the notifier's invocations for a finished item's other writes (marks, the cost)
KEEPER_MS = 90  # two GetItems, a ranged S3 GET (simulators), a transaction and an UpdateItem
LOG_BYTES_PER_INVOCATION = 1500  # Powertools JSON lines, plus Lambda's START/END/REPORT lines


def life_of_a_task(
    promoted: list[str], details_after_end: bool = True
) -> list[tuple[str, dict[str, Any] | None, dict[str, Any]]]:
    """Each write of one task's life, as (what, item before, item after), made by the tracker's code.
    With `details_after_end` (the stack's default, docs/latency.md), the end is written without
    Braket's details and pushed, and the details are a second write."""
    sys.path.insert(0, str(PROJECT / "lambdas"))
    from bench.recorder_cost import events_for  # noqa: PLC0415
    from tracker.data.braket_tasks import enrichment_from  # noqa: PLC0415
    from tracker.logic.merge import fold  # noqa: PLC0415
    from tracker.models.event import parse_task_event  # noqa: PLC0415
    from tracker.models.item import to_item  # noqa: PLC0415

    (stream,) = events_for(1)
    arn = stream[0]["detail"]["quantumTaskArn"]
    enrichment = enrichment_from(
        {"quantumTaskArn": arn, "status": "COMPLETED", "tags": {"project": "qml-2026"}, "numSuccessfulShots": 1000}
    )
    writes: list[tuple[str, dict[str, Any] | None, dict[str, Any]]] = []
    before: dict[str, Any] | None = None
    for count in range(1, len(stream) + 1):
        events = [parse_task_event(event) for event in stream[:count]]
        finished = events[-1].status.finished
        record = fold(events, enrichment if finished and not details_after_end else None)
        assert record is not None
        after = to_item(record, promoted)
        pushed = " (written, then pushed)" if finished and details_after_end else ""
        writes.append((f"recorder: {events[-1].status.value} event{pushed}", before, after))
        before = after
        if finished and details_after_end:
            record = fold(events, enrichment)
            assert record is not None
            after = to_item(record, promoted)
            writes.append(("recorder: Braket's details of the end (GetQuantumTask)", before, after))
            before = after
    assert before is not None
    marked = {k: v for k, v in before.items() if k != "awaitingNotification"} | {"notifiedAt": "2026-11-25T01:00:00Z"}
    writes.append(("notifier: marks the end notified", before, marked))
    costed = marked | _cost_attributes(fold([parse_task_event(event) for event in stream], enrichment))
    writes.append(("cost keeper: writes costUsd and costBasis", marked, costed))
    return writes


def memory_gb(template: dict[str, Any], handler: str) -> float:
    """The memory of the function whose handler starts with `handler`, from the template, in GB."""
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Lambda::Function" and str(props.get("Handler", "")).startswith(handler):
            return int(props.get("MemorySize", 128)) / 1024
    raise LookupError(f"no function {handler} in the template")


def _cost_attributes(record: Any) -> dict[str, Any]:
    """The cost keeper's write on the item, made by its own code: an SV1 task of 12 ms."""
    from tracker.data.price_catalogue import shipped_catalogue  # noqa: PLC0415
    from tracker.logic.costs import task_cost  # noqa: PLC0415
    from tracker.logic.task_costs import basis_item, usage  # noqa: PLC0415

    cost = task_cost(usage(record, 12), shipped_catalogue())
    return {"costUsd": cost.usd, "costBasis": basis_item(cost, record)}


@dataclass
class Line:
    service: str
    what: str
    per_task: float  # dollars

    @property
    def per_million(self) -> float:
        return self.per_task * 1e6


def load_template() -> dict[str, Any]:
    cdk_out = PROJECT / ".local" / "cdk.out"
    path = cdk_out / "BraketTaskTracker.template.json"
    if not path.exists():
        from local.tracker import synthesize  # noqa: PLC0415

        synthesize(cdk_out, "us-east-1")
    return dict(json.loads(path.read_text()))


def model(
    template: dict[str, Any], details_after_end: bool = True
) -> tuple[list[Line], list[tuple[str, int]], dict[str, int]]:
    indexes, keys = task_table(template)
    api = next(
        r["Properties"]["Environment"]["Variables"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"].startswith("tracker.api.")
    )
    writes = life_of_a_task(json.loads(api["PROMOTED_TAG_KEYS"]), details_after_end)
    per_write = [(what, write_units(old, new, indexes, keys)) for what, old, new in writes]
    wru = sum(n for _, n in per_write)
    finished = writes[-1][2]
    stored = item_size(finished) + 100
    stored += sum(item_size(image) + 100 for index in indexes if (image := index.image(finished, keys)) is not None)
    sizes = {
        "item when finished (bytes)": item_size(finished),
        "stored per finished task, table and indexes (bytes)": stored,
    }
    n = len(EVENTS)
    recorder, notifier, pusher = (
        memory_gb(template, f"tracker.{name}.") for name in ("recorder", "notifier", "live.pusher_handler")
    )
    # The notifier reads every write of a finished item: besides the one it announces, its own mark, the
    # keeper's cost write, and (detailsAfterEnd) the end written before Braket's details.
    idle = 3 if details_after_end else 2
    recorder_ms = n * RECORDER_MS_PER_EVENT + RECORDER_MS_ENRICH + RECORDER_MS_PUSH
    gb_s = (
        recorder * recorder_ms
        + notifier * (NOTIFIER_MS + idle * NOTIFIER_IDLE_MS)
        + 0.25 * KEEPER_MS
        + pusher * (n - 1) * PUSHER_MS
    ) / 1000
    # recorder per event, the notifier, the live pusher per status change before the end, the keeper
    invocations = n + 1 + idle + (n - 1) + 1
    totals = COST_TOTALS_PER_TASK + len(json.loads(api["PROMOTED_TAG_KEYS"]))
    lines = [
        Line("EventBridge", "Braket's events on the default bus, and the rule's delivery to SQS: no charge", 0.0),
        Line("SQS", f"{n} events x 3 requests (send, receive, delete; batches of one)", n * 3 * SQS_REQUEST),
        Line(
            "SQS",
            "the cost queue: 1 message x 3 requests (the notifier's send, the keeper's receive, delete)",
            3 * SQS_REQUEST,
        ),
        Line(
            "Lambda",
            f"{invocations} invocations (recorder {n}, notifier {1 + idle}, live pusher {n - 1}: the recorder "
            "pushes the end; cost keeper 1)",
            invocations * LAMBDA_REQUEST,
        ),
        Line(
            "Lambda",
            f"{gb_s:.4f} GB-s on arm64 (billed ms in the assumptions; memory from the template: recorder "
            f"{recorder * 1024:.0f} MB, notifier {notifier * 1024:.0f} MB, pusher {pusher * 1024:.0f} MB)",
            gb_s * LAMBDA_GB_SECOND_ARM,
        ),
        Line(
            "DynamoDB",
            f"{wru} write units: the task table and its indexes, over the task's {len(writes)} writes",
            wru * DYNAMODB_WRITE_UNIT,
        ),
        Line(
            "DynamoDB",
            f"the cost keeper's transaction: its ledger entry and {totals} totals, 2 units each: {2 * (1 + totals)}",
            2 * (1 + totals) * DYNAMODB_WRITE_UNIT,
        ),
        Line(
            "DynamoDB",
            "reads: notifier 1 GetItem (strong, 1 unit); subscribers found by 2 index queries per status change "
            "(eventual, 0.5 unit each; the recorder's for the end, the pusher's before it); cost keeper 2 GetItems "
            f"(strong): {1 + n + 2}",
            (1 + n + 2) * DYNAMODB_READ_UNIT,
        ),
        Line("S3", "a simulator task: 2 ranged GETs of results.json's tail (the keeper; the notifier)", 2 * S3_GET),
        Line("SNS", "1 publish per finished task", SNS_PUBLISH),
        Line(
            "CloudWatch Logs",
            f"{invocations} x {LOG_BYTES_PER_INVOCATION} bytes ingested",
            invocations * LOG_BYTES_PER_INVOCATION / 1e9 * LOG_INGESTION_GB,
        ),
    ]
    return lines, per_write, sizes


def braket_costs() -> tuple[list[tuple[str, float]], str]:
    """What a task on Braket costs, priced by the tracker's own logic from the shipped catalogue."""
    sys.path.insert(0, str(PROJECT / "lambdas"))
    from tracker.data.price_catalogue import shipped_catalogue  # noqa: PLC0415
    from tracker.logic.costs import estimate_cost  # noqa: PLC0415

    catalogue = shipped_catalogue()
    costs = []
    for name, device, region, shots in BRAKET_TASKS:
        usd = estimate_cost(device, region, shots, catalogue).usd
        assert usd is not None, f"{CATALOGUE} has no price for {name}"
        costs.append((name, float(usd)))
    return costs, f"taken {catalogue.taken_at}, version {catalogue.version}"


def report() -> str:
    template = load_template()
    lines, per_write, sizes = model(template)
    total = sum(line.per_task for line in lines)
    single, single_writes, _ = model(template, details_after_end=False)
    extra = total - sum(line.per_task for line in single)
    extra_units = sum(n for _, n in per_write) - sum(n for _, n in single_writes)
    waiter = REST_API_REQUEST + LAMBDA_REQUEST + 0.5 * API_MS / 1000 * LAMBDA_GB_SECOND_ARM + 0.5 * DYNAMODB_READ_UNIT
    live = 2 * WEBSOCKET_MESSAGE + WEBSOCKET_CONNECTION_MINUTE * 5
    rows = ["| service | per task | per million tasks |", "|---|---|---|"]
    rows += [f"| {line.service}: {line.what} | ${line.per_task:.8f} | ${line.per_million:,.2f} |" for line in lines]
    rows.append(f"| **tracking, in all** | **${total:.8f}** | **${total * 1e6:,.2f}** |")
    priced, catalogue = braket_costs()
    braket = ["| a task on Braket | per task | per million tasks | tracking adds |", "|---|---|---|---|"]
    braket += [f"| {name} | ${cost:.5f} | ${cost * 1e6:,.0f} | {total / cost:.2%} |" for name, cost in priced]
    writes = ["| write | write units |", "|---|---|"] + [f"| {what} | {n} |" for what, n in per_write]
    return "\n".join(
        [
            "# What tracking costs",
            "",
            f"Prices: {PRICES_AS_OF}, as list prices with no free tier, no Savings Plan and no discount. This "
            "machine has no network: they are quoted as known when this model was written (2026-11-25), not "
            "fetched; check them at aws.amazon.com/pricing before relying on a figure. Generated by "
            "`python -m bench.cost_model` (part of `make bench`), which reads the synthesized template.",
            "",
            "## Per tracked task",
            "",
            *rows,
            "",
            "## Beside what the task itself costs",
            "",
            *braket,
            "",
            f"Braket prices from `{CATALOGUE}` (the price catalogue the functions ship with: {catalogue}; its "
            "sources and which figures AWS confirms are in it and in docs/costs.md), priced by the tracker's own "
            "cost logic: a QPU task's per-task price plus its per-shot price, a simulator's per-minute price for "
            "at least 3 s.",
            "",
            "## Waiting for a result",
            "",
            "Polling Braket (`AwsQuantumTask.result()`) costs nothing in dollars: GetQuantumTask is not billed. "
            "It spends quota instead: every waiter sends about one GetQuantumTask a second (more while queued, "
            "see results/polling-vs-tracker.md), against 100 a second per account and Region, shared with "
            "everything else in the account. That is not priced here.",
            "",
            f"Waiting through the tracker adds, per waiter: over the live channel, about ${live * 1e6:,.2f} per "
            "million waits (a subscribe message and a push, and five connection-minutes); then one GET "
            f"/tasks/{{id}}/result (REST API request, Lambda, a GetItem): ${waiter * 1e6:,.2f} per million. The "
            "presigned results download is an S3 GET billed to the results bucket's owner either way.",
            "",
            "## The task table's writes, from the template",
            "",
            "Write units per write of one task's life: the table (1 unit per KB of the larger of the item "
            "before and after) plus each index that holds the item (projection ALL: the whole item; a key "
            "change is a delete and a put; a sparse index is written only while the item has its key). Items "
            "made by the tracker's own merge and item mapping; the task is tagged with the promoted key "
            f"`project`. The finished item is {sizes['item when finished (bytes)']:,} bytes.",
            "",
            *writes,
            "",
            f"`detailsAfterEnd` (the default: the end is written and pushed, then Braket's details are written) "
            f"costs {extra_units} write units per task more than one write of the end with its details: "
            f"${extra * 1e6:,.2f} per million tasks. Set to false, it saves that, and every end then reaches its "
            "waiters one GetQuantumTask round trip later (docs/latency.md).",
            "",
            "## Assumptions",
            "",
            f"- {len(EVENTS)} events per task ({', '.join(EVENTS)}); Braket does not promise every "
            "intermediate status, so this is the usual upper end. A task submitted in another Braket Region "
            f"adds its forwarding: {len(EVENTS)} cross-Region events, "
            f"${len(EVENTS) * EVENTBRIDGE_CROSS_REGION_EVENT * 1e6:.2f} per million tasks.",
            "- One event per recorder invocation and one SQS receive and delete per event: the worst case, at low "
            "traffic, and the usual case with no batching window (docs/latency.md); a receive returns up to 10 "
            "events when several are queued, which cuts both under load.",
            f"- Billed duration: recorder {RECORDER_MS_PER_EVENT} ms per event plus {RECORDER_MS_ENRICH} ms for "
            f"the finishing event's GetQuantumTask and {RECORDER_MS_PUSH} ms for its push; notifier {NOTIFIER_MS} ms; "
            f"live pusher {PUSHER_MS} ms per status change before the end; API {API_MS} ms (512 MB). arm64.",
            "- DynamoDB on-demand capacity. Storage is per month, not per task, and left out of the total: "
            f"{sizes['stored per finished task, table and indexes (bytes)']:,} bytes per finished task (the item "
            "in the table and in every index that holds it, 100 bytes of overhead each), so a million kept "
            f"tasks cost about ${sizes['stored per finished task, table and indexes (bytes)'] * 1e6 / 1e9 * 0.25:,.2f} "
            "a month at $0.25 per GB-month; point-in-time recovery doubles about that.",
            "- DynamoDB Streams reads by Lambda are free. The notifier's and live pusher's filters drop records "
            "that need no work before any invocation.",
            "- Fixed monthly costs, whatever the task count, left out: the SQS pollers' empty receives, the "
            "reconciler every 10 minutes (one invocation, a few requests, SearchQuantumTasks free), CloudWatch "
            "alarms and custom metrics; encryption (the notification topic's customer managed KMS key, $1 a "
            "month, and DynamoDB's AWS managed key: both services cache data keys for minutes, so KMS requests "
            "do not grow with tasks).",
            "- A task submitted through the Task API adds one REST request, one invocation and its idempotency "
            f"record (about ${(REST_API_REQUEST + LAMBDA_REQUEST + 4 * DYNAMODB_WRITE_UNIT) * 1e6:,.2f} per million).",
            "- Costs: the cost keeper runs once per ended task (the notifier hands it only the writes that may "
            f"change a cost), {KEEPER_MS} ms at 256 MB; the notifier is also invoked, for a few ms, by the other "
            "writes of a finished item (its own mark, the keeper's cost write). A QPU task needs no S3 read. The "
            "price catalogue is read at most every 5 minutes per function (not per task).",
            "- Budgets, only where the `budgets` setting names a task's scopes: each ended task of a budgeted "
            "scope adds one consistent BatchGetItem of its budgets' totals (1 read unit each) and, at a "
            "threshold, an alert's claim and confirmation (2 writes) and a publish; each API submission of a "
            "budgeted scope adds its hold (a transaction: the pending hold and each budget's total, 2 units "
            "each) and its link (a transaction of 2 items): about "
            f"${(2 * (1 + 1) + 2 * 2) * DYNAMODB_WRITE_UNIT * 1e6:,.2f} per million submissions with one budget.",
            "",
        ]
    )


def main() -> None:
    text = report()
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

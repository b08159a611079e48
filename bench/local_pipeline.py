"""Benchmark: throughput and latency of the whole local pipeline (not a timed test).

Submits N Bell-pair tasks to the local Braket service and watches the task table. Reports:
- tasks per second from the first submission until every task's end is recorded;
- for each task, the delay from its last status change (Braket's endedAt) to the moment the
  table shows it finished: median and p95.
The delay includes local mode's own intervals, stated in the report: the table is read every
POLL_SECONDS by this script, and the runner long-polls SQS.

Then the Braket SDK's own batch workflow in the same local mode: `device.run_batch` of BATCH Bell
pairs on SV1 with max_parallel=BATCH, through the endpoints `make up` exports, timed from the call
until `results()` returns, and the Braket requests it took, by signing access key (the researcher's
against the tracker's functions', from the local service's /_local/request-counts).

Run: make bench  (or: .venv/bin/python -m bench.local_pipeline --tasks 50 --batch 100)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from local.faults import FaultPlan
from local.tracker import LocalTracker

BELL_PAIR = "OPENQASM 3.0; bit[2] b; qubit[2] q; h q[0]; cnot q[0], q[1]; b = measure q;"
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
BATCH = 100
POLL_SECONDS = 0.02
RESULTS = Path(__file__).resolve().parent / "results"
SWEEPS: list[float] = []  # how long one read of every pending task's item took


def run(tasks: int, batch: int) -> dict[str, Any]:
    deserialize = TypeDeserializer().deserialize
    with LocalTracker(faults=FaultPlan(), queue_delay=0.0) as tracker:
        bucket = "amazon-braket-us-east-1-123456789012"
        tracker.client("s3").create_bucket(Bucket=bucket)
        braket, dynamodb = tracker.client("braket"), tracker.client("dynamodb")
        table = tracker.output("TaskTableName")
        action = json.dumps(
            {"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, "source": BELL_PAIR}
        )
        # Warm up: the simulator compiles on its first run, the worker imports the handler.
        warm = braket.create_quantum_task(
            action=action, deviceArn=SV1, shots=100, outputS3Bucket=bucket, outputS3KeyPrefix="warm"
        )["quantumTaskArn"]
        _wait_recorded(dynamodb, table, {warm}, deserialize, {})

        started = time.monotonic()
        arns = {
            braket.create_quantum_task(
                action=action, deviceArn=SV1, shots=100, outputS3Bucket=bucket, outputS3KeyPrefix="bench"
            )["quantumTaskArn"]
            for _ in range(tasks)
        }
        seen_at: dict[str, float] = {}
        _wait_recorded(dynamodb, table, arns, deserialize, seen_at)
        elapsed = time.monotonic() - started
        delays = []
        for arn in arns:
            ended = braket.get_quantum_task(quantumTaskArn=arn)["endedAt"].timestamp()
            delays.append(seen_at[arn] - ended)
        sdk_batch = run_batch(tracker, batch)
    delays.sort()
    return {
        "tasks": tasks,
        "seconds": elapsed,
        "tasks_per_second": tasks / elapsed,
        "delay_median_s": statistics.median(delays),
        "delay_p95_s": delays[max(0, int(len(delays) * 0.95) - 1)],
        **sdk_batch,
    }


def run_batch(tracker: LocalTracker, size: int) -> dict[str, Any]:
    """The SDK's device.run_batch of `size` Bell pairs on SV1, max_parallel=size, at the SDK's defaults."""
    os.environ.update(tracker.environment())  # what `make up` tells a researcher to export
    os.environ.pop("AWS_SESSION_TOKEN", None)
    from braket.aws import AwsDevice  # type: ignore[import-untyped]  # noqa: PLC0415
    from braket.circuits import Circuit  # type: ignore[import-untyped]  # noqa: PLC0415

    assert tracker.runner is not None
    counts = f"{os.environ['AWS_ENDPOINT_URL_BRAKET']}/_local/request-counts"
    functions = {credentials.access_key for credentials in tracker.runner.function_credentials.values()}
    _counts(counts, "DELETE")
    started = time.monotonic()
    batch = AwsDevice(SV1).run_batch([Circuit().h(0).cnot(0, 1)] * size, shots=100, max_parallel=size)
    results = batch.results()
    seconds = time.monotonic() - started
    if batch.unsuccessful or len(results) != size:
        raise RuntimeError(f"run_batch: {len(batch.unsuccessful)} of {size} tasks did not complete")
    # The tracker reads each finished task once (the recorder's enrichment): count after it has.
    dynamodb, table = tracker.client("dynamodb"), tracker.output("TaskTableName")
    _wait_enriched(dynamodb, table, {task.id for task in batch.tasks})
    recorded = time.monotonic() - started
    by_key = _counts(counts)["byAccessKey"]
    researcher = by_key.get(os.environ["AWS_ACCESS_KEY_ID"], {})
    tracker_calls = sum(sum(ops.values()) for key, ops in by_key.items() if key in functions)
    return {
        "batch": size,
        "batch_seconds": seconds,
        "batch_recorded_seconds": recorded,
        "batch_researcher_calls": sum(researcher.values()),
        "batch_researcher_get": researcher.get("GetQuantumTask", 0),
        "batch_tracker_calls": tracker_calls,
    }


def _wait_enriched(dynamodb: Any, table: str, arns: set[str], timeout: float = 600.0) -> None:
    """Until every task's item is finished and enriched (the recorder read the task from Braket)."""
    pending, deadline = set(arns), time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for arn in list(pending):
            item = dynamodb.get_item(TableName=table, Key={"taskArn": {"S": arn}}).get("Item") or {}
            if "enriched" in item:
                pending.discard(arn)
        time.sleep(POLL_SECONDS)
    if pending:
        raise RuntimeError(f"{len(pending)} batch tasks were not recorded within {timeout} s")


def _counts(url: str, method: str = "GET") -> dict[str, Any]:
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as response:
        return dict(json.loads(response.read()))


def _wait_recorded(
    dynamodb: Any,
    table: str,
    arns: set[str],
    deserialize: Callable[[Any], Any],
    seen_at: dict[str, float],
    *,
    timeout: float = 600.0,
) -> None:
    pending = set(arns)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        sweep = time.monotonic()
        for arn in list(pending):
            item = dynamodb.get_item(TableName=table, Key={"taskArn": {"S": arn}}).get("Item")
            if item and deserialize(item["status"]) in {"COMPLETED", "FAILED", "CANCELLED"}:
                seen_at[arn] = time.time()
                pending.discard(arn)
        SWEEPS.append(time.monotonic() - sweep)
        time.sleep(POLL_SECONDS)
    if pending:
        raise RuntimeError(f"{len(pending)} tasks were not recorded within {timeout} s")


def report(result: dict[str, Any]) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            "# Local pipeline benchmark",
            "",
            f"Date: {now}. Machine: {platform.machine()}, {platform.processor() or 'unknown CPU'}, "
            f"Python {platform.python_version()}, {_cores()} cores.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| tasks | {result['tasks']:.0f} Bell pairs on the local SV1, 100 shots each |",
            f"| throughput | {result['tasks_per_second']:.1f} tasks/s ({result['seconds']:.1f} s in all) |",
            f"| end -> table, median | {result['delay_median_s'] * 1000:.0f} ms |",
            f"| end -> table, p95 | {result['delay_p95_s'] * 1000:.0f} ms |",
            f"| SDK `device.run_batch` of {result['batch']} Bell pairs on SV1, max_parallel={result['batch']} | "
            f"all results in {result['batch_seconds']:.1f} s "
            f"({result['batch'] / result['batch_seconds']:.1f} tasks/s) |",
            f"| ... and all of them recorded in the task table | after {result['batch_recorded_seconds']:.1f} s |",
            f"| Braket requests for the batch: the SDK's (GetQuantumTask) | {result['batch_researcher_calls']} "
            f"({result['batch_researcher_get']}), {result['batch_researcher_calls'] / result['batch']:.1f} per task |",
            f"| Braket requests for the batch: the tracker's functions | {result['batch_tracker_calls']} "
            f"({result['batch_tracker_calls'] / result['batch']:.2f} per task) |",
            "",
            "Local intervals inside these figures: this script reads every pending task's item in turn, then",
            f"sleeps {POLL_SECONDS * 1000:.0f} ms (a sweep took {statistics.median(SWEEPS) * 1000:.0f} ms median, "
            f"{max(SWEEPS) * 1000:.0f} ms at most);",
            "the runner long-polls the capture queue (up to 1 s per poll) and batches up to the mapping's",
            "MaximumBatchingWindowInSeconds (1 s). Each task passes through the local Braket service,",
            "moto's EventBridge and SQS, and the recorder in its worker process: four events per task.",
            "The batch runs at the SDK's defaults (a thread per task, GetQuantumTask every second per task) while",
            "the tracker records the same tasks; requests are counted by signing access key at the local service.",
            "",
        ]
    )


def _cores() -> int:
    return os.cpu_count() or 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--batch", type=int, default=BATCH, help="tasks in the SDK's run_batch")
    args = parser.parse_args()
    text = report(run(args.tasks, args.batch))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "local-pipeline.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()

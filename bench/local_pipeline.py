"""Benchmark: throughput and latency of the whole local pipeline (not a timed test).

Submits N Bell-pair tasks to the local Braket service and watches the task table. Reports:
- tasks per second from the first submission until every task's end is recorded;
- for each task, the delay from its last status change (Braket's endedAt) to the moment the
  table shows it finished: median and p95.
The delay includes local mode's own intervals, stated in the report: the table is read every
POLL_SECONDS by this script, and the runner long-polls SQS.

Run: make bench  (or: .venv/bin/python -m bench.local_pipeline --tasks 50)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from local.faults import FaultPlan
from local.tracker import LocalTracker

BELL_PAIR = "OPENQASM 3.0; bit[2] b; qubit[2] q; h q[0]; cnot q[0], q[1]; b = measure q;"
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
POLL_SECONDS = 0.02
RESULTS = Path(__file__).resolve().parent / "results"
SWEEPS: list[float] = []  # how long one read of every pending task's item took


def run(tasks: int) -> dict[str, float]:
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
    delays.sort()
    return {
        "tasks": tasks,
        "seconds": elapsed,
        "tasks_per_second": tasks / elapsed,
        "delay_median_s": statistics.median(delays),
        "delay_p95_s": delays[max(0, int(len(delays) * 0.95) - 1)],
    }


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


def report(result: dict[str, float]) -> str:
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
            "",
            "Local intervals inside these figures: this script reads every pending task's item in turn, then",
            f"sleeps {POLL_SECONDS * 1000:.0f} ms (a sweep took {statistics.median(SWEEPS) * 1000:.0f} ms median, "
            f"{max(SWEEPS) * 1000:.0f} ms at most);",
            "the runner long-polls the capture queue (up to 1 s per poll) and batches up to the mapping's",
            "MaximumBatchingWindowInSeconds (1 s). Each task passes through the local Braket service,",
            "moto's EventBridge and SQS, and the recorder in its worker process: four events per task.",
            "",
        ]
    )


def _cores() -> int:
    return os.cpu_count() or 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=50)
    args = parser.parse_args()
    text = report(run(args.tasks))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "local-pipeline.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()

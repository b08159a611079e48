"""Benchmark: waiting for a task's result by polling Braket, against the tracker's live channel.

The same workload twice, one side after the other, on local mode (the local Braket service, the
deployed stack on moto, the runner): N tasks of varied duration (GHZ circuits of 2 to 16 qubits,
100 to 5,000 shots, submitted together to a service with two workers and a queue delay, so that
they queue behind each other). One waiter thread per task.

- Side 1, polling: the real amazon-braket-sdk, `AwsQuantumTask(arn, aws_session).result()` at its
  defaults (GetQuantumTask every second, with the queue position read while QUEUED), the AwsSession's
  braket client pointed at the local service and its S3 client at moto.
- Side 2, tracker: `TrackedTask.from_arn(arn, client).result()` from braket_tracker: the end is pushed
  over the live-updates WebSocket channel, then one GET /tasks/{id}/result and the results download.

Braket API calls are counted at the local Braket service (every request it answered, by operation)
and, for side 1, also by a botocore hook on the SDK's own client. The delay is from Braket's
`endedAt` to the moment result() returned in the waiter.

Run: .venv/bin/python -m bench.polling_vs_tracker [--tasks 20]
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from bench.common import machine, median, p95, write
from local.aws import CREDENTIALS
from local.faults import FaultPlan
from local.tracker import LocalTracker

SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
RESULTS_PREFIX = "tasks"  # the stack's results bucket, where the Task API may read (constants.RESULTS_PREFIX)
QUEUE_DELAY = 2.0
# Up to 16 qubits: simulations run in worker processes of their own (local/braket/simulators.py), so two
# parallel kernels at once no longer abort the local service.
QUBITS = (2, 4, 8, 12, 16)
SHOTS = (100, 1000, 5000)
QUOTA_PER_SECOND = 100  # GetQuantumTask, per account and Region (bench/cost.md, braket-facts.md)
WAITERS = (10, 100, 1000)


def ghz(qubits: int) -> str:
    lines = [f"OPENQASM 3.0; bit[{qubits}] b; qubit[{qubits}] q; h q[0];"]
    lines += [f"cnot q[{i}], q[{i + 1}];" for i in range(qubits - 1)]
    lines.append("b = measure q;")
    return " ".join(lines)


@dataclass
class Side:
    name: str
    learned: dict[str, float] = field(default_factory=dict)  # arn -> wall clock when result() returned
    waited: dict[str, float] = field(default_factory=dict)  # arn -> seconds spent in result()
    server_calls: Counter[str] = field(default_factory=Counter)  # at the local Braket service
    waiter_calls: Counter[str] = field(default_factory=Counter)  # sent by the waiters' own clients
    ended: dict[str, float] = field(default_factory=dict)
    pushed: dict[str, float] = field(default_factory=dict)  # arn -> wall clock when the end was pushed
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def submit_all(tracker: LocalTracker, tasks: int, label: str) -> list[str]:
    braket, bucket = tracker.client("braket"), tracker.output("ResultsBucketName")
    arns = []
    for index in range(tasks):
        qubits, shots = QUBITS[index % len(QUBITS)], SHOTS[index % len(SHOTS)]
        action = {"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, "source": ghz(qubits)}
        arns.append(
            braket.create_quantum_task(
                action=json.dumps(action),
                deviceArn=SV1,
                shots=shots,
                outputS3Bucket=bucket,
                outputS3KeyPrefix=f"{RESULTS_PREFIX}/bench-{label}",
            )["quantumTaskArn"]
        )
    return arns


def wait_all(side: Side, arns: list[str], waiter: Callable[[str], Any]) -> None:
    def run(arn: str) -> None:
        started = time.monotonic()
        try:
            result = waiter(arn)
            if result is None:
                side.errors.append(f"{arn}: no result")
        except Exception as error:  # reported, not hidden
            side.errors.append(f"{arn}: {error!r}")
        side.learned[arn] = time.time()
        side.waited[arn] = time.monotonic() - started

    threads = [threading.Thread(target=run, args=(arn,)) for arn in arns]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    side.seconds = time.monotonic() - started


def count_calls(session: Any, counter: Counter[str]) -> None:
    lock = threading.Lock()

    def counted(model: Any, **_: Any) -> None:
        with lock:
            counter[model.name] += 1

    session.events.register("before-call.braket", counted)


def measured(tracker: LocalTracker, side: Side, body: Callable[[], None]) -> None:
    assert tracker.braket is not None
    before = Counter(tracker.braket.request_counts())
    body()
    side.server_calls = Counter(tracker.braket.request_counts()) - before


def polling_side(tracker: LocalTracker, tasks: int) -> Side:
    from braket.aws import AwsQuantumTask, AwsSession  # type: ignore[import-untyped]  # noqa: PLC0415

    side = Side("polling: AwsQuantumTask.result()")
    env = tracker.environment()
    boto_session = boto3.Session(
        aws_access_key_id=CREDENTIALS[0], aws_secret_access_key=CREDENTIALS[1], region_name=tracker.region
    )
    count_calls(boto_session, side.waiter_calls)
    braket_client = boto_session.client("braket", endpoint_url=env["AWS_ENDPOINT_URL_BRAKET"])
    aws_session = AwsSession(boto_session=boto_session, braket_client=braket_client)
    arns = submit_all(tracker, tasks, "polling")

    def body() -> None:
        wait_all(side, arns, lambda arn: AwsQuantumTask(arn, aws_session=aws_session).result())

    measured(tracker, side, body)
    side.server_calls["CreateQuantumTask"] -= tasks  # the submissions were before; not the waiters'
    return side


def tracker_side(tracker: LocalTracker, tasks: int) -> Side:
    from braket_tracker import TrackedTask, TrackerClient  # noqa: PLC0415

    side = Side("tracker: TrackedTask.result()")
    arns = submit_all(tracker, tasks, "tracker")
    env = tracker.environment()

    def waiter(arn: str) -> Any:
        session = boto3.Session(
            aws_access_key_id=CREDENTIALS[0], aws_secret_access_key=CREDENTIALS[1], region_name=tracker.region
        )
        count_calls(session, side.waiter_calls)
        client = TrackerClient(
            api_url=env["BRAKET_TRACKER_API_URL"],
            live_url=env["BRAKET_TRACKER_LIVE_URL"],
            session=session,
            sdk_results=True,
        )

        def on_update(update: Any) -> None:
            if update.finished:
                side.pushed.setdefault(arn, time.time())

        return TrackedTask.from_arn(arn, client).result(timeout=600, on_update=on_update)

    measured(tracker, side, lambda: wait_all(side, arns, waiter))
    side.server_calls["CreateQuantumTask"] -= tasks
    return side


def run(tasks: int) -> tuple[Side, Side]:
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    with LocalTracker(faults=FaultPlan(), queue_delay=QUEUE_DELAY, forwarders=False) as tracker:
        for key, value in tracker.environment().items():
            os.environ[key] = value  # the SDK's S3 reads and the client's presigned downloads go to moto
        # Warm up both paths once: the simulator, the worker's imports, the API and live handlers.
        polling_side(tracker, 1)
        tracker_side(tracker, 1)
        sides = polling_side(tracker, tasks), tracker_side(tracker, tasks)
        braket = tracker.client("braket")
        for side in sides:
            for arn in side.learned:
                side.ended[arn] = braket.get_quantum_task(quantumTaskArn=arn)["endedAt"].timestamp()
    return sides


def report(tasks: int, polling: Side, tracked: Side) -> str:
    def per_task(side: Side, counter: Counter[str]) -> float:
        return sum(v for v in counter.values() if v > 0) / tasks

    def rate(side: Side) -> float:  # Braket calls per waiter per second of waiting
        calls = sum(v for v in side.waiter_calls.values() if v > 0)
        return calls / sum(side.waited.values())

    def delays(side: Side) -> list[float]:
        return [side.learned[arn] - side.ended[arn] for arn in side.learned]

    def ops(counter: Counter[str]) -> str:
        return ", ".join(f"{name} {count}" for name, count in sorted(counter.items()) if count > 0) or "none"

    swept = tracked.server_calls["SearchQuantumTasks"] > 0
    sweep = "it ran in this window" if swept else "no sweep fell in this window"
    pushed = [tracked.pushed[arn] - tracked.ended[arn] for arn in tracked.pushed]
    waits = list(polling.waited.values()) + list(tracked.waited.values())
    rows = [
        "| measure | polling (SDK) | tracker (live channel) |",
        "|---|---|---|",
        f"| Braket API calls per task, counted at the service | {per_task(polling, polling.server_calls):.1f} "
        f"| {per_task(tracked, tracked.server_calls):.2f} |",
        f"| Braket API calls per task, from the waiters' own clients | {per_task(polling, polling.waiter_calls):.1f} "
        f"| {per_task(tracked, tracked.waiter_calls):.2f} |",
        f"| calls per waiter per second of waiting | {rate(polling):.2f} | {rate(tracked):.2f} |",
    ]
    for waiters in WAITERS:
        shares = [rate(side) * waiters / QUOTA_PER_SECOND * 100 for side in (polling, tracked)]
        rows.append(f"| GetQuantumTask quota used by W = {waiters:,} waiters | {shares[0]:.0f} % | {shares[1]:.0f} % |")
    rows += [
        f"| end -> waiter knows, median | {median(delays(polling)) * 1000:.0f} ms "
        f"| {median(delays(tracked)) * 1000:.0f} ms |",
        f"| end -> waiter knows, p95 | {p95(delays(polling)) * 1000:.0f} ms | {p95(delays(tracked)) * 1000:.0f} ms |",
        f"| of which end -> the end pushed over the live channel, median / p95 | - "
        f"| {median(pushed) * 1000:.0f} ms / {p95(pushed) * 1000:.0f} ms |",
        f"| errors | {len(polling.errors)} | {len(tracked.errors)} |",
    ]
    errors = [f"- {e}" for e in (polling.errors + tracked.errors)[:10]]
    return "\n".join(
        [
            "# Waiting for a result: polling Braket against the tracker",
            "",
            machine(),
            "",
            f"{tasks} tasks per side, one waiter thread each: GHZ circuits of {QUBITS[0]} to {QUBITS[-1]} qubits, "
            f"{SHOTS[0]} to {SHOTS[-1]:,} shots, on the local SV1 (two workers, {QUEUE_DELAY:.0f} s queue delay), "
            f"so they queue: waits of {min(waits):.1f} to {max(waits):.1f} s.",
            "",
            *rows,
            "",
            f"Braket requests at the service during each side: polling {ops(polling.server_calls)}; "
            f"tracker {ops(tracked.server_calls)}. The tracker's Braket calls are its own, not the waiters': "
            "the recorder reads each finished task once (GetQuantumTask, for the details its end event lacks), "
            f"and the reconciler sweeps every 10 minutes ({sweep}); neither grows with the number "
            "of waiters, so the tracker's column of the quota rows is zero.",
            "",
            f"The quota share is the measured per-waiter call rate times W over GetQuantumTask's quota of "
            f"{QUOTA_PER_SECOND} requests/s per account and Region; past 100 % Braket throttles (the SDK retries,"
            " so every waiter in the account, and the tracker's reconciler, slows down).",
            "",
            "What is local in the delay: polling wakes every 1 s (the SDK's default interval), then the "
            "GetQuantumTask round trip and the S3 read; that bound holds in AWS too. The tracker's path is the "
            "local Braket service's event sender -> moto's EventBridge -> SQS -> the runner's SQS poller (long "
            "polls of up to 1 s, then the mapping's batching window of up to 1 s) -> the recorder in its worker "
            "process (one GetQuantumTask at a task's end) -> the task table's stream, read by the runner every "
            "0.25 s -> the live pusher -> the WebSocket; then GET /tasks/{id}/result and the presigned download. "
            "Every hop shares this machine's two cores with moto, the simulator and the waiters, and the runner "
            "runs each function's invocations in a few worker processes: locally the tracker's delay is the "
            "local pipeline's throughput (see local-pipeline.md), and it grows with the number of tasks ending "
            "together. It is not a measure of the delay in AWS, which this machine cannot measure.",
            "",
            *(["Errors:", *errors, ""] if errors else []),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=20)
    args = parser.parse_args()
    polling, tracked = run(args.tasks)
    write("polling-vs-tracker.md", report(args.tasks, polling, tracked))


if __name__ == "__main__":
    main()

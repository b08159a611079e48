"""Benchmark: the unmodified Braket SDK waiting with a plain AwsSession, beside the same SDK with
TrackerSession (the one-line change), on the same tasks at the same time.

Local mode (the local Braket service, the deployed stack on moto, the runner). N tasks of varied
duration (GHZ circuits of 2 to 12 qubits, 100 to 5,000 shots, on the local SV1 with two workers and a
queue delay, so they queue behind each other and the SDK asks for their queue position), submitted by
a third party. For each task, two waiter threads start together:

- plain: `AwsQuantumTask(arn, aws_session=AwsSession(...)).result()`, the SDK's defaults (GetQuantumTask
  every second, its queue position read on every poll while QUEUED);
- TrackerSession: `AwsQuantumTask(arn, aws_session=TrackerSession(...), poll_interval_seconds=0.05).result()`,
  one session for every waiter, as one notebook has.

Braket's requests are counted at the local Braket service by the access key that signed them
(`/_local/request-counts`): each side signs with its own key, and each of the tracker's functions with
its name, so the tracker's own reads (the recorder's at each end, the Task API's queue reads) are
counted apart. The delay is from Braket's `endedAt` to `result()` returning in the waiter; for
TrackerSession it is split at the moment the end's push was applied in the process.

Run: .venv/bin/python -m bench.sdk_session [--tasks 16]
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import urllib.request
import warnings
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
QUEUE_DELAY = 2.0
QUBITS = (2, 4, 8, 12)
SHOTS = (100, 1000, 5000)
POLL_INTERVAL = 0.05  # what docs/sdk-session.md tells TrackerSession's users to pass
SUBMITTER, PLAIN, TRACKER = "bench-submitter", "researcher-plain", "researcher-tracker"
"""Access keys: who submits, and each side's SDK (the local Braket service does not check secrets)."""
FUNCTIONS = ("Recorder", "TaskApi", "Reconciler")  # the tracker's functions that may call Braket


def ghz(qubits: int) -> str:
    lines = [f"OPENQASM 3.0; bit[{qubits}] b; qubit[{qubits}] q; h q[0];"]
    lines += [f"cnot q[{i}], q[{i + 1}];" for i in range(qubits - 1)]
    return " ".join([*lines, "b = measure q;"])


@dataclass
class Side:
    name: str
    key: str
    returned: dict[str, float] = field(default_factory=dict)  # arn -> wall clock when result() returned
    errors: list[str] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)  # Braket requests signed with the side's key


def boto_session(tracker: LocalTracker, key: str) -> Any:
    return boto3.Session(aws_access_key_id=key, aws_secret_access_key=CREDENTIALS[1], region_name=tracker.region)


def request_counts(tracker: LocalTracker) -> dict[str, Counter[str]]:
    assert tracker.braket is not None
    with urllib.request.urlopen(f"{tracker.braket.url}/_local/request-counts", timeout=10) as response:
        counts = json.loads(response.read())["byAccessKey"]
    return {key: Counter(operations) for key, operations in counts.items()}


def submit_all(tracker: LocalTracker, tasks: int) -> list[str]:
    braket = boto_session(tracker, SUBMITTER).client("braket")
    bucket = f"amazon-braket-{tracker.region}-123456789012"
    arns = []
    for index in range(tasks):
        qubits, shots = QUBITS[index % len(QUBITS)], SHOTS[index % len(SHOTS)]
        action = {"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, "source": ghz(qubits)}
        answer = braket.create_quantum_task(
            action=json.dumps(action), deviceArn=SV1, shots=shots, outputS3Bucket=bucket, outputS3KeyPrefix="bench"
        )
        arns.append(answer["quantumTaskArn"])
    return arns


def waiters(side: Side, arns: list[str], wait: Callable[[str], Any]) -> list[threading.Thread]:
    def run(arn: str) -> None:
        try:
            if wait(arn) is None:
                side.errors.append(f"{arn}: no result")
        except Exception as error:  # reported, not hidden
            side.errors.append(f"{arn}: {error!r}")
        side.returned[arn] = time.time()

    return [threading.Thread(target=run, args=(arn,), name=f"{side.key}-{arn[-8:]}") for arn in arns]


def run(tasks: int) -> dict[str, Any]:
    from braket.aws import AwsQuantumTask, AwsSession  # type: ignore[import-untyped]  # noqa: PLC0415
    from braket_tracker import TrackerClient, TrackerSession  # noqa: PLC0415

    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    with LocalTracker(faults=FaultPlan(), queue_delay=QUEUE_DELAY, forwarders=False) as tracker:
        for key, value in tracker.environment().items():
            os.environ[key] = value  # both sides' Braket and S3 clients go to local mode
        tracker.client("s3").create_bucket(Bucket=f"amazon-braket-{tracker.region}-123456789012")
        plain = Side("plain AwsSession (SDK defaults)", PLAIN)
        tracked = Side(f"TrackerSession ({POLL_INTERVAL * 1000:.0f} ms polls)", TRACKER)
        # The Task API checks SigV4 against local mode's credentials: the session's tracker client signs with them.
        api_client = TrackerClient(session=boto_session(tracker, CREDENTIALS[0]))
        session = TrackerSession(boto_session=boto_session(tracker, TRACKER), tracker=api_client)
        aws_session = AwsSession(boto_session=boto_session(tracker, PLAIN))
        pushed = watch_pushes(session)

        warm = submit_all(tracker, 1)  # the simulator, the functions' imports, the API and live handlers
        AwsQuantumTask(warm[0], aws_session=aws_session).result()
        AwsQuantumTask(warm[0], aws_session=session, poll_interval_seconds=POLL_INTERVAL).result()

        load_before = os.getloadavg()
        before = request_counts(tracker)
        arns = submit_all(tracker, tasks)
        threads = waiters(plain, arns, lambda arn: AwsQuantumTask(arn, aws_session=aws_session).result())
        threads += waiters(
            tracked,
            arns,
            lambda arn: AwsQuantumTask(arn, aws_session=session, poll_interval_seconds=POLL_INTERVAL).result(),
        )
        started = time.monotonic()
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            for thread in sorted(threads, key=lambda t: t.name[-8:]):  # each task's two waiters start together
                thread.start()
            for thread in threads:
                thread.join()
        seconds = time.monotonic() - started
        load_after = os.getloadavg()
        after = request_counts(tracker)
        session.close()
        braket = boto_session(tracker, SUBMITTER).client("braket")
        ended = {arn: braket.get_quantum_task(quantumTaskArn=arn)["endedAt"].timestamp() for arn in arns}
        for side in (plain, tracked):
            side.calls = after.get(side.key, Counter()) - before.get(side.key, Counter())
        own = {
            key: after[key] - before.get(key, Counter())
            for key in after
            if key not in (PLAIN, TRACKER, SUBMITTER) and after[key] - before.get(key, Counter())
        }
        return {
            "tasks": tasks,
            "sides": (plain, tracked),
            "ended": ended,
            "pushed": {arn: at for arn, at in pushed.items() if arn in ended},
            "own": own,
            "seconds": seconds,
            "load": (load_before, load_after),
            "answered": dict(session.board.answered),
            "unseen": sum(
                1 for arn in arns if (entry := session.board._tasks.get(arn)) and entry.braket_at is not None
            ),
            "warnings": sorted(  # braket_tracker's own (the live channel down, an answer from older knowledge)
                {f"{w.category.__name__}: {w.message}" for w in warned if w.category.__module__.startswith("braket_")}
            ),
        }


def watch_pushes(session: Any) -> dict[str, float]:
    """When each task's end was applied on the session's board from the live channel (instrumentation
    of this benchmark only: the board's method is wrapped, its behaviour unchanged)."""
    pushed: dict[str, float] = {}
    board = session.board
    apply = board._apply

    def timed(document: dict[str, Any]) -> None:
        apply(document)
        if document.get("status") in {"COMPLETED", "FAILED", "CANCELLED"}:
            pushed.setdefault(str(document.get("taskArn")), time.time())

    board._apply = timed
    return pushed


def report(measured: dict[str, Any]) -> str:
    tasks, (plain, tracked), ended = measured["tasks"], measured["sides"], measured["ended"]

    def per_task(counter: Counter[str], operation: str | None = None) -> float:
        return (counter[operation] if operation else sum(counter.values())) / tasks

    def delays(side: Side) -> list[float]:
        return [side.returned[arn] - ended[arn] for arn in side.returned if arn in ended]

    def ms(values: list[float]) -> str:
        return f"{median(values) * 1000:.0f} ms / {p95(values) * 1000:.0f} ms"

    def ops(counter: Counter[str]) -> str:
        return ", ".join(f"{name} {count}" for name, count in sorted(counter.items()) if count > 0) or "none"

    own = measured["own"]
    own_total = sum((counter for counter in own.values()), Counter())
    # Tasks whose end reached the waiter by the push (not by a Task API read while the channel was down).
    by_push = [arn for arn, at in measured["pushed"].items() if arn in tracked.returned and at <= tracked.returned[arn]]
    to_push = [measured["pushed"][arn] - ended[arn] for arn in by_push]
    push_to_result = [tracked.returned[arn] - measured["pushed"][arn] for arn in by_push]
    ratio = median(delays(tracked)) / median(delays(plain))
    (before1, before5, _), (after1, after5, _) = measured["load"]
    rows = [
        f"| measure | {plain.name} | {tracked.name} |",
        "|---|---|---|",
        f"| Braket calls per task, signed by the researcher's key | {per_task(plain.calls):.1f} "
        f"| {per_task(tracked.calls):.2f} |",
        f"| of which GetQuantumTask | {per_task(plain.calls, 'GetQuantumTask'):.1f} "
        f"| {per_task(tracked.calls, 'GetQuantumTask'):.2f} |",
        "| Braket calls per task, signed by the tracker's functions (recorder, Task API) | - (they run whoever "
        f"waits) | {per_task(own_total):.2f} |",
        f"| end -> result() returned, median / p95 | {ms(delays(plain))} | {ms(delays(tracked))} |",
        f"| tasks whose end came by the live channel's push (the rest: by a Task API read) | - "
        f"| {len(by_push)} of {len(tracked.returned)} |",
        f"| for those: end -> the push applied in the process, median / p95 | - | {ms(to_push)} |",
        f"| for those: push applied -> result() returned, median / p95 | - | {ms(push_to_result)} |",
        f"| errors | {len(plain.errors)} | {len(tracked.errors)} |",
    ]
    errors = [f"- {error}" for error in (plain.errors + tracked.errors)[:10]]
    return "\n".join(
        [
            "# The unmodified Braket SDK: plain AwsSession beside TrackerSession",
            "",
            machine(),
            f"Load average (1 min / 5 min): {before1:.2f} / {before5:.2f} before, {after1:.2f} / {after5:.2f} after.",
            "",
            f"{tasks} tasks submitted by a third party (GHZ circuits of {QUBITS[0]} to {QUBITS[-1]} qubits, "
            f"{SHOTS[0]} to {SHOTS[-1]:,} shots, the local SV1 with two workers and a {QUEUE_DELAY:.0f} s queue "
            f"delay), each waited on by both sides at once, one thread per waiter; {measured['seconds']:.1f} s "
            "in all.",
            "",
            *rows,
            "",
            f"TrackerSession's end -> result median is {ratio:.2f}x the plain session's (computed from the medians).",
            "",
            f"Braket requests by the researcher's key: plain {ops(plain.calls)}; TrackerSession {ops(tracked.calls)}, "
            f"for the {measured['unseen']} task(s) the tracker had not recorded yet when first asked (submitted a "
            "moment before by another client: one GetQuantumTask each, then the tracker answers; a task the session "
            "creates itself costs none). "
            f"The tracker's own, signed by its functions: {ops(own_total)} "
            f"({per_task(own_total):.2f} per task: the recorder reads each finished task once for the details its "
            "end event lacks, and the Task API reads a QUEUED task's position at most once a minute, shared by "
            "every waiter; neither grows with the number of waiters). "
            + "; ".join(f"{key}: {ops(counter)}" for key, counter in sorted(own.items())),
            "",
            "TrackerSession's answers to the SDK's polls, by who last moved the task's status (the board): "
            f"{measured['answered']}.",
            "",
            *(
                [
                    "TrackerSession's warnings (said once each):",
                    *(f"- {w}" for w in measured["warnings"]),
                    "",
                ]
                if measured["warnings"]
                else []
            ),
            "What is local in the delay: the plain session wakes every 1 s (the SDK's default), then one "
            "GetQuantumTask and the S3 read; that bound holds in AWS too. TrackerSession wakes within its 50 ms "
            "poll of the end's push reaching the process, then the same S3 read; the push's path (the local "
            "Braket service's event -> moto's EventBridge and SQS -> the runner's poller (no batching window) -> "
            "the recorder, which writes the end and pushes it -> the WebSocket) shares this machine's cores "
            "with moto, the simulator and both sides' waiters: it is the local pipeline's figure "
            "(bench/results/polling-vs-tracker.md, local-pipeline.md), not AWS's.",
            "",
            *(["Errors:", *errors, ""] if errors else []),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=16)
    args = parser.parse_args()
    write("sdk-session.md", report(run(args.tasks)))


if __name__ == "__main__":
    main()

"""Benchmark: learning that a task ended, by polling Braket and through the tracker, side by side.

Every task is waited on both ways at once, from the moment it is submitted: an unmodified Braket SDK
`AwsQuantumTask(arn).result()` at its defaults (GetQuantumTask every second), and a
`TrackedTask.result()` over the tracker's live channel (bench/waiters.py, a process of its own). So
both see the same ends on the same loaded machine. Two workloads on one local mode:
- spread: 20 tasks (GHZ, 2 to 8 qubits) submitted SPREAD_SECONDS apart, so that their ends are apart;
- burst: 100 Bell pairs submitted back to back, held QUEUED together, so they end within a few seconds.
Before them, an unmeasured burst of WARM_UP_TASKS warms both sides up (simulators, one worker per
function). moto and the local Braket service run in processes of their own (as AWS's services are apart
from the functions).

Measured from the `endedAt` that the local Braket service reports, per task and side: (a) when the
waiter knew the end, (b) when it had the counts (the SDK's result object); the tracker's side hop by
hop (bench/probes.py); Braket requests at the local service by signing access key; CPU seconds of
each process (moto in a process of its own, the runner with the local Braket service, each function's
workers, the simulators, the waiters) per recorded event.

Run: .venv/bin/python -m bench.polling_vs_tracker  (writes bench/results/polling-vs-tracker.md)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from bench import report_latency
from bench.common import PROJECT
from bench.probes import Hops, attach
from bench.processes import BraketProcess, CpuMeter, MotoProcess, children, cpu_seconds
from bench.waiters import POLLING_ACCESS_KEY
from local.faults import FaultPlan
from local.tracker import LocalTracker

SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
RESULTS_PREFIX = "tasks"  # the stack's results bucket, under the prefix the Task API may read
SPREAD_TASKS, SPREAD_SECONDS = 20, 0.8
BURST_TASKS = 100
WARM_UP_TASKS = 20
QUEUE_DELAY = 6.0
"""Seconds each task waits QUEUED: every waiter is polling or subscribed before any end, and a burst's
submissions are done before its first end, so that its ends come together."""


def program(qubits: int) -> str:
    lines = [f"OPENQASM 3.0; bit[{qubits}] b; qubit[{qubits}] q; h q[0];"]
    lines += [f"cnot q[{i}], q[{i + 1}];" for i in range(qubits - 1)]
    lines.append("b = measure q;")
    return " ".join(lines)


@dataclass
class Workload:
    name: str
    arns: list[str] = field(default_factory=list)
    waits: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (side, arn) -> waiter record
    ended: dict[str, float] = field(default_factory=dict)
    requests: dict[str, dict[str, int]] = field(default_factory=dict)  # access key -> operation -> count
    cpu: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    events: int = 0
    hops: Hops | None = None
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)


class Waiters:
    """The waiter process: send it ARNs, read its records."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.waiters"],
            cwd=PROJECT,
            env={**os.environ, **environment, "PYTHONPATH": str(PROJECT)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.records: list[dict[str, Any]] = []
        self._lock = threading.Condition()
        assert self.process.stdout is not None
        if json.loads(self.process.stdout.readline()) != {"ready": True}:
            raise RuntimeError("the waiter process did not start")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self.records.append(json.loads(line))
                self._lock.notify_all()

    def wait_on(self, arn: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(arn + "\n")
        self.process.stdin.flush()

    def results(self, arns: list[str], timeout: float = 900) -> dict[tuple[str, str], dict[str, Any]]:
        wanted = {(side, arn) for arn in arns for side in ("polling", "tracker")}
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = {(r["side"], r["arn"]): r for r in self.records if "side" in r}
                if wanted <= set(found) or time.monotonic() > deadline:
                    return {key: found[key] for key in wanted if key in found}
                self._lock.wait(1)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("done\n")
        self.process.stdin.close()
        self.process.wait(timeout=120)


def counts(tracker: LocalTracker, method: str = "GET") -> dict[str, dict[str, int]]:
    assert tracker.braket is not None
    request = urllib.request.Request(f"{tracker.braket.url}/_local/request-counts", method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read())["byAccessKey"])


def processes(
    tracker: LocalTracker, moto: MotoProcess, braket: BraketProcess, waiters: Waiters
) -> dict[str, list[int]]:
    """Every process of the run, by what it is: moto, the local Braket service with its simulators, the
    runner (this process), each function's workers, the waiters."""
    assert tracker.runner is not None
    groups: dict[str, list[int]] = {
        "moto": [moto.pid],
        "local Braket service (and its simulators)": [braket.pid, *children(braket.pid)],
        "runner (this process)": [os.getpid()],
        "waiters (both sides)": [waiters.process.pid],
    }
    for logical_id, function in tracker.runner.functions.items():
        pids = function.worker_pids()
        if pids:
            groups[f"function {function_name(logical_id)}"] = pids
    return groups


def function_name(logical_id: str) -> str:
    for prefix, name in (
        ("Recording", "recorder"),
        ("LiveUpdatesPusher", "live pusher"),
        ("LiveUpdatesConnections", "live connections"),
        ("Notifications", "notifier"),
        ("TaskApi", "task API"),
        ("Reconciliation", "reconciler"),
        ("Prices", "prices"),
    ):
        if logical_id.startswith(prefix):
            return name
    return logical_id


@dataclass
class Run:
    tracker: LocalTracker
    moto: MotoProcess
    braket: BraketProcess
    waiters: Waiters
    hops: Hops

    def processes(self) -> dict[str, list[int]]:
        return processes(self.tracker, self.moto, self.braket, self.waiters)


def run_workload(run: Run, name: str, size: int | None = None) -> Workload:
    """Submit the workload's tasks, each waited on both ways from its submission; measure until every
    waiter has its result."""
    tracker, waiters, hops = run.tracker, run.waiters, run.hops
    braket, bucket = tracker.client("braket"), tracker.output("ResultsBucketName")
    spread = name == "spread"
    workload = Workload(name)
    hops.clear()
    counts(tracker, "DELETE")
    meter = CpuMeter()
    meter.start(run.processes())
    workload.load = os.getloadavg()
    for index in range(size or (SPREAD_TASKS if spread else BURST_TASKS)):
        qubits, shots = (2 + index % 7, (100, 1000)[index % 2]) if spread else (2, 100)
        source = program(qubits)
        action = {"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, "source": source}
        arn = braket.create_quantum_task(
            action=json.dumps(action),
            deviceArn=SV1,
            shots=shots,
            outputS3Bucket=bucket,
            outputS3KeyPrefix=f"{RESULTS_PREFIX}/bench-{name}",
        )["quantumTaskArn"]
        waiters.wait_on(arn)  # both waiters start now, seconds before the end
        workload.arns.append(arn)
        if spread:
            time.sleep(SPREAD_SECONDS)  # the workload's shape: submissions apart, so ends are apart
    workload.waits = waiters.results(workload.arns)
    meter.stop(run.processes())
    workload.cpu, workload.seconds = meter.spent, meter.seconds
    workload.requests = counts(tracker)
    workload.events = sum(hops.events.values())
    workload.hops = hops.snapshot()
    for arn in workload.arns:
        workload.ended[arn] = braket.get_quantum_task(quantumTaskArn=arn)["endedAt"].timestamp()
    return workload


def run() -> tuple[list[Workload], dict[str, str]]:
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    moto = MotoProcess.launch()
    hops = Hops()
    braket = BraketProcess(moto.url, QUEUE_DELAY, on_sent=hops.note_sent)
    log_file = PROJECT / ".local" / "bench-polling-vs-tracker.log"
    log_file.parent.mkdir(exist_ok=True)
    tracker = LocalTracker(faults=FaultPlan(), moto=moto, braket=braket, forwarders=False, log_file=log_file)
    with tracker:
        assert tracker.runner is not None
        environment = tracker.environment()
        for key, value in environment.items():
            os.environ[key] = value  # this process's boto3 clients (the submissions) go to local mode
        waiters = Waiters(environment)
        try:
            measured = Run(tracker, moto, braket, waiters, attach(tracker, hops))
            run_workload(measured, "warm-up", WARM_UP_TASKS)
            workloads = [run_workload(measured, name) for name in ("spread", "burst")]
        finally:
            waiters.close()
        functions = {c.access_key: function_name(lid) for lid, c in tracker.runner.function_credentials.items()}
    keys = {POLLING_ACCESS_KEY: "polling waiters", "testing": "the benchmark (submissions) and the tracker's waiters"}
    return workloads, keys | {key: f"the tracker's {name}" for key, name in functions.items()}


def main() -> None:
    global SPREAD_TASKS, BURST_TASKS  # the sizes, for a quick run
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spread", type=int, default=SPREAD_TASKS, help="tasks in the spread workload")
    parser.add_argument("--burst", type=int, default=BURST_TASKS, help="tasks in the burst workload")
    args = parser.parse_args()
    SPREAD_TASKS, BURST_TASKS = args.spread, args.burst
    started = cpu_seconds(os.getpid())
    workloads, keys = run()
    text = report_latency.report(workloads, keys)
    report_latency.write_results("polling-vs-tracker.md", text)
    print(f"(benchmark process CPU: {cpu_seconds(os.getpid()) - started:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Benchmark: a burst of ends injected straight into EventBridge, and whether local mode keeps up.

20 tasks a second (Braket's CreateQuantumTask quota per Region), each with its four state-change events
(CREATED, QUEUED, RUNNING, COMPLETED), put on the default bus at 80 events/s for a minute, one
PutEvents per event as Braket sends them (several injector threads hold the pace). The deployed stack
records them (capture queue, recorder, task table) while moto and the local Braket service run in
processes of their own. Reported:
- events/s injected and recorded, second by second, and the backlog (injected, not yet recorded);
- end to table: from an end's PutEvents to the recorder's write of it (its log line), median and p95;
- CPU seconds of each process over the burst, per recorded event.
If the backlog grows, the run stops waiting DRAIN_SECONDS after the injection (what is left is
purged from the capture queue and reported as not recorded), and a second run at the rate the first
one recorded shows whether that rate is sustained. From each process's CPU-ms per event, the report
computes the CPU the target rate would need.

Run: .venv/bin/python -m bench.burst [--rate 80] [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.common import PROJECT, machine, median, p95, write
from bench.polling_vs_tracker import function_name
from bench.probes import Hops, attach
from bench.processes import BraketProcess, CpuMeter, MotoProcess, children
from local.faults import FaultPlan
from local.tracker import LocalTracker

ACCOUNT = "123456789012"
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
STATUSES = ("CREATED", "QUEUED", "RUNNING", "COMPLETED")
INJECTORS = 4
DRAIN_SECONDS = 30
"""After the injection, how long the recorder may take to catch up before the rest is purged."""


@dataclass
class Burst:
    rate: float
    seconds: float
    injected: list[float] = field(default_factory=list)  # when each PutEvents returned
    ends: dict[str, float] = field(default_factory=dict)  # arn -> when its end's PutEvents returned
    failed: int = 0
    hops: Hops | None = None
    cpu: dict[str, float] = field(default_factory=dict)
    window: float = 0.0
    drained: bool = False
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)
    started: float = 0.0


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def entry(arn: str, status: str, created: float, now: float, region: str) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "quantumTaskArn": arn,
        "status": status,
        "deviceArn": SV1,
        "shots": "100",
        "outputS3Bucket": f"amazon-braket-{region}-{ACCOUNT}",
        "outputS3Directory": f"tasks/{arn.rsplit('/', 1)[1]}",
        "createdAt": _iso(created),
        "eventName": "INSERT" if status == "CREATED" else "MODIFY",
    }
    if status == "COMPLETED":
        detail["endedAt"] = _iso(now)
    return {
        "Source": "aws.braket",
        "DetailType": "Braket Task State Change",
        "Detail": json.dumps(detail),
        "Resources": [arn],
        "Time": datetime.fromtimestamp(now, UTC),
    }


def inject(tracker: LocalTracker, burst: Burst) -> None:
    """Put `rate` events a second for `seconds`: task after task, each task's events in order, paced
    by the clock (events/s is what was achieved, reported beside the target)."""
    total = int(burst.rate * burst.seconds)
    lock = threading.Lock()
    tasks: dict[int, tuple[str, float]] = {}
    burst.started = time.time()

    def injector(offset: int) -> None:
        events = tracker.client("events")
        for n in range(offset, total, INJECTORS):
            due = burst.started + n / burst.rate
            if time.time() > burst.started + burst.seconds * 1.5:
                return  # it could not keep the pace: what was sent is what is reported
            wait = due - time.time()
            if wait > 0:
                time.sleep(wait)  # the injection pace, not a wait on the path
            task, step = divmod(n, len(STATUSES))
            with lock:
                arn, created = tasks.setdefault(
                    task, (f"arn:aws:braket:{tracker.region}:{ACCOUNT}:quantum-task/{uuid.uuid4()}", time.time())
                )
            status = STATUSES[step]
            answer = events.put_events(Entries=[entry(arn, status, created, time.time(), tracker.region)])
            done = time.time()
            with lock:
                burst.injected.append(done)
                burst.failed += int(answer.get("FailedEntryCount", 0))
                if status == "COMPLETED":
                    burst.ends[arn] = done

    threads = [threading.Thread(target=injector, args=(i,)) for i in range(INJECTORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def processes(tracker: LocalTracker, moto: MotoProcess, braket: BraketProcess) -> dict[str, list[int]]:
    assert tracker.runner is not None
    groups: dict[str, list[int]] = {
        "moto": [moto.pid],
        "runner and the injectors (this process)": [os.getpid()],
        "local Braket service": [braket.pid, *children(braket.pid)],
    }
    for logical_id, function in tracker.runner.functions.items():
        if function.worker_pids():
            groups[f"function {function_name(logical_id)}"] = function.worker_pids()
    return groups


def run_burst(tracker: LocalTracker, moto: MotoProcess, braket: BraketProcess, hops: Hops, burst: Burst) -> Burst:
    hops.clear()
    meter = CpuMeter()
    meter.start(processes(tracker, moto, braket))
    burst.load = os.getloadavg()
    inject(tracker, burst)
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline and sum(hops.events.values()) < len(burst.injected) - burst.failed:
        time.sleep(0.5)  # until everything injected is recorded (a bounded wait of the benchmark)
    burst.drained = sum(hops.events.values()) >= len(burst.injected) - burst.failed
    meter.stop(processes(tracker, moto, braket))
    burst.cpu, burst.window = meter.spent, meter.seconds
    burst.hops = hops.snapshot()
    if not burst.drained:  # the next run starts from an empty queue
        tracker.client("sqs").purge_queue(QueueUrl=tracker.output("EventQueueUrl"))
        settled, seen = time.monotonic() + 60, -1
        while time.monotonic() < settled and seen != sum(hops.events.values()):
            seen = sum(hops.events.values())
            time.sleep(2)  # until the batches in hand are recorded: nothing new for 2 s (between runs)
    return burst


def per_second(times: list[float], start: float, seconds: int) -> list[int]:
    counts = Counter(int(t - start) for t in times if t >= start)
    return [counts.get(second, 0) for second in range(seconds)]


def summary(burst: Burst) -> dict[str, Any]:
    assert burst.hops is not None
    recorded_times = sorted(burst.hops.record_times)
    span = int(max([*recorded_times, *burst.injected, burst.started]) - burst.started) + 1
    injected, recorded = (
        per_second(burst.injected, burst.started, span),
        per_second(recorded_times, burst.started, span),
    )
    backlog, total = [], 0
    for put, done in zip(injected, recorded, strict=True):
        total += put - done
        backlog.append(total)
    delays = [
        burst.hops.recorded[arn]["written_at"] / 1000 - at
        for arn, at in burst.ends.items()
        if arn in burst.hops.recorded
    ]
    inject_seconds = (max(burst.injected) - burst.started) if burst.injected else float("nan")
    recorded_in_window = [t for t in recorded_times if t <= burst.started + burst.seconds]
    return {
        "injected_rate": len(burst.injected) / inject_seconds,
        "recorded_rate": len(recorded_in_window) / burst.seconds,
        "recorded": len(recorded_times),
        "injected": injected,
        "recorded_per_second": recorded,
        "backlog": backlog,
        "median": median(delays),
        "p95": p95(delays),
        "ends": len(delays),
    }


def capacity(burst: Burst, events: int) -> list[str]:
    """The CPU that the target rate needs, computed from the CPU-ms per recorded event measured."""
    moto = burst.cpu.get("moto", 0.0) / events
    everything = sum(burst.cpu.values()) / events
    cores = os.cpu_count() or 1
    return [
        f"Computed from these figures: at {burst.rate:.0f} events/s, moto alone needs "
        f"{moto * burst.rate:.2f} cores (it is one process: it can use at most one), and the whole pipeline "
        f"{everything * burst.rate:.2f} cores, of the machine's {cores}. The most these CPU costs allow: moto "
        f"{1 / moto if moto else float('nan'):.0f} events/s, the pipeline "
        f"{cores / everything if everything else float('nan'):.0f} events/s on an otherwise idle machine.",
    ]


def report(bursts: list[Burst]) -> str:
    lines = ["# A burst of ends injected into EventBridge", "", machine(), ""]
    for burst in bursts:
        found = summary(burst)
        one, five, fifteen = burst.load
        events = max(found["recorded"], 1)
        backlog_at_end = found["backlog"][min(int(burst.seconds), len(found["backlog"])) - 1]
        grew = (
            found["backlog"][int(burst.seconds) - 1] > 2 * burst.rate
            if len(found["backlog"]) >= burst.seconds
            else True
        )
        lines += [
            f"## {burst.rate:.0f} events/s ({burst.rate / 4:.0f} tasks/s) for {burst.seconds:.0f} s",
            "",
            f"Load average when it started: {one:.1f} / {five:.1f} / {fifteen:.1f} (1, 5, 15 min; 2 cores).",
            "",
            "| measure | value |",
            "|---|---|",
            f"| events injected | {len(burst.injected)} at {found['injected_rate']:.1f} events/s "
            f"(target {burst.rate:.0f}), {burst.failed} refused |",
            f"| events recorded during the injection | {found['recorded_rate']:.1f} events/s |",
            f"| all recorded | {'yes' if burst.drained else '**no**'}: {found['recorded']} of "
            f"{len(burst.injected) - burst.failed} events, after {burst.window:.0f} s"
            f"{'' if burst.drained else f' (the rest purged {DRAIN_SECONDS} s after the injection)'} |",
            f"| backlog at the end of the injection (injected, not recorded) | {backlog_at_end} events: "
            f"{'**it grew**' if grew else 'it did not grow'} |",
            f"| end -> table (end's PutEvents -> the recorder's write), median | {found['median'] * 1000:.0f} ms |",
            f"| end -> table, p95 | {found['p95'] * 1000:.0f} ms "
            f"({found['ends']} of {len(burst.ends)} ends recorded) |",
            "",
            "Second by second (injected / recorded / backlog):",
            "",
            "```",
            *(
                f"{second:4d} s  {put:4d} / {done:4d} / {left:5d}"
                for second, (put, done, left) in enumerate(
                    zip(found["injected"], found["recorded_per_second"], found["backlog"], strict=True)
                )
                if second % 5 == 0 or second == len(found["backlog"]) - 1
            ),
            "```",
            "",
            "| process | CPU seconds | CPU-ms per recorded event | cores over the window |",
            "|---|---|---|---|",
            *(
                f"| {name} | {seconds:.1f} | {seconds / events * 1000:.1f} | {seconds / burst.window:.2f} |"
                for name, seconds in sorted(burst.cpu.items(), key=lambda item: -item[1])
            ),
            f"| **all** | {sum(burst.cpu.values()):.1f} | {sum(burst.cpu.values()) / events * 1000:.1f} "
            f"| {sum(burst.cpu.values()) / burst.window:.2f} |",
            "",
            *capacity(burst, events),
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=80.0, help="events per second (four per task)")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    moto = MotoProcess.launch()
    braket = BraketProcess(moto.url, 0.5)
    log_file = PROJECT / ".local" / "bench-burst.log"
    log_file.parent.mkdir(exist_ok=True)
    with LocalTracker(faults=FaultPlan(), moto=moto, braket=braket, forwarders=False, log_file=log_file) as tracker:
        hops = attach(tracker)
        run_burst(tracker, moto, braket, hops, Burst(rate=8, seconds=5))  # warm-up: workers started, unmeasured
        bursts = [run_burst(tracker, moto, braket, hops, Burst(rate=args.rate, seconds=args.seconds))]
        found = summary(bursts[0])
        if found["recorded_rate"] < 0.95 * args.rate:  # not sustained: try the rate it did record
            sustained = max(4.0, round(found["recorded_rate"] * 0.9 / 4) * 4)
            bursts.append(run_burst(tracker, moto, braket, hops, Burst(rate=sustained, seconds=args.seconds / 2)))
    write("burst.md", report(bursts))


if __name__ == "__main__":
    main()

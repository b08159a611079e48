"""The report of bench.polling_vs_tracker: both sides per workload, the tracker's hops, Braket requests
by access key, the quota computed from the measured polling rate, and CPU per process."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bench.common import machine, median, p95, write

if TYPE_CHECKING:
    from bench.polling_vs_tracker import Workload

QUOTA_PER_SECOND = 100  # GetQuantumTask, per account and Region (braket-facts.md, Braket's quotas page)
WAITERS = (10, 100, 1000)


def write_results(name: str, text: str) -> None:
    write(name, text)


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1000:.0f} ms"  # NaN: no sample


def delays(workload: Workload, side: str, key: str) -> list[float]:
    found = []
    for arn in workload.arns:
        record = workload.waits.get((side, arn), {})
        if record.get(key) is not None and arn in workload.ended:
            found.append(record[key] - workload.ended[arn])
    return found


def _verdict(value: float, limit: float) -> str:
    if math.isnan(value) or math.isnan(limit):
        return "no data"
    if value <= limit:
        return f"met ({value / limit:.2f} of the limit)"
    return f"**missed** by {(value - limit) * 1000:.0f} ms ({value / limit:.2f}x the limit)"


def comparison(workload: Workload) -> list[str]:
    knows = {side: delays(workload, side, "knew") for side in ("polling", "tracker")}
    hands = {side: delays(workload, side, "counts") for side in ("polling", "tracker")}
    sources = _tally(workload, "tracker", "source")
    errors = {
        side: [r["error"] for (s, _), r in workload.waits.items() if s == side and "error" in r] for side in knows
    }
    missing = {side: len(workload.arns) - len(knows[side]) for side in knows}
    rows = [
        "| measure | polling (SDK defaults) | tracker (live channel) | tracker / polling | target | verdict |",
        "|---|---|---|---|---|---|",
    ]

    def row(
        label: str,
        values: dict[str, list[float]],
        stat: Callable[[Sequence[float]], float],
        target: str,
        limit: float | None,
    ) -> None:
        polling, tracked = stat(values["polling"]), stat(values["tracker"])
        ratio = tracked / polling if polling else float("nan")
        verdict = "-" if limit is None else _verdict(tracked, limit)
        rows.append(f"| {label} | {_ms(polling)} | {_ms(tracked)} | {ratio:.2f} | {target} | {verdict} |")

    row("end -> waiter knows, median", knows, median, "<= half of polling's", median(knows["polling"]) / 2)
    row("end -> waiter knows, p95", knows, p95, "<= polling's", p95(knows["polling"]))
    row("end -> counts in hand, median", hands, median, "<= polling's", median(hands["polling"]))
    row("end -> counts in hand, p95", hands, p95, "-", None)
    fallback = sources.get("api", 0)
    rows.append(
        f"| ends learned | {len(knows['polling'])} by polling | {sources.get('push', 0)} pushed, "
        f"{sources.get('snapshot', 0)} from a snapshot"
        + (f", **{fallback} read from the API** (the live channel did not open in time)" if fallback else "")
        + " | - | - | - |"
    )
    rows.append(
        f"| errors, waits without a result | {len(errors['polling'])}, {missing['polling']} "
        f"| {len(errors['tracker'])}, {missing['tracker']} | - | 0 | - |"
    )
    shown = [f"- {side}: {error}" for side, found in errors.items() for error in found[:3]]
    return rows + (["", *shown] if shown else [])


def _tally(workload: Workload, side: str, key: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for (s, _), record in workload.waits.items():
        if s == side and record.get(key):
            found[str(record[key])] = found.get(str(record[key]), 0) + 1
    return found


def hop_rows(workload: Workload) -> list[str]:
    hops = workload.hops
    assert hops is not None
    ended, waits = workload.ended, workload.waits

    def span(start: Callable[[str], float | None], end: Callable[[str], float | None]) -> list[float]:
        values = []
        for arn in workload.arns:
            a, b = start(arn), end(arn)
            if a is not None and b is not None:
                values.append(b - a)
        return values

    def logged(field: str) -> Callable[[str], float | None]:
        def at(arn: str) -> float | None:
            value = hops.recorded.get(arn, {}).get(field)
            return None if value is None else float(value) / 1000

        return at

    def received(arn: str) -> float | None:
        return waits.get(("tracker", arn), {}).get("knew")

    def counted(side: str) -> Callable[[str], float | None]:
        return lambda arn: waits.get((side, arn), {}).get("counts")

    def end(arn: str) -> float | None:
        return ended.get(arn)

    def sent(arn: str) -> float | None:
        return hops.sent.get(arn)

    pusher = next((m for m in hops.stream_read if m.startswith("LiveUpdatesPusher")), "")
    notifier = next((m for m in hops.stream_read if m.startswith("Notifications")), "")
    rows = [
        "| hop (tracker side) | median | p95 | tasks |",
        "|---|---|---|---|",
    ]
    for label, values in (
        (
            "Braket's endedAt -> the end's PutEvents returned (local Braket: results.json to S3, status, PutEvents)",
            span(end, sent),
        ),
        (
            "Braket's endedAt -> queued (SQS SentTimestamp: moto's EventBridge delivers inside PutEvents, "
            "so this ends within the row above)",
            span(end, logged("queued_at")),
        ),
        (
            "queued -> recorder start (the runner's long poll returns, the invocation starts)",
            span(logged("queued_at"), logged("started_at")),
        ),
        ("recorder start -> end written (parse, one UpdateItem)", span(logged("started_at"), logged("written_at"))),
        (
            "written -> pushed (subscriber lookup, posts to @connections)",
            span(logged("written_at"), logged("pushed_at")),
        ),
        ("pushed -> received by the waiter (WebSocket)", span(logged("pushed_at"), received)),
        ("**endedAt -> the waiter knows the end**", span(end, received)),
        (
            "knows -> counts in hand (GET /tasks/{id}/result, presigned download, SDK result)",
            span(received, counted("tracker")),
        ),
        (
            "off the path: written -> stream record read for the live pusher",
            span(logged("written_at"), lambda a: hops.stream_read.get(pusher, {}).get(a)),
        ),
        (
            "off the path: written -> stream record read for the notifier",
            span(logged("written_at"), lambda a: hops.stream_read.get(notifier, {}).get(a)),
        ),
    ):
        rows.append(f"| {label} | {_ms(median(values))} | {_ms(p95(values))} | {len(values)} |")
    polling_knows = span(end, lambda a: waits.get(("polling", a), {}).get("knew"))
    polling_hands = span(lambda a: waits.get(("polling", a), {}).get("knew"), counted("polling"))
    for label, values in (
        ("polling, for comparison: endedAt -> knows", polling_knows),
        ("polling: knows -> counts in hand (S3 GetObject, SDK result)", polling_hands),
    ):
        rows.append(f"| {label} | {_ms(median(values))} | {_ms(p95(values))} | {len(values)} |")
    return rows


def request_rows(workload: Workload, keys: dict[str, str]) -> list[str]:
    rows = ["| signed by | requests to the local Braket service | per task |", "|---|---|---|"]
    tasks = len(workload.arns)
    for key, operations in sorted(workload.requests.items()):
        total = sum(operations.values())
        detail = ", ".join(f"{op} {n}" for op, n in sorted(operations.items()))
        rows.append(f"| {keys.get(key, key)} (`{key}`) | {detail} | {total / tasks:.2f} |")
    return rows


def quota_rows(workload: Workload) -> list[str]:
    """GetQuantumTask quota share, computed: the measured calls per polling waiter per second of waiting, times W."""
    calls = workload.requests.get("polling-waiters", {}).get("GetQuantumTask", 0)
    waited = sum(
        (r["counts"] - r["started"]) for (side, _), r in workload.waits.items() if side == "polling" and r.get("counts")
    )
    rate = calls / waited if waited else float("nan")
    rows = [
        f"Measured: {calls} GetQuantumTask for {waited:.0f} s of polling waits = **{rate:.2f} requests per waiter per "
        "second**. Computed from that rate (not measured): the share of GetQuantumTask's quota of "
        f"{QUOTA_PER_SECOND} requests/s per account and Region that W waiters would use:",
        "",
        "| W waiters (computed) | polling | tracker's waiters |",
        "|---|---|---|",
    ]
    for count in WAITERS:
        rows.append(f"| {count:,} | {rate * count / QUOTA_PER_SECOND * 100:.0f} % (computed) | 0 % (they send none) |")
    return rows


def cpu_rows(workload: Workload) -> list[str]:
    events = max(workload.events, 1)
    rows = [
        f"{workload.events} events recorded in {workload.seconds:.1f} s ({len(workload.arns)} tasks). "
        "CPU over that window:",
        "",
        "| process | CPU seconds | CPU-ms per recorded event |",
        "|---|---|---|",
    ]
    for name, seconds in sorted(workload.cpu.items(), key=lambda item: -item[1]):
        rows.append(f"| {name} | {seconds:.2f} | {seconds / events * 1000:.1f} |")
    total = sum(workload.cpu.values())
    rows.append(f"| **all** | {total:.2f} | {total / events * 1000:.1f} |")
    cores = total / workload.seconds if workload.seconds else float("nan")
    rows += [
        "",
        f"In all, these processes used **{cores:.2f} cores** over the window, of the machine's {os.cpu_count()} "
        "(shared with other work): when that nears the machine's cores, the pipeline's hops queue for CPU "
        "(moto, one process, can use at most one core).",
    ]
    polling = sum(r.get("cpu", 0.0) for (side, _), r in workload.waits.items() if side == "polling")
    tracked = sum(r.get("cpu", 0.0) for (side, _), r in workload.waits.items() if side == "tracker")
    rows += [
        "",
        f"Of the waiters' process, the waiter threads' own CPU: polling {polling:.2f} s, tracker {tracked:.2f} s "
        "(the tracker's WebSocket frames are read by the websockets library's own threads, not counted there).",
    ]
    return rows


def verdicts(workloads: Sequence[Workload]) -> list[str]:
    lines = []
    for workload in workloads:
        knows = {side: delays(workload, side, "knew") for side in ("polling", "tracker")}
        hands = {side: delays(workload, side, "counts") for side in ("polling", "tracker")}
        checks = [
            ("knows the end, median <= half of polling's", median(knows["tracker"]), median(knows["polling"]) / 2),
            ("knows the end, p95 <= polling's", p95(knows["tracker"]), p95(knows["polling"])),
            ("counts in hand, median <= polling's", median(hands["tracker"]), median(hands["polling"])),
        ]
        for label, value, limit in checks:
            lines.append(f"- {workload.name}: {label}: {_verdict(value, limit)}")
    return lines


def report(workloads: Sequence[Workload], keys: dict[str, str]) -> str:
    parts: list[str] = [
        "# Learning that a task ended: polling Braket against the tracker, at once",
        "",
        machine(),
        "",
        "Every task is waited on both ways at the same time, from its submission: the unmodified SDK's "
        "`AwsQuantumTask(arn).result()` at its defaults (GetQuantumTask every second) and `TrackedTask.result()` "
        "over the live channel, in one waiter process; moto runs in a process of its own. Delays are from the "
        "`endedAt` the local Braket service reports. A warm-up burst of 20 tasks ran first, unmeasured.",
        "",
        "Local targets (issue 16), per workload:",
        "",
        *verdicts(workloads),
    ]
    for workload in workloads:
        one, five, fifteen = workload.load
        parts += [
            "",
            f"## Workload: {workload.name}",
            "",
            f"Load average when it started: {one:.1f} / {five:.1f} / {fifteen:.1f} (1, 5, 15 min; 2 cores).",
            "",
            *comparison(workload),
            "",
            "### The tracker's side, hop by hop",
            "",
            *hop_rows(workload),
            "",
            "### Braket requests, counted at the local Braket service by signing access key",
            "",
            *request_rows(workload, keys),
            "",
            *quota_rows(workload),
            "",
            "### CPU per process",
            "",
            *cpu_rows(workload),
        ]
    parts += ["", *NOTES, ""]
    return "\n".join(parts)


NOTES: list[str] = [
    "## What is local in these figures",
    "",
    "- Every wait between an end and its waiter that local mode keeps copies AWS (docs/latency.md): the runner's "
    "SQS long poll returns when a message arrives; the capture mapping has no batching window; the stream is read "
    "4 times a second (no longer on the end's path); a function's first invocation on a new worker pays its cold "
    "start. Polling's 1 s interval is the SDK's default, as in AWS.",
    "- What AWS does in milliseconds, moto does in a Python process on this shared 2-core machine: EventBridge, SQS "
    "and DynamoDB requests cost several CPU-ms each (the CPU table), and every process competes for the two cores. "
    "The hops are therefore slower here than in AWS; their order of magnitude in AWS is in docs/latency.md.",
]

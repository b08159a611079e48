"""Timestamps of a task end's hops, collected off the path while local mode runs (benchmarks only).

- event sent: when the local Braket service's PutEvents of the end returned (its publisher, wrapped,
  when it runs in this process; from its log when it runs in a process of its own, `Hops.note_sent`);
- queued, recorder start, written, pushed: the recorder's own log line for the end (`queued_at` is
  SQS's SentTimestamp; `started_at`, `written_at`, `pushed_at` its clock), which the runner relays;
- stream record read: when the runner's stream poller read the end's record (`observe_streams`), for
  the live pusher's and the notifier's mappings;
- received: the waiter's own clock, reported by the waiter.
All are epoch seconds on one machine's clock. Nothing here is on the path: the publisher wrapper and
the stream observer only note a time; the log lines are the recorder's usual ones.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from local.tracker import LocalTracker

FINISHED = frozenset({"COMPLETED", "FAILED", "CANCELLED"})


@dataclass
class Hops:
    sent: dict[str, float] = field(default_factory=dict)  # arn -> the end's PutEvents returned
    recorded: dict[str, dict[str, Any]] = field(default_factory=dict)  # arn -> the recorder's timings of the end
    stream_read: dict[str, dict[str, float]] = field(default_factory=dict)  # mapping -> arn -> first read
    events: Counter[str] = field(default_factory=Counter)  # events recorded, by status
    record_times: list[float] = field(default_factory=list)  # when each event was recorded (log line time)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def note_sent(self, arn: str, status: str, at: float) -> None:
        """An event put on the bus at `at` (epoch seconds); only a task's first end is kept."""
        if status in FINISHED:
            with self._lock:
                self.sent.setdefault(arn, at)

    def snapshot(self) -> Hops:
        """A copy, kept by one workload while the next one clears these."""
        with self._lock:
            return Hops(
                dict(self.sent),
                {arn: dict(line) for arn, line in self.recorded.items()},
                {mapping: dict(reads) for mapping, reads in self.stream_read.items()},
                Counter(self.events),
                list(self.record_times),
            )

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()
            self.recorded.clear()
            self.stream_read.clear()
            self.events.clear()
            self.record_times.clear()


class _RecorderLines(logging.Handler):
    """The recorder's "Recorded an event" lines, as the runner relays a worker's stdout."""

    def __init__(self, hops: Hops) -> None:
        super().__init__(logging.INFO)
        self.hops = hops

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if len(args) != 2 or not str(args[0]).startswith("Recording") or not str(args[1]).startswith("{"):
            return
        try:
            line = json.loads(str(args[1]))
        except ValueError:
            return
        if line.get("message") != "Recorded an event":
            return
        status, arn = line.get("event_status"), line.get("correlation_id")
        with self.hops._lock:
            self.hops.events[str(status)] += 1
            self.hops.record_times.append(record.created)
            if status in FINISHED and "written_at" in line and arn not in self.hops.recorded:
                self.hops.recorded[str(arn)] = line


def attach(tracker: LocalTracker, hops: Hops | None = None) -> Hops:
    """Start collecting the hops of `tracker` (a started LocalTracker) into `hops` (new by default)."""
    assert tracker.braket is not None and tracker.runner is not None
    hops = hops if hops is not None else Hops()
    functions = logging.getLogger("local.runner.functions")
    functions.setLevel(logging.INFO)
    functions.addHandler(_RecorderLines(hops))

    publisher = getattr(tracker.braket, "_publisher", None)  # in this process (not a BraketProcess)
    if publisher is not None:
        send = publisher._send

        def timed_send(region: str, batch: list[Any]) -> None:
            send(region, batch)
            for outgoing in batch:
                hops.note_sent(outgoing.entry["Resources"][0], outgoing.status, time.time())

        publisher._send = timed_send

    def observed(mapping: str, records: list[dict[str, Any]], read_at: float) -> None:
        with hops._lock:
            reads = hops.stream_read.setdefault(mapping, {})
            for record in records:
                image = record["dynamodb"].get("NewImage") or {}
                if image.get("status", {}).get("S") in FINISHED:
                    reads.setdefault(record["dynamodb"]["Keys"]["taskArn"]["S"], read_at)

    tracker.runner.observe_streams(observed)
    return hops

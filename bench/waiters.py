"""The waiting side of `bench.polling_vs_tracker`, in a process of its own: for every task ARN read on
stdin, two waiters start at once, in threads of this process:

- polling: the unmodified Braket SDK, `AwsQuantumTask(arn, aws_session).result()` at its defaults
  (GetQuantumTask every second), signing with an access key of its own (POLLING_ACCESS_KEY) so that
  the local Braket service counts its requests apart; it knows the end when a GetQuantumTask answer
  first says so (a botocore after-call hook), and has the counts when result() returns;
- tracker: `TrackedTask.from_arn(arn, client).result(on_update=...)` from braket_tracker (the end
  pushed over the live channel, then GET /tasks/{id}/result and the results download); it knows the
  end at the first finished update.

Both start at the same moment, a random fraction of a second after the task's submission (so that an
end falls anywhere in polling's one-second cycle), and build the SDK's result object from the same
results.json. One JSON line per waiter goes to
stdout: side, ARN, when it knew the end and had the counts (epoch seconds), how it learned the end
(push or snapshot), its thread's CPU seconds, and any error. `done` on stdin: wait for every waiter,
then exit.

Run by bench.polling_vs_tracker (environment: local mode's, from LocalTracker.environment()).
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from typing import Any

import boto3

POLLING_ACCESS_KEY = "polling-waiters"
FINISHED = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
_print_lock = threading.Lock()


def emit(record: dict[str, Any]) -> None:
    with _print_lock:
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()


class Polling:
    def __init__(self) -> None:
        from braket.aws import AwsSession  # type: ignore[import-untyped]  # noqa: PLC0415

        session = boto3.Session(
            aws_access_key_id=POLLING_ACCESS_KEY,
            aws_secret_access_key="polling",
            region_name=os.environ["AWS_REGION"],
        )
        self.knew: dict[str, float] = {}
        self.calls = 0
        self._lock = threading.Lock()
        session.events.register("after-call.braket.GetQuantumTask", self._answer)
        braket = session.client("braket", endpoint_url=os.environ["AWS_ENDPOINT_URL_BRAKET"])
        self.aws_session = AwsSession(boto_session=session, braket_client=braket)

    def _answer(self, parsed: dict[str, Any], **_: Any) -> None:
        now = time.time()
        with self._lock:
            self.calls += 1
            if parsed.get("status") in FINISHED:
                self.knew.setdefault(str(parsed.get("quantumTaskArn")), now)

    def wait(self, arn: str) -> dict[str, Any]:
        from braket.aws import AwsQuantumTask  # noqa: PLC0415

        result = AwsQuantumTask(arn, aws_session=self.aws_session).result()
        counts = time.time()
        if result is None or not result.measurement_counts:
            raise RuntimeError("no counts")
        return {"knew": self.knew.get(arn), "counts": counts, "source": "poll"}


class Tracker:
    def __init__(self) -> None:
        from braket_tracker import TrackerClient  # noqa: PLC0415

        self.client_class = TrackerClient

    def wait(self, arn: str) -> dict[str, Any]:
        from braket_tracker import TrackedTask  # noqa: PLC0415

        session = boto3.Session(region_name=os.environ["AWS_REGION"])  # local mode's credentials, from the environment
        client = self.client_class(
            api_url=os.environ["BRAKET_TRACKER_API_URL"],
            live_url=os.environ["BRAKET_TRACKER_LIVE_URL"],
            session=session,
            sdk_results=True,
        )
        knew: dict[str, Any] = {}

        def on_update(update: Any) -> None:
            if update.finished and "knew" not in knew:
                knew.update(knew=time.time(), source=update.source)

        result = TrackedTask.from_arn(arn, client).result(timeout=600, on_update=on_update)
        counts = time.time()
        if result is None or not result.measurement_counts:
            raise RuntimeError("no counts")
        return {"knew": knew.get("knew"), "counts": counts, "source": knew.get("source")}


def run(side: str, waiter: Polling | Tracker, arn: str, start: float) -> None:
    time.sleep(max(0.0, start - time.time()))
    started = time.time()
    record: dict[str, Any] = {"side": side, "arn": arn, "started": started}
    try:
        record |= waiter.wait(arn)
    except Exception as error:  # reported, not hidden
        record["error"] = repr(error)[:500]
    record["cpu"] = time.thread_time()
    emit(record)


def main() -> None:
    polling, tracker = Polling(), Tracker()
    threads: list[threading.Thread] = []
    phases = random.Random(16)
    emit({"ready": True})
    for line in sys.stdin:
        command = line.strip()
        if command == "done":
            break
        # Both waiters start together, at a random moment of the first second after the submission:
        # a task's end then falls anywhere between two of polling's requests, as it does in AWS (a queue
        # delay of whole seconds would otherwise put every end at the same point of the polling cycle).
        start = time.time() + phases.random()
        for side, waiter in (("polling", polling), ("tracker", tracker)):
            thread = threading.Thread(target=run, args=(side, waiter, command, start), daemon=True)
            thread.start()
            threads.append(thread)
    for thread in threads:
        thread.join()
    emit({"finished": True, "polling_calls": polling.calls, "process_cpu": time.process_time()})


if __name__ == "__main__":
    main()

"""A job's output in CloudWatch Logs (moto), where the SDK's job.logs() and wait_until_complete read it.

Group `/aws/braket/jobs` (AwsQuantumJob.LOG_GROUP); one stream per instance, named
`<jobName>/<job id>/algo-1-<epoch seconds>`: the SDK finds streams by the prefix `<jobName>/<job id>`
(AwsQuantumJob._logs_prefix) and metrics() by `<prefix>/`; the `algo-1-<epoch>` suffix is SageMaker's
naming for the first instance. Lines go out as they come: each PutLogEvents takes whatever has
accumulated while the previous one was sent (no interval), within the API's limits.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)

LOG_GROUP = "/aws/braket/jobs"
MAX_EVENT_BYTES = 256 * 1024 - 26  # an event's message, less the 26 bytes CloudWatch adds to each
MAX_BATCH_BYTES = 1_048_576  # PutLogEvents: the sum of (message bytes + 26)
MAX_BATCH_EVENTS = 10_000


def ensure_log_group(logs: Any) -> None:
    try:
        logs.create_log_group(logGroupName=LOG_GROUP)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
            raise


class JobLog:
    """Lines written from any thread, sent in order from a thread of its own; close() sends the rest."""

    def __init__(self, logs: Any, stream: str) -> None:
        self._logs = logs
        self.stream = stream
        self._lines: queue.Queue[tuple[int, str] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._send_all, name=f"job-log-{stream[-24:]}", daemon=True)

    def open(self) -> None:
        ensure_log_group(self._logs)
        self._logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=self.stream)
        self._thread.start()

    def write(self, line: str) -> None:
        message = line.rstrip("\n")
        encoded = message.encode()
        if len(encoded) > MAX_EVENT_BYTES:
            message = encoded[:MAX_EVENT_BYTES].decode(errors="ignore")
        self._lines.put((int(time.time() * 1000), message or " "))

    def close(self) -> None:
        """Send what is left, then stop."""
        self._lines.put(None)
        if self._thread.is_alive():
            self._thread.join()

    def _send_all(self) -> None:
        closing = False
        while not closing:
            first = self._lines.get()
            if first is None:
                return
            batch, size = [first], len(first[1].encode()) + 26
            while len(batch) < MAX_BATCH_EVENTS:
                try:
                    item = self._lines.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    closing = True
                    break
                size += len(item[1].encode()) + 26
                if size > MAX_BATCH_BYTES:
                    self._put(batch)
                    batch, size = [], len(item[1].encode()) + 26
                batch.append(item)
            self._put(batch)

    def _put(self, batch: list[tuple[int, str]]) -> None:
        if not batch:
            return
        events = [{"timestamp": at, "message": message} for at, message in batch]
        try:
            self._logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=self.stream, logEvents=events)
        except (BotoCoreError, ClientError) as exc:
            log.warning("%d log lines of %s not sent: %s", len(events), self.stream, exc)

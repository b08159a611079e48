"""Pushing a task's new status to every connection subscribed to the task or to its submitter.

Two callers: the recorder, right after it writes a task's end (so the end reaches its waiters
without the task table's stream hop), and the stream pusher, for every other status change
(`tracker.logic.live.recorder_pushes` decides which one pushes what).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tracker.data.connections import ConnectionsTable
from tracker.data.connections_api import ConnectionsApi, PostFailed
from tracker.domain import Status, TaskRecord
from tracker.logic import live


@dataclass
class PushResult:
    sent: int = 0
    gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class OutOfTime(Exception):
    """Too little of the invocation is left to finish a fan-out: the record is retried."""


class Pusher:
    """Pushes a task's new status to every connection subscribed to the task or to its submitter.

    Posts run on a thread pool (a task may have thousands of subscribers); a connection that is
    gone (410) is forgotten; any other failure raises PostFailed after the others are served, and
    OutOfTime stops a fan-out the invocation could not finish (a retry sends the same document again
    to the connections already served, which they dedupe).
    """

    def __init__(
        self,
        connections: ConnectionsTable,
        api: ConnectionsApi,
        workers: int = 16,
        chunk: int = 256,
    ) -> None:
        self.connections = connections
        self.api = api
        self.workers = workers
        self.chunk = chunk
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="push")

    def push(
        self,
        record: TaskRecord,
        remaining_ms: Callable[[], int],
        reserve_ms: int = 5000,
        corrects: Status | None = None,
    ) -> PushResult:
        """Push the task's new status; `corrects`: the final status it replaces (a correction)."""
        targets = [live.task_target(record.task.arn)]
        if record.submitter:
            targets.append(live.submitter_target(record.submitter))
        message = live.push(record, snapshot=False, corrects=corrects)
        result = PushResult()
        seen: set[str] = set()
        try:
            # The task's subscribers and its submitter's, looked up at once (two index queries).
            found = self._pool.map(lambda target: list(self.connections.subscribers(target)), targets)
            batch: list[str] = []
            for connection_id in (c for ids in found for c in ids):
                if connection_id not in seen:  # subscribed to the task and to its submitter: one push
                    seen.add(connection_id)
                    batch.append(connection_id)
            for start in range(0, len(batch), self.chunk):
                self._post_all(batch[start : start + self.chunk], message, result, remaining_ms, reserve_ms)
        finally:
            for connection_id in result.gone:  # even when out of time: a retry need not meet them again
                self.connections.forget(connection_id)
        if result.failed:
            raise PostFailed(f"{len(result.failed)} of {len(seen)} push(es) failed, e.g. {result.failed[0]}")
        return result

    def _post_all(
        self, batch: list[str], message: str, result: PushResult, remaining_ms: Callable[[], int], reserve_ms: int
    ) -> None:
        if not batch:
            return
        left = remaining_ms()
        if left < reserve_ms:
            raise OutOfTime(f"{left} ms left with {len(batch)} or more pushes to send")
        for connection_id, outcome in zip(batch, self._pool.map(lambda c: self._post(c, message), batch), strict=True):
            if outcome == "sent":
                result.sent += 1
            elif outcome == "gone":
                result.gone.append(connection_id)
            else:
                result.failed.append(f"{connection_id}: {outcome}")

    def _post(self, connection_id: str, message: str) -> str:
        try:
            return "sent" if self.api.post(connection_id, message) else "gone"
        except PostFailed as exc:
            return str(exc)

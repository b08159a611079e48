"""TaskBoard: what a process knows of the tasks it asks about, kept current by the tracker, so that the
SDK's GetQuantumTask polls are answered from memory.

Where an answer comes from, in order:
- what the session did itself: a task it created reads CREATED, one it cancelled CANCELLING, before the
  tracker has recorded either (Braket's event takes seconds to arrive);
- the live channel: every task asked about is subscribed to, and each push moves it forward (highest
  status wins, a finished status is final, as the live channel's rules say);
- the Task API: a task's first read, and, while the live channel is not open (it cannot be opened,
  or its handshake has taken longer than FALLBACK_READ_SECONDS), at most one read per task every
  FALLBACK_READ_SECONDS (the SDK's own polling interval, so no slower than it);
- Braket itself, in three cases only, each said in the answer's `x-braket-tracker-source`: a task the
  tracker has never seen (one GetQuantumTask, then the tracker), one it has still not recorded
  UNKNOWN_GRACE_SECONDS later (one GetQuantumTask a minute: its Region may not be captured), and a
  FAILED task whose actionMetadata the tracker does not have (once: the SDK reads it when FAILED).
"""

from __future__ import annotations

import logging
import math
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from braket_tracker import quantum_task
from braket_tracker.api import task_path
from braket_tracker.client import TrackerClient
from braket_tracker.errors import (
    ApiError,
    ApiUnreachable,
    LiveChannelUnavailable,
    LiveUpdatesUnavailableWarning,
    ServerError,
    TaskNotFound,
    Throttled,
)
from braket_tracker.live import FINISHED, RANK, LiveChannel

log = logging.getLogger("braket_tracker")

FALLBACK_READ_SECONDS = 1.0
"""While the live channel is down, a task is read from the Task API at most this often: the SDK's
default polling interval (AwsQuantumTask.DEFAULT_RESULTS_POLL_INTERVAL), so waiting is no slower."""
REPEAT_WAIT_SECONDS = 0.05
"""A poll of an unfinished task asked again within this time of its last answer waits until the task
changes, or until this time has passed since that answer: a loop like the Braket guide's `while
status != "COMPLETED": status = task.state()` then asks at most 20 times a second (over the network it
asks at the pace of GetQuantumTask's round trips) instead of spinning a core and starving the
process's other threads. A change wakes the wait at once, so nothing is learnt later."""
UNKNOWN_GRACE_SECONDS = 120.0
"""How long a task may stay unrecorded by the tracker before Braket is asked again (once a minute)."""
BRAKET_RECHECK_SECONDS = 60.0
MAX_FINISHED = 10_000
"""Finished tasks kept in memory (the oldest ends are forgotten first; asked again, they are read again)."""
REOPEN_CAP_SECONDS = 60.0
"""The longest wait between two attempts to open the live channel (1 s, 2 s, 4 s, ... up to this)."""
UNAVAILABLE = (ApiUnreachable, ServerError, Throttled)


class TrackerAnswerWarning(UserWarning):
    """A poll was answered from older knowledge, or by Braket, because the tracker could not answer it."""


@dataclass
class Entry:
    """One task: GetQuantumTask's fields (not status, not queueInfo), its status, and where they came from."""

    fields: dict[str, Any]
    status: str
    source: str  # "session", "api", "live" or "braket": who moved it last
    first_seen: float
    recorded: bool = False  # the tracker has recorded it (an API item, a push, a snapshot)
    read_at: float | None = None  # the last Task API read
    answered: tuple[float, str] | None = None  # when the last poll was answered, and with which status
    details_read: bool = False  # read once from the Task API for what its end's push did not carry
    braket_at: float | None = None  # the last GetQuantumTask answered by Braket
    queue: dict[str, Any] | None = field(default=None)

    @property
    def complete(self) -> bool:
        return all(key in self.fields for key in quantum_task.REQUIRED)

    def merge(self, fields: Mapping[str, Any], status: str | None, source: str) -> bool:
        """Take newer fields and a higher status; True if the status moved."""
        for key, value in fields.items():
            if value is not None and not (key == "tags" and not value and self.fields.get("tags")):
                self.fields[key] = value
        if status is None or status not in RANK or self.status in FINISHED or RANK[status] <= RANK[self.status]:
            return False
        self.status, self.source = status, source
        return True


class TaskBoard:
    """`answer(arn)` is GetQuantumTask's answer from the tracker, or None where Braket must answer."""

    def __init__(
        self,
        client: TrackerClient,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.clock, self.now = clock, now
        self._tasks: dict[str, Entry] = {}
        self._finished: dict[str, None] = {}  # finished tasks, oldest end first
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified when a task's status moves
        self._channel: LiveChannel | None = None
        # "opening" until the live channel is open and every unfinished task subscribed ("live"), or
        # until it cannot be opened ("down": polls read the Task API until it is open again)
        self.channel_state = "opening"
        self._opening_since = self.clock()  # a handshake that takes longer than a poll counts as down
        self._watcher: threading.Thread | None = None
        self._stopped = threading.Event()
        self._warned: set[str] = set()
        self.answered: dict[str, int] = {"session": 0, "live": 0, "api": 0, "braket": 0}

    # -- what the session did, and Braket's answers -------------------------------------------

    def created(self, arn: str, params: Mapping[str, Any]) -> None:
        """The session's CreateQuantumTask was answered: the task is CREATED until the tracker says more."""
        fields = quantum_task.from_create(arn, params, self.now())
        self._take(arn, fields, "CREATED", "session")

    def cancelled(self, arn: str, status: str) -> None:
        """The session's CancelQuantumTask was answered CANCELLING (or CANCELLED)."""
        self._take(arn, {"quantumTaskArn": arn}, status, "session")

    def braket_answered(self, response: Mapping[str, Any]) -> None:
        """A GetQuantumTask that Braket answered (one this board let through)."""
        arn = str(response["quantumTaskArn"])
        entry = self._take(arn, quantum_task.from_braket(response), str(response.get("status")), "braket")
        with self._lock:
            entry.braket_at = self.clock()

    # -- answering ----------------------------------------------------------------------------

    def answer(self, arn: str) -> dict[str, Any] | None:
        """GetQuantumTask's answer for `arn`, with queueInfo and ResponseMetadata; None if Braket must answer."""
        self._pace(arn)
        with self._lock:
            entry = self._tasks.get(arn)
            down = self.channel_state == "down" or (
                self.channel_state == "opening" and self.clock() - self._opening_since >= FALLBACK_READ_SECONDS
            )
        try:
            if entry is None or not entry.complete:
                entry = self._read(arn)
                if entry is None:
                    return None  # never seen by the tracker: one GetQuantumTask, then the tracker
            elif down and entry.status not in FINISHED and self._due(entry.read_at, FALLBACK_READ_SECONDS):
                self._read(arn)
        except UNAVAILABLE as error:
            self._warn_once(
                "api",
                f"the tracker's Task API did not answer ({error}): answering from what the "
                "board knew, or by one GetQuantumTask to Braket for a task it did not know",
            )
            if entry is None or not entry.complete:
                return None
        self._read_details(arn, entry)
        if self._ask_braket(arn, entry):
            return None
        return self._response(arn, entry)

    def _pace(self, arn: str) -> None:
        """Wait, within REPEAT_WAIT_SECONDS of its last answer, for an unfinished task to change."""
        with self._changed:
            entry = self._tasks.get(arn)
            if entry is None or entry.answered is None:
                return
            last_at, last_status = entry.answered
            until = last_at + REPEAT_WAIT_SECONDS
            while entry.status == last_status and entry.status not in FINISHED and not self._stopped.is_set():
                left = until - time.monotonic()  # real time, whatever clock the board was given
                if left <= 0:
                    return
                self._changed.wait(left)

    def _read_details(self, arn: str, entry: Entry) -> None:
        """A FAILED task without actionMetadata (the end is pushed before the recorder has Braket's
        details): one Task API read, which has them once the recorder's second write is in."""
        with self._lock:
            wanted = entry.status == "FAILED" and "actionMetadata" not in entry.fields and not entry.details_read
            entry.details_read = entry.details_read or wanted
        if wanted:
            try:
                self._read(arn)
            except (*UNAVAILABLE, TaskNotFound) as error:
                log.info("the details of %s not read: %s", arn, error)

    def _ask_braket(self, arn: str, entry: Entry) -> bool:
        with self._lock:
            unrecorded = not entry.recorded and self.clock() - entry.first_seen >= UNKNOWN_GRACE_SECONDS
            recheck = unrecorded and self._due(entry.braket_at, BRAKET_RECHECK_SECONDS)
            no_action = entry.status == "FAILED" and "actionMetadata" not in entry.fields and entry.braket_at is None
        if recheck:
            self._warn_once(
                arn,
                f"the tracker has not recorded {arn} after {UNKNOWN_GRACE_SECONDS:.0f} s (is its Region captured?): "
                "Braket answers it once a minute",
            )
        return recheck or no_action

    def _response(self, arn: str, entry: Entry) -> dict[str, Any]:
        with self._lock:
            fields, status, source = dict(entry.fields), entry.status, entry.source
        read = None
        if status == quantum_task.QUEUED:
            try:
                read = self.client.queue_info(arn)
            except (ApiError, ApiUnreachable) as error:  # the position is worth a log line, not a failed poll
                log.info("queue position of %s not read: %s", arn, error)
            read = read or entry.queue
        with self._lock:
            self.answered[source] += 1
            entry.answered = (time.monotonic(), status)
        return {
            **fields,
            "status": status,
            "queueInfo": quantum_task.queue_info(status, fields.get("jobArn"), read),
            "ResponseMetadata": quantum_task.response_metadata(self.now(), source=source),
        }

    def _read(self, arn: str) -> Entry | None:
        """One Task API read of the task into the board (and a subscription); None if not recorded."""
        try:
            item = self.client.api.request("GET", task_path(arn))
        except TaskNotFound:
            return None
        entry = self._take(arn, quantum_task.from_tracker(item), str(item["status"]), "api", recorded=True)
        with self._lock:
            entry.read_at = self.clock()
        return entry

    def _take(
        self, arn: str, fields: Mapping[str, Any], status: str | None, source: str, *, recorded: bool = False
    ) -> Entry:
        with self._lock:
            entry = self._tasks.get(arn)
            new = entry is None
            if entry is None:
                entry = self._tasks[arn] = Entry({}, "CREATED", source, self.clock())
            if entry.merge(fields, status, source):
                self._changed.notify_all()
            entry.recorded = entry.recorded or recorded
            if source == "braket" and isinstance(fields.get("queueInfo"), dict):
                entry.queue = fields["queueInfo"]
            channel = self._channel
            finished = entry.status in FINISHED
            if finished and arn not in self._finished:
                self._finished[arn] = None
                while len(self._finished) > MAX_FINISHED:
                    oldest = next(iter(self._finished))
                    del self._finished[oldest]
                    self._tasks.pop(oldest, None)
        if new and not finished:
            self._follow(arn, channel)
        elif finished and channel is not None and arn in channel.tasks:
            channel.unsubscribe([arn])
        return entry

    def _due(self, last: float | None, interval: float) -> bool:
        return last is None or self.clock() - last >= interval

    # -- the live channel ---------------------------------------------------------------------

    def _follow(self, arn: str, channel: LiveChannel | None) -> None:
        if channel is not None:
            try:
                channel.subscribe([arn])
            except LiveChannelUnavailable as error:
                log.info("subscribing to %s failed: %s", arn, error)
        self._start_watching()

    def _start_watching(self) -> None:
        with self._lock:
            if self._watcher is not None or self._stopped.is_set():
                return
            self._watcher = threading.Thread(target=self._watch, name="braket-tracker-board", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        """Open the live channel, subscribe to every unfinished task, and apply each update; reopen
        with backoff when it cannot be opened (answers read the Task API meanwhile)."""
        delay = 1.0
        while not self._stopped.is_set():
            try:
                channel = self.client.live_channel()
            except LiveChannelUnavailable as error:
                with self._lock:
                    self.channel_state = "down"
                self._warn_once(
                    "live",
                    f"{error}; the SDK's polls are answered by reading the Task API instead",
                    LiveUpdatesUnavailableWarning,
                )
                return  # no live-updates URL: the Task API answers, for good
            channel.unknown_grace = math.inf  # the board decides what an unrecorded task needs
            with self._lock:
                if self.channel_state != "down":
                    self.channel_state, self._opening_since = "opening", self.clock()
            try:
                channel.open()
                with self._lock:
                    self._channel = channel
                    unfinished = [arn for arn, entry in self._tasks.items() if entry.status not in FINISHED]
                channel.subscribe(unfinished)
                with self._lock:
                    self.channel_state = "live"
                delay = 1.0
                for update in channel.updates():
                    self._apply(update.document)
            except LiveChannelUnavailable as error:
                if not self._stopped.is_set():
                    self._warn_once(
                        "live",
                        f"{error}; the SDK's polls are answered by reading the Task API instead",
                        LiveUpdatesUnavailableWarning,
                    )
            except Exception:  # the board must outlive any one failure of its channel
                log.exception("the live channel failed")
            with self._lock:
                self.channel_state, self._channel = "down", None
            channel.stop()
            self._stopped.wait(delay)
            delay = min(REOPEN_CAP_SECONDS, delay * 2)

    def _apply(self, document: Mapping[str, Any]) -> None:
        arn = document.get("taskArn")
        if isinstance(arn, str) and arn:
            self._take(arn, quantum_task.from_tracker(document), str(document.get("status")), "live", recorded=True)

    def _warn_once(self, key: str, message: str, category: type[UserWarning] = TrackerAnswerWarning) -> None:
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        warnings.warn(message, category, stacklevel=2)

    def close(self) -> None:
        """Stop following tasks and close the live channel."""
        self._stopped.set()
        with self._lock:
            channel = self._channel
            self._changed.notify_all()
        if channel is not None:
            channel.stop()

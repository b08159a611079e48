"""The live-updates channel: a SigV4-signed WebSocket to the tracker, subscriptions, and the
documents it pushes, kept as the protocol asks (docs/live-updates.md):

- deduplicate by `notificationId` (one status of one task): snapshots and retried pushes repeat;
- keep each task's highest-ranked status; a finished status is final, unless a correction of it
  comes (`"correction": true`: the tracker's final status changed), which replaces it;
- treat any close as routine (10-minute idle limit, 2-hour connection limit): reconnect, sign the
  new handshake, subscribe again, and let the snapshots cover what changed meanwhile;
- after a quiet spell (60 s), subscribe again: through the snapshot, that covers a push missed in
  the instant a subscription was being written; and send something at least every 5 minutes,
  which keeps the connection under the 10-minute idle limit even while pushes keep arriving.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from braket_tracker.errors import LiveChannelUnavailable, TaskNotFound, TrackerError
from braket_tracker.settings import frozen_credentials

log = logging.getLogger("braket_tracker")

RANK = {"CREATED": 0, "QUEUED": 1, "RUNNING": 2, "CANCELLING": 3, "COMPLETED": 4, "FAILED": 4, "CANCELLED": 4}
FINISHED = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
MAX_TASKS_PER_MESSAGE = 100  # the protocol's limit per subscribe message
MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway's WebSocket message limit


@dataclass(frozen=True)
class TaskUpdate:
    """A task's new status: from a push, a snapshot, or (falling back) an API read."""

    task_arn: str
    status: str
    document: dict[str, Any]
    source: str  # "push", "snapshot" or "api"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class TaskStates:
    """What a subscriber keeps: every document at most once, and each task's highest status."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self.latest: dict[str, TaskUpdate] = {}

    def accept(self, document: dict[str, Any], source: str) -> TaskUpdate | None:
        """The update if the document moves its task forward; None for a repeat or a stale status."""
        arn, status = document.get("taskArn"), document.get("status")
        if not isinstance(arn, str) or status not in RANK:
            log.debug("ignoring a document without a task ARN or a known status: %s", document)
            return None
        notification_id = document.get("notificationId") or f"{arn}#{status}"
        if notification_id in self._seen:
            return None
        self._seen.add(notification_id)
        current = self.latest.get(arn)
        if current is not None:
            corrects = status in FINISHED and document.get("correction") is True and status != current.status
            if not corrects and (current.finished or RANK[status] <= RANK[current.status]):
                return None
        update = TaskUpdate(arn, str(status), document, source)
        self.latest[arn] = update
        return update


Connector = Callable[[str, dict[str, str], float], Any]


def websocket_connector(url: str, headers: dict[str, str], open_timeout: float) -> Any:
    from websockets.sync.client import connect  # noqa: PLC0415 (only when the channel opens)

    # legacy=True: the connection outlives this call (websockets 17.1+ otherwise wants a `with` block)
    return connect(url, additional_headers=headers, open_timeout=open_timeout, max_size=MAX_MESSAGE_BYTES, legacy=True)


def handshake_headers(url: str, credentials: Any, region: str) -> dict[str, str]:
    """SigV4 headers for the opening GET of `url` (signed as https:// for wss://, http:// for ws://)."""
    from botocore.auth import SigV4Auth  # noqa: PLC0415
    from botocore.awsrequest import AWSRequest  # noqa: PLC0415

    http_url = "https" + url.removeprefix("wss") if url.startswith("wss://") else "http" + url.removeprefix("ws")
    request = AWSRequest(method="GET", url=http_url)
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return {name: value for name, value in request.headers.items() if name.lower() != "host"}


class LiveChannel:
    """`with LiveChannel(url, region, session) as live: live.subscribe(tasks=[arn]); for u in live.updates(): ...`"""

    def __init__(
        self,
        url: str,
        region: str,
        session: Any,
        *,
        connector: Connector = websocket_connector,
        open_timeout: float = 10,
        resubscribe_after: float = 60,
        keepalive_after: float = 300,
        max_reconnects: int = 5,
        unknown_grace: float = 120,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url, self.region, self.session = url, region, session
        self.connector = connector
        self.open_timeout = open_timeout
        self.resubscribe_after = resubscribe_after
        self.keepalive_after = keepalive_after
        self._last_sent = 0.0
        self.max_reconnects = max_reconnects
        self.unknown_grace = unknown_grace
        self.clock, self.sleep = clock, sleep
        self.states = TaskStates()
        self.tasks: list[str] = []
        self.mine = False
        self.connections = 0  # how many times a connection was opened (1 + reconnects)
        self._connection: Any = None
        self._unknown_since: dict[str, float] = {}
        self._request = 0
        # Another thread may subscribe while one reads `updates()`: sends are serialized, and only the
        # reading thread reconnects (a closed connection seen while subscribing is left to it).
        self._send_lock = threading.RLock()
        self._reader: threading.Thread | None = None
        self._stopped = False

    # -- connection ---------------------------------------------------------------------------

    def open(self) -> LiveChannel:
        """Connect (raises LiveChannelUnavailable if the handshake fails)."""
        try:
            headers = handshake_headers(self.url, frozen_credentials(self.session), self.region)
            self._connection = self.connector(self.url, headers, self.open_timeout)
        except TrackerError:
            raise
        except Exception as error:  # InvalidStatus (403), InvalidURI, OSError, TimeoutError...
            raise LiveChannelUnavailable(f"cannot open {self.url}: {_describe(error)}") from error
        self.connections += 1
        return self

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                log.debug("closing the live channel failed", exc_info=True)
            self._connection = None

    def stop(self) -> None:
        """Close for good, from any thread: `updates()` then returns instead of reconnecting."""
        self._stopped = True
        self.close()

    def __enter__(self) -> LiveChannel:
        return self.open() if self._connection is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _reconnect(self) -> None:
        self.close()
        for attempt in range(1, self.max_reconnects + 1):
            try:
                with self._send_lock:
                    self.open()
                    self._send_subscriptions()
            except LiveChannelUnavailable as error:
                log.info("live channel: reconnect %d/%d failed: %s", attempt, self.max_reconnects, error)
                if attempt == self.max_reconnects:
                    raise
                self.sleep(min(10.0, 0.5 * 2 ** (attempt - 1)))
                continue
            return

    # -- subscriptions ------------------------------------------------------------------------

    def subscribe(self, tasks: Iterable[str] = (), *, mine: bool = False) -> None:
        with self._send_lock:
            new = [arn for arn in dict.fromkeys(tasks) if arn not in self.tasks]
            self.tasks.extend(new)
            self.mine = self.mine or mine
            if new or mine:
                self._send_subscriptions(new, mine=mine)

    def unsubscribe(self, tasks: Iterable[str]) -> None:
        """Stop following `tasks` (a connection holds at most 1,000 task subscriptions)."""
        with self._send_lock:
            gone = [arn for arn in dict.fromkeys(tasks) if arn in self.tasks]
            self.tasks = [arn for arn in self.tasks if arn not in set(gone)]
            for start in range(0, len(gone), MAX_TASKS_PER_MESSAGE):
                self._request += 1
                chunk = gone[start : start + MAX_TASKS_PER_MESSAGE]
                self._send({"action": "unsubscribe", "tasks": chunk, "id": f"c{self._request}"})

    def _send_subscriptions(self, tasks: list[str] | None = None, *, mine: bool | None = None) -> None:
        """Send subscribe messages for `tasks` (all of them by default), 100 ARNs per message."""
        self._last_sent = self.clock()
        tasks = list(self.tasks) if tasks is None else tasks
        mine = self.mine if mine is None else mine
        chunks = [tasks[i : i + MAX_TASKS_PER_MESSAGE] for i in range(0, len(tasks), MAX_TASKS_PER_MESSAGE)]
        for index, chunk in enumerate(chunks or [[]]):
            message: dict[str, Any] = {"action": "subscribe"}
            if chunk:
                message["tasks"] = chunk
            if mine and index == 0:
                message["mine"] = True
            if len(message) == 1:
                continue  # nothing to subscribe to
            self._request += 1
            message["id"] = f"c{self._request}"
            self._send(message)

    def _send(self, message: dict[str, Any]) -> None:
        from websockets.exceptions import ConnectionClosed  # noqa: PLC0415

        with self._send_lock:
            if self._connection is None:
                return  # closed: whoever opens it again subscribes to every task
            try:
                self._connection.send(json.dumps(message))
            except ConnectionClosed:
                if self._reader is not None and threading.current_thread() is not self._reader:
                    log.info("live channel closed while subscribing; the reading thread reconnects")
                    return
                log.info("live channel closed while sending; reconnecting")
                self._reconnect()

    # -- receiving ----------------------------------------------------------------------------

    def updates(self, until: float | None = None) -> Iterator[TaskUpdate]:
        """Every update that moves a subscribed task forward, until the monotonic deadline `until`
        (forever if None). Reconnects on close; LiveChannelUnavailable if it cannot."""
        from websockets.exceptions import ConnectionClosed  # noqa: PLC0415

        self._reader = threading.current_thread()
        while True:
            now = self.clock()
            if until is not None and now >= until:
                return
            if now - self._last_sent >= self.keepalive_after:
                self._send_subscriptions()  # pushes keep coming, but API Gateway's idle limit counts ours
                continue
            wait = min(self.resubscribe_after, self.keepalive_after - (now - self._last_sent))
            if until is not None:
                wait = min(wait, until - now)
            connection = self._connection
            if self._stopped or connection is None:
                return
            try:
                raw = connection.recv(timeout=wait)
            except TimeoutError:
                if until is None or self.clock() < until:
                    self._send_subscriptions()  # no news for a while: the snapshot fills any gap
                continue
            except ConnectionClosed as closed:
                if self._stopped:
                    return
                log.info("live channel closed (%s); reconnecting and subscribing again", _describe(closed))
                self._reconnect()
                continue
            update = self._handle(raw)
            if update is not None:
                yield update

    def _handle(self, raw: str | bytes) -> TaskUpdate | None:
        try:
            message = json.loads(raw)
        except ValueError:
            log.warning("live channel: not JSON, ignored: %.200r", raw)
            return None
        if not isinstance(message, dict):
            return None
        kind = message.get("type")
        if kind == "task" and isinstance(message.get("document"), dict):
            document = message["document"]
            self._unknown_since.pop(str(document.get("taskArn")), None)
            return self.states.accept(document, "snapshot" if message.get("snapshot") else "push")
        if kind == "subscribed":
            self._note_unknown(message.get("unknownTasks") or [])
        elif kind == "error":
            code, text = message.get("code"), message.get("message")
            if code in {"TooManySubscriptions", "BadRequest", "UnknownAction"}:
                raise LiveChannelUnavailable(f"the live-updates API refused a subscription: {code}: {text}")
            log.warning("live channel error %s: %s", code, text)
            if code == "NotConnected":  # the server lost this connection's record: start afresh
                self._reconnect()
        elif kind is None:  # API Gateway's own answer, e.g. {"message": "Internal server error"}
            log.warning("live channel: %s", message.get("message", message))
        return None

    def _note_unknown(self, unknown: list[str]) -> None:
        now = self.clock()
        for arn in unknown:
            since = self._unknown_since.setdefault(arn, now)
            if now - since >= self.unknown_grace:
                raise TaskNotFound(
                    f"task {arn} is not recorded by the tracker ({self.unknown_grace:.0f} s after subscribing)",
                    status=404,
                    error="TaskNotFound",
                )

    def wait_for_end(
        self, arns: list[str], until: float | None, on_update: Callable[[TaskUpdate], None] | None = None
    ) -> dict[str, TaskUpdate]:
        """Subscribe to `arns` and return their final updates; stops at `until` with what it has."""
        self.subscribe(arns)
        latest = self.states.latest
        ended = {arn: latest[arn] for arn in arns if arn in latest and latest[arn].finished}
        if len(ended) == len(arns):
            return ended
        for update in self.updates(until):
            if on_update is not None:
                on_update(update)
            if update.finished and update.task_arn in arns:
                ended[update.task_arn] = update
                if len(ended) == len(set(arns)):
                    break
        return ended


def _describe(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if response is not None and hasattr(response, "status_code"):
        return f"HTTP {response.status_code}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__

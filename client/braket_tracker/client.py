"""TrackerClient: the tracker's Task API and live channel, signed with the usual AWS credential chain."""

from __future__ import annotations

import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from braket_tracker.api import TaskApi, backoff, task_path
from braket_tracker.errors import (
    LiveChannelUnavailable,
    LiveUpdatesUnavailableWarning,
    TaskNotFound,
    WaitTimeout,
)
from braket_tracker.live import FINISHED, RANK, Connector, LiveChannel, TaskStates, TaskUpdate, websocket_connector
from braket_tracker.results import TaskResult, download_results, sdk_available, sdk_result
from braket_tracker.settings import resolve
from braket_tracker.task import TrackedTask, UpdateCallback
from braket_tracker.transport import Transport, UrllibTransport

if TYPE_CHECKING:
    from braket_tracker.jobs import TrackerJobs

__all__ = ["TrackedTask", "TrackerClient", "device_arn", "program_source"]

DEVICES = {
    "sv1": "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
    "dm1": "arn:aws:braket:::device/quantum-simulator/amazon/dm1",
    "tn1": "arn:aws:braket:::device/quantum-simulator/amazon/tn1",
}
POLL_CAP_SECONDS = 15.0
UNKNOWN_GRACE_SECONDS = 120.0  # how long a task may stay unrecorded while waiting for it
QUEUE_READ_SECONDS = 60.0
"""A task's queue position is read at most this often (through the Task API, which asks Braket)."""

_DEFAULT: list[TrackerClient] = []  # TrackerClient.default()
Arns = list[str]  # (TrackerClient.list shadows the builtin inside the class)


def device_arn(device: Any) -> str:
    """A device ARN from an ARN, an alias (sv1, dm1, tn1) or an SDK device object (its `.arn`)."""
    arn = getattr(device, "arn", device)
    if not isinstance(arn, str) or not arn:
        raise ValueError(f"not a device: {device!r}")
    return DEVICES.get(arn.lower(), arn)


def program_source(program: Any) -> tuple[str, dict[str, Any]]:
    """OpenQASM 3 source and its inputs from a string, an SDK Circuit, or an OpenQASM Program."""
    if isinstance(program, str):
        return program, {}
    if hasattr(program, "to_ir"):  # braket.circuits.Circuit
        from braket.circuits.serialization import IRType  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415

        program = program.to_ir(IRType.OPENQASM)
    source = getattr(program, "source", None)
    if not isinstance(source, str):
        raise TypeError(f"not an OpenQASM 3 program: {type(program).__name__}")
    return source, dict(getattr(program, "inputs", None) or {})


def iso(moment: datetime | str | None) -> str | None:
    """ISO-8601 with a time zone, as the API's createdAfter/createdBefore take (naive means UTC)."""
    if moment is None or isinstance(moment, str):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


class TrackerClient:
    """The tracker's Task API and live-updates channel, signed with the usual AWS credential chain.

    `TrackerClient(stack_name="BraketTaskTracker")` reads the stack's outputs (TaskApiUrl,
    LiveUpdatesUrl); `TrackerClient(api_url=..., live_url=...)` takes them directly. With neither,
    BRAKET_TRACKER_API_URL / BRAKET_TRACKER_LIVE_URL / BRAKET_TRACKER_STACK, then the stack
    `BraketTaskTracker`.
    """

    def __init__(
        self,
        api_url: str | None = None,
        stack_name: str | None = None,
        region: str | None = None,
        session: Any = None,
        live_url: str | None = None,
        *,
        transport: Transport | None = None,
        connector: Connector = websocket_connector,
        sdk_results: bool | None = None,
        timeout: float = 30,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if session is None:
            import boto3  # noqa: PLC0415

            session = boto3.Session(region_name=region) if region else boto3.Session()
        self.session = session
        self.endpoints = resolve(session, api_url=api_url, stack_name=stack_name, region=region, live_url=live_url)
        self.transport: Transport = transport or UrllibTransport()
        self.api = TaskApi(self.endpoints, session, self.transport, timeout=timeout, sleep=sleep)
        self.connector = connector
        self.sdk_results = sdk_available() if sdk_results is None else sdk_results
        self.clock, self.sleep = clock, sleep
        self._fallback_warned = False
        self._lock = threading.Lock()
        self._cancelled: dict[str, str] = {}  # what this client's cancels answered, by task ARN
        self._queue: dict[str, tuple[float, dict[str, Any] | None]] = {}  # task ARN -> (read at, queueInfo)

    @property
    def jobs(self) -> TrackerJobs:
        """Hybrid jobs: `tracker.jobs.get/list/tasks/cancel/watch` (braket_tracker/jobs.py)."""
        from braket_tracker.jobs import TrackerJobs  # noqa: PLC0415 (jobs.py imports this module)

        return TrackerJobs(self)

    def __repr__(self) -> str:
        return f"TrackerClient(api_url={self.endpoints.api_url!r}, live_url={self.endpoints.live_url!r})"

    @classmethod
    def default(cls) -> TrackerClient:
        """One shared client configured from the environment (made on first use), for from_arn."""
        if not _DEFAULT:
            _DEFAULT.append(cls())
        return _DEFAULT[0]

    # -- the API ------------------------------------------------------------------------------

    def submit(
        self,
        program: Any,
        device: Any,
        shots: int,
        *,
        tags: Mapping[str, str] | None = None,
        inputs: Mapping[str, Any] | None = None,
        device_parameters: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> TrackedTask:
        """POST /tasks. Retries are safe: every call carries an Idempotency-Key (a new UUID unless
        given), so a retry after a timeout never creates a second task."""
        source, program_inputs = program_source(program)
        body: dict[str, Any] = {"deviceArn": device_arn(device), "shots": shots, "program": source}
        all_inputs = {**program_inputs, **(inputs or {})}
        if all_inputs:
            body["inputs"] = all_inputs
        if tags:
            body["tags"] = dict(tags)
        if device_parameters:
            body["deviceParameters"] = dict(device_parameters)
        key = idempotency_key or str(uuid.uuid4())
        answer = self.api.request("POST", "tasks", body=body, headers={"Idempotency-Key": key})
        return TrackedTask(answer["taskArn"], self)

    def task(self, id_or_arn: str) -> TrackedTask:
        """The task with this id or ARN (one API read); TaskNotFound if the tracker has no record."""
        item = self.api.request("GET", task_path(id_or_arn))
        return TrackedTask(item["taskArn"], self, item)

    def get(self, id_or_arn: str, *, include_queue: bool = False) -> dict[str, Any]:
        """GET /tasks/{id}: the task item; with include_queue, Braket's queue position too."""
        item: dict[str, Any] = self.api.request(
            "GET", task_path(id_or_arn), query={"include": "queue" if include_queue else None}
        )
        return item

    def cancel(self, id_or_arn: str) -> str:
        """POST /tasks/{id}/cancel: the new status (CANCELLING); Conflict if it already ended. This
        client's reads of the task say at least that status from then on."""
        answer = self.api.request("POST", task_path(id_or_arn) + "/cancel")
        status = str(answer["status"])
        with self._lock:
            self._cancelled[str(answer.get("taskArn") or id_or_arn)] = status
        return status

    def status_of(self, arn: str, recorded: str) -> str:
        """The recorded status, or what this client's cancel answered if that ranks higher (the
        tracker records a cancel from Braket's event, a few seconds later)."""
        with self._lock:
            cancelled = self._cancelled.get(arn)
        if cancelled is None or recorded in FINISHED or RANK.get(recorded, -1) >= RANK[cancelled]:
            return recorded
        return cancelled

    def queue_info(self, id_or_arn: str, max_age: float = QUEUE_READ_SECONDS) -> dict[str, Any] | None:
        """The task's queueInfo (queue, position, queuePriority, message), as GET /tasks/{id}?include=queue
        reads it from Braket: at most once per `max_age` seconds per task, the last read in between."""
        with self._lock:
            cached = self._queue.get(id_or_arn)
        if cached is not None and self.clock() - cached[0] < max_age:
            return cached[1]
        info = self.get(id_or_arn, include_queue=True).get("queueInfo")
        with self._lock:
            self._queue[id_or_arn] = (self.clock(), info)
        return info

    def list(
        self,
        *,
        status: str | None = None,
        device: Any = None,
        submitter: str | None = None,
        tag: str | tuple[str, str] | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        limit: int | None = None,
        page_size: int = 100,
    ) -> Iterator[TrackedTask]:
        """Tasks, newest first, page after page (at most `limit` in all). One filter among status,
        device, submitter (an IAM ARN, or "me") and tag ("key=value", on a promoted key)."""
        if isinstance(tag, tuple):
            tag = "=".join(tag)
        query: dict[str, Any] = {
            "status": status,
            "device": None if device is None else device_arn(device),
            "submitter": submitter,
            "tag": tag,
            "createdAfter": iso(created_after),
            "createdBefore": iso(created_before),
        }
        remaining = limit
        token: str | None = None
        while remaining is None or remaining > 0:
            size = min(page_size, 100) if remaining is None else min(page_size, 100, remaining)
            page = self.api.request("GET", "tasks", query={**query, "limit": size, "next": token})
            for item in page.get("tasks", []):
                yield TrackedTask(item["taskArn"], self, item)
            if remaining is not None:
                remaining -= len(page.get("tasks", []))
            token = page.get("next")
            if not token:
                return

    def costs(self, *, month: str | None = None, by: str = "account") -> dict[str, Any]:
        """GET /costs: what tasks cost in a UTC month (YYYY-MM; this month by default), by "account",
        "submitter", "device" or "tag:<key>" (a promoted tag key): every page, as one report."""
        report: dict[str, Any] = {}
        rows: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self.api.request("GET", "costs", query={"month": month, "by": by, "limit": 1000, "next": token})
            report = report or page
            rows += page.get("rows", [])
            token = page.get("next")
            if not token:
                break
        total = sum((Decimal(row["usd"]) for row in rows), Decimal(0))
        return {**report, "rows": rows, "totalUsd": f"{total.normalize():f}" if rows else "0", "next": None}

    def spending_limits(self) -> dict[str, Any]:
        """GET /spending-limits: Braket's spending limits, asked now, each beside the tracker's figures."""
        answer: dict[str, Any] = self.api.request("GET", "spending-limits")
        return answer

    def result(self, id_or_arn: str, *, sdk: bool | None = None) -> Any:
        """GET /tasks/{id}/result, at once (TaskNotFinished if it has not ended): a TaskResult, or the
        SDK's result object for a COMPLETED task when `sdk` (default: the SDK is installed)."""
        answer = TaskResult.from_answer(self.api.request("GET", task_path(id_or_arn) + "/result"))
        use_sdk = self.sdk_results if sdk is None else sdk
        if not use_sdk or answer.status != "COMPLETED" or not answer.results_url:
            return answer
        return sdk_result(download_results(self.transport, answer.results_url))

    # -- waiting ------------------------------------------------------------------------------

    def live_channel(self) -> LiveChannel:
        """A live channel to this tracker (not yet open): LiveChannelUnavailable without a URL."""
        if not self.endpoints.live_url:
            raise LiveChannelUnavailable(
                "this tracker has no live-updates URL (no LiveUpdatesUrl output, BRAKET_TRACKER_LIVE_URL or live_url=)"
            )
        return LiveChannel(
            self.endpoints.live_url,
            self.endpoints.region,
            self.session,
            connector=self.connector,
            unknown_grace=UNKNOWN_GRACE_SECONDS,
            clock=self.clock,
            sleep=self.sleep,
        )

    def wait(
        self, arns: Arns, timeout: float | None = None, on_update: UpdateCallback | None = None
    ) -> dict[str, TaskUpdate]:
        """Wait until every task in `arns` has ended: pushed over the live channel, or, if it cannot
        be opened, read from the API with backoff (said once per client). WaitTimeout after `timeout`."""
        until = None if timeout is None else self.clock() + timeout
        states = TaskStates()
        try:
            with self.live_channel() as live:
                states = live.states
                ended = live.wait_for_end(arns, until, on_update)
        except LiveChannelUnavailable as error:
            self.warn_fallback(str(error))
            ended = self._poll(arns, until, on_update, states)
        return self._all_ended(arns, ended, states, timeout)

    def warn_fallback(self, reason: str) -> None:
        if not self._fallback_warned:
            self._fallback_warned = True
            warnings.warn(
                f"live updates unavailable: {reason}; waiting by reading the Task API with backoff instead",
                LiveUpdatesUnavailableWarning,
                stacklevel=4,
            )

    def _poll(
        self, arns: Arns, until: float | None, on_update: UpdateCallback | None, states: TaskStates
    ) -> dict[str, TaskUpdate]:
        pending = [arn for arn in dict.fromkeys(arns) if not (arn in states.latest and states.latest[arn].finished)]
        ended = {arn: states.latest[arn] for arn in arns if arn not in pending}
        missing_since: dict[str, float] = {}
        attempt = 0
        while pending:
            for arn in list(pending):
                try:
                    item = self.api.request("GET", task_path(arn))
                except TaskNotFound:
                    since = missing_since.setdefault(arn, self.clock())
                    if self.clock() - since >= UNKNOWN_GRACE_SECONDS:
                        raise
                    continue
                update = states.accept(item, "api")
                if update is not None and on_update is not None:
                    on_update(update)
                latest = states.latest.get(arn)
                if latest is not None and latest.finished:
                    ended[arn] = latest
                    pending.remove(arn)
            if not pending:
                break
            now = self.clock()
            if until is not None and now >= until:
                break
            attempt += 1
            delay = min(POLL_CAP_SECONDS, backoff(attempt, base=1.0, cap=POLL_CAP_SECONDS))
            self.sleep(delay if until is None else max(0.0, min(delay, until - now)))
        return ended

    @staticmethod
    def _all_ended(
        arns: Arns, ended: dict[str, TaskUpdate], states: TaskStates, timeout: float | None
    ) -> dict[str, TaskUpdate]:
        waiting = [arn for arn in arns if arn not in ended]
        if waiting:
            last = {arn: states.latest[arn].status if arn in states.latest else "not recorded yet" for arn in waiting}
            listed = ", ".join(f"{arn} ({status})" for arn, status in last.items())
            raise WaitTimeout(f"not ended within {timeout} s: {listed}")
        return ended

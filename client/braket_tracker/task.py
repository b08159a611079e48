"""TrackedTask: the Braket SDK's task interface (AwsQuantumTask's), answered by the tracker."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from braket_tracker import quantum_task
from braket_tracker.api import ApiAnswer, task_path
from braket_tracker.live import FINISHED, TaskUpdate

if TYPE_CHECKING:
    from braket_tracker.client import TrackerClient

UpdateCallback = Callable[[TaskUpdate], None]
TASK_ID = re.compile(r"[A-Za-z0-9-]{1,128}")


class TrackedTask:
    """A task as the SDK's AwsQuantumTask presents it: `id` (the ARN), `state()`, `metadata()` (in
    GetQuantumTask's shape), `result()`, `cancel()`, `TrackedTask.from_arn(arn)`; every answer from
    the tracker. `item()` is the task as the Task API shows it."""

    def __init__(self, arn: str, client: TrackerClient, item: dict[str, Any] | None = None) -> None:
        self._arn = arn
        self._client = client
        self._item = item
        self._answer: tuple[ApiAnswer, datetime] | None = None  # the read the item came from
        self._results: dict[bool, Any] = {}

    @classmethod
    def from_arn(cls, arn: str, client: TrackerClient | None = None) -> TrackedTask:
        """Rebuild a task from its ARN (after a kernel restart): no request until it is used. A bare
        task id is taken too; it costs one read, for the ARN (which names the task's Region)."""
        if client is None:
            from braket_tracker.client import TrackerClient  # noqa: PLC0415 (client imports this module)

            client = TrackerClient.default()
        if arn.startswith("arn:") and ":quantum-task/" in arn:
            return cls(arn, client)
        if TASK_ID.fullmatch(arn):
            return client.task(arn)
        raise ValueError(f"not a quantum task ARN or id: {arn!r}")

    @property
    def id(self) -> str:
        """The task ARN, as AwsQuantumTask.id."""
        return self._arn

    @property
    def client(self) -> TrackerClient:
        return self._client

    def item(self, use_cached_value: bool = False) -> dict[str, Any]:
        """The task as the tracker records it and the Task API shows it (one read, or the last one):
        statusTimes, submitter, resultsUri, queueSeconds, ..., with ISO-8601 times."""
        if self._item is None or not use_cached_value:
            answer = self._client.api.exchange("GET", task_path(self._arn))
            self._item, self._answer = answer.body, (answer, datetime.now(UTC))
        assert self._item is not None
        return dict(self._item)

    def metadata(self, use_cached_value: bool = False) -> dict[str, Any]:
        """GetQuantumTask's answer, as AwsQuantumTask.metadata() gives it (one read, or the last one):
        quantumTaskArn, status, deviceArn, shots, outputS3Bucket, outputS3Directory, createdAt and
        endedAt (datetimes), tags, failureReason, queueInfo (its position read from Braket by the
        tracker, at most once a minute, while QUEUED), ResponseMetadata (the Task API's answer: its
        date, request id), and deviceParameters and actionMetadata where the tracker has them. The
        tracker's own fields are under "tracker"."""
        item = self.item(use_cached_value)
        status = self._client.status_of(self._arn, item["status"])
        read = self._client.queue_info(self._arn) if status == quantum_task.QUEUED else None
        answer, at = self._answer if self._answer is not None else (ApiAnswer(item), datetime.now(UTC))
        return {
            **quantum_task.from_tracker(item),
            "status": status,
            "queueInfo": quantum_task.queue_info(status, item.get("jobArn"), read),
            "ResponseMetadata": quantum_task.response_metadata(
                at,
                source="api",
                request_id=_request_id(answer.headers),
                headers=answer.headers,
                attempts=answer.retries,
            ),
            "tracker": quantum_task.tracker_fields(item),
        }

    def state(self, use_cached_value: bool = False) -> str:
        """CREATED, QUEUED, RUNNING, CANCELLING, COMPLETED, FAILED or CANCELLED (one API read). After
        `cancel()`, at least CANCELLING, before the tracker has recorded it."""
        return self._client.status_of(self._arn, str(self.item(use_cached_value)["status"]))

    def cancel(self) -> str:
        """Ask to cancel (only its submitter or an admin may); the new status, CANCELLING."""
        status = self._client.cancel(self._arn)
        self._item = None
        return status

    def wait(self, timeout: float | None = None, on_update: UpdateCallback | None = None) -> TaskUpdate:
        """Wait for the task's end, pushed over the live channel (no Braket call, no polling)."""
        return self._client.wait([self._arn], timeout, on_update)[self._arn]

    def result(
        self, timeout: float | None = None, *, sdk: bool | None = None, on_update: UpdateCallback | None = None
    ) -> Any:
        """Wait for the end (see `wait`), then read the result: a TaskResult (counts, measured qubits,
        probabilities, the presigned link; status and failure reason for a task that did not
        complete), or, with amazon-braket-sdk installed and `sdk` not False, the SDK's result
        object (GateModelQuantumTaskResult) built from results.json. Cached once read."""
        use_sdk = self._client.sdk_results if sdk is None else sdk
        if use_sdk not in self._results:
            if self._item is None or self._item.get("status") not in FINISHED:
                self.wait(timeout, on_update)
            self._results[use_sdk] = self._client.result(self._arn, sdk=use_sdk)
        return self._results[use_sdk]

    def __repr__(self) -> str:
        return f"TrackedTask('id/taskArn':'{self._arn}')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrackedTask) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self._arn)


def _request_id(headers: dict[str, str]) -> str | None:
    found = {name.lower(): value for name, value in headers.items()}
    return found.get("x-amzn-requestid") or found.get("apigw-requestid")

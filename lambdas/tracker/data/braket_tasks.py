"""Data access for Amazon Braket: GetQuantumTask in the task's own Region."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tracker.domain import ActionMetadata, Enrichment, TaskArn

ClientFactory = Callable[[str], Any]


CONNECT_TIMEOUT = 2
READ_TIMEOUT = 3
MAX_BACKOFF = 20  # botocore's standard retry mode waits at most this long (seconds) between attempts


def worst_case_seconds(max_attempts: int) -> float:
    """How long describe_end can take when Braket does not answer: every attempt times out."""
    backoff = sum(min(MAX_BACKOFF, 1 << attempt) for attempt in range(max_attempts - 1))
    return max_attempts * (CONNECT_TIMEOUT + READ_TIMEOUT) + backoff


class BraketUnavailable(Exception):
    """Braket did not answer GetQuantumTask, even after the client's retries with backoff."""


class _RegionalClients:
    """One Braket client per Region: a task is always asked about in its own Region."""

    def __init__(self, config: Config, client_factory: ClientFactory | None) -> None:
        self._factory = client_factory or (lambda region: boto3.client("braket", region_name=region, config=config))
        self._clients: dict[str, Any] = {}

    def client(self, region: str) -> Any:
        if region not in self._clients:
            self._clients[region] = self._factory(region)
        return self._clients[region]


class BraketTasks(_RegionalClients):
    def __init__(self, max_attempts: int, client_factory: ClientFactory | None = None) -> None:
        # Standard retry mode backs off exponentially with jitter on ThrottlingException and 5xx.
        config = Config(
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
        )
        super().__init__(config, client_factory)
        self.worst_case_seconds = worst_case_seconds(max_attempts)

    def describe_end(self, task: TaskArn) -> Enrichment:
        """What Braket knows about a finished task beyond its event."""
        try:
            response = self.client(task.region).get_quantum_task(quantumTaskArn=task.arn)
        except (ClientError, BotoCoreError) as exc:
            raise BraketUnavailable(str(exc)) from exc
        return enrichment_from(response)


MAX_TAGS = 50  # Braket's limit per resource
MAX_TAG_KEY, MAX_TAG_VALUE = 128, 256  # characters, Braket's limits
MAX_DETAIL_BYTES = 4_000
MAX_DEVICE_PARAMETERS_BYTES = 48_000
"""CreateQuantumTask takes deviceParameters of at most 48,000 characters; the SDK writes them as ASCII
JSON, so 48,000 bytes hold every one it makes. A larger answer is left out, never cut (it is JSON)."""
MAX_ASSOCIATIONS = 10  # CreateQuantumTask takes at most 1
MAX_COUNT = 2**53  # programCount, executableCount: any count a JSON reader holds exactly
ACTION_TYPE = re.compile(r"[A-Za-z0-9_.-]{1,128}")  # braket.ir.openqasm.program, braket.ir.ahs.program, ...
ASSOCIATION_ARN = re.compile(r"arn:aws[a-z-]{0,16}:braket:[a-z0-9-]{0,32}:[0-9]{12}:[A-Za-z0-9_./:-]{1,900}")
ASSOCIATION_TYPE = re.compile(r"[A-Z_]{1,64}")  # RESERVATION_TIME_WINDOW_ARN
QUEUE_INFO_KEYS = ("queue", "position", "queuePriority", "message")


def enrichment_from(response: dict[str, Any]) -> Enrichment:
    """Braket's details of a finished task, from a GetQuantumTask response, within Braket's own
    documented limits (a promoted tag's value becomes an index key): anything beyond them is left out."""
    raw_tags = response.get("tags")
    pairs = raw_tags.items() if isinstance(raw_tags, dict) else []
    tags = {
        key: value
        for key, value in pairs
        if isinstance(key, str) and isinstance(value, str) and 0 < len(key) <= MAX_TAG_KEY
        if len(value) <= MAX_TAG_VALUE
    }
    parameters = response.get("deviceParameters")
    return Enrichment(
        complete=True,
        failure_reason=_bounded(response.get("failureReason")),
        tags=dict(sorted(tags.items())[:MAX_TAGS]),
        num_successful_shots=_count(response.get("numSuccessfulShots")),
        job_arn=_bounded(response.get("jobArn")),
        device_parameters=parameters if _fits(parameters, MAX_DEVICE_PARAMETERS_BYTES) else None,
        action_metadata=_action_metadata(response.get("actionMetadata")),
        associations=_associations(response.get("associations")),
    )


def _bounded(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value.encode("utf-8", "replace")[:MAX_DETAIL_BYTES].decode("utf-8", "ignore")


def _fits(value: Any, limit: int) -> bool:
    return isinstance(value, str) and 0 < len(value.encode("utf-8", "replace")) <= limit


def _count(value: Any) -> int | None:
    """A non-negative integer (not a bool), as Braket's counts are; None otherwise."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < MAX_COUNT else None


def _action_metadata(value: Any) -> ActionMetadata | None:
    if not isinstance(value, dict):
        return None
    action_type = value.get("actionType")
    if not isinstance(action_type, str) or not ACTION_TYPE.fullmatch(action_type):
        return None
    return ActionMetadata(action_type, _count(value.get("programCount")), _count(value.get("executableCount")))


def _associations(value: Any) -> tuple[dict[str, str], ...]:
    """Braket Direct reservations the task ran in, as `{arn, type}`; an entry that is not a well-formed
    pair is left out, and a repeated one kept once."""
    entries = value if isinstance(value, list) else []
    found = {
        (entry["arn"], entry["type"]): None
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("arn"), str) and isinstance(entry.get("type"), str)
        if ASSOCIATION_ARN.fullmatch(entry["arn"]) and ASSOCIATION_TYPE.fullmatch(entry["type"])
    }
    return tuple({"arn": arn, "type": kind} for arn, kind in found)[:MAX_ASSOCIATIONS]


class BraketRefused(Exception):
    """Braket answered with a client error: `code` is its error code (ValidationException, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class BraketSubmissions(_RegionalClients):
    """CreateQuantumTask, CancelQuantumTask and the queue position, for the Task API.

    A short retry budget: API Gateway waits 29 s at most, and the caller can retry with the same
    Idempotency-Key. Throttling is passed on (429) rather than retried for long.
    """

    def __init__(self, client_factory: ClientFactory | None = None) -> None:
        config = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2, read_timeout=10)
        super().__init__(config, client_factory)

    def create(self, region: str, parameters: dict[str, Any]) -> str:
        answer = self._call(region, "create_quantum_task", **parameters)
        return str(answer["quantumTaskArn"])

    def cancel(self, task: TaskArn, client_token: str) -> str:
        answer = self._call(task.region, "cancel_quantum_task", quantumTaskArn=task.arn, clientToken=client_token)
        return str(answer["cancellationStatus"])

    def queue_info(self, task: TaskArn) -> dict[str, str]:
        """GetQuantumTask's queueInfo (queue, position, queuePriority, message): its string fields, bounded."""
        answer = self._call(
            task.region, "get_quantum_task", quantumTaskArn=task.arn, additionalAttributeNames=["QueueInfo"]
        )
        info = answer.get("queueInfo")
        pairs = info.items() if isinstance(info, dict) else []
        return {key: bounded for key, value in pairs if key in QUEUE_INFO_KEYS if (bounded := _bounded(value))}

    def _call(self, region: str, operation: str, **parameters: Any) -> Any:
        try:
            return getattr(self.client(region), operation)(**parameters)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
            if status >= 500:
                raise BraketUnavailable(str(exc)) from exc
            raise BraketRefused(error.get("Code", "Unknown"), error.get("Message", str(exc))) from exc
        except BotoCoreError as exc:
            raise BraketUnavailable(str(exc)) from exc

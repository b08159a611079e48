"""Data access for Amazon Braket: GetQuantumTask in the task's own Region."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tracker.domain import Enrichment, TaskArn

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
    shots = response.get("numSuccessfulShots")
    return Enrichment(
        complete=True,
        failure_reason=_bounded(response.get("failureReason")),
        tags=dict(sorted(tags.items())[:MAX_TAGS]),
        num_successful_shots=shots if isinstance(shots, int) and not isinstance(shots, bool) else None,
        job_arn=_bounded(response.get("jobArn")),
        associations=associations_from(response.get("associations")),
    )


MAX_ASSOCIATIONS = 10
_ASSOCIATION_ARN = re.compile(r"arn:aws[a-z-]{0,16}:braket:[a-z0-9-]{0,32}:[0-9]{12}:[A-Za-z0-9_./:-]{1,180}")
_ASSOCIATION_TYPE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


def associations_from(value: Any) -> tuple[dict[str, str], ...]:
    """GetQuantumTask's `associations` (a list of `{arn, type}`), within Braket's documented patterns;
    anything else is left out. At most MAX_ASSOCIATIONS (Braket documents no bound; a task has one
    reservation at most)."""
    if not isinstance(value, list):
        return ()
    found = []
    for entry in value:
        arn = entry.get("arn") if isinstance(entry, dict) else None
        kind = entry.get("type") if isinstance(entry, dict) else None
        if _matches(_ASSOCIATION_ARN, arn) and _matches(_ASSOCIATION_TYPE, kind):
            found.append({"arn": str(arn), "type": str(kind)})
    return tuple(found[:MAX_ASSOCIATIONS])


def _matches(pattern: re.Pattern[str], value: Any) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _bounded(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value.encode("utf-8", "replace")[:MAX_DETAIL_BYTES].decode("utf-8", "ignore")


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

    def queue_info(self, task: TaskArn) -> dict[str, Any]:
        answer = self._call(
            task.region, "get_quantum_task", quantumTaskArn=task.arn, additionalAttributeNames=["QueueInfo"]
        )
        return dict(answer.get("queueInfo") or {})

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

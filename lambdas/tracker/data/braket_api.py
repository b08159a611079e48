"""Data access for Amazon Braket's API as the reconciler and the backfill use it: GetQuantumTask and
SearchQuantumTasks in a task's own Region (from its ARN), paginated, under a request rate.

Braket's quota is per account and Region (GetQuantumTask 100 requests/s, SearchQuantumTasks 5/s),
so each Region has its own limiter, set well below it; the client's standard retry mode still
backs off on a ThrottlingException.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tracker.data.braket_tasks import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    BraketTasks,
    BraketUnavailable,
    enrichment_from,
)
from tracker.domain import Enrichment, TaskArn

SEARCH_PAGE_SIZE = 100  # the API's maximum
SEARCH_SHARE = 0.05
"""SearchQuantumTasks' quota is 5 % of GetQuantumTask's (5 vs 100 requests/s): its limiter runs at
that share of the configured rate, at least one request every 2 s."""


class TaskNotFound(Exception):
    """Braket does not know the task (in the Region of its ARN)."""


class RateLimiter:
    """A token bucket: at most `rate` acquisitions per second on average, bursts of at most `burst`."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"a request rate must be positive, not {rate}")
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
            self._tokens -= 1  # may go negative: the debt is what the wait pays back
            if wait > 0:
                self._sleep(wait)

    def try_acquire(self, max_wait: float) -> bool:
        """Acquire if that takes at most `max_wait` seconds (waiting for it); False, taking nothing, if longer."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
            if wait > max_wait:
                return False
            self._tokens -= 1
            if wait > 0:
                self._sleep(wait)
            return True


ClientFactory = Callable[[str], Any]


class BraketApi:
    def __init__(
        self,
        requests_per_second: float,
        max_attempts: int = 3,
        client_factory: ClientFactory | None = None,
        limiter_factory: Callable[[float], RateLimiter] = RateLimiter,
    ) -> None:
        config = Config(
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
        )
        self.requests_per_second = requests_per_second
        self._factory = client_factory or (lambda region: boto3.client("braket", region_name=region, config=config))
        self._limiter_factory = limiter_factory
        self._clients: dict[str, Any] = {}
        self._limits: dict[tuple[str, str], RateLimiter] = {}
        self._lock = threading.Lock()

    def client(self, region: str) -> Any:
        with self._lock:
            if region not in self._clients:
                self._clients[region] = self._factory(region)
            return self._clients[region]

    def _limit(self, region: str, operation: str) -> None:
        with self._lock:
            key = (region, operation)
            if key not in self._limits:
                rate = self.requests_per_second
                if operation == "search":
                    rate = max(rate * SEARCH_SHARE, 0.5)
                self._limits[key] = self._limiter_factory(rate)
            limiter = self._limits[key]
        limiter.acquire()

    def get_task(self, task: TaskArn) -> dict[str, Any]:
        """GetQuantumTask in the task's own Region. Raises TaskNotFound or BraketUnavailable."""
        self._limit(task.region, "get")
        try:
            response: dict[str, Any] = self.client(task.region).get_quantum_task(quantumTaskArn=task.arn)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise TaskNotFound(f"{task.arn} is not known to Braket in {task.region}") from exc
            raise BraketUnavailable(str(exc)) from exc
        except BotoCoreError as exc:
            raise BraketUnavailable(str(exc)) from exc
        return response

    def search(self, region: str, created_from: datetime, created_to: datetime | None = None) -> Iterator[list[Any]]:
        """Pages of task summaries created in [created_from, created_to] (to now if None)."""
        if created_to is None:
            filters = [{"name": "createdAt", "operator": "GTE", "values": [_rfc3339(created_from)]}]
        else:
            values = [_rfc3339(created_from), _rfc3339(created_to)]
            filters = [{"name": "createdAt", "operator": "BETWEEN", "values": values}]
        token: str | None = None
        while True:
            self._limit(region, "search")
            request: dict[str, Any] = {"filters": filters, "maxResults": SEARCH_PAGE_SIZE}
            if token:
                request["nextToken"] = token
            try:
                response = self.client(region).search_quantum_tasks(**request)
            except (ClientError, BotoCoreError) as exc:
                raise BraketUnavailable(f"SearchQuantumTasks in {region}: {exc}") from exc
            yield list(response.get("quantumTasks", []))
            token = response.get("nextToken")
            if not token:
                return


class ObservedTasks(BraketTasks):
    """The recorder's Braket access for observed statuses: a finished task's details come from the
    GetQuantumTask answer already at hand, or are asked for under the rate limit."""

    def __init__(self, api: BraketApi, max_attempts: int = 3) -> None:
        super().__init__(max_attempts, client_factory=api.client)
        self.api = api
        self._answers: dict[str, dict[str, Any]] = {}

    def remember(self, answer: dict[str, Any]) -> None:
        self._answers[str(answer["quantumTaskArn"])] = answer

    def forget(self, task_arn: str) -> None:
        self._answers.pop(task_arn, None)

    def describe_end(self, task: TaskArn) -> Enrichment:
        answer = self._answers.get(task.arn)
        if answer is None:
            try:
                answer = self.api.get_task(task)
            except TaskNotFound as exc:
                raise BraketUnavailable(str(exc)) from exc
        return enrichment_from(answer)


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")

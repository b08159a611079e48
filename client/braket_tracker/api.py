"""The Task API over signed HTTP: every request signed with SigV4 (service execute-api) through
botocore, error answers raised as typed exceptions, throttling and unavailability retried."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from braket_tracker import __version__
from braket_tracker.errors import ApiUnreachable, error_from_answer
from braket_tracker.settings import Endpoints, frozen_credentials
from braket_tracker.transport import HttpResponse, Transport

RETRIED_STATUSES = frozenset({429, 502, 503, 504})
USER_AGENT = f"braket-tracker-client/{__version__}"


@dataclass(frozen=True)
class ApiAnswer:
    """A successful answer: its JSON body, HTTP status and headers, and how many times it was retried."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    retries: int = 0


class TaskApi:
    def __init__(
        self,
        endpoints: Endpoints,
        session: Any,
        transport: Transport,
        *,
        timeout: float = 30,
        max_attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoints = endpoints
        self.session = session
        self.transport = transport
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.sleep = sleep

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """The answer's JSON body; an error answer raises its ApiError subclass."""
        return self.exchange(method, path, query=query, body=body, headers=headers).body

    def exchange(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> ApiAnswer:
        """As `request`, with the answer's status, headers and retries."""
        url = self.endpoints.api_url + path.lstrip("/")
        present = {name: value for name, value in sorted((query or {}).items()) if value is not None}
        if present:
            url += "?" + urlencode(present, quote_via=quote)
        data = None if body is None else json.dumps(body).encode()
        retry_unreachable = method == "GET" or "Idempotency-Key" in (headers or {})
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self._send(method, url, data, headers or {})
            except ApiUnreachable:
                if not retry_unreachable or attempt == self.max_attempts:
                    raise
                self.sleep(backoff(attempt))
                continue
            if response.status in RETRIED_STATUSES and attempt < self.max_attempts:
                self.sleep(backoff(attempt, retry_after(response)))
                continue
            return ApiAnswer(
                self._answer(response, self.endpoints.api_url), response.status, dict(response.headers), attempt - 1
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, url: str, data: bytes | None, headers: dict[str, str]) -> HttpResponse:
        all_headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **headers}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        request = AWSRequest(method=method, url=url, data=data or b"", headers=all_headers)
        SigV4Auth(frozen_credentials(self.session), "execute-api", self.endpoints.region).add_auth(request)
        return self.transport.send(method, url, dict(request.headers.items()), data, self.timeout)

    @staticmethod
    def _answer(response: HttpResponse, api_url: str | None = None) -> Any:
        try:
            body = json.loads(response.body) if response.body else None
        except ValueError:
            body = response.body.decode(errors="replace")
        if 200 <= response.status < 300:
            if body is not None and not isinstance(body, dict):
                raise error_from_answer(502, f"the API answered {response.status} without a JSON object")
            return body
        raise error_from_answer(response.status, body, api_url)


def task_path(id_or_arn: str) -> str:
    """`tasks/<id or URL-encoded ARN>`, as the API's routes take either."""
    if not id_or_arn or len(id_or_arn) > 512:
        raise ValueError(f"not a task id or ARN: {id_or_arn!r}")
    return "tasks/" + quote(id_or_arn, safe="")


def backoff(attempt: int, floor: float = 0.0, base: float = 0.5, cap: float = 10.0) -> float:
    """Exponential backoff with full jitter over the upper half: 0.25-0.5 s, 0.5-1 s, 1-2 s ... capped."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return max(floor, random.uniform(ceiling / 2, ceiling))


def retry_after(response: HttpResponse) -> float:
    value = {k.lower(): v for k, v in response.headers.items()}.get("retry-after", "")
    try:
        return min(30.0, max(0.0, float(value)))
    except ValueError:
        return 0.0

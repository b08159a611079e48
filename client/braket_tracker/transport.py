"""HTTP, as one small interface: the client signs requests, a transport sends them.

`UrllibTransport` is the real one (stdlib, TLS verified); tests pass a fake with the same `send`.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Protocol

from braket_tracker.errors import ApiUnreachable


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class Transport(Protocol):
    def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float
    ) -> HttpResponse: ...


class UrllibTransport:
    """Sends a request and returns any HTTP answer (errors included); raises ApiUnreachable otherwise."""

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> HttpResponse:
        if not url.startswith(("https://", "http://")):
            raise ApiUnreachable(f"not an http(s) URL: {url}")
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return HttpResponse(response.status, response.read(), dict(response.headers.items()))
        except urllib.error.HTTPError as error:
            return HttpResponse(error.code, error.read(), dict(error.headers.items()))
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ApiUnreachable(f"{method} {url.split('?', maxsplit=1)[0]} did not answer: {reason}") from error

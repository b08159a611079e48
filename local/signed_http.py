"""SigV4-signed HTTP requests to an API Gateway (or the local runner's) endpoint, as any IAM client sends them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any

    def __getitem__(self, key: str) -> Any:
        return self.body[key]


@dataclass
class SignedApi:
    base_url: str  # http://127.0.0.1:PORT/v1/ or https://ID.execute-api.REGION.amazonaws.com/v1/
    region: str
    access_key: str
    secret_key: str
    token: str | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        raw: bytes | None = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        sign: bool = True,
    ) -> Answer:
        url = self.base_url.rstrip("/") + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None}, quote_via=quote)
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if sign:
            request = AWSRequest(method=method, url=url, data=data or b"", headers=all_headers)
            credentials = Credentials(self.access_key, self.secret_key, self.token)
            SigV4Auth(credentials, "execute-api", self.region).add_auth(request)
            all_headers = dict(request.headers.items())
        http = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(http, timeout=30) as response:
                return Answer(response.status, dict(response.headers.items()), _json(response.read()))
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers.items()), _json(error.read()))


def _json(data: bytes) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError:
        return data.decode(errors="replace")

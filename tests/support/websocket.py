"""A SigV4-signed WebSocket connection to an IAM-authorized API Gateway WebSocket API (or local mode's).

API Gateway authorizes `$connect` like any execute-api request: the opening GET is signed with SigV4
for service `execute-api` (the URL with https:// for wss:// and http:// for ws://), and the signature
headers travel with the handshake. The client of the tracker does the same.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from websockets.sync.client import ClientConnection, connect

MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway's message limit


def signed_headers(url: str, credentials: Credentials, region: str) -> dict[str, str]:
    """The SigV4 headers (Authorization, X-Amz-Date, X-Amz-Security-Token) for the handshake of `url`."""
    http_url = "https" + url.removeprefix("wss") if url.startswith("wss://") else "http" + url.removeprefix("ws")
    request = AWSRequest(method="GET", url=http_url)
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return {name: value for name, value in request.headers.items() if name.lower() != "host"}


def connect_signed(
    url: str, credentials: Credentials, region: str, *, open_timeout: float = 30, **kwargs: Any
) -> ClientConnection:
    """A WebSocket connection whose handshake is signed: `with connect_signed(...) as connection:`.

    Raises websockets' InvalidStatus (e.g. 403) if the server refuses it.
    """
    return connect(
        url,
        additional_headers=signed_headers(url, credentials, region),
        open_timeout=open_timeout,
        max_size=MAX_MESSAGE_BYTES,
        **kwargs,
    )


def receive_json(connection: ClientConnection, timeout: float | None = 30) -> dict[str, Any]:
    message = connection.recv(timeout=timeout)
    document: dict[str, Any] = json.loads(message)
    return document

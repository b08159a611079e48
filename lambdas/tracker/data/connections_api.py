"""Data access for API Gateway's @connections management API: sending to one WebSocket connection."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError


class PostFailed(Exception):
    """API Gateway did not take the message (throttling, an outage): worth a retry."""


class ConnectionsApi:
    def __init__(self, endpoint: str, client: Any | None = None, pool_size: int = 10) -> None:
        self.endpoint = endpoint
        # Short timeouts: a slow post fails and is retried rather than using up the invocation.
        config = Config(
            retries={"mode": "standard", "total_max_attempts": 3},
            connect_timeout=2,
            read_timeout=5,
            max_pool_connections=pool_size,
        )
        self._config = config
        # Made on the first post: most status changes reach no connection, and a client costs about
        # as much cold start as the rest of the pusher's init (bench/results/cold-start.md).
        self._client_made: Any | None = client
        self._lock = threading.Lock()

    @property
    def _client(self) -> Any:
        if self._client_made is None:
            with self._lock:  # the pusher posts from several threads
                if self._client_made is None:
                    self._client_made = boto3.client(
                        "apigatewaymanagementapi", endpoint_url=self.endpoint, config=self._config
                    )
        return self._client_made

    def post(self, connection_id: str, data: str) -> bool:
        """Send `data` to the connection. False if it is gone (410): the caller forgets it."""
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data.encode())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "GoneException":
                return False
            raise PostFailed(f"{connection_id}: {exc}") from exc
        except BotoCoreError as exc:
            raise PostFailed(f"{connection_id}: {exc}") from exc
        return True

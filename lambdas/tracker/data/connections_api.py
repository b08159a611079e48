"""Data access for API Gateway's @connections management API: sending to one WebSocket connection."""

from __future__ import annotations

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
        self._client = client or boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, config=config)

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

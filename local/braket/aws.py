"""boto3 clients for the emulated AWS services (moto): S3 for results, EventBridge for events."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

# Fake credentials: these clients only ever talk to the emulator, whatever the environment holds.
_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2, read_timeout=10)


class AwsClients:
    """One client per service and Region, created on first use (boto3 clients are thread-safe)."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self._session: Any = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        with self._lock:
            key = (service, region)
            if key not in self._clients:
                self._clients[key] = self._session.client(
                    service, region_name=region, endpoint_url=self.endpoint_url, config=_CONFIG
                )
            return self._clients[key]

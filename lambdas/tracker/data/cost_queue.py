"""Data access for the cost queue: the notifier hands the cost keeper the tasks whose cost may have
changed (one message each: `{"taskArn": ...}`), the keeper reads them (SQS, at least once)."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError


class QueueUnavailable(Exception):
    """SQS did not take the message: worth a retry."""


class CostQueue:
    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self.queue_url = queue_url
        config = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2, read_timeout=5)
        self._client = client or boto3.client("sqs", config=config)

    def send(self, task_arn: str) -> None:
        try:
            self._client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({"taskArn": task_arn}))
        except (ClientError, BotoCoreError) as exc:
            raise QueueUnavailable(str(exc)) from exc


def task_of(body: str) -> str:
    """The task ARN a cost queue message names. Raises ValueError for anything else."""
    document = json.loads(body)
    arn = document.get("taskArn") if isinstance(document, dict) else None
    if not isinstance(arn, str) or not arn:
        raise ValueError('a cost queue message is {"taskArn": ...}')
    return arn

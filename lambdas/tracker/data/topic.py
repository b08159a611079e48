"""Data access for the notification topic (SNS)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tracker.logic.notification import Notification


class PublishFailed(Exception):
    """SNS did not take the message: worth a retry."""


class NotificationTopic:
    def __init__(self, topic_arn: str, client: Any | None = None) -> None:
        self.topic_arn = topic_arn
        # Well under the notifier's timeout, so a slow publish fails and is retried, not timed out.
        config = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=3, read_timeout=5)
        self._client = client or boto3.client("sns", config=config)

    def publish(self, notification: Notification) -> str:
        try:
            response = self._client.publish(
                TopicArn=self.topic_arn,
                Subject=notification.subject,
                Message=notification.message(),
                MessageStructure="json",
                MessageAttributes=notification.attributes,
            )
        except (ClientError, BotoCoreError) as exc:
            raise PublishFailed(str(exc)) from exc
        return str(response["MessageId"])

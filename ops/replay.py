"""Replay: move the events parked in the dead-letter queues (the home one, and each forwarder's)
back into the capture queue, once the cause is fixed. The recorder takes them like new ones:
redelivery is harmless, so a message sent twice (a crash between send and delete) changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

RECEIVE_BATCH = 10
VISIBILITY_SECONDS = 120  # a message that could not be moved comes back after this


@dataclass
class Moved:
    queue: str
    moved: int = 0
    failed: int = 0


def queue_region(queue_url: str, default: str) -> str:
    """`https://sqs.eu-north-1.amazonaws.com/...`: the queue's Region (local endpoints carry none)."""
    host = queue_url.split("/")[2]
    parts = host.split(".")
    return parts[1] if len(parts) > 3 and parts[0] == "sqs" else default


class Replay:
    def __init__(self, client_for: Callable[[str], Any], report: Callable[[str], None] = print) -> None:
        self._client_for = client_for
        self.report = report

    @classmethod
    def with_boto3(cls, report: Callable[[str], None] = print) -> Replay:
        return cls(lambda region: boto3.client("sqs", region_name=region), report)

    def redrive(self, source_url: str, source_region: str, target_url: str, target_region: str) -> Moved:
        """Move every message of `source_url` to `target_url`: send first, then delete what was sent."""
        source, target = self._client_for(source_region), self._client_for(target_region)
        result = Moved(source_url)
        while True:
            messages = source.receive_message(
                QueueUrl=source_url,
                MaxNumberOfMessages=RECEIVE_BATCH,
                VisibilityTimeout=VISIBILITY_SECONDS,
                WaitTimeSeconds=1,
            ).get("Messages", [])
            if not messages:
                return result
            sent = target.send_message_batch(
                QueueUrl=target_url,
                Entries=[{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)],
            )
            done = {entry["Id"] for entry in sent.get("Successful", [])}
            for failure in sent.get("Failed", []):
                self.report(f"  not moved ({failure.get('Code')}): {failure.get('Message')}; it stays parked")
            handles = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages) if str(i) in done
            ]
            if handles:
                source.delete_message_batch(QueueUrl=source_url, Entries=handles)
            result.moved += len(handles)
            result.failed += len(messages) - len(handles)
            self.report(f"  {source_url}: {result.moved} moved")
            if len(handles) < len(messages):
                return result  # the rest comes back after the visibility timeout: run again then

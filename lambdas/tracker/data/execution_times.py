"""Data access for a simulator task's execution duration: the tail of its results.json in S3.

One ranged GetObject of the last 16 KiB answers for a results.json of any size (the duration is at
its end: logic.execution_time); only a document whose tail does not hold it is read whole, up to
16 MiB. The bucket must belong to the task's account (ExpectedBucketOwner).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tracker.data.results_store import ResultsDenied, ResultsMissing, ResultsTooLarge, ResultsUnavailable
from tracker.logic import execution_time

TAIL_BYTES = 16 * 1024
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
_CONTENT_RANGE = re.compile(r"bytes \d+-\d+/(\d+)")

__all__ = ["ExecutionTimes", "ResultsDenied", "ResultsMissing", "ResultsTooLarge", "ResultsUnavailable"]


class ExecutionTimes:
    def __init__(self, client_factory: Callable[[str], Any] | None = None) -> None:
        config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
        self._factory = client_factory or (lambda region: boto3.client("s3", region_name=region, config=config))
        self._clients: dict[str, Any] = {}

    def _client(self, region: str) -> Any:
        if region not in self._clients:
            self._clients[region] = self._factory(region)
        return self._clients[region]

    def read(self, region: str, bucket: str, key: str, owner: str) -> int | None:
        """The simulator's executionDuration (ms) in s3://bucket/key, or None if the document has none.

        Raises ResultsMissing (no such object), ResultsDenied (not readable), ResultsTooLarge (a
        document whose tail lacks it and that is too large to read whole) or ResultsUnavailable."""
        tail, size = self._get(region, bucket, key, owner, f"bytes=-{TAIL_BYTES}")
        found = execution_time.from_tail(tail)
        if found is not None or size <= len(tail):
            return found
        if size > MAX_DOCUMENT_BYTES:
            raise ResultsTooLarge(f"s3://{bucket}/{key} is {size:,} bytes, and its end has no executionDuration")
        whole, _ = self._get(region, bucket, key, owner, None)
        try:
            return execution_time.from_document(json.loads(whole))
        except ValueError:
            return None

    def _get(self, region: str, bucket: str, key: str, owner: str, byte_range: str | None) -> tuple[bytes, int]:
        request = {"Bucket": bucket, "Key": key, "ExpectedBucketOwner": owner}
        if byte_range:
            request["Range"] = byte_range
        try:
            answer = self._client(region).get_object(**request)
            body: bytes = answer["Body"].read()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                raise ResultsMissing(f"s3://{bucket}/{key} does not exist") from exc
            if code in ("AccessDenied", "403", "NoSuchBucket", "AllAccessDisabled"):
                raise ResultsDenied(f"s3://{bucket}/{key}: {code}") from exc
            if code == "InvalidRange":  # an empty object
                return b"", 0
            raise ResultsUnavailable(str(exc)) from exc
        except BotoCoreError as exc:
            raise ResultsUnavailable(f"s3://{bucket}/{key}: {exc}") from exc
        match = _CONTENT_RANGE.fullmatch(str(answer.get("ContentRange") or ""))
        return body, int(match.group(1)) if match else len(body)

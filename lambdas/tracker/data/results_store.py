"""Data access for results in S3: read results.json, and presign a short-lived link to it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

MAX_RESULT_BYTES = 64 * 1024 * 1024
"""results.json larger than this is only linked, never read into the function's memory."""


class ResultsMissing(Exception):
    """There is no results.json at the task's location (deleted, or never written)."""


class ResultsDenied(Exception):
    """S3 refused to read the object (the bucket is not ours, or not shared with us)."""


class ResultsUnavailable(Exception):
    """S3 failed or timed out."""


class ResultsTooLarge(Exception):
    pass


class ResultsStore:
    def __init__(self, client_factory: Callable[[str], Any] | None = None) -> None:
        config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=10)
        self._factory = client_factory or (
            lambda region: boto3.client("s3", region_name=region, config=config.merge(Config(signature_version="s3v4")))
        )
        self._clients: dict[str, Any] = {}

    def _client(self, region: str) -> Any:
        if region not in self._clients:
            self._clients[region] = self._factory(region)
        return self._clients[region]

    def read_json(self, region: str, bucket: str, key: str, owner: str) -> Any:
        """The parsed document, from a bucket that `owner` (an account id) must own; ValueError if not JSON."""
        return json.loads(self._read(region, bucket, key, owner))

    def _read(self, region: str, bucket: str, key: str, owner: str) -> bytes:
        try:
            answer = self._client(region).get_object(Bucket=bucket, Key=key, ExpectedBucketOwner=owner)
            if answer.get("ContentLength", 0) > MAX_RESULT_BYTES:
                answer["Body"].close()
                raise ResultsTooLarge(f"s3://{bucket}/{key} is {answer['ContentLength']:,} bytes")
            body: bytes = answer["Body"].read()
            return body
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                raise ResultsMissing(f"s3://{bucket}/{key} does not exist") from exc
            if code in ("AccessDenied", "403", "NoSuchBucket", "AllAccessDisabled"):
                raise ResultsDenied(f"s3://{bucket}/{key}: {code}") from exc
            raise ResultsUnavailable(str(exc)) from exc
        except BotoCoreError as exc:
            raise ResultsUnavailable(f"s3://{bucket}/{key}: {exc}") from exc

    def presign(self, region: str, bucket: str, key: str, seconds: int) -> str:
        url: str = self._client(region).generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds
        )
        return url

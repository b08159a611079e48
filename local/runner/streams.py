"""DynamoDB stream event source mappings: read a table's stream (dynamodbstreams API on moto) and
invoke the function with batches of records, as Lambda does.

Per shard, in order: records filtered by FilterCriteria (non-matching records are dropped as
processed), batched by BatchSize and MaximumBatchingWindowInSeconds. A failing batch blocks its
shard and is retried; BisectBatchOnFunctionError splits it in two first (a split does not consume
the retry quota); after MaximumRetryAttempts retries (-1: forever) the batch is discarded and, with
DestinationConfig.OnFailure, a record of it is sent to the SQS queue or SNS topic. With
ReportBatchItemFailures, processing resumes from the lowest reported sequence number.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.runner.deployed import Destination
from local.runner.functions import Invocation, LocalFunction
from local.runner.patterns import FilterCriteria
from local.runner.template import MappingSpec

logger = logging.getLogger("local.runner")

POLL_INTERVAL = 0.25
"""Lambda polls each shard at a base rate of 4 times a second, and invokes as soon as records are
there (batching window 0): https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html. Copied, not
shortened: a record waits up to this long here as in AWS, and the interval runs from the previous read,
so reading and invoking do not stretch it."""
RECORD_KEYS = ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion")


StreamObserver = Callable[[str, list[dict[str, Any]], float], None]
"""Told of each read that returned records (after filtering): the mapping's logical id, the records
(Lambda's shape) and when they were read (epoch seconds). Benchmarks time the stream hop with it."""


@dataclass(frozen=True)
class StreamSource:
    arn: str
    region: str


def lambda_record(raw: dict[str, Any], source: StreamSource) -> dict[str, Any]:
    """A record from GetRecords (as botocore parses it) as a record of Lambda's DynamoDB event."""
    record = {key: raw[key] for key in RECORD_KEYS if key in raw}
    record["awsRegion"] = source.region
    change = dict(raw["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, dt.datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    for key in ("Keys", "NewImage", "OldImage"):
        if key in change:
            change[key] = _json_attributes(change[key])
    record["dynamodb"] = change
    if "userIdentity" in raw:
        record["userIdentity"] = raw["userIdentity"]
    record["eventSourceARN"] = source.arn
    return record


def _json_attributes(value: Any) -> Any:
    """DynamoDB JSON as Lambda sends it: binary values base64-encoded."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _json_attributes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_attributes(v) for v in value]
    return value


def failure_record(
    batch: list[dict[str, Any]], invocation: Invocation, *, attempts: int, shard_id: str, source: StreamSource, arn: str
) -> dict[str, Any]:
    """The invocation record Lambda sends to an on-failure destination (metadata, not the records)."""

    def arrival(record: dict[str, Any]) -> str:
        created = record["dynamodb"].get("ApproximateCreationDateTime", 0)
        return dt.datetime.fromtimestamp(created, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    now = dt.datetime.now(dt.UTC)
    return {
        "requestContext": {
            "requestId": invocation.request_id,
            "functionArn": arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": attempts,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled" if invocation.error else "",
        },
        "version": "1.0",
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": arrival(batch[0]),
            "approximateArrivalOfLastRecord": arrival(batch[-1]),
            "batchSize": len(batch),
            "streamArn": source.arn,
        },
    }


def reported_failure(invocation: Invocation, batch: list[dict[str, Any]]) -> int | None:
    """With ReportBatchItemFailures: the index to resume from, len(batch) for success, None for a malformed
    response (the whole batch failed)."""
    response = invocation.payload
    if response is None or response == {}:
        return len(batch)
    failures = response.get("batchItemFailures") if isinstance(response, dict) else "malformed"
    if not failures:
        return len(batch)
    sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in batch]
    ids = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
    if not isinstance(failures, list) or any(i not in sequence_numbers for i in ids):
        return None
    return min(sequence_numbers.index(str(i)) for i in ids)


class StreamPoller:
    def __init__(
        self,
        spec: MappingSpec,
        function: LocalFunction,
        *,
        source: StreamSource,
        streams: Any,
        destination: Destination | None,
        clients: dict[str, Any],
    ) -> None:
        self.spec = spec
        self.function = function
        self.source = source
        self.streams = streams
        self.destination = destination
        self.clients = clients
        self.filters = FilterCriteria(spec.filters)
        self.observer: StreamObserver | None = None
        self._stop = threading.Event()
        self._iterators: dict[str, str] = {}
        self._thread = threading.Thread(target=self._poll, name=f"stream-{spec.logical_id}", daemon=True)

    def start(self) -> None:
        """Position on every shard now (LATEST means from this moment), then poll in the background."""
        stream = self.streams.describe_stream(StreamArn=self.source.arn)["StreamDescription"]
        for shard in stream["Shards"]:
            self._iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                StreamArn=self.source.arn, ShardId=shard["ShardId"], ShardIteratorType=self.spec.starting_position
            )["ShardIterator"]
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self) -> None:
        self._thread.join()

    def _poll(self) -> None:
        pending: dict[str, list[dict[str, Any]]] = {shard: [] for shard in self._iterators}
        first_seen: dict[str, float] = {}
        while not self._stop.is_set():
            polled = time.monotonic()
            for shard_id in list(self._iterators):
                try:
                    fresh = self._read(shard_id)
                except Exception:
                    logger.exception("%s: reading %s failed", self.spec.logical_id, self.source.arn)
                    fresh = []
                if fresh and self.observer is not None:
                    self.observer(self.spec.logical_id, fresh, time.time())
                if fresh and not pending[shard_id]:
                    first_seen[shard_id] = time.monotonic()
                pending[shard_id] += fresh
                window_over = time.monotonic() - first_seen.get(shard_id, 0) >= self.spec.batching_window
                while pending[shard_id] and (window_over or len(pending[shard_id]) >= self.spec.batch_size):
                    batch = pending[shard_id][: self.spec.batch_size]
                    del pending[shard_id][: self.spec.batch_size]
                    try:
                        self._deliver(batch, shard_id, 0)
                    except Exception:
                        if self._stop.is_set():
                            return  # the function was stopped under an invocation: the runner is stopping
                        logger.exception("%s: delivering a batch failed", self.spec.logical_id)
                    if self._stop.is_set():
                        return
            self._stop.wait(max(0.0, POLL_INTERVAL - (time.monotonic() - polled)))

    def _read(self, shard_id: str) -> list[dict[str, Any]]:
        answer = self.streams.get_records(ShardIterator=self._iterators[shard_id], Limit=1000)
        self._iterators[shard_id] = answer["NextShardIterator"]
        records = [lambda_record(raw, self.source) for raw in answer.get("Records", [])]
        return [r for r in records if self.filters.matches(r)]

    def _deliver(self, batch: list[dict[str, Any]], shard_id: str, retries: int) -> None:
        """Invoke until the batch succeeds, is split, or is given up on."""
        attempts = 0
        while batch and not self._stop.is_set():
            invocation = self.function.invoke({"Records": batch})
            attempts += 1
            resume = len(batch) if invocation.ok else 0
            if invocation.ok and self.spec.report_batch_item_failures:
                resume = reported_failure(invocation, batch) or 0
            if resume >= len(batch):
                return
            if not invocation.ok and self.spec.bisect and len(batch) > 1:
                half = len(batch) // 2
                self._deliver(batch[:half], shard_id, retries)
                self._deliver(batch[half:], shard_id, retries)
                return
            if 0 <= self.spec.max_retries <= retries:
                self._give_up(batch[resume:], invocation, attempts, shard_id)
                return
            batch = batch[resume:]
            retries += 1
            self._stop.wait(min(1.0, 0.1 * retries))

    def _give_up(self, batch: list[dict[str, Any]], invocation: Invocation, attempts: int, shard_id: str) -> None:
        logger.warning("%s: discarding %d record(s) after retries", self.spec.logical_id, len(batch))
        if self.destination is None:
            return
        body = json.dumps(
            failure_record(
                batch,
                invocation,
                attempts=attempts,
                shard_id=shard_id,
                source=self.source,
                arn=self.function.config.arn,
            )
        )
        if self.destination.kind == "sqs":
            self.clients["sqs"].send_message(QueueUrl=self.destination.target, MessageBody=body)
        else:
            self.clients["sns"].publish(TopicArn=self.destination.target, Message=body)

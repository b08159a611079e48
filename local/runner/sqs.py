"""SQS event source mappings: poll a queue, invoke the function with batches, settle the messages.

As Lambda's SQS poller does: long polling; batches of up to BatchSize messages gathered for up to
MaximumBatchingWindowInSeconds; at most ScalingConfig.MaximumConcurrency batches in flight; the
exact Lambda SQS event; filtered-out messages deleted; with ReportBatchItemFailures the successful
messages deleted and the reported ones left; on a function error or timeout the whole batch left.
Left messages come back when their visibility timeout expires, and SQS itself (moto applies the
queue's RedrivePolicy on receive) moves a message to the dead-letter queue after maxReceiveCount.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from local.faults import FaultPlan
from local.runner.functions import Invocation, LocalFunction
from local.runner.patterns import FilterCriteria
from local.runner.template import MappingSpec

logger = logging.getLogger("local.runner")

LONG_POLL_SECONDS = 1
"""Lambda's SQS pollers long-poll the queue; a long poll returns as soon as a message arrives
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html), and moto's does too (it waits on
the queue's condition, not a timer). So this adds nothing to a message's wait: it only bounds how long
stopping takes. A batching window (MaximumBatchingWindowInSeconds) is the template's, applied as given."""
DEFAULT_MAX_CONCURRENCY = 5  # without ScalingConfig (Lambda scales further; locally this is plenty)
RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
)


@dataclass(frozen=True)
class QueueSource:
    url: str
    arn: str
    region: str


def lambda_record(message: dict[str, Any], source: QueueSource) -> dict[str, Any]:
    """A received message as a record of Lambda's SQS event."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {name: attributes[name] for name in RECORD_ATTRIBUTES if name in attributes},
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": source.arn,
        "awsRegion": source.region,
    }


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    attribute["stringListValues"] = value.get("StringListValues", [])
    attribute["binaryListValues"] = [base64.b64encode(v).decode() for v in value.get("BinaryListValues", [])]
    attribute["dataType"] = value["DataType"]
    return attribute


def failed_message_ids(invocation: Invocation, batch_ids: list[str], report_item_failures: bool) -> set[str]:
    """The messages to leave on the queue after an invocation, by Lambda's rules for partial batch responses:
    an empty or null response (or list) is complete success; a malformed one, or an itemIdentifier that is
    empty, null or not in the batch, fails the whole batch."""
    if not invocation.ok:
        return set(batch_ids)
    response = invocation.payload
    if not report_item_failures or response is None or response == {}:
        return set()
    failures = response.get("batchItemFailures") if isinstance(response, dict) else "malformed"
    if not failures:
        return set()
    ids = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
    if not isinstance(failures, list) or any(not isinstance(i, str) or i not in batch_ids for i in ids):
        return set(batch_ids)
    return {str(i) for i in ids}


class SqsPoller:
    """One SQS event source mapping.

    `retry_visibility_seconds` is the one place the runner shortens AWS timing: a message left on the
    queue after a failure would come back after the queue's visibility timeout (360 s for the capture
    queue); the poller sets that message's visibility to this many whole seconds instead
    (ChangeMessageVisibility). None keeps AWS timing.
    """

    def __init__(
        self,
        spec: MappingSpec,
        function: LocalFunction,
        *,
        source: QueueSource,
        sqs: Any,
        faults: FaultPlan,
        retry_visibility_seconds: int | None,
    ) -> None:
        self.spec = spec
        self.function = function
        self.source = source
        self.sqs = sqs
        self.faults = faults
        self.retry_visibility = retry_visibility_seconds
        self.filters = FilterCriteria(spec.filters)
        self.concurrency = int(spec.max_concurrency or DEFAULT_MAX_CONCURRENCY)
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix=f"sqs-{spec.logical_id}")
        self._thread = threading.Thread(target=self._poll, name=f"sqs-{spec.logical_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop polling (in-flight batches finish; join() waits for them)."""
        self._stop.set()

    def join(self) -> None:
        self._thread.join()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=0.2):
                continue
            try:
                batch = self._collect()
            except Exception:
                logger.exception("%s: receiving from %s failed", self.spec.logical_id, self.source.url)
                batch = []
                self._stop.wait(1)
            if not batch:
                self._slots.release()
                continue
            self._pool.submit(self._settle, batch)

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(
            QueueUrl=self.source.url,
            MaxNumberOfMessages=max(1, min(10, count)),
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(answer.get("Messages", []))

    def _collect(self) -> list[dict[str, Any]]:
        """A batch: up to BatchSize messages, gathered for up to the batching window after the first."""
        batch = self._receive(self.spec.batch_size, LONG_POLL_SECONDS)
        if not batch:
            return []
        deadline = time.monotonic() + self.spec.batching_window
        while len(batch) < self.spec.batch_size and not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            batch += self._receive(self.spec.batch_size - len(batch), 1 if left >= 1 else 0)
            if left < 1:
                self._stop.wait(min(left, 0.1))
        return batch

    def _settle(self, messages: list[dict[str, Any]]) -> None:
        try:
            self._invoke_and_settle(messages)
        except Exception:
            logger.exception("%s: a batch failed to settle", self.spec.logical_id)
        finally:
            self._slots.release()

    def _invoke_and_settle(self, messages: list[dict[str, Any]]) -> None:
        records = [lambda_record(m, self.source) for m in messages]
        handles = {m["MessageId"]: m["ReceiptHandle"] for m in messages}
        if self.filters:
            dropped = [r for r in records if not self.filters.matches_sqs(r)]
            self._delete([r["messageId"] for r in dropped], handles)  # Lambda deletes filtered-out messages
            records = [r for r in records if self.filters.matches_sqs(r)]
            if not records:
                return
        invocation = self.function.invoke({"Records": records})
        ids = [r["messageId"] for r in records]
        failed = failed_message_ids(invocation, ids, self.spec.report_batch_item_failures)
        if invocation.error:
            logger.info("%s: invocation failed (%s)", self.spec.logical_id, invocation.error.get("errorType"))
        done = [i for i in ids if i not in failed]
        redeliver = [i for i in done if self.faults.happens(self.faults.redeliver_message)]
        self._delete([i for i in done if i not in redeliver], handles)
        self._change_visibility(redeliver, handles, 0)  # fault mode: a true redelivery of the same message
        if self.retry_visibility is not None:
            self._change_visibility([i for i in ids if i in failed], handles, self.retry_visibility)

    def _delete(self, ids: list[str], handles: dict[str, str]) -> None:
        for start in range(0, len(ids), 10):
            entries = [{"Id": str(n), "ReceiptHandle": handles[i]} for n, i in enumerate(ids[start : start + 10])]
            self.sqs.delete_message_batch(QueueUrl=self.source.url, Entries=entries)

    def _change_visibility(self, ids: list[str], handles: dict[str, str], seconds: int) -> None:
        for start in range(0, len(ids), 10):
            entries = [
                {"Id": str(n), "ReceiptHandle": handles[i], "VisibilityTimeout": seconds}
                for n, i in enumerate(ids[start : start + 10])
            ]
            self.sqs.change_message_visibility_batch(QueueUrl=self.source.url, Entries=entries)

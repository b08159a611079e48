"""Capture: every Braket task (and hybrid job) state change on the default bus lands in an encrypted queue."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambdas.tracker.constants import BRAKET_EVENT_SOURCE, JOB_STATE_CHANGE, TASK_STATE_CHANGE

MAX_RECEIVE_COUNT = 5
"""Deliveries of a message before it is parked in the dead-letter queue (transient failures only:
events that can never be recorded go to the rejected-events table instead)."""


def encrypted_queue(scope: Construct, construct_id: str, **props: Any) -> sqs.Queue:
    """A queue encrypted with SSE-SQS (EventBridge can deliver to it), TLS only, kept 14 days."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
        **props,
    )


class EventCapture(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, consumer_timeout: Duration) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = encrypted_queue(self, "DeadLetterQueue")
        self.queue = encrypted_queue(
            self,
            "Queue",
            # AWS recommends at least six times the consumer's timeout for Lambda event sources.
            visibility_timeout=Duration.seconds(consumer_timeout.to_seconds() * 6),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letter_queue, max_receive_count=MAX_RECEIVE_COUNT),
        )
        self.rule = events.Rule(
            self,
            "TaskStateChangeRule",
            description="Every Amazon Braket task and hybrid job state change, whoever submitted it",
            event_pattern=events.EventPattern(
                source=[BRAKET_EVENT_SOURCE], detail_type=[TASK_STATE_CHANGE, JOB_STATE_CHANGE]
            ),
        )
        # The target adds a queue policy that admits events.amazonaws.com for this rule only.
        # Events EventBridge cannot deliver after its retries are parked in the same dead-letter
        # queue, with the same body as a redriven message (the event's JSON).
        self.rule.add_target(
            targets.SqsQueue(
                self.queue,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=185,
                max_event_age=Duration.hours(24),
            )
        )

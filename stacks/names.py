"""Names the operator commands (`ops/`) share with the stacks; importing this loads no CDK."""

from __future__ import annotations

OUTPUT_FORWARDER_DEAD_LETTER_QUEUE = "ForwarderDeadLetterQueueUrl"
OUTPUT_FORWARDER_ALARM_TOPIC = "ForwarderAlarmTopicArn"
OUTPUT_RECONCILER_STATE_TABLE = "ReconcilerStateTableName"
OUTPUT_JOB_TABLE = "JobTableName"
OUTPUT_JOB_TABLE_STREAM = "JobTableStreamArn"


def forwarder_stack_name(home_stack_name: str, region: str) -> str:
    return f"{home_stack_name}-Forwarder-{region}"

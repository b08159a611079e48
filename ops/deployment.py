"""The deployed tracker as the operator commands find it: the stack outputs, by stack name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from stacks.names import (
    OUTPUT_FORWARDER_DEAD_LETTER_QUEUE,
    OUTPUT_JOB_TABLE,
    OUTPUT_RECONCILER_STATE_TABLE,
    forwarder_stack_name,
)
from tracker.constants import BRAKET_REGIONS

# The home stack's outputs (stacks/tracker_stack.py names them).
OUTPUT_TASK_TABLE = "TaskTableName"
OUTPUT_EVENT_QUEUE = "EventQueueUrl"
OUTPUT_DEAD_LETTER_QUEUE = "DeadLetterQueueUrl"
OUTPUT_STATE_TABLE = OUTPUT_RECONCILER_STATE_TABLE
OUTPUT_JOBS = OUTPUT_JOB_TABLE


class DeploymentError(RuntimeError):
    """The stack is not there, or lacks an output: a clear message for the operator."""


@dataclass(frozen=True)
class Deployment:
    stack_name: str
    region: str
    outputs: dict[str, str]

    @classmethod
    def find(cls, stack_name: str, region: str | None = None) -> Deployment:
        region = region or boto3.session.Session().region_name
        if not region:
            raise DeploymentError("no Region: set AWS_REGION or pass --home-region")
        outputs = stack_outputs(stack_name, region)
        if outputs is None:
            raise DeploymentError(f"stack {stack_name} not found in {region}")
        return cls(stack_name, region, outputs)

    def output(self, key: str) -> str:
        try:
            return self.outputs[key]
        except KeyError:
            raise DeploymentError(f"stack {self.stack_name} has no output {key}: deploy this version first") from None

    def forwarder_dead_letter_queues(self, regions: tuple[str, ...] = BRAKET_REGIONS) -> dict[str, str]:
        """The dead-letter queue of each forwarder stack that is deployed, by Region."""
        found = {}
        for region in regions:
            if region == self.region:
                continue
            outputs = stack_outputs(forwarder_stack_name(self.stack_name, region), region)
            if outputs and OUTPUT_FORWARDER_DEAD_LETTER_QUEUE in outputs:
                found[region] = outputs[OUTPUT_FORWARDER_DEAD_LETTER_QUEUE]
        return found


def stack_outputs(stack_name: str, region: str) -> dict[str, str] | None:
    cloudformation: Any = boto3.client("cloudformation", region_name=region)
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise DeploymentError(f"cannot read stack {stack_name} in {region}: {exc}") from exc
    except BotoCoreError as exc:
        raise DeploymentError(f"cannot read stack {stack_name} in {region}: {exc}") from exc
    return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}

"""Submitting a task: the request's identity, Braket's request, and the item written at once."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracker.constants import MAX_PROGRAM_BYTES, ORIGIN_API, SUBMITTER_TAG
from tracker.domain import Status, TaskArn, TaskRecord, normalize_time

OPENQASM_ACTION = {"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}}
_DEVICE_REGION = re.compile(r"arn:aws[a-z-]*:braket:(?P<region>[a-z0-9-]*)::device/")  # a prefix (re.match)
MAX_TAG_VALUE = 256


@dataclass(frozen=True)
class SubmitRequest:
    device_arn: str
    shots: int
    program: str
    inputs: Mapping[str, Any] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    device_parameters: Mapping[str, Any] | None = None

    def fingerprint(self) -> str:
        """Identifies the request's content, to tell a retry from a different request under one key."""
        document = {
            "deviceArn": self.device_arn,
            "shots": self.shots,
            "program": self.program,
            "inputs": self.inputs,
            "tags": dict(self.tags),
            "deviceParameters": self.device_parameters,
        }
        return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def program_too_large(program: str) -> int | None:
    """The program's size in bytes if it is over the API's limit."""
    size = len(program.encode())
    return size if size > MAX_PROGRAM_BYTES else None


def device_region(device_arn: str, home_region: str) -> str:
    """Where a device runs: QPUs name their Region; on-demand simulators run in the caller's Region."""
    match = _DEVICE_REGION.match(device_arn)
    return (match["region"] if match else "") or home_region


def task_tags(request: SubmitRequest, submitter: str) -> dict[str, str]:
    """The caller's tags plus the submitter (a tag value holds at most 256 characters)."""
    tags = dict(request.tags)
    if len(submitter) <= MAX_TAG_VALUE:
        tags[SUBMITTER_TAG] = submitter
    return tags


def create_request(
    request: SubmitRequest, *, client_token: str, bucket: str, prefix: str, tags: Mapping[str, str]
) -> dict[str, Any]:
    """Braket's CreateQuantumTask parameters."""
    action: dict[str, Any] = {**OPENQASM_ACTION, "source": request.program}
    if request.inputs:
        action["inputs"] = dict(request.inputs)
    parameters: dict[str, Any] = {
        "clientToken": client_token,
        "deviceArn": request.device_arn,
        "shots": request.shots,
        "action": json.dumps(action),
        "outputS3Bucket": bucket,
        "outputS3KeyPrefix": prefix,
        "tags": dict(tags),
    }
    if request.device_parameters is not None:
        parameters["deviceParameters"] = json.dumps(request.device_parameters)
    return parameters


def submitted_record(
    task_arn: str,
    request: SubmitRequest,
    *,
    submitter: str,
    tags: Mapping[str, str],
    bucket: str,
    prefix: str,
    at: datetime,
) -> TaskRecord:
    """The item written when Braket accepts the task, before any event: status CREATED, no events.

    `at` is taken after Braket answered, so it is never before Braket's createdAt; the first event
    brings Braket's own createdAt, which is earlier and wins the merge. lastEventAt is `at` to the
    second, the resolution of event times, so the next event still takes the one-write path.
    """
    task = TaskArn.parse(task_arn)
    created = normalize_time(at)
    return TaskRecord(
        task=task,
        device_arn=request.device_arn,
        shots=request.shots,
        output_s3_bucket=bucket,
        output_s3_directory=f"{prefix}/{task.task_id}",
        created_at=created,
        status_times={Status.CREATED: created},
        last_event_at=normalize_time(at.replace(microsecond=0)),
        event_ids=frozenset(),
        submitter=submitter,
        origin=ORIGIN_API,
        tags=dict(tags),
    )


def principal_matches(caller: str, allowed: Sequence[str]) -> bool:
    """Whether `caller` is one of `allowed`: the same ARN, or a session of an allowed role."""
    for principal in allowed:
        if caller == principal:
            return True
        role = re.fullmatch(r"arn:(aws[a-z-]*):iam::([0-9]{12}):role/(?:.*/)?([\w+=,.@-]+)", principal)
        if role and re.fullmatch(
            rf"arn:{re.escape(role[1])}:sts::{role[2]}:assumed-role/{re.escape(role[3])}/[\w+=,.@-]+", caller
        ):
            return True
    return False

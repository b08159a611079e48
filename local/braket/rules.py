"""Braket's rules on what CreateQuantumTask may name: the results bucket, and the task's tags.

Results bucket: Braket writes results with its service-linked role (AWSServiceRoleForAmazonBraket),
whose policy grants S3 access only on `arn:aws:s3:::amazon-braket-*`; the developer guide asks for bucket
names that start with `amazon-braket-`, and the results of a task go to a bucket in the task's (the
device's) Region. The SDK's default bucket, `amazon-braket-<region>-<account>`, follows both rules.

Tags: the tagging rules common to AWS services (and Braket's TagResource): at most 50 tags, keys of 1 to
128 characters, values of 0 to 256, letters, digits, spaces and `_ . : / = + - @` only, and no key in the
reserved `aws:` namespace. Phrased as the service's constraint messages, all violations in one answer.
"""

from __future__ import annotations

import re
from typing import Any

from local.braket.errors import ValidationException

BUCKET_PREFIX = "amazon-braket-"
MAX_TAGS = 50
KEY_LENGTH = (1, 128)
VALUE_LENGTH = (0, 256)
TAG_PATTERN = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"
# \p{L}\p{N}_ (Python's \w) and \p{Z} (space separators: no tabs or newlines)
_TAG_CHARACTERS = re.compile(r"[\w\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000.:/=+\-@]*")


def bucket_region(location: dict[str, Any]) -> str:
    """The Region of a GetBucketLocation answer: None is us-east-1, and the legacy "EU" is eu-west-1."""
    constraint = location.get("LocationConstraint")
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(constraint, str(constraint))


def check_bucket_name(bucket: str) -> None:
    if not bucket.startswith(BUCKET_PREFIX):
        raise ValidationException(
            f"Caller doesn't have access to s3://{bucket}: Amazon Braket writes quantum task results only to "
            f"buckets whose names start with '{BUCKET_PREFIX}'"
        )


def check_bucket_region(bucket: str, region: str, task_region: str) -> None:
    if region != task_region:
        raise ValidationException(
            f"The S3 bucket {bucket} is in {region}: the output bucket of a quantum task must be in the "
            f"Region of the task ({task_region})"
        )


def tag_errors(tags: dict[str, str]) -> list[str]:
    """Constraint violations of a task's tags, in AWS's words ("Value ... failed to satisfy constraint")."""
    errors = []
    if len(tags) > MAX_TAGS:
        errors.append(_violation("tags", tags, f"Map must have at most {MAX_TAGS} entries"))
    for key, value in tags.items():
        key_problems = _length(key, *KEY_LENGTH) + _characters(key)
        if key.lower().startswith("aws:"):
            key_problems.append("Member must not start with the reserved prefix 'aws:'")
        if key_problems:
            errors.append(_violation("tags", key, "Map keys must satisfy constraint: " + _listed(key_problems)))
        value_problems = _length(value, *VALUE_LENGTH) + _characters(value)
        if value_problems:
            errors.append(
                _violation(f"tags.{key}", value, "Map values must satisfy constraint: " + _listed(value_problems))
            )
    return errors


def check_tags(tags: dict[str, str]) -> None:
    errors = tag_errors(tags)
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        raise ValidationException(f"{len(errors)} validation {noun} detected: " + "; ".join(errors))


def _length(text: str, low: int, high: int) -> list[str]:
    problems = []
    if len(text) > high:
        problems.append(f"Member must have length less than or equal to {high}")
    if len(text) < low:
        problems.append(f"Member must have length greater than or equal to {low}")
    return problems


def _characters(text: str) -> list[str]:
    return [] if _TAG_CHARACTERS.fullmatch(text) else [f"Member must satisfy regular expression pattern: {TAG_PATTERN}"]


def _listed(problems: list[str]) -> str:
    return "[" + ", ".join(problems) + "]"


def _violation(path: str, value: Any, constraint: str) -> str:
    text = str(value)
    shown = f"'{text[:100]}...'" if len(text) > 100 else f"'{text}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"

"""Event source mapping FilterCriteria, judged by moto's EventBridge pattern engine (not the runner's own).

Lambda applies each filter pattern to the record as the function would receive it: for a DynamoDB
stream, the record with `eventName`, `dynamodb` (Keys, NewImage, OldImage in DynamoDB JSON) and so
on as top-level keys; for SQS, the record with `body` parsed as JSON when it is JSON. A record passes
if any filter matches (filters are OR-ed); with no filters every record passes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from moto.events.models import EventPattern


class FilterCriteria:
    def __init__(self, patterns: Sequence[str]) -> None:
        self._patterns = [EventPattern.load(pattern) for pattern in patterns]

    def __bool__(self) -> bool:
        return bool(self._patterns)

    def matches(self, record: dict[str, Any]) -> bool:
        return not self._patterns or any(p.matches_event(cast(Any, record)) for p in self._patterns)

    def matches_sqs(self, record: dict[str, Any]) -> bool:
        return self.matches({**record, "body": _json_or_text(record["body"])})


def _json_or_text(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body

"""A simulator's billed duration, from its results.json: pure.

Braket's gate-model result (and the local service's) ends with `additionalMetadata`, whose
`simulatorMetadata.executionDuration` is the run time in milliseconds (the schema's field order:
`braket.task_result.simulator_metadata`, amazon-braket-schemas-python). A results.json can be megabytes
of measurements, so the cost path reads only its last bytes and parses the one object it needs:
`"simulatorMetadata": {...}`, found as a key (an unescaped quote, the name, a quote, a colon: inside a
JSON string the quotes would be escaped), and decoded with the JSON parser itself. When the tail does
not hold it, the whole document is read and parsed (`from_document`).
"""

from __future__ import annotations

import json
import re
from typing import Any

_KEY = re.compile(rb'"simulatorMetadata"\s*:\s*')
MAX_DURATION_MS = 366 * 24 * 3600 * 1000
"""A year: no simulator runs longer (SV1's limit is 6 hours); anything larger is not a duration."""


def from_tail(tail: bytes) -> int | None:
    """The execution duration in the last bytes of a results.json, or None if they do not hold it."""
    matches = list(_KEY.finditer(tail))
    if not matches:
        return None
    text = tail[matches[-1].end() :].decode("utf-8", "replace")
    try:
        metadata, _ = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError:
        return None
    return _duration(metadata)


def from_document(document: Any) -> int | None:
    """The execution duration of a parsed results.json, or None if it has none."""
    additional = document.get("additionalMetadata") if isinstance(document, dict) else None
    return _duration(additional.get("simulatorMetadata") if isinstance(additional, dict) else None)


def _duration(metadata: Any) -> int | None:
    value = metadata.get("executionDuration") if isinstance(metadata, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DURATION_MS:
        return None
    return value

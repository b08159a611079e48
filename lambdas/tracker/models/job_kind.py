"""Which kind of Braket event a queued message is, without parsing it: the recorder's dispatch.

Apart from the job event's model (tracker.models.job_event, written with pydantic) so that the
recorder, which reads task events with a hand-written gate, does not import pydantic at its cold start
(bench/results/cold-start.md); the job path imports that model with its first job event.
"""

from __future__ import annotations

import json

from tracker.constants import JOB_STATE_CHANGE


def is_job_event(body: str) -> bool:
    """Whether a queued message is a job state change (the recorder's dispatch): a JSON object with that
    detail-type. Anything else, JSON or not, is the task parser's to accept or reject."""
    if JOB_STATE_CHANGE not in body:
        return False
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return isinstance(message, dict) and message.get("detail-type") == JOB_STATE_CHANGE

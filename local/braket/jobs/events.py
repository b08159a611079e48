"""'Braket Job State Change' events, as local mode sends them to EventBridge in the job's Region.

AWS lists the event (source aws.braket, durable delivery) but does not document its detail, and no
captured event is public. The one public consumer (awslabs/quantum-computing-exploration-for-drug-discovery-
on-aws, source/src/cdk/stack-main.ts and lambda/checkHybridExperimentStatus.py) reads `detail.jobArn`,
`detail.status` (JobPrimaryStatus values), `detail.startedAt` and `detail.endedAt`. Local mode sends exactly
those, with the envelope of task events (`resources: [jobArn]`), and nothing it would have to invent:

    detail = {"jobArn", "status", "startedAt" (from RUNNING on), "endedAt" (finished statuses only)}

with times in Braket's event format (ISO 8601, milliseconds, Z). tests/events/job-lifecycle-*.json hold it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from local.braket.events import SOURCE
from local.braket.jobs.models import JOB_FINISHED, Job
from local.braket.models import iso_ms

DETAIL_TYPE = "Braket Job State Change"


def job_state_change_entry(job: Job, status: str, at: datetime) -> dict[str, Any]:
    """The PutEvents entry for the job's change to `status` at `at` (the job holds its times by then)."""
    detail: dict[str, Any] = {"jobArn": job.arn, "status": status}
    if job.started_at is not None:
        detail["startedAt"] = iso_ms(job.started_at)
    if status in JOB_FINISHED and job.ended_at is not None:
        detail["endedAt"] = iso_ms(job.ended_at)
    return {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Resources": [job.arn],
        "Detail": json.dumps(detail),
        "Time": at,
    }

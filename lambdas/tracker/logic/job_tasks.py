"""What a task table stream record means for the task's hybrid job: pure.

Task events carry no jobArn (Braket documents none): the tracker learns a task's job from
GetQuantumTask. So, for each record of the task table's stream (new and old images):
- **link**: a new task whose output directory is under `jobs/` (where the SDK puts a job's tasks'
  results: AMZN_BRAKET_TASK_RESULTS_S3_URI = s3://<bucket>/jobs/<job name>/tasks) and whose job is not
  known yet is asked about once, as soon as it is recorded; any other task learns its job at its end,
  with Braket's details (the recorder's GetQuantumTask);
- **count**: the job's counts of ended tasks follow `logic/ends.py`: a first end counts the task under
  its final status, a correction moves it from one final status to another. A task whose job becomes
  known after its end (linked late) counts as a first end then. The counter's ledger on the task item
  (`jobCountedStatus`) makes every count happen once, however often a record is delivered;
- **push**: a status change of a task whose job is known (or the moment its job becomes known) is
  pushed to the connections following the job's tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracker.constants import FINISHED_STATUSES, JOBS_PREFIX
from tracker.logic.ends import end_change
from tracker.logic.live import status_changed

Image = Mapping[str, Any] | None


@dataclass(frozen=True)
class JobTaskRecord:
    task_arn: str
    job_arn: str | None
    link: bool  # ask Braket for the task's job
    count: str | None  # count the task's end under this final status
    push: bool  # push the task to the job's task subscribers


def read(event_name: str, old: Image, new: Image) -> JobTaskRecord | None:
    """What to do for this record (its event name, deserialized images); None: nothing."""
    if event_name not in ("INSERT", "MODIFY") or not new or not isinstance(new.get("taskArn"), str):
        return None
    job = new.get("jobArn") if isinstance(new.get("jobArn"), str) else None
    newly_linked = job is not None and (old or {}).get("jobArn") != job
    link = job is None and event_name == "INSERT" and needs_link(new)
    count = None
    if job is not None and new.get("status") in FINISHED_STATUSES:
        ended = end_change(event_name, old, new)
        if ended is not None or newly_linked:
            count = str(new["status"])
    push = job is not None and (newly_linked or status_changed(event_name, old, new))
    if not (link or count or push):
        return None
    return JobTaskRecord(str(new["taskArn"]), job, link, count, push)


def needs_link(image: Mapping[str, Any]) -> bool:
    directory = image.get("outputS3Directory")
    return isinstance(directory, str) and directory.startswith(JOBS_PREFIX) and "jobArn" not in image

"""What a task table stream record means for anything that counts ends: pure.

The task table is the one source of truth, and its stream (new and old images) says when a task
ends and when its end is corrected. Whatever counts ends (the live pusher marks corrections
with it; a job's task counts or cost totals would follow it the same way) reads each record as:

- a **first end**: an INSERT already finished, or a MODIFY from an unfinished status into a finished
  one: count one more task with `NewImage.status`;
- a **correction**: a MODIFY from one finished status into another (a FAILED event with an earlier
  end after COMPLETED, say): move the task from `OldImage.status` to `NewImage.status`;
- **nothing** else: a duplicate, details filled in later, a notification mark.

A stream delivers one item's records in order, though a record can be delivered twice (a retried
batch). A counter therefore keeps, per task, the status it counted and updates it conditionally
(from `previous`, or from nothing for a first end): a record seen twice then changes nothing twice,
and the counts always equal the table's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracker.constants import FINISHED_STATUSES


@dataclass(frozen=True)
class EndChange:
    task_arn: str
    status: str  # the task's final status now
    previous: str | None  # the final status it replaces (a correction), or None (a first end)

    @property
    def correction(self) -> bool:
        return self.previous is not None


def end_change(
    event_name: str, old_image: Mapping[str, Any] | None, new_image: Mapping[str, Any] | None
) -> EndChange | None:
    """The end this stream record (its event name and deserialized images) records, if any."""
    new_status = (new_image or {}).get("status")
    if event_name not in ("INSERT", "MODIFY") or new_status not in FINISHED_STATUSES:
        return None
    arn = str((new_image or {}).get("taskArn", ""))
    old_status = (old_image or {}).get("status") if event_name == "MODIFY" else None
    if old_status == new_status:
        return None
    return EndChange(arn, str(new_status), str(old_status) if old_status in FINISHED_STATUSES else None)

"""What a task table stream record asks of the notifier: pure.

DynamoDB Streams serve two readers per shard without throttling ("More than 2 processes are reading
from the same streams shard at the same time. Exceeding this limit may result in request throttling":
the DynamoDB Streams API's LimitExceededException). The live pusher is one; the notifier is the
other, and it hands on what the cost keeper needs (through a queue) rather than the keeper reading
the stream a third time. Its mapping passes every write of a finished item; for each record:

- `announces`: whether it may need an announcement: a first end (an INSERT already finished, or a
  MODIFY from an unfinished status) of a task recorded live (its origin; or any, with notifyImported),
  once it has Braket's details (`enriched`: the recorder writes and pushes an end before asking
  Braket, docs/latency.md, so the write that adds them to an unannounced end is the one announced),
  or a MODIFY between finished statuses of an announced item that awaits an announcement again. The
  notifier then reads the item, which decides (logic.notification);
- `moves_cost`: whether the task's cost or where it counts may have changed: a first end, or a change
  of anything the cost depends on (a corrected end, Braket's details filled in, a submitter written
  late). The notifier's marks and the keeper's own cost writes change none of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracker.constants import FINISHED_STATUSES, NOTIFIED_ORIGINS, TAG_ATTRIBUTE_PREFIX, UNFINISHED_STATUSES

COST_INPUTS = (
    "status",
    "endedAt",
    "deviceArn",
    "shots",
    "enriched",
    "associations",
    "numSuccessfulShots",
    "jobArn",
    "submitter",
    "tags",
    "origin",
)

Image = Mapping[str, Any]


def announces(event_name: str, old: Image | None, new: Image | None, notify_imported: bool) -> bool:
    new, old = new or {}, old or {}
    if new.get("status") not in FINISHED_STATUSES:
        return False
    live = notify_imported or new.get("origin") in NOTIFIED_ORIGINS
    detailed = "enriched" in new  # Braket's details written (or asked for, and Braket could not answer)
    if event_name == "INSERT" or (event_name == "MODIFY" and old.get("status") in UNFINISHED_STATUSES):
        return live and detailed
    if event_name != "MODIFY" or old.get("status") not in FINISHED_STATUSES:
        return False
    if "enriched" not in old and detailed and "awaitingNotification" in new:
        return live  # the details of an end written and pushed before them (detailsAfterEnd), unannounced
    return "notifiedAt" in new and "awaitingNotification" in new


def moves_cost(event_name: str, old: Image | None, new: Image | None) -> bool:
    new, old = new or {}, old or {}
    if new.get("status") not in FINISHED_STATUSES:
        return False
    if event_name == "INSERT":
        return True
    if event_name != "MODIFY":
        return False
    names = set(COST_INPUTS) | {name for name in (*old, *new) if name.startswith(TAG_ATTRIBUTE_PREFIX)}
    return any(old.get(name) != new.get(name) for name in names)

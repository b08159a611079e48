"""Live updates, pure: the WebSocket protocol (what a client may send, what the server answers and
pushes), what a connection is subscribed to, and which stream records are worth a push.

Client -> server (text frames, JSON; the route is `action`):
    {"action": "subscribe", "tasks": ["arn:aws:braket:...:quantum-task/..."], "mine": true, "id": "c1"}
    {"action": "unsubscribe", "tasks": [...], "mine": true, "id": "c2"}
`tasks` (at most MAX_TASKS_PER_REQUEST task ARNs) and `mine` may be given together; one is needed.
`id` is optional (a string of at most 128 characters) and is echoed in the answer.

Server -> client:
    {"type": "subscribed", "id": "c1", "tasks": [...], "mine": true, "unknownTasks": [...],
     "snapshot": {"tasks": 3, "mine": 10, "mineTruncated": false}}
    {"type": "unsubscribed", "id": "c2", "tasks": [...], "mine": true}
    {"type": "error", "id": "c1", "code": "BadRequest", "message": "..."}
    {"type": "task", "snapshot": false, "document": {<the notification document>}}

A finished status is final, with one exception: a correction. Should the task's final status change
(see the merge rules), the change is pushed with `"correction": true` and `"previousStatus"`, and a
snapshot of such a task is marked the same way: a subscriber replaces the status it had.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tracker.constants import FINISHED_STATUSES, OBSERVED_EVENT_PREFIX
from tracker.domain import Status, TaskArn, TaskRecord
from tracker.logic.notification import document

MAX_TASKS_PER_REQUEST = 100
"""Task ARNs in one subscribe or unsubscribe; a client sends several for more."""
MAX_SUBSCRIPTIONS = 1000
"""Task subscriptions one connection may hold (`mine` aside)."""
MINE_SNAPSHOT_LIMIT = 100
"""On `mine`, the state of the submitter's most recently created tasks, at most this many."""
MAX_ID_LENGTH = 128
TASK_TARGET = "task#"
SUBMITTER_TARGET = "submitter#"
ACTIONS = ("subscribe", "unsubscribe")


class BadRequest(ValueError):
    """A client message that the protocol does not allow; answered with an error message."""

    def __init__(self, message: str, request_id: str | None = None, code: str = "BadRequest") -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id
        self.code = code


@dataclass(frozen=True)
class Request:
    action: str  # subscribe or unsubscribe
    tasks: tuple[str, ...]  # distinct task ARNs, in the order given
    mine: bool
    request_id: str | None

    def targets(self, principal: str) -> list[str]:
        found = [task_target(arn) for arn in self.tasks]
        if self.mine:
            found.append(submitter_target(principal))
        return found


def task_target(task_arn: str) -> str:
    return TASK_TARGET + task_arn


def submitter_target(principal: str) -> str:
    return SUBMITTER_TARGET + principal


def parse_request(body: str | None) -> Request:
    """A subscribe or unsubscribe message, validated; raises BadRequest with what is wrong."""
    try:
        message = json.loads(body or "")
    except ValueError:
        raise BadRequest("the message is not JSON") from None
    if not isinstance(message, dict):
        raise BadRequest("the message must be a JSON object")
    request_id = message.get("id")
    if request_id is not None and (not isinstance(request_id, str) or not 0 < len(request_id) <= MAX_ID_LENGTH):
        raise BadRequest(f"id must be a string of 1 to {MAX_ID_LENGTH} characters")
    action = message.get("action")
    if action not in ACTIONS:
        raise BadRequest(f"unknown action {action!r}; actions: {', '.join(ACTIONS)}", request_id, "UnknownAction")
    unknown = sorted(set(message) - {"action", "tasks", "mine", "id"})
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}", request_id)
    tasks = message.get("tasks", [])
    mine = message.get("mine", False)
    if not isinstance(mine, bool):
        raise BadRequest("mine must be true or false", request_id)
    if not isinstance(tasks, list) or not all(isinstance(arn, str) for arn in tasks):
        raise BadRequest("tasks must be a list of quantum task ARNs", request_id)
    if not tasks and not mine:
        raise BadRequest(f"{action} needs tasks, mine, or both", request_id)
    if len(tasks) > MAX_TASKS_PER_REQUEST:
        raise BadRequest(f"at most {MAX_TASKS_PER_REQUEST} tasks per message; send several messages", request_id)
    for arn in tasks:
        try:
            TaskArn.parse(arn)
        except ValueError as exc:
            raise BadRequest(str(exc), request_id) from None
    return Request(action, tuple(dict.fromkeys(tasks)), mine, request_id)


def status_changed(event_name: str, old_image: Mapping[str, Any] | None, new_image: Mapping[str, Any] | None) -> bool:
    """Whether a task table stream record is a status change worth a push: a new item, or a new status.

    Other writes (a duplicate event's merge, the notifier's mark, details filled in later) are not.
    """
    if new_image is None or "status" not in new_image:
        return False
    if event_name == "INSERT":
        return True
    return event_name == "MODIFY" and (old_image or {}).get("status") != new_image["status"]


def is_observed(event_id: str) -> bool:
    """An event id the tracker made for a status it read from Braket's API (the reconciler, the
    backfill), as opposed to the id of an event captured from EventBridge."""
    return event_id.startswith(OBSERVED_EVENT_PREFIX)


def recorder_pushes(before: Status | None, after: Status, added_event_id: str | None) -> bool:
    """Whether the recorder pushes the end it just wrote itself, right after its write (no stream hop).

    It does when the write made the task's status a finished one (its first end, or a correction),
    and the write added the id of an event captured from EventBridge. Everything else that the stream
    shows as a status change, the stream pusher pushes: statuses before the end, and ends written
    without a new captured id (observed by the reconciler or the backfill, or a conflicting body of
    an id already seen). So every status change is pushed by exactly one of the two
    (`pushed_by_recorder` is the same rule, read from the stream record)."""
    return after.finished and before is not after and added_event_id is not None and not is_observed(added_event_id)


def pushed_by_recorder(old_image: Mapping[str, Any] | None, new_image: Mapping[str, Any]) -> bool:
    """Whether the stream record of a status change is one that the recorder pushed itself
    (`recorder_pushes`): a finished status, written with a new id of a captured event."""
    if new_image.get("status") not in FINISHED_STATUSES:
        return False
    added = set(new_image.get("eventIds") or ()) - set((old_image or {}).get("eventIds") or ())
    return any(not is_observed(str(event_id)) for event_id in added)


def update_id(doc: Mapping[str, Any]) -> str:
    """What a client dedupes on: one status of one task (the document's notificationId)."""
    return str(doc["notificationId"])


def is_final(doc: Mapping[str, Any]) -> bool:
    return doc.get("status") in FINISHED_STATUSES


def is_correction(doc: Mapping[str, Any]) -> bool:
    """A finished document that replaces another final status (the subscriber's, whatever it was)."""
    return is_final(doc) and doc.get("correction") is True


# -- server messages ---------------------------------------------------------------------------------


def push(record: TaskRecord, snapshot: bool, corrects: Status | None = None) -> str:
    """A task's state: the notification's document, the same for a push and a snapshot. `corrects`:
    the final status this one replaces, which the document names (`correction`, `previousStatus`)."""
    return _encode({"type": "task", "snapshot": snapshot, "document": document(record, corrects)})


def subscribed(
    request: Request,
    unknown_tasks: Iterable[str],
    snapshot_tasks: int,
    mine_tasks: int,
    mine_truncated: bool,
) -> str:
    snapshot: dict[str, Any] = {"tasks": snapshot_tasks}
    if request.mine:
        snapshot |= {"mine": mine_tasks, "mineTruncated": mine_truncated}
    return _encode(
        {
            "type": "subscribed",
            "id": request.request_id,
            "tasks": list(request.tasks),
            "mine": request.mine,
            "unknownTasks": list(unknown_tasks),
            "snapshot": snapshot,
        }
    )


def unsubscribed(request: Request) -> str:
    return _encode(
        {"type": "unsubscribed", "id": request.request_id, "tasks": list(request.tasks), "mine": request.mine}
    )


def error(code: str, message: str, request_id: str | None = None) -> str:
    return _encode({"type": "error", "id": request_id, "code": code, "message": message})


def unknown_route(body: str | None) -> str:
    """The `$default` route's answer: what was sent matched no action."""
    request_id = None
    try:
        message = json.loads(body or "")
        if isinstance(message, dict) and isinstance(message.get("id"), str):
            request_id = message["id"][:MAX_ID_LENGTH]
    except ValueError:
        pass
    return error("UnknownAction", f"send JSON with an action: {' or '.join(ACTIONS)}", request_id)


def _encode(message: dict[str, Any]) -> str:
    return json.dumps(message, sort_keys=True, separators=(",", ":"))

"""Every pattern that validates input matches the whole string (issue 14).

Python's `$` also matches before a final newline, so `re.match(r"^...$", value)` accepts
`value + "\\n"`: an ARN with a trailing newline became a task of its own. Patterns are matched with
re.fullmatch (or pydantic, whose regex engine reads `$` as the end of the text only).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from stacks import config as stack_config
from tracker.api.models import SubmitTaskRequest
from tracker.domain import TASK_ID, TaskArn
from tracker.logic import live
from tracker.logic.submission import principal_matches

ROOT = Path(__file__).resolve().parents[2]
AUDITED = ["lambdas", "client", "local/runner", "ops", "stacks", "app.py"]
ARN = "arn:aws:braket:us-east-1:012345678901:quantum-task/6d477c29-df8e-434c-bd12-07331219d486"
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"


def _sources() -> list[Path]:
    files: list[Path] = []
    for entry in AUDITED:
        path = ROOT / entry
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return files


def test_no_regex_in_the_code_anchors_with_a_dollar() -> None:
    """A guard for the whole class: re.compile/match/search/fullmatch never take a pattern ending in `$`."""
    offenders = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args):
                continue
            receiver = node.func.value
            if not (isinstance(receiver, ast.Name) and receiver.id == "re"):
                continue
            pattern = node.args[0]
            text = pattern.value if isinstance(pattern, ast.Constant) and isinstance(pattern.value, str) else None
            if text is None and isinstance(pattern, ast.JoinedStr):
                last = pattern.values[-1] if pattern.values else None
                text = last.value if isinstance(last, ast.Constant) and isinstance(last.value, str) else None
            if text and text.endswith("$") and not text.endswith("\\$"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_task_arns_and_ids_are_matched_whole() -> None:
    TaskArn.parse(ARN)
    for bad in (ARN + "\n", ARN + "\n\n", " " + ARN, ARN.replace("012345678901", "\u0661" * 12)):
        with pytest.raises(ValueError, match="not a Braket quantum task ARN"):
            TaskArn.parse(bad)
    assert TASK_ID.fullmatch("6d477c29-df8e-434c-bd12-07331219d486")
    assert not TASK_ID.fullmatch("6d477c29-df8e-434c-bd12-07331219d486\n")


def test_a_websocket_subscription_refuses_an_arn_with_a_trailing_newline() -> None:
    assert live.parse_request(f'{{"action": "subscribe", "tasks": ["{ARN}"]}}').tasks == (ARN,)
    with pytest.raises(live.BadRequest, match="not a Braket quantum task ARN"):
        live.parse_request('{"action": "subscribe", "tasks": ["' + ARN + '\\n"]}')


def test_admin_principals_are_matched_whole() -> None:
    role = "arn:aws:iam::012345678901:role/TrackerAdmin"
    session = "arn:aws:sts::012345678901:assumed-role/TrackerAdmin/ada"
    assert principal_matches(session, [role])
    assert not principal_matches(session + "\n", [role])
    assert not principal_matches(session, [role + "\n"])


@pytest.mark.parametrize(
    "fields",
    [{"deviceArn": SV1 + "\n"}, {"tags": {"project\n": "x"}}, {"tags": {"project": "x\n"}}],
)
def test_the_submission_model_matches_whole_values(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SubmitTaskRequest.model_validate({"deviceArn": SV1, "shots": 1, "program": "x"} | fields)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("stackName", "Tracker\n"),
        ("notificationSubscriptions", [{"protocol": "sqs", "endpoint": "arn:aws:sqs:us-east-1:012345678901:q\n"}]),
    ],
)
def test_deployment_settings_are_matched_whole(key: str, value: object) -> None:
    """(List settings strip each value, so a trailing newline never reached their patterns.)"""
    with pytest.raises(stack_config.ConfigurationError):
        stack_config.TrackerConfig.from_context(lambda name: value if name == key else None)

"""The CLI: parsing, table and JSON output, and exit codes, against the in-memory Task API (and a
real local WebSocket server for `watch`)."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from braket_tracker import TrackerClient
from braket_tracker.cli import EXIT_CODES, main
from moto import mock_aws

from tests.client.fakes import SV1, FakeTaskApi, LiveServer, answer, document, item, task_arn

BELL = "OPENQASM 3.0; bit[2] b; qubit[2] q; h q[0]; cnot q[0], q[1]; b = measure q;"


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(make_client: Callable[..., TrackerClient]) -> Callable[..., Run]:
    def run(*argv: str, client: TrackerClient | None = None) -> Run:
        out, err = io.StringIO(), io.StringIO()
        chosen = client or make_client()
        code = main(list(argv), client_factory=lambda args: chosen, stdout=out, stderr=err)
        return Run(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def bell(tmp_path: Path) -> Path:
    path = tmp_path / "bell.qasm"
    path.write_text(BELL)
    return path


def test_usage_errors_exit_2(cli: Callable[..., Run], bell: Path) -> None:
    assert cli("submit", str(bell), "--shots", "10").code == 2  # no --device
    assert cli("submit", str(bell), "--device", "sv1", "--shots", "10", "--tag", "novalue").code == 2
    assert cli("list", "--limit", "0").code == 2
    watch = cli("watch")
    assert (watch.code, watch.err.strip()) == (2, "error: watch needs task ids, --mine, or both")
    missing = cli("submit", "nope.qasm", "--device", "sv1", "--shots", "10")
    assert missing.code == 2
    assert "nope.qasm: No such file or directory" in missing.err


def test_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    printed = capsys.readouterr().out
    for code, meaning in EXIT_CODES.items():
        assert f"{code:>3}  {meaning}" in printed


def test_submit_prints_the_arn_or_json(cli: Callable[..., Run], api: FakeTaskApi, bell: Path) -> None:
    plain = cli("submit", str(bell), "--device", "dm1", "--shots", "10", "--tag", "project=bell", "--input", "t=0.5")
    as_json = cli("-o", "json", "submit", str(bell), "--device", SV1, "--shots", "20", "--idempotency-key", "k-1")

    assert plain.code == as_json.code == 0
    first, second = api.requests
    assert plain.out.strip() == api.tasks[plain.out.strip()]["taskArn"]
    assert first.body == {
        "deviceArn": "arn:aws:braket:::device/quantum-simulator/amazon/dm1",
        "shots": 10,
        "program": BELL,
        "tags": {"project": "bell"},
        "inputs": {"t": 0.5},
    }
    assert second.headers["Idempotency-Key"] == "k-1"
    assert as_json.json()["status"] == "CREATED"
    assert as_json.json()["taskArn"] in api.tasks


def test_submit_wait_prints_the_counts(cli: Callable[..., Run], api: FakeTaskApi, bell: Path) -> None:
    def complete(request_count: int) -> None:
        for task in api.tasks.values():
            task["status"] = "COMPLETED"
            api.results[task["taskArn"]] = {
                "taskArn": task["taskArn"],
                "status": "COMPLETED",
                "shots": 100,
                "measuredQubits": [0, 1],
                "counts": {"00": 51, "11": 49},
            }

    api_send = api.send

    def send(*args: Any) -> Any:
        response = api_send(*args)
        if args[0] == "GET":
            complete(len(api.requests))
        return response

    api.send = send  # type: ignore[method-assign]
    run = cli("submit", str(bell), "--device", "sv1", "--shots", "100", "--wait")

    assert run.code == 0, run.err
    assert "00" in run.out and "51" in run.out and "11" in run.out and "49" in run.out
    assert "measured qubits: [0, 1]" in run.out
    assert "warning: live updates unavailable" in run.err
    assert run.err.count("warning:") == 1


def test_result_of_a_failed_task_exits_1_with_its_reason(cli: Callable[..., Run], api: FakeTaskApi) -> None:
    arn = api.add(item(task_arn(), "FAILED", failureReason="Device is offline"))["taskArn"]

    table = cli("result", arn)
    as_json = cli("--output", "json", "result", arn)

    assert table.code == as_json.code == 1
    assert "Device is offline" in table.out
    assert as_json.json() == {"taskArn": arn, "status": "FAILED", "failureReason": "Device is offline"}


def test_result_times_out_with_6(cli: Callable[..., Run], api: FakeTaskApi) -> None:
    arn = api.add(item(task_arn(), "QUEUED"))["taskArn"]

    run = cli("result", arn, "--timeout", "5")

    assert run.code == 6
    assert "not ended within 5.0 s" in run.err
    assert "QUEUED" in run.err


def test_show_list_and_cancel(cli: Callable[..., Run], api: FakeTaskApi) -> None:
    running = api.add(item(task_arn(), "RUNNING", tags={"project": "qml"}, createdAt="2026-11-24T11:00:00.000Z"))
    failed = api.add(item(task_arn(), "FAILED", failureReason="Device is offline"))

    shown = cli("show", running["taskId"])
    shown_json = cli("-o", "json", "show", running["taskArn"])
    as_shown = dict(running)
    listed = cli("list")
    listed_json = cli("-o", "json", "list", "--status", "FAILED")
    cancelled = cli("cancel", running["taskId"])
    again = cli("-o", "json", "cancel", failed["taskId"])

    assert shown.code == 0
    assert running["resultsUri"] in shown.out
    assert shown_json.json() == as_shown
    assert listed.code == 0
    assert running["taskId"] in listed.out and failed["taskId"] in listed.out
    assert "project=qml" in listed.out and "Device is offline" in listed.out
    assert [t["taskArn"] for t in listed_json.json()] == [failed["taskArn"]]
    assert api.requests[3].query == {"status": "FAILED", "limit": "25"}
    assert (cancelled.code, cancelled.out.strip()) == (0, f"{running['taskArn']} CANCELLING")
    assert again.code == 7
    assert "already FAILED" in again.err


def test_not_found_is_3_and_forbidden_4_and_server_errors_5(
    cli: Callable[..., Run], api: FakeTaskApi, make_client: Callable[..., TrackerClient]
) -> None:
    missing = cli("show", "28cb6863-458a-4267-833f-171ffe98601a")
    wrong = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="wrong", region_name="us-east-1")
    forbidden = cli("show", "x", client=make_client(session=wrong))
    api.scripted = [answer(500, {"error": "InternalServerError", "message": "Internal server error"})]
    broken = cli("list")

    assert missing.code == 3
    assert "error: no task 28cb6863-458a-4267-833f-171ffe98601a (404 TaskNotFound)" in missing.err
    assert forbidden.code == 4
    assert "INVALID_SIGNATURE" in forbidden.err
    assert broken.code == 5
    assert "Internal server error (500 InternalServerError)" in broken.err


def test_validation_errors_list_the_fields(cli: Callable[..., Run], api: FakeTaskApi, bell: Path) -> None:
    details = {"errors": [{"path": "shots", "message": "Input should be less than or equal to 1000000"}]}
    api.scripted = [answer(400, {"error": "ValidationError", "message": "the request is invalid", "details": details})]

    run = cli("submit", str(bell), "--device", "sv1", "--shots", "2000000")

    assert run.code == 2
    assert "shots: Input should be less than or equal to 1000000" in run.err


def test_an_unknown_stack_and_missing_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = io.StringIO(), io.StringIO()
    with mock_aws():
        unknown = main(["--stack", "Nope", "list"], stdout=out, stderr=err)
    assert unknown == 3
    assert "no stack 'Nope' in us-east-1" in err.getvalue()

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    err = io.StringIO()
    code = main(["--api-url", "http://127.0.0.1:9/v1/", "show", "x"], stdout=io.StringIO(), stderr=err)
    assert code == 4
    assert "no AWS credentials found" in err.getvalue()


def test_watch_prints_json_lines_from_the_live_channel(
    cli: Callable[..., Run], api: FakeTaskApi, make_client: Callable[..., TrackerClient]
) -> None:
    first, second = api.add(item(task_arn(), "QUEUED")), api.add(item(task_arn(), "RUNNING"))
    with LiveServer() as live:

        def finish(count: int) -> None:
            if count == 1:
                live.push(document(first["taskArn"], "RUNNING"))
                live.push(document(first["taskArn"], "COMPLETED"))
                live.push(document(second["taskArn"], "CANCELLED"))

        live.on_subscribe = finish
        client = make_client(live_url=live.url, clock=time.monotonic)
        run = cli("-o", "json", "watch", first["taskId"], second["taskId"], client=client)

    lines = [json.loads(line) for line in run.out.splitlines()]
    assert run.code == 1  # one of them was cancelled
    assert [(line["taskArn"], line["status"], line["source"]) for line in lines] == [
        (first["taskArn"], "QUEUED", "api"),
        (second["taskArn"], "RUNNING", "api"),
        (first["taskArn"], "RUNNING", "push"),
        (first["taskArn"], "COMPLETED", "push"),
        (second["taskArn"], "CANCELLED", "push"),
    ]
    assert "warning" not in run.err


def test_watch_draws_a_table_and_falls_back_to_reading_the_api(
    cli: Callable[..., Run], api: FakeTaskApi, fake_time: Any
) -> None:
    task = api.add(item(task_arn(), "RUNNING"))
    fake_time.on_sleep = lambda count: task.update(status="COMPLETED", endedAt="2026-11-24T10:00:09.000Z")

    run = cli("watch", task["taskId"])

    assert run.code == 0
    assert task["taskId"] in run.out
    assert "COMPLETED" in run.out
    assert "warning: live updates unavailable" in run.err


# -- scripted use (issue 14) ---------------------------------------------------------------------------


def completed_result(api: FakeTaskApi, arn: str) -> None:
    api.tasks[arn]["status"] = "COMPLETED"
    api.results[arn] = {
        "taskArn": arn,
        "status": "COMPLETED",
        "shots": 100,
        "measuredQubits": [0, 1],
        "counts": {"00": 51, "11": 49},
        "resultsUrl": "https://amazon-braket-x.s3.amazonaws.com/tasks/"
        + "a" * 300
        + "/results.json?X-Amz-Signature="
        + "f" * 64,
        "urlExpiresAt": "2026-11-24T10:05:00.000Z",
    }


def test_piped_output_is_never_wrapped_or_padded(cli: Callable[..., Run], api: FakeTaskApi) -> None:
    arn = api.add(item(task_arn(), "QUEUED", tags={"project": "x" * 200}))["taskArn"]
    completed_result(api, arn)

    shown, result, listed = cli("show", arn), cli("result", arn), cli("list")

    for run in (shown, result, listed):
        assert run.code == 0, run.err
        assert all(line == line.rstrip() for line in run.out.splitlines())
    assert api.results[arn]["resultsUrl"] in result.out.splitlines()[-1]  # the whole link, on its line
    assert any(line.startswith("taskArn") and line.endswith(arn) for line in shown.out.splitlines())
    assert "x" * 200 in listed.out


def test_messages_on_standard_error_are_never_wrapped(cli: Callable[..., Run], api: FakeTaskApi, bell: Path) -> None:
    long_id = "very-long-" + "0" * 100
    run = cli("show", long_id)

    assert run.code == 3
    assert f"no task {long_id}" in run.err.splitlines()[0]


@pytest.mark.parametrize("where", ["before", "after"])
def test_global_options_go_anywhere(cli: Callable[..., Run], api: FakeTaskApi, where: str) -> None:
    task = api.add(item(task_arn(), "RUNNING"))
    options = ["-o", "json", "--debug"]
    argv = [*options, "show", task["taskId"]] if where == "before" else ["show", task["taskId"], *options]

    run = cli(*argv)

    assert run.code == 0, run.err
    assert run.json()["taskArn"] == task["taskArn"]


@pytest.mark.parametrize("command", [["submit", "bell.qasm", "--shots", "1"], ["list"]])
def test_an_unknown_device_is_answered_with_the_names_not_a_pattern(
    cli: Callable[..., Run], command: list[str]
) -> None:
    run = cli(*command, "--device", "foo")

    assert run.code == 2
    assert "'foo' is not a device" in run.err
    assert "sv1, dm1, tn1" in run.err
    assert "[a-z" not in run.err


def test_a_date_alone_is_midnight_utc_and_a_time_needs_its_zone(cli: Callable[..., Run], api: FakeTaskApi) -> None:
    dated = cli("list", "--created-after", "2026-11-17")
    zoneless = cli("list", "--created-before", "2026-11-17T08:00:00")

    assert dated.code == 0, dated.err
    assert api.requests[-1].query["createdAfter"] == "2026-11-17T00:00:00Z"
    assert zoneless.code == 2
    assert "a time with a time zone" in zoneless.err


def test_every_option_of_submit_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["submit", "--help"]) == 0
    printed = " ".join(capsys.readouterr().out.split())

    assert "--tag KEY=VALUE a tag of the task" in printed
    assert "--input NAME=VALUE a value of the program's `input` parameter NAME" in printed


def test_an_api_url_without_its_stage_is_explained(
    cli: Callable[..., Run], make_client: Callable[..., TrackerClient]
) -> None:
    execute_api = main(
        ["--api-url", "https://abc123.execute-api.us-east-1.amazonaws.com/", "list"],
        stderr=(err := io.StringIO()),
        stdout=io.StringIO(),
    )
    elsewhere = cli("list", client=make_client(api_url="https://tracker.example.com/"))

    assert execute_api == 2
    assert "has no stage" in err.getvalue() and "/v1/" in err.getvalue()
    assert elsewhere.code == 4
    assert "answered 403 'Forbidden', not a Task API error" in elsewhere.err
    assert "with its stage" in elsewhere.err
    assert "(403 HTTP403)" not in elsewhere.err


def test_a_refused_signature_is_said_plainly_and_the_canonical_request_only_with_debug(
    cli: Callable[..., Run], make_client: Callable[..., TrackerClient]
) -> None:
    wrong = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="wrong", region_name="us-east-1")

    plain = cli("list", client=make_client(session=wrong))
    debug = cli("list", "--debug", client=make_client(session=wrong))

    assert plain.code == debug.code == 4
    assert plain.err.startswith("error: the API refused the request's signature (403 INVALID_SIGNATURE)")
    assert "Canonical" not in plain.err and "--debug" in plain.err
    assert "The Canonical String for this request should have been" in debug.err


def test_an_ambiguous_id_lists_the_arns_to_choose_from(cli: Callable[..., Run], api: FakeTaskApi) -> None:
    arns = [task_arn(), task_arn()]
    api.scripted = [
        answer(
            409,
            {"error": "AmbiguousTaskId", "message": "2 recorded tasks have the id x", "details": {"taskArns": arns}},
        )
    ]

    run = cli("show", "x")

    assert run.code == 2  # a usage matter: name the task by its ARN
    assert run.err.splitlines()[1:] == [f"  {arn}" for arn in arns]


# --- costs (issue 19) ---------------------------------------------------------------------------------

COST_REPORT = {
    "month": "2026-12",
    "by": "tag:project",
    "currency": "USD",
    "rows": [
        {"scope": "tag:project=", "value": "", "usd": "0.00375", "tasks": 1, "unpricedTasks": 0, "reservedUsd": "0"},
        {
            "scope": "tag:project=qml",
            "value": "qml",
            "usd": "412.5",
            "tasks": 7,
            "unpricedTasks": 1,
            "reservedUsd": "80.3",
            "budget": {
                "monthlyUsd": "500",
                "percentUsed": "82.5",
                "remainingUsd": "7.2",
                "alertAt": ["50", "80"],
                "alertsSent": ["50", "80"],
            },
        },
        {
            "scope": "tag:project=chem",
            "value": "chem",
            "usd": "80.3",
            "tasks": 1,
            "unpricedTasks": 0,
            "reservedUsd": "0",
        },
    ],
    "totalUsd": "492.80375",
}


def test_costs_by_a_tag_is_a_table_with_a_bar_per_row(cli: Callable[..., Run], api: FakeTaskApi) -> None:
    api.scripted.append(answer(200, COST_REPORT))

    run = cli("costs", "--month", "2026-12", "--by", "project")

    assert run.code == 0, run.err
    (request,) = api.requests
    assert (request.path, request.query) == ("costs", {"month": "2026-12", "by": "tag:project", "limit": "1000"})
    lines = run.out.splitlines()
    assert "Costs in 2026-12 (UTC) by project: $492.80375 in all" in lines[0]
    qml, chem, untagged = (next(line for line in lines if name in line) for name in ("qml", "chem", "(none)"))
    assert "$412.50" in qml and "7 (1 unpriced)" in qml and "#" * 30 + " 83.7%" in qml and "82.5% of $500.00" in qml
    assert "$80.30" in chem and "#" * 6 + " 16.3%" in chem
    assert "$0.00375" in untagged and "# 0.0%" in untagged
    assert lines.index(qml) < lines.index(chem) < lines.index(untagged)  # the largest first


def test_costs_as_json_and_its_usage_errors(cli: Callable[..., Run], api: FakeTaskApi) -> None:
    api.scripted.append(answer(200, {**COST_REPORT, "by": "submitter", "rows": []}))

    run = cli("costs", "--by", "submitter", "-o", "json")

    assert (run.code, run.json()["rows"], run.json()["totalUsd"]) == (0, [], "0")
    assert api.requests[0].query["by"] == "submitter"
    assert cli("costs", "--month", "2026-13").code == 2
    assert cli("costs", "--by", "project=qml").code == 2


def test_costs_limits_asks_braket_now(cli: Callable[..., Run], api: FakeTaskApi) -> None:
    limit = {
        "spendingLimitArn": "arn:aws:braket:us-east-1:123456789012:spending-limit/b6951b86",
        "deviceArn": "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1",
        "spendingLimitUsd": "100",
        "totalSpendUsd": "40.25",
        "queuedSpendUsd": "8.3",
        "remainingUsd": "51.45",
        "startAt": "2026-12-01T00:00:00.000Z",
        "endAt": "2027-01-01T00:00:00.000Z",
        "reportedAt": "2026-12-06T12:00:00.000Z",
        "source": "search",
        "tracker": {"month": "2026-12", "usd": "40.25", "tasks": 3},
    }
    api.scripted.append(answer(200, {"limits": [limit], "problems": []}))

    run = cli("costs", "--limits")

    assert run.code == 0 and api.requests[0].path == "spending-limits"
    (row,) = [line for line in run.out.splitlines() if "Forte-1" in line]
    assert all(
        part in row for part in ("$100.00", "$40.25", "$8.30", "$51.45", "2026-12-01 .. 2027-01-01", "(3 tasks)")
    )

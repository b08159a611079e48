"""The Task API's pure logic: query plans and tokens, results.json summaries, submissions."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from tracker.constants import MAX_PROGRAM_BYTES, SUBMITTER_TAG
from tracker.logic import listing
from tracker.logic.results import MAX_DISTINCT_OUTCOMES, UnreadableResult, summarize
from tracker.logic.submission import (
    SubmitRequest,
    create_request,
    device_region,
    principal_matches,
    program_too_large,
    submitted_record,
    task_tags,
)

ACCOUNT = "123456789012"
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
FORTE = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"
GARNET = "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet"
HEADER = {"name": "braket.task_result.gate_model_task_result", "version": "1"}


def _plan(
    filters: listing.TaskFilters, token: str | None = None, keys: tuple[str, ...] = ("project",)
) -> listing.QueryPlan:
    return listing.plan(filters, account=ACCOUNT, promoted_tag_keys=keys, limit=25, token=token)


# --- listing ---


@pytest.mark.parametrize(
    ("filters", "index", "attribute", "value"),
    [
        (listing.TaskFilters(), "by-account", "account", ACCOUNT),
        (listing.TaskFilters(status="RUNNING"), "by-status", "status", "RUNNING"),
        (listing.TaskFilters(device=SV1), "by-device", "deviceArn", SV1),
        (listing.TaskFilters(submitter="arn:aws:iam::1:user/a"), "by-submitter", "submitter", "arn:aws:iam::1:user/a"),
        (listing.TaskFilters(tag="project=qaoa=v2"), "by-tag-project", "tag:project", "qaoa=v2"),
    ],
)
def test_each_filter_is_one_index(filters: listing.TaskFilters, index: str, attribute: str, value: str) -> None:
    plan = _plan(filters)

    assert (plan.index, plan.partition_attribute, plan.partition_value) == (index, attribute, value)
    assert plan.limit == 25


def test_two_filters_that_no_index_serves_are_refused() -> None:
    with pytest.raises(listing.PlanError, match="status and device"):
        _plan(listing.TaskFilters(status="RUNNING", device=SV1))


def test_a_tag_that_is_not_promoted_is_refused_with_the_promoted_keys() -> None:
    with pytest.raises(listing.PlanError, match="'team' is not a promoted tag key \\(project\\)"):
        _plan(listing.TaskFilters(tag="team=qml"))
    with pytest.raises(listing.PlanError, match="key=value"):
        _plan(listing.TaskFilters(tag="project"))


def test_created_range_is_half_open_on_the_sort_key() -> None:
    plan = _plan(
        listing.TaskFilters(
            status="COMPLETED", created_after="2026-11-20T08:00:00Z", created_before="2026-11-21T00:00:00+00:00"
        )
    )

    assert plan.created_from == "2026-11-20T08:00:00.000Z"
    assert plan.created_to == "2026-11-20T23:59:59.999Z"


@pytest.mark.parametrize(
    ("after", "before", "message"),
    [
        ("yesterday", None, "createdAfter"),
        ("2026-11-20T08:00:00", None, "createdAfter"),
        ("2026-11-21T00:00:00Z", "2026-11-20T00:00:00Z", "before"),
    ],
)
def test_bad_times_are_refused(after: str, before: str | None, message: str) -> None:
    with pytest.raises(listing.PlanError, match=message):
        _plan(listing.TaskFilters(created_after=after, created_before=before))


def test_a_token_continues_only_its_own_query() -> None:
    first = _plan(listing.TaskFilters(status="QUEUED"))
    last_key = {
        "taskArn": {"S": "arn:aws:braket:us-east-1:123456789012:quantum-task/abc"},
        "status": {"S": "QUEUED"},
        "createdAt": {"S": "2026-11-20T08:00:00.000Z"},
    }
    token = listing.encode_token(last_key, first)

    assert _plan(listing.TaskFilters(status="QUEUED"), token).start_key == last_key
    with pytest.raises(listing.PlanError, match="different query") as refused:
        _plan(listing.TaskFilters(status="RUNNING"), token)
    assert refused.value.token


@pytest.mark.parametrize(
    "token",
    [
        "not base64 !",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(json.dumps({"f": "x", "k": {}}).encode()).decode(),
    ],
)
def test_forged_tokens_are_refused(token: str) -> None:
    with pytest.raises(listing.PlanError) as refused:
        _plan(listing.TaskFilters(status="QUEUED"), token)
    assert refused.value.token


def test_a_token_with_other_key_attributes_is_refused() -> None:
    query = _plan(listing.TaskFilters(status="QUEUED"))
    token = listing.encode_token({"taskArn": {"S": "a"}, "deviceArn": {"S": SV1}, "createdAt": {"S": "t"}}, query)

    with pytest.raises(listing.PlanError, match="not one this API handed out"):
        _plan(listing.TaskFilters(status="QUEUED"), token)


# --- results.json ---


def test_counts_from_measurements() -> None:
    document = {
        "braketSchemaHeader": HEADER,
        "measurements": [[0, 0], [1, 1], [1, 1], [0, 1]],
        "measuredQubits": [0, 1],
        "taskMetadata": {"shots": 4},
    }

    summary = summarize(document)

    assert summary.kind == "gate-model"
    assert summary.counts == {"11": 2, "00": 1, "01": 1}
    assert list(summary.counts) == ["11", "00", "01"]  # most common first
    assert (summary.shots, summary.measured_qubits, summary.probabilities) == (4, [0, 1], None)


def test_exact_results_give_probabilities_by_basis_state() -> None:
    document = {
        "braketSchemaHeader": HEADER,
        "measuredQubits": [0, 1],
        "resultTypes": [
            {"type": {"type": "expectation", "observable": ["z"], "targets": [0]}, "value": 0.0},
            {"type": {"type": "probability"}, "value": [0.5, 0.0, 0.0, 0.5]},
        ],
        "taskMetadata": {"shots": 0},
    }

    summary = summarize(document)

    assert summary.probabilities == {"00": 0.5, "11": 0.5}
    assert summary.counts is None


def test_measurement_probabilities_are_passed_on() -> None:
    summary = summarize({"braketSchemaHeader": HEADER, "measurementProbabilities": {"01": 0.25, "10": 0.75}})

    assert summary.probabilities == {"01": 0.25, "10": 0.75}


def test_results_without_counts_are_named_by_kind() -> None:
    document = {
        "braketSchemaHeader": {"name": "braket.task_result.analog_hamiltonian_simulation_task_result", "version": "1"},
        "measurements": [{"shotMetadata": {}, "shotResult": {}}],
        "taskMetadata": {"shots": 10},
    }

    summary = summarize(document)

    assert (summary.kind, summary.shots, summary.counts) == ("analog-hamiltonian-simulation", 10, None)


def test_too_many_distinct_outcomes_leave_the_counts_out() -> None:
    width = MAX_DISTINCT_OUTCOMES.bit_length()
    measurements = [[int(bit) for bit in format(i, f"0{width}b")] for i in range(MAX_DISTINCT_OUTCOMES + 1)]

    summary = summarize({"braketSchemaHeader": HEADER, "measurements": measurements})

    assert summary.counts is None


@pytest.mark.parametrize("document", [[], {"measurements": []}, {"braketSchemaHeader": {}}])
def test_documents_that_are_not_results_are_refused(document: object) -> None:
    with pytest.raises(UnreadableResult):
        summarize(document)


# --- submissions ---


def test_program_size_is_counted_in_utf8_bytes() -> None:
    assert program_too_large("x" * MAX_PROGRAM_BYTES) is None
    assert program_too_large("é" * (MAX_PROGRAM_BYTES // 2 + 1)) == MAX_PROGRAM_BYTES + 2


@pytest.mark.parametrize(("device", "region"), [(SV1, "eu-west-2"), (FORTE, "us-east-1"), (GARNET, "eu-north-1")])
def test_a_device_runs_in_its_region_and_simulators_in_the_callers(device: str, region: str) -> None:
    assert device_region(device, "eu-west-2") == region


def test_fingerprint_tells_retries_from_new_requests() -> None:
    request = SubmitRequest(SV1, 100, "OPENQASM 3;", tags={"a": "1", "b": "2"})

    assert request.fingerprint() == SubmitRequest(SV1, 100, "OPENQASM 3;", tags={"b": "2", "a": "1"}).fingerprint()
    assert request.fingerprint() != SubmitRequest(SV1, 101, "OPENQASM 3;", tags={"a": "1", "b": "2"}).fingerprint()


def test_create_request_is_braket_shaped() -> None:
    request = SubmitRequest(SV1, 100, "OPENQASM 3; input float t;", inputs={"t": 0.5}, device_parameters={"x": 1})

    parameters = create_request(
        request, client_token="token", bucket="amazon-braket-b", prefix="tasks", tags={"a": "b"}
    )

    assert json.loads(parameters.pop("action")) == {
        "braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"},
        "source": "OPENQASM 3; input float t;",
        "inputs": {"t": 0.5},
    }
    assert json.loads(parameters.pop("deviceParameters")) == {"x": 1}
    assert parameters == {
        "clientToken": "token",
        "deviceArn": SV1,
        "shots": 100,
        "outputS3Bucket": "amazon-braket-b",
        "outputS3KeyPrefix": "tasks",
        "tags": {"a": "b"},
    }


def test_the_submitter_is_a_tag_when_it_fits() -> None:
    request = SubmitRequest(SV1, 1, "x", tags={"project": "p"})

    assert task_tags(request, "arn:aws:iam::1:user/a") == {"project": "p", SUBMITTER_TAG: "arn:aws:iam::1:user/a"}
    assert SUBMITTER_TAG not in task_tags(request, "arn:aws:sts::1:assumed-role/" + "r" * 300)


def test_the_submitted_record_is_created_with_no_events() -> None:
    arn = "arn:aws:braket:us-east-1:123456789012:quantum-task/abc"
    at = datetime(2026, 11, 20, 8, 0, 1, 450_000, tzinfo=UTC)

    record = submitted_record(
        arn,
        SubmitRequest(SV1, 10, "x"),
        submitter="me",
        tags={"a": "b"},
        bucket="amazon-braket-b",
        prefix="tasks",
        at=at,
    )

    assert record.status.value == "CREATED"
    assert record.event_ids == frozenset()
    assert record.created_at == "2026-11-20T08:00:01.450Z"
    assert record.last_event_at == "2026-11-20T08:00:01.000Z"  # event time resolution
    assert (record.origin, record.submitter, record.tags) == ("api", "me", {"a": "b"})
    assert record.results_uri == "s3://amazon-braket-b/tasks/abc/results.json"


@pytest.mark.parametrize(
    ("caller", "allowed", "expected"),
    [
        ("arn:aws:iam::123456789012:user/ada", ["arn:aws:iam::123456789012:user/ada"], True),
        ("arn:aws:sts::123456789012:assumed-role/Admin/ada", ["arn:aws:iam::123456789012:role/Admin"], True),
        ("arn:aws:sts::123456789012:assumed-role/Admin/ada", ["arn:aws:iam::123456789012:role/ops/Admin"], True),
        ("arn:aws:sts::123456789012:assumed-role/AdminX/ada", ["arn:aws:iam::123456789012:role/Admin"], False),
        ("arn:aws:sts::999999999999:assumed-role/Admin/ada", ["arn:aws:iam::123456789012:role/Admin"], False),
        ("arn:aws:iam::123456789012:user/bob", ["arn:aws:iam::123456789012:user/ada"], False),
        ("arn:aws:iam::123456789012:user/ada", [], False),
    ],
)
def test_admin_principals_match_users_and_role_sessions(caller: str, allowed: list[str], expected: bool) -> None:
    assert principal_matches(caller, allowed) is expected


def test_an_idempotency_key_always_fits_a_partition_key() -> None:
    from tracker.data.idempotency import MAX_KEY_BYTES, IdempotencyStore

    usual = IdempotencyStore.key_of("arn:aws:iam::123456789012:user/ada", "k-1")
    huge = IdempotencyStore.key_of("arn:aws:iam::123456789012:user/" + "\u00e9" * 1100, "k-1")

    assert usual == "arn:aws:iam::123456789012:user/ada#k-1"
    assert huge.startswith("sha256:") and huge.endswith("#k-1") and len(huge.encode()) <= MAX_KEY_BYTES

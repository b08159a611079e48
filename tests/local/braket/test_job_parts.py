"""The parts of local jobs that need no server: the failure reason, S3 URIs, the event shape (and the
fixtures that document it), the queue position, SearchJobs filters, and the container's rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local.braket.errors import ValidationException
from local.braket.jobs import container
from local.braket.jobs.events import job_state_change_entry
from local.braket.jobs.models import Job
from local.braket.jobs.responses import queue_info
from local.braket.jobs.runner import MAX_REASON, failure_reason
from local.braket.jobs.search import job_filter
from local.braket.jobs.workspace import StorageError, parse_s3_uri
from tests.support.events import load_fixture

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
BUCKETS = st.from_regex(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", fullmatch=True)
KEYS = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=60)


def job(name: str = "job", status: str = "QUEUED", created: datetime = T0, **extra: Any) -> Job:
    request = {"jobName": name, "deviceConfig": {"device": "arn:aws:braket:::device/quantum-simulator/amazon/sv1"}}
    arn = f"arn:aws:braket:us-east-1:123456789012:job/{name}-{created.timestamp():.0f}"
    return Job(arn=arn, region="us-east-1", request=request, created_at=created, status=status, **extra)


@given(text=st.text(min_size=1, max_size=3000), code=st.integers(min_value=1, max_value=255))
def test_a_failure_reason_is_braket_s_format_within_1024_characters(text: str, code: int) -> None:
    reason = failure_reason(text, code)

    assert 1 <= len(reason) <= MAX_REASON
    assert reason.startswith("AlgorithmError: ") and reason.endswith(f", exit code: {code}")
    body = reason[len("AlgorithmError: ") : -len(f", exit code: {code}")]
    assert body == text or (body.endswith("...") and text.startswith(body[:-3]))


def test_the_failure_reason_of_the_sdk_s_integration_test() -> None:
    text = "FileNotFoundError: [Errno 2] No such file or directory: 'fake_file'"
    expected = "AlgorithmError: FileNotFoundError: [Errno 2] No such file or directory: 'fake_file', exit code: 1"

    assert failure_reason(text, 1) == expected


@given(bucket=BUCKETS, key=KEYS)
def test_s3_uris_in_every_form_name_the_same_object(bucket: str, key: str) -> None:
    assert parse_s3_uri(f"s3://{bucket}/{key}") == (bucket, key)
    assert parse_s3_uri(f"https://s3.us-west-2.amazonaws.com/{bucket}/{key}") == (bucket, key)
    if "." not in bucket:
        assert parse_s3_uri(f"https://{bucket}.s3.us-west-2.amazonaws.com/{key}") == (bucket, key)


@pytest.mark.parametrize("uri", ["ftp://bucket/key", "https://example.com/bucket/key", "s3:/bucket", "bucket/key"])
def test_what_is_not_an_s3_uri_is_refused(uri: str) -> None:
    with pytest.raises(StorageError):
        parse_s3_uri(uri)


@pytest.mark.parametrize("fixture", ["job-lifecycle-completed.json", "job-lifecycle-cancelled.json"])
def test_local_mode_sends_the_shape_of_the_job_event_fixtures(fixture: str) -> None:
    events = load_fixture(fixture)
    for event in events:
        status = event["detail"]["status"]
        sent = job("fixture", status=status, started_at=T0 if "startedAt" in event["detail"] else None)
        sent.ended_at = T0 + timedelta(seconds=5) if status in ("COMPLETED", "FAILED", "CANCELLED") else None
        entry = job_state_change_entry(sent, status, T0)
        assert (entry["Source"], entry["DetailType"]) == (event["source"], event["detail-type"])
        assert entry["Resources"] == [sent.arn] and event["resources"] == [event["detail"]["jobArn"]]
        assert sorted(json.loads(entry["Detail"])) == sorted(event["detail"])


@pytest.mark.parametrize("status", ["QUEUED", "RUNNING", "CANCELLING", "COMPLETED", "FAILED", "CANCELLED"])
def test_event_times_are_iso_milliseconds_and_only_what_is_known(status: str) -> None:
    started = None if status == "QUEUED" else T0 + timedelta(seconds=1, microseconds=234567)
    sent = job(status=status, started_at=started)
    sent.ended_at = T0 + timedelta(seconds=9) if status in ("COMPLETED", "FAILED", "CANCELLED") else None

    detail = json.loads(job_state_change_entry(sent, status, T0)["Detail"])

    assert detail["jobArn"] == sent.arn and detail["status"] == status
    assert detail.get("startedAt") == (None if started is None else "2026-11-21T12:00:01.234Z")
    assert detail.get("endedAt") == (None if sent.ended_at is None else "2026-11-21T12:00:09.000Z")
    assert set(detail) <= {"jobArn", "status", "startedAt", "endedAt"}


def test_the_queue_position_counts_the_region_s_queued_jobs_and_stops_at_15() -> None:
    jobs = [job(f"j{i}", created=T0 + timedelta(seconds=i)) for i in range(17)]
    jobs.append(job("running", status="RUNNING", created=T0 - timedelta(seconds=1)))

    positions = [queue_info(j, jobs)["position"] for j in jobs]

    assert positions[:15] == [str(i) for i in range(1, 16)] and positions[15:17] == [">15", ">15"]
    assert queue_info(jobs[-1], jobs)["position"] == "None"


@given(names=st.lists(st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=8), min_size=1, max_size=6))
def test_job_name_contains_matches_as_substring_and_equal_as_whole(names: list[str]) -> None:
    jobs = [job(name, created=T0 + timedelta(seconds=i)) for i, name in enumerate(names)]
    needle = names[0][:2]

    contains = job_filter([{"name": "jobName", "operator": "CONTAINS", "values": [needle]}])
    equal = job_filter([{"name": "jobName", "operator": "EQUAL", "values": [needle]}])

    assert [j.name for j in jobs if contains(j)] == [n for n in names if needle in n]
    assert [j.name for j in jobs if equal(j)] == [n for n in names if n == needle]


def test_the_job_arn_filter_stands_alone() -> None:
    with pytest.raises(ValidationException, match="cannot be combined"):
        job_filter(
            [
                {"name": "jobArn", "operator": "EQUAL", "values": ["a"]},
                {"name": "createdAt", "operator": "GT", "values": ["2026-01-01T00:00:00Z"]},
            ]
        )


def test_hyperparameters_bind_all_or_nothing_and_convert_by_annotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hp_file = tmp_path / "hyperparameters.json"
    hp_file.write_text(json.dumps({"steps": "3", "rate": "0.5", "label": "x"}))
    monkeypatch.setenv("AMZN_BRAKET_HP_FILE", str(hp_file))

    # the job's own module, without this module's `from __future__ import annotations`
    functions: dict[str, Any] = {}
    source = (
        "def takes_all(steps: int, rate: float, label: str): pass\n"
        "def takes_some(steps: int): pass\n"
        "def takes_kwargs(**hyperparameters): pass\n"
        "def wrong_type(steps: int, rate: int, label: str): pass\n"
        "def postponed(steps: 'int', rate, label): pass\n"
    )
    exec(compile(source, "algo.py", "exec", dont_inherit=True), functions)

    assert container.hyperparameter_arguments(functions["takes_all"]) == {"steps": 3, "rate": 0.5, "label": "x"}
    assert container.hyperparameter_arguments(functions["takes_some"]) == {}  # binding fails: called with none
    assert container.hyperparameter_arguments(functions["takes_kwargs"]) == {"steps": "3", "rate": "0.5", "label": "x"}
    with pytest.raises(container.SetupFailed, match="ValueError: invalid literal for int"):
        container.hyperparameter_arguments(functions["wrong_type"])
    # as in Braket's container: a postponed (string) annotation is called as is, and fails
    with pytest.raises(container.SetupFailed, match="TypeError: 'str' object is not callable"):
        container.hyperparameter_arguments(functions["postponed"])
    monkeypatch.delenv("AMZN_BRAKET_HP_FILE")
    assert container.hyperparameter_arguments(functions["takes_some"]) == {}


def test_a_requirements_file_anywhere_in_the_source_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "sub" / "requirements.txt").write_text("numpy\n")

    with pytest.raises(container.SetupFailed, match=r"cannot install pkg/sub/requirements\.txt: it has no network"):
        container.refuse_requirements(tmp_path)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "algo.py").write_text("print('no requirements')")
    container.refuse_requirements(tmp_path / "other")  # nothing to install: nothing refused

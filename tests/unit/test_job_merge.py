"""A job's record is a pure function of the set of events and GetJob answers seen, in any order."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.job_domain import JobArn, JobDetails, JobEvent, JobStatus
from tracker.logic.job_merge import fold, merge, too_big
from tracker.logic.job_observation import observed_event
from tracker.models.job_item import awaits_notification, from_item, needs_check, to_item

JOB = JobArn.parse("arn:aws:braket:us-east-1:012345678901:job/5b7a2c1e-9d3f-4e6a-8c2b-1f0e9d8c7b6a")
TIMES = [f"2026-11-20T09:0{m}:{s:02d}.000Z" for m in range(3) for s in (0, 30)]

events = st.builds(
    JobEvent,
    event_id=st.sampled_from(["e1", "e2", "e3", "e4", "braket-api:COMPLETED"]),
    time=st.sampled_from(TIMES),
    job=st.just(JOB),
    status=st.sampled_from(list(JobStatus)),
    started_at=st.none() | st.sampled_from(TIMES),
    ended_at=st.none() | st.sampled_from(TIMES),
    unknown=st.dictionaries(st.sampled_from(["jobName", "x"]), st.sampled_from(['"a"', '"b"', "1"]), max_size=2),
)
answers = st.builds(
    JobDetails,
    complete=st.booleans(),
    observed_at=st.sampled_from(TIMES),
    status=st.none() | st.sampled_from(list(JobStatus)),
    job_name=st.sampled_from(["vqe", "qaoa"]),
    failure_reason=st.none() | st.just("AlgorithmError: ValueError: bad, exit code: 1"),
)


def _ended(event: JobEvent) -> JobEvent:
    """Events as the parser makes them: endedAt only on finished statuses."""
    return event if event.status.finished else JobEvent(**{**event.__dict__, "ended_at": None})


@settings(max_examples=300)
@given(st.lists(events, min_size=1, max_size=5), st.lists(answers, max_size=2), st.randoms())
def test_the_record_does_not_depend_on_order_or_repetition(
    seen: list[JobEvent], details: list[JobDetails], rng: Any
) -> None:
    seen = [_ended(e) for e in seen]
    inputs: list[tuple[JobEvent | None, JobDetails | None]] = [(e, None) for e in seen] + [(None, d) for d in details]
    first = _apply(inputs)
    shuffled = inputs * 2
    rng.shuffle(shuffled)
    # the first input must be an event (a record starts from one): move one to the front
    index = next(i for i, (event, _) in enumerate(shuffled) if event is not None)
    shuffled.insert(0, shuffled.pop(index))
    assert _apply(shuffled) == first


def _apply(inputs: list[tuple[JobEvent | None, JobDetails | None]]) -> Any:
    record = None
    for event, details in inputs:
        record = merge(record, event, details)
    return record


@given(st.lists(events, min_size=1, max_size=4).map(lambda es: [_ended(e) for e in es]))
def test_the_item_round_trips(seen: list[JobEvent]) -> None:
    record = fold(seen)
    assert record is not None
    assert from_item(to_item(record)) == record


def test_a_lifecycle_reads_as_a_person_expects() -> None:
    queued = JobEvent("e1", "2026-11-20T09:00:00.000Z", JOB, JobStatus.QUEUED)
    running = JobEvent("e2", "2026-11-20T09:00:41.000Z", JOB, JobStatus.RUNNING, started_at="2026-11-20T09:00:40.512Z")
    done = JobEvent(
        "e3",
        "2026-11-20T09:06:12.000Z",
        JOB,
        JobStatus.COMPLETED,
        "2026-11-20T09:00:40.512Z",
        "2026-11-20T09:06:11.873Z",
    )
    record = fold([done, queued, running])
    assert record is not None

    item = to_item(record)

    assert item["status"] == "COMPLETED"
    assert item["createdAt"] == "2026-11-20T09:00:00.000Z"  # no GetJob yet: the earliest time reported
    assert item["startedAt"] == "2026-11-20T09:00:40.512Z"
    assert item["endedAt"] == "2026-11-20T09:06:11.873Z"
    assert str(item["queueSeconds"]) == "40.512" and str(item["runSeconds"]) == "331.361"
    assert item["taskCounts"] == {"COMPLETED": 0, "FAILED": 0, "CANCELLED": 0}
    assert item["awaitingNotification"] == "us-east-1"
    assert item["unfinishedRegion"] == "us-east-1"  # finished, but Braket's final details are not in yet
    assert awaits_notification(record) and needs_check(record)


def test_getjob_names_the_final_status_and_its_times() -> None:
    completed = JobEvent("e1", "2026-11-20T09:06:12.000Z", JOB, JobStatus.COMPLETED)
    failed = JobEvent("e2", "2026-11-20T09:06:13.000Z", JOB, JobStatus.FAILED)
    said = JobDetails(
        complete=True,
        observed_at="2026-11-20T09:06:14.000Z",
        status=JobStatus.FAILED,
        created_at="2026-11-20T08:59:59.000Z",
        ended_at="2026-11-20T09:06:11.000Z",
        failure_reason="AlgorithmError: FileNotFoundError: fake_file, exit code: 1",
    )
    for order in itertools.permutations([(completed, None), (failed, None), (None, said)]):
        if order[0][0] is None:
            continue
        record = _apply(list(order))
        assert record.status is JobStatus.FAILED
        assert record.created_at == "2026-11-20T08:59:59.000Z"
        assert not needs_check(record)


def test_an_observed_status_is_an_event_with_a_fixed_id() -> None:
    said = JobDetails(complete=True, observed_at=TIMES[3], status=JobStatus.RUNNING, started_at=TIMES[1])
    event = observed_event(JOB, said, "reconciler")

    assert event is not None
    assert (event.event_id, event.time, event.origin) == ("braket-api:RUNNING", TIMES[1], "reconciler")
    assert observed_event(JOB, JobDetails(complete=False, observed_at=TIMES[0]), "event") is None


def test_a_record_with_too_many_events_is_refused() -> None:
    record = fold(JobEvent(f"e{i}", TIMES[0], JOB, JobStatus.RUNNING) for i in range(101))

    assert record is not None and "100 distinct events" in (too_big(record) or "")

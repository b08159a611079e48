"""Hybrid jobs in the synthesized stack: the jobs table (kept, encrypted, streamed, indexed as constants
say), the job functions' stream mappings and roles, and the environment each job path reads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.jobs import job_end_filters
from tests.infrastructure.helpers import LogicalIds, arn_of, grants, logical_id, ref, role_statements
from tests.support.app import SynthesizedApp
from tracker import constants

pytestmark = pytest.mark.infrastructure


@pytest.fixture(scope="module")
def job_table(resources: dict[str, Any], ids: LogicalIds) -> dict[str, Any]:
    return resources[ids.job_table]  # type: ignore[no-any-return]


def test_the_jobs_table_is_kept_encrypted_streamed_and_indexed(job_table: dict[str, Any]) -> None:
    properties = job_table["Properties"]
    assert job_table["DeletionPolicy"] == "Retain" and properties["DeletionProtectionEnabled"] is True
    assert properties["KeySchema"] == [{"AttributeName": "jobArn", "KeyType": "HASH"}]
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    indexes = {index["IndexName"]: index for index in properties["GlobalSecondaryIndexes"]}
    assert set(indexes) == {name for name, _, _ in constants.JOB_INDEXES}
    for name, partition, sort in constants.JOB_INDEXES:
        keys = [{"AttributeName": partition, "KeyType": "HASH"}] + (
            [{"AttributeName": sort, "KeyType": "RANGE"}] if sort else []
        )
        assert indexes[name]["KeySchema"] == keys
    assert indexes[constants.INDEX_UNFINISHED]["Projection"]["ProjectionType"] == "INCLUDE"


def _mappings(synthesized: SynthesizedApp, function: str) -> list[dict[str, Any]]:
    name = ref(logical_id(synthesized.stack, function))
    return [
        m["Properties"]
        for m in synthesized.resources_of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == name
    ]


def test_the_job_notifier_reads_the_jobs_stream_filtered_to_ends(synthesized: SynthesizedApp, ids: LogicalIds) -> None:
    (mapping,) = _mappings(synthesized, "JobFunctions/Notifier/Function")
    assert mapping["EventSourceArn"] == arn_of(ids.job_table, "StreamArn")
    assert [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]] == job_end_filters(False)
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": arn_of(ids.job_failures)}}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_job_notifier_may_read_and_mark_jobs_and_publish_only(
    resources: dict[str, Any], synthesized: SynthesizedApp, ids: LogicalIds
) -> None:
    role = logical_id(synthesized.stack, "JobFunctions/Notifier/Role")
    found = {grant for grant in grants(role_statements(resources, role)) if not grant[0].startswith(("logs:", "sqs:"))}
    table, stream = f"${{{ids.job_table}.Arn}}", f"${{{ids.job_table}.StreamArn}}"
    key = f"${{{ids.notification_key}.Arn}}"
    assert found == {
        ("dynamodb:GetItem", table),
        ("dynamodb:PutItem", table),
        ("sns:Publish", f"${{{ids.notification_topic}}}"),
        ("kms:GenerateDataKey", key),
        ("kms:Decrypt", key),
        *(
            (action, stream)
            for action in ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
        ),
        ("dynamodb:ListStreams", "*"),
    }


@pytest.mark.parametrize(
    ("function", "variables"),
    [
        ("Recording/Recorder/Function", {constants.ENV_JOB_TABLE, constants.ENV_GET_JOB_RATE}),
        ("LiveUpdates/Pusher/Function", {constants.ENV_JOB_TABLE}),
        ("Reconciliation/Reconciler/Function", {constants.ENV_JOB_TABLE, constants.ENV_GET_JOB_RATE}),
        ("TaskApi/Handler/Function", {constants.ENV_JOB_TABLE, constants.ENV_GET_JOB_RATE}),
    ],
)
def test_every_job_path_is_told_the_jobs_table_and_its_getjob_rate(
    resources: dict[str, Any], synthesized: SynthesizedApp, ids: LogicalIds, function: str, variables: set[str]
) -> None:
    environment = resources[logical_id(synthesized.stack, function)]["Properties"]["Environment"]["Variables"]
    assert variables <= set(environment)
    assert environment[constants.ENV_JOB_TABLE] == ref(ids.job_table)
    if constants.ENV_GET_JOB_RATE in variables:
        # far below GetJob's quota (5/s per account and Region): the recorder runs at most 5 instances
        assert float(environment[constants.ENV_GET_JOB_RATE]) * 5 < constants.GET_JOB_QUOTA

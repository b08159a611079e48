"""The task table (source of truth) and the rejected-events table."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infrastructure.helpers import LogicalIds
from tracker import constants

pytestmark = pytest.mark.infrastructure


@pytest.fixture(scope="module")
def task_table(resources: dict[str, Any], ids: LogicalIds) -> dict[str, Any]:
    return resources[ids.task_table]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def rejected_table(resources: dict[str, Any], ids: LogicalIds) -> dict[str, Any]:
    return resources[ids.rejected_table]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def indexes(task_table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {index["IndexName"]: index for index in task_table["Properties"]["GlobalSecondaryIndexes"]}


def test_task_table_is_keyed_by_task_arn_only(task_table: dict[str, Any]) -> None:
    assert task_table["Properties"]["KeySchema"] == [{"AttributeName": constants.TASK_KEY, "KeyType": "HASH"}]


def test_task_table_bills_per_request(task_table: dict[str, Any]) -> None:
    assert task_table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"


def test_task_table_has_point_in_time_recovery(task_table: dict[str, Any]) -> None:
    assert task_table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_task_table_has_deletion_protection(task_table: dict[str, Any]) -> None:
    assert task_table["Properties"]["DeletionProtectionEnabled"] is True


def test_task_table_is_retained_on_delete_and_replace(task_table: dict[str, Any]) -> None:
    assert task_table["DeletionPolicy"] == "Retain"
    assert task_table["UpdateReplacePolicy"] == "Retain"


def test_task_table_is_encrypted(task_table: dict[str, Any]) -> None:
    assert task_table["Properties"]["SSESpecification"]["SSEEnabled"] is True


def test_task_table_streams_new_and_old_images(task_table: dict[str, Any]) -> None:
    assert task_table["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_task_table_has_exactly_the_indexes_in_constants(indexes: dict[str, dict[str, Any]]) -> None:
    # cdk.json promotes the tag key "project": one more index, by-tag-project; and a job's tasks: by-job
    assert set(indexes) == {name for name, _, _ in constants.TASK_INDEXES} | {"by-tag-project", constants.INDEX_BY_JOB}
    assert len(indexes) == 9
    assert indexes[constants.INDEX_BY_JOB]["KeySchema"] == [
        {"AttributeName": "jobArn", "KeyType": "HASH"},
        {"AttributeName": "createdAt", "KeyType": "RANGE"},
    ]
    assert constants.INDEX_UNNOTIFIED in indexes


@pytest.mark.parametrize(
    ("name", "partition", "sort"), constants.TASK_INDEXES, ids=[name for name, _, _ in constants.TASK_INDEXES]
)
def test_task_table_index_has_key_schema_from_constants(
    indexes: dict[str, dict[str, Any]], task_table: dict[str, Any], name: str, partition: str, sort: str | None
) -> None:
    expected = [{"AttributeName": partition, "KeyType": "HASH"}]
    if sort:
        expected.append({"AttributeName": sort, "KeyType": "RANGE"})
    assert indexes[name]["KeySchema"] == expected
    # Index keys are strings (ISO timestamps sort lexically).
    types = {a["AttributeName"]: a["AttributeType"] for a in task_table["Properties"]["AttributeDefinitions"]}
    assert all(types[key["AttributeName"]] == "S" for key in expected)


def test_task_table_sparse_indexes_are_the_unfinished_and_unnotified_ones() -> None:
    assert constants.SPARSE_INDEXES == (constants.INDEX_UNFINISHED, constants.INDEX_UNNOTIFIED)
    keys = {name: (partition, sort) for name, partition, sort in constants.TASK_INDEXES}
    # Sparse: keyed by attributes that only some items have (removed once finished, or once notified).
    assert keys[constants.INDEX_UNFINISHED] == ("unfinishedRegion", "lastEventAt")
    assert keys[constants.INDEX_UNNOTIFIED] == ("awaitingNotification", "lastEventAt")


@pytest.mark.parametrize("name", constants.SPARSE_INDEXES)
def test_task_table_sparse_index_projects_only_what_reconciliation_needs(
    indexes: dict[str, dict[str, Any]], name: str
) -> None:
    assert indexes[name]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": list(constants.UNFINISHED_INDEX_PROJECTION),
    }
    assert sorted(constants.UNFINISHED_INDEX_PROJECTION) == ["deviceArn", "status", "taskId"]


def test_task_table_other_indexes_project_every_attribute(indexes: dict[str, dict[str, Any]]) -> None:
    others = set(indexes) - set(constants.SPARSE_INDEXES)
    assert len(others) == 7
    assert {name: indexes[name]["Projection"] for name in others} == {
        name: {"ProjectionType": "ALL"} for name in others
    }


def test_rejected_table_is_keyed_by_message_id(rejected_table: dict[str, Any]) -> None:
    assert rejected_table["Properties"]["KeySchema"] == [{"AttributeName": constants.REJECTED_KEY, "KeyType": "HASH"}]


def test_rejected_table_expires_items_on_ttl_attribute(rejected_table: dict[str, Any]) -> None:
    assert rejected_table["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": constants.REJECTED_TTL_ATTRIBUTE,
        "Enabled": True,
    }


def test_rejected_table_has_point_in_time_recovery(rejected_table: dict[str, Any]) -> None:
    assert rejected_table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_rejected_table_is_retained_on_delete_and_replace(rejected_table: dict[str, Any]) -> None:
    assert rejected_table["DeletionPolicy"] == "Retain"
    assert rejected_table["UpdateReplacePolicy"] == "Retain"

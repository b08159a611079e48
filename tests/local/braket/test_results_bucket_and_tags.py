"""Braket's rules on CreateQuantumTask: the results bucket (name prefix, existence, Region) and the task's tags."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local.braket import rules
from tests.local.braket.conftest import bucket_for, create_task, wait_for


def _rejected(client: Any, **params: Any) -> str:
    """The message of the ValidationException a CreateQuantumTask gets; and no task was created."""

    def arns() -> set[str]:
        return {t["quantumTaskArn"] for t in client.search_quantum_tasks(filters=[])["quantumTasks"]}

    before = arns()
    with pytest.raises(client.exceptions.ValidationException) as raised:
        create_task(client, **params)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert arns() == before
    return str(raised.value.response["Error"]["Message"])


def test_a_bucket_without_the_amazon_braket_prefix_is_refused_even_if_it_exists(
    braket: Callable[..., Any], aws: Callable[[str, str], Any]
) -> None:
    bucket = f"my-results-{uuid.uuid4().hex[:8]}"
    aws("s3", "us-east-1").create_bucket(Bucket=bucket)

    message = _rejected(braket("us-east-1"), outputS3Bucket=bucket)

    assert bucket in message and "amazon-braket-" in message


def test_a_bucket_in_another_region_is_refused(braket: Callable[..., Any]) -> None:
    message = _rejected(braket("us-east-1"), outputS3Bucket=bucket_for("eu-north-1"))

    assert bucket_for("eu-north-1") in message
    assert "eu-north-1" in message and "us-east-1" in message


def test_a_missing_bucket_is_refused(braket: Callable[..., Any]) -> None:
    message = _rejected(braket("us-west-2"), outputS3Bucket="amazon-braket-does-not-exist-here")

    assert message.startswith("Caller doesn't have access to s3://amazon-braket-does-not-exist-here")


@pytest.mark.parametrize("region", ["us-east-1", "eu-north-1"])
def test_the_regions_own_amazon_braket_bucket_is_accepted(braket: Callable[..., Any], region: str) -> None:
    client = braket(region)
    task = wait_for(client, create_task(client, outputS3Bucket=bucket_for(region)))

    assert (task["status"], task["outputS3Bucket"]) == ("COMPLETED", bucket_for(region))


def test_tags_at_their_limits_are_kept_and_returned(braket: Callable[..., Any]) -> None:
    client = braket()
    tags = {f"k{i:02d}": "v" for i in range(48)}
    tags |= {"k" * 128: "v" * 256, "empty value / +=.:_-@ é": ""}

    arn = create_task(client, tags=tags)

    assert client.get_quantum_task(quantumTaskArn=arn)["tags"] == tags
    found = client.search_quantum_tasks(filters=[{"name": "quantumTaskArn", "operator": "EQUAL", "values": [arn]}])
    assert found["quantumTasks"][0]["tags"] == tags


@pytest.mark.parametrize(
    ("tags", "mentions"),
    [
        ({"k" * 129: "v"}, "Member must have length less than or equal to 128"),
        ({"": "v"}, "Member must have length greater than or equal to 1"),
        ({"team": "v" * 257}, "Member must have length less than or equal to 256"),
        ({f"k{i}": "v" for i in range(51)}, "Map must have at most 50 entries"),
        ({"aws:team": "v"}, "reserved prefix 'aws:'"),
        ({"team": "a\nb"}, "regular expression pattern"),
        ({"te#am": "v"}, "regular expression pattern"),
    ],
    ids=["long key", "empty key", "long value", "51 tags", "aws: key", "newline in value", "# in key"],
)
def test_tags_outside_braket_rules_are_refused(braket: Callable[..., Any], tags: dict[str, str], mentions: str) -> None:
    message = _rejected(braket(), tags=tags)

    assert message.startswith("1 validation error detected: Value '")
    assert "at 'tags" in message and mentions in message


def test_every_tag_problem_is_reported_at_once(braket: Callable[..., Any]) -> None:
    message = _rejected(braket(), tags={"k" * 129: "v", "ok": "v" * 300})

    assert message.startswith("2 validation errors detected:")


_TAG_TEXT = st.text(st.sampled_from("abcwsXYZ019 _.:/=+-@é"), max_size=300)


@given(st.dictionaries(_TAG_TEXT, _TAG_TEXT, max_size=60))
def test_tag_rules_are_exactly_the_limits(tags: dict[str, str]) -> None:
    valid = (
        len(tags) <= rules.MAX_TAGS
        and all(1 <= len(k) <= 128 and not k.lower().startswith("aws:") for k in tags)
        and all(len(v) <= 256 for v in tags.values())
    )
    assert (rules.tag_errors(tags) == []) == valid


def test_tag_untag_and_list_tags_of_a_task(braket: Callable[..., Any]) -> None:
    client = braket()
    arn = create_task(client, tags={"team": "qml", "run": "1"})

    client.tag_resource(resourceArn=arn, tags={"run": "2", "owner": "ada"})
    tagged = client.list_tags_for_resource(resourceArn=arn)["tags"]
    client.untag_resource(resourceArn=arn, tagKeys=["team", "absent"])

    assert tagged == {"team": "qml", "run": "2", "owner": "ada"}
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"run": "2", "owner": "ada"}
    assert client.get_quantum_task(quantumTaskArn=arn)["tags"] == {"run": "2", "owner": "ada"}


def test_tagging_checks_the_resource_and_the_tags(braket: Callable[..., Any]) -> None:
    client, other_region = braket(), braket("eu-north-1")
    arn = create_task(client)
    unknown = "arn:aws:braket:us-east-1:123456789012:quantum-task/00000000-0000-0000-0000-000000000000"

    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_tags_for_resource(resourceArn=unknown)
    with pytest.raises(other_region.exceptions.ResourceNotFoundException):
        other_region.tag_resource(resourceArn=arn, tags={"a": "b"})  # a task is found in its own Region only
    with pytest.raises(client.exceptions.ValidationException):
        client.tag_resource(resourceArn=arn, tags={"aws:reserved": "x"})
    with pytest.raises(client.exceptions.ValidationException):
        client.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(51)})
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {}


def test_bucket_location_of_us_east_1_and_the_legacy_eu() -> None:
    assert rules.bucket_region({"LocationConstraint": None}) == "us-east-1"
    assert rules.bucket_region({}) == "us-east-1"
    assert rules.bucket_region({"LocationConstraint": "EU"}) == "eu-west-1"
    assert rules.bucket_region({"LocationConstraint": "eu-north-1"}) == "eu-north-1"

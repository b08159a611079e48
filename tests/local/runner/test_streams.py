"""DynamoDB stream event source mappings: filters, Lambda's record shape, bisect, retries, on-failure."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.local.runner import templates
from tests.local.runner.moto_stack import ACCOUNT, REGION, Deployed, QueueReader
from tests.local.runner.test_patterns import FINISHES, INSERTED_FINISHED

ARN = "arn:aws:braket:us-east-1:123456789012:quantum-task/"


def stream_stack(destination: str) -> dict[str, Any]:
    on_failure = {"Fn::GetAtt": ["Failures", "Arn"]} if destination == "queue" else {"Ref": "FailureTopic"}
    return templates.stack(
        Tasks=templates.table(),
        Output=templates.queue(),
        Failures=templates.queue(),
        FailureTopic={"Type": "AWS::SNS::Topic"},
        Notifier=templates.function("stream.handler", timeout=10, OUTPUT_QUEUE_URL={"Ref": "Output"}),
        Mapping=templates.stream_mapping(
            "Notifier",
            "Tasks",
            BatchSize=10,
            MaximumBatchingWindowInSeconds=1,  # the three matching records make one batch, to be bisected
            FilterCriteria={"Filters": [{"Pattern": FINISHES}, {"Pattern": INSERTED_FINISHED}]},
            MaximumRetryAttempts=1,
            BisectBatchOnFunctionError=True,
            DestinationConfig={"OnFailure": {"Destination": on_failure}},
        ),
    )


def put(table: Any, name: str, task: str, status: str, **extra: dict[str, str]) -> None:
    item = {"taskArn": {"S": ARN + task}, "status": {"S": status}, **extra}
    table.put_item(TableName=name, Item=item)


@pytest.mark.parametrize("destination", ["queue", "topic"])
def test_stream_mapping_filters_retries_and_reports_failures(
    deploy: Callable[[dict[str, Any]], Deployed], destination: str
) -> None:
    deployed = deploy(stream_stack(destination))
    aws, physical = deployed.aws, deployed.physical
    if destination == "topic":
        failures_arn = aws.client("sqs").get_queue_attributes(
            QueueUrl=physical["Failures"], AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        aws.client("sns").subscribe(
            TopicArn=physical["FailureTopic"],
            Protocol="sqs",
            Endpoint=failures_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
    dynamodb, table = aws.client("dynamodb"), physical["Tasks"]
    stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    output = QueueReader(aws, physical["Output"])
    failures = QueueReader(aws, physical["Failures"])

    with deployed.running():
        put(dynamodb, table, "a", "CREATED")  # INSERT unfinished: filtered out
        put(dynamodb, table, "a", "RUNNING")  # MODIFY between unfinished statuses: filtered out
        put(dynamodb, table, "a", "COMPLETED")  # MODIFY into a finished status
        put(dynamodb, table, "b", "FAILED")  # INSERT already finished
        put(dynamodb, table, "c", "COMPLETED", poison={"BOOL": True})  # the function always fails on it
        put(dynamodb, table, "b", "FAILED", note={"S": "late"})  # MODIFY of a finished task: filtered out
        [failure] = failures.until(1)
        delivered = output.until(2)

    assert [(r["eventName"], r["dynamodb"]["Keys"]["taskArn"]["S"]) for r in delivered] == [
        ("MODIFY", ARN + "a"),
        ("INSERT", ARN + "b"),
    ]
    modify = delivered[0]
    assert modify["eventSource"] == "aws:dynamodb"
    assert modify["eventSourceARN"] == stream_arn
    assert modify["awsRegion"] == REGION
    assert modify["eventID"] and modify["eventVersion"]
    change = modify["dynamodb"]
    assert isinstance(change["ApproximateCreationDateTime"], int)
    assert change["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert change["NewImage"]["status"] == {"S": "COMPLETED"}
    assert change["OldImage"]["status"] == {"S": "RUNNING"}
    assert change["SequenceNumber"].isdigit() and change["SizeBytes"] > 0

    poison_sequence = _sequence_number_of(aws, stream_arn, ARN + "c")
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["functionArn"] == (
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{physical['Notifier']}"
    )
    assert failure["requestContext"]["approximateInvokeCount"] == 2  # the first try and one retry
    assert failure["responseContext"]["functionError"] == "Unhandled"
    info = failure["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == poison_sequence  # bisected down to it
    assert info["batchSize"] == 1
    assert info["streamArn"] == stream_arn
    assert info["shardId"].startswith("shardId-")


def _sequence_number_of(aws: Any, stream_arn: str, task_arn: str) -> str:
    streams = aws.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    [found] = [r for r in records if r["dynamodb"]["Keys"]["taskArn"]["S"] == task_arn]
    return str(found["dynamodb"]["SequenceNumber"])


def test_the_starting_position_latest_skips_older_records(deploy: Callable[[dict[str, Any]], Deployed]) -> None:
    deployed = deploy(stream_stack("queue"))
    dynamodb, table = deployed.aws.client("dynamodb"), deployed.physical["Tasks"]
    output = QueueReader(deployed.aws, deployed.physical["Output"])
    put(dynamodb, table, "before", "COMPLETED")
    with deployed.running():
        put(dynamodb, table, "after", "COMPLETED")
        delivered = output.until(1)
    assert [json.dumps(r["dynamodb"]["Keys"]) for r in delivered] == [json.dumps({"taskArn": {"S": ARN + "after"}})]

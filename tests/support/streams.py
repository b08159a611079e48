"""The task table's stream, read with the dynamodbstreams API (moto server), as a function's event
source mapping delivers it: in Lambda's record shape, with the mapping's synthesized filter applied."""

from __future__ import annotations

import json
from typing import Any

import boto3

from local.runner.patterns import FilterCriteria
from local.runner.streams import StreamSource, lambda_record
from tests.support.app import SynthesizedApp


class FilteredStream:
    def __init__(self, table: str, synthesized: SynthesizedApp, function: str, key: str = "taskArn") -> None:
        """`function`: a part of the construct path of the function whose stream mapping filters; `table`: the
        physical name of a table made by create_tables_from_template (its logical id after the last dash)."""
        self.client = boto3.client("dynamodbstreams")
        self.key = key
        description = boto3.client("dynamodb").describe_table(TableName=table)["Table"]
        self.source = StreamSource(description["LatestStreamArn"], "us-east-1")
        logical_id = table.rsplit("-", 1)[-1]
        (mapping,) = [
            r["Properties"]
            for r in synthesized.resources.values()
            if r["Type"] == "AWS::Lambda::EventSourceMapping"
            and "StreamArn" in json.dumps(r["Properties"])
            and logical_id in json.dumps(r["Properties"]["EventSourceArn"])
            and function in json.dumps(r["Properties"]["FunctionName"])
        ]
        self.filters = FilterCriteria([f["Pattern"] for f in mapping["FilterCriteria"]["Filters"]])

    def records(self, task_arns: set[str]) -> list[dict[str, Any]]:
        """Every record of these tasks since the stream began, as Lambda would deliver them after filtering."""
        found = []
        for shard in self.client.describe_stream(StreamArn=self.source.arn)["StreamDescription"]["Shards"]:
            iterator = self.client.get_shard_iterator(
                StreamArn=self.source.arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while iterator:
                page = self.client.get_records(ShardIterator=iterator, Limit=1000)
                for raw in page["Records"]:
                    record = lambda_record(raw, self.source)
                    if record["dynamodb"]["Keys"][self.key]["S"] in task_arns and self.filters.matches(record):
                        found.append(record)
                iterator = page.get("NextShardIterator") if page["Records"] else None
        return found

    def tail(self) -> StreamTail:
        """A reader of the records written from now on: each call reads only what is new, not the
        stream's whole past (which grows with every test of the session)."""
        return StreamTail(self)


class StreamTail:
    def __init__(self, stream: FilteredStream) -> None:
        self.stream = stream
        shards = stream.client.describe_stream(StreamArn=stream.source.arn)["StreamDescription"]["Shards"]
        self.iterators = {
            shard["ShardId"]: stream.client.get_shard_iterator(
                StreamArn=stream.source.arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            for shard in shards
        }

    def records(self, task_arns: set[str]) -> list[dict[str, Any]]:
        """The records of these tasks written since the last call, filtered as Lambda would."""
        found = []
        for shard in self.iterators:
            while self.iterators[shard]:
                page = self.stream.client.get_records(ShardIterator=self.iterators[shard], Limit=1000)
                for raw in page["Records"]:
                    record = lambda_record(raw, self.stream.source)
                    if record["dynamodb"]["Keys"][self.stream.key]["S"] in task_arns and self.stream.filters.matches(
                        record
                    ):
                        found.append(record)
                self.iterators[shard] = page.get("NextShardIterator")
                if not page["Records"]:
                    break
        return found

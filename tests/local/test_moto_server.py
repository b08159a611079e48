"""Local AWS: moto's DynamoDB answers one request at a time, so a conditional write is atomic as in DynamoDB."""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local.aws import AtomicDynamoDB, MotoServer

TABLE = f"counter-{uuid.uuid4().hex[:8]}"


class Overlap:
    """A WSGI app that takes a while and remembers how many requests it served at once."""

    def __init__(self) -> None:
        self.running = self.most = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.02)
        with self._lock:
            self.running -= 1
        start_response("200 OK", [])
        return [b"{}"]


@pytest.mark.parametrize(("target", "at_once"), [("DynamoDB_20120810.PutItem", 1), ("AmazonSQS.SendMessage", 8)])
def test_dynamodb_requests_are_served_one_at_a_time_and_the_others_concurrently(target: str, at_once: int) -> None:
    app = Overlap()
    atomic = AtomicDynamoDB(app)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: atomic({"HTTP_X_AMZ_TARGET": target}, lambda *a: None), range(8)))

    assert app.most == at_once


def test_concurrent_optimistic_writes_to_one_item_lose_no_update() -> None:
    # moto serves in this process: switching threads often makes its check-then-write race show every time.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    server = MotoServer.start()
    try:
        dynamodb = server.client("dynamodb", "us-east-1")
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.put_item(TableName=TABLE, Item={"id": {"S": "x"}, "count": {"N": "0"}, "writers": {"SS": ["-"]}})

        def increment(writer: int) -> None:
            # Read, then write only if nobody wrote in between (the recorder's optimistic write).
            while True:
                item = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "x"}}, ConsistentRead=True)["Item"]
                count = int(item["count"]["N"])
                try:
                    dynamodb.put_item(
                        TableName=TABLE,
                        Item={
                            "id": {"S": "x"},
                            "count": {"N": str(count + 1)},
                            "writers": {"SS": [*item["writers"]["SS"], str(writer)]},
                        },
                        ConditionExpression="#c = :expected",
                        ExpressionAttributeNames={"#c": "count"},
                        ExpressionAttributeValues={":expected": {"N": str(count)}},
                    )
                    return
                except dynamodb.exceptions.ConditionalCheckFailedException:
                    continue

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(increment, range(60)))
        item = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "x"}}, ConsistentRead=True)["Item"]
    finally:
        assert server.server is not None
        server.server.stop()  # not MotoServer.stop: its reset would empty the backends other tests share
        sys.setswitchinterval(interval)

    assert int(item["count"]["N"]) == 60
    assert set(item["writers"]["SS"]) == {"-", *map(str, range(60))}


def test_a_sum_back_to_zero_is_stored_as_dynamodb_stores_it_and_adds_again() -> None:
    """0.00375 + -0.00375 is "0" in DynamoDB; moto kept "0E-5", and its next ADD raised ValueError (a
    cancelled transaction): the cost totals of a task whose cost moved back and forth."""
    server = MotoServer.start()
    table = f"sums-{uuid.uuid4().hex[:8]}"
    try:
        dynamodb = server.client("dynamodb", "us-east-1")
        dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        key = {"id": {"S": "total"}}
        for usd in ("0.00375", "-0.00375", "0.5"):
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": table,
                            "Key": key,
                            "UpdateExpression": "ADD usd :usd",
                            "ExpressionAttributeValues": {":usd": {"N": usd}},
                        }
                    }
                ]
            )
            if usd == "-0.00375":
                zero = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["usd"]["N"]
        item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    finally:
        assert server.server is not None
        server.server.stop()  # not MotoServer.stop: its reset would empty the backends other tests share

    assert zero == "0"
    assert item["usd"]["N"] == "0.5"

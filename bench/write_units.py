"""DynamoDB's write units for a table and its indexes, as the cost model counts them (bench/cost_model.py):
item sizes by DynamoDB's rules, and the indexes read from the synthesized template."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (strings by UTF-8 length, numbers by digits)."""

    def value(v: Any) -> int:
        if isinstance(v, str):
            return len(v.encode())
        if isinstance(v, bool) or v is None:
            return 1
        if isinstance(v, (int, float, Decimal)):
            return (len(str(v).lstrip("-").replace(".", "")) + 1) // 2 + 1
        if isinstance(v, (set, frozenset, list, tuple)):
            return 3 + sum(value(x) + 1 for x in v)
        if isinstance(v, dict):
            return 3 + sum(len(k.encode()) + value(x) + 1 for k, x in v.items())
        raise TypeError(type(v))

    return sum(len(name.encode()) + value(v) for name, v in item.items())


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str
    included: tuple[str, ...]

    def image(self, item: dict[str, Any] | None, table_keys: tuple[str, ...]) -> dict[str, Any] | None:
        if item is None or not all(key in item for key in self.keys):
            return None  # a sparse index holds only items with every key attribute
        if self.projection == "ALL":
            return item
        names = set(self.keys) | set(table_keys) | set(self.included)
        return {name: v for name, v in item.items() if name in names}


def units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def write_units(old: dict[str, Any] | None, new: dict[str, Any], indexes: list[Index], keys: tuple[str, ...]) -> int:
    """A write's units: the table (the larger image), then each index: put, delete, or update."""
    total = units(max(item_size(old or {}), item_size(new)))
    for index in indexes:
        before, after = index.image(old, keys), index.image(new, keys)
        if before is None and after is None:
            continue
        if before is None:
            total += units(item_size(after or {}))
        elif after is None:
            total += units(item_size(before))
        elif any(before.get(k) != after.get(k) for k in index.keys):
            total += units(item_size(before)) + units(item_size(after))  # a key change: delete and put
        elif before != after:
            total += units(item_size(after))
    return total


def task_table(template: dict[str, Any]) -> tuple[list[Index], tuple[str, ...]]:
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::DynamoDB::Table" and props["KeySchema"][0]["AttributeName"] == "taskArn":
            indexes = [
                Index(
                    g["IndexName"],
                    tuple(k["AttributeName"] for k in g["KeySchema"]),
                    g["Projection"]["ProjectionType"],
                    tuple(g["Projection"].get("NonKeyAttributes", ())),
                )
                for g in props.get("GlobalSecondaryIndexes", [])
            ]
            return indexes, tuple(k["AttributeName"] for k in props["KeySchema"])
    raise LookupError("no task table in the template")

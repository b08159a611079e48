"""A total's share of a cost transaction is an expression DynamoDB takes, whatever the delta."""

from __future__ import annotations

from decimal import Decimal

from tracker.data.cost_totals import total_adds, total_update
from tracker.logic.totals import Delta


def test_a_delta_that_moves_nothing_only_sets_updated_at() -> None:
    update = total_update("totals", ("2026-12", "account"), Delta(), "2026-12-06T00:00:00.000Z")["Update"]

    assert total_adds(Delta()) == {}
    assert update["UpdateExpression"] == "SET updatedAt = :now"  # not "ADD  SET ...": a syntax error
    assert set(update["ExpressionAttributeValues"]) == {":now"}


def test_a_delta_adds_what_it_moves() -> None:
    delta = Delta(usd=Decimal("0.00375"), tasks=1)  # committedUsd moves with usd
    update = total_update("totals", ("2026-12", "account"), delta, "2026-12-06T00:00:00.000Z")["Update"]

    assert update["UpdateExpression"] == "ADD usd :usd, tasks :tasks, committedUsd :committedUsd SET updatedAt = :now"

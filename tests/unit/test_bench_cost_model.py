"""The cost model's write units (bench/write_units.py): DynamoDB's rules for a table and its indexes."""

from __future__ import annotations

from bench.write_units import Index, item_size, write_units

KEYS = ("taskArn",)
BY_STATUS = Index("by-status", ("status", "createdAt"), "ALL", ())
SPARSE = Index("unfinished", ("unfinishedRegion", "lastEventAt"), "INCLUDE", ("status",))


def item(status: str, **extra: str) -> dict[str, object]:
    return {"taskArn": "arn", "status": status, "createdAt": "2026-11-20T08:00:00.000Z", **extra}


def test_a_small_item_costs_one_unit_in_the_table_alone() -> None:
    assert write_units(None, item("CREATED"), [], KEYS) == 1


def test_an_item_over_a_kilobyte_costs_a_unit_per_started_kilobyte() -> None:
    big = item("CREATED", blob="x" * 1500)

    assert 1024 < item_size(big) <= 2048
    assert write_units(None, big, [], KEYS) == 2


def test_a_key_change_in_an_index_is_a_delete_and_a_put() -> None:
    assert write_units(item("QUEUED"), item("RUNNING"), [BY_STATUS], KEYS) == 1 + 2


def test_an_attribute_change_in_an_all_index_is_one_write() -> None:
    assert write_units(item("RUNNING"), item("RUNNING", note="x"), [BY_STATUS], KEYS) == 1 + 1


def test_a_sparse_index_is_written_only_while_the_item_has_its_keys() -> None:
    unfinished = item("RUNNING", unfinishedRegion="us-east-1", lastEventAt="t1")
    finished = item("COMPLETED", lastEventAt="t2")

    assert write_units(None, item("CREATED"), [SPARSE], KEYS) == 1  # not in the index
    assert write_units(item("CREATED"), unfinished, [SPARSE], KEYS) == 1 + 1  # put
    assert write_units(unfinished, finished, [SPARSE], KEYS) == 1 + 1  # delete


def test_an_include_index_ignores_attributes_it_does_not_project() -> None:
    before = item("RUNNING", unfinishedRegion="us-east-1", lastEventAt="t1")
    after = {**before, "note": "not projected"}

    assert write_units(before, after, [SPARSE], KEYS) == 1


def test_brakets_prices_come_from_the_shipped_catalogue_not_from_the_model() -> None:
    from bench.cost_model import CATALOGUE, braket_costs

    priced, catalogue = braket_costs()

    assert dict(priced)["SV1, the 3 s minimum"] == 0.00375  # $0.075 a minute, 3 s
    assert dict(priced)["IonQ Forte-1, 1,000 shots"] == 80.3  # $0.30 + 1,000 x $0.08
    assert catalogue.startswith("taken 2026-09-11T12:44:10Z, version ")
    assert CATALOGUE == "lambdas/tracker/data/price-catalogue.json"  # a path in the repository

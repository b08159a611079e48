"""Where the functions find the price catalogue: shipped with their code, and stored in the prices
table by the prices function. The newer of the two (by `takenAt`) is the one in use.

The prices table holds `current`, the catalogue in use, and one `version#<digest>` item for every
distinct catalogue taken, so the prices behind any task's `costBasis.catalogueVersion` can be read
back. Each item is plain: the catalogue's date, version and counts, and the document as JSON text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from tracker.constants import PRICES_KEY
from tracker.logic.catalogue import InvalidCatalogue, PriceCatalogue, catalogue_from_json, catalogue_to_json

SHIPPED_CATALOGUE = Path(__file__).with_name("price-catalogue.json")
CURRENT = "current"
VERSION_PREFIX = "version#"
MAX_DOCUMENT_BYTES = 380 * 1024
"""DynamoDB's item limit is 400 KB, attribute names and the other attributes included."""


def shipped_catalogue(path: Path = SHIPPED_CATALOGUE) -> PriceCatalogue:
    return catalogue_from_json(path.read_bytes())


class CatalogueTooLarge(ValueError):
    pass


class CatalogueStore:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = client or boto3.client("dynamodb")

    def load(self) -> PriceCatalogue | None:
        """The stored catalogue in use (None before the first refresh). Raises InvalidCatalogue."""
        item = self._client.get_item(TableName=self.table_name, Key={PRICES_KEY: {"S": CURRENT}}).get("Item")
        if item is None:
            return None
        document = item.get("document", {}).get("S")
        if document is None:
            raise InvalidCatalogue("the stored catalogue has no document")
        return catalogue_from_json(document)

    def save(self, catalogue: PriceCatalogue) -> Saved:
        """Store a freshly taken catalogue as the one in use, unless a later one is stored already.

        Safe to repeat and to run concurrently: each write is conditional (on the version's absence,
        and on the stored catalogue's `takenAt`).
        """
        document = catalogue_to_json(catalogue)
        if len(document.encode()) > MAX_DOCUMENT_BYTES:
            raise CatalogueTooLarge(f"the catalogue is {len(document.encode())} bytes: over {MAX_DOCUMENT_BYTES}")
        attributes = {
            "version": {"S": catalogue.version},
            "takenAt": {"S": catalogue.taken_at},
            "priceCount": {"N": str(len(catalogue.prices))},
            "document": {"S": document},
        }
        if catalogue.publication_date:
            attributes["publicationDate"] = {"S": catalogue.publication_date}
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item={PRICES_KEY: {"S": VERSION_PREFIX + catalogue.version}, **attributes},
                ConditionExpression="attribute_not_exists(#key)",
                ExpressionAttributeNames={"#key": PRICES_KEY},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        try:
            answer = self._client.put_item(
                TableName=self.table_name,
                Item={PRICES_KEY: {"S": CURRENT}, **attributes},
                ConditionExpression="attribute_not_exists(#key) OR takenAt <= :takenAt",
                ExpressionAttributeNames={"#key": PRICES_KEY},
                ExpressionAttributeValues={":takenAt": {"S": catalogue.taken_at}},
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return Saved(stored=False, previous_version=None)
        previous = answer.get("Attributes", {}).get("version", {}).get("S")
        return Saved(stored=True, previous_version=str(previous) if previous else None)


@dataclass(frozen=True)
class Saved:
    stored: bool
    """False when a catalogue taken later is stored already."""
    previous_version: str | None


class CatalogueSource:
    """The catalogue to price with: the stored one if it is newer than the shipped one.

    The stored one is read again at most every `max_age` seconds (prices change a few times a year;
    a read is one GetItem). If the table cannot be read, or holds a catalogue this code cannot
    trust, the last good one (or the shipped one) is used and `last_error` says why.
    """

    def __init__(
        self,
        store: CatalogueStore | None,
        shipped: PriceCatalogue | None = None,
        max_age: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._catalogue = shipped or shipped_catalogue()
        self._max_age = max_age
        self._clock = clock
        self._read_at: float | None = None
        self.last_error: str | None = None

    def current(self) -> PriceCatalogue:
        now = self._clock()
        if self._store is None or (self._read_at is not None and now - self._read_at < self._max_age):
            return self._catalogue
        self._read_at = now
        try:
            stored = self._store.load()
        except (ClientError, BotoCoreError, InvalidCatalogue) as exc:
            self.last_error = f"the stored price catalogue could not be read: {exc}"
            return self._catalogue
        self.last_error = None
        if stored is not None and stored.taken_at > self._catalogue.taken_at:
            self._catalogue = stored
        return self._catalogue

"""moto server on 127.0.0.1, and AWS resources created from the synthesized template."""

from __future__ import annotations

from typing import Any

from moto.server import ThreadedMotoServer

from local.aws import _LocalMotoServer

_TABLE_PROPERTIES = (
    "KeySchema",
    "AttributeDefinitions",
    "BillingMode",
    "GlobalSecondaryIndexes",
    "StreamSpecification",
)


def start_moto_server() -> tuple[ThreadedMotoServer, str]:
    """moto's threaded server with DynamoDB's writes atomic, as local mode runs it (local.aws): two
    concurrent conditional writes (or transactions) never both pass, as in DynamoDB."""
    server = _LocalMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def create_tables_from_template(client: Any, resources: dict[str, Any], prefix: str) -> dict[str, str]:
    """Create every DynamoDB table of the template, keyed and indexed exactly as synthesized.

    Returns the physical table name for each table's partition key attribute.
    """
    names: dict[str, str] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        properties = {k: v for k, v in resource["Properties"].items() if k in _TABLE_PROPERTIES}
        if "StreamSpecification" in properties:  # CloudFormation implies StreamEnabled; the API does not
            properties["StreamSpecification"] = {**properties["StreamSpecification"], "StreamEnabled": True}
        name = f"{prefix}-{logical_id}"
        client.create_table(TableName=name, **properties)
        ttl = resource["Properties"].get("TimeToLiveSpecification")
        if ttl:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        names[properties["KeySchema"][0]["AttributeName"]] = name
    return names

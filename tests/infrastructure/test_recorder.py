"""The recorder function, its event source mapping and the Powertools layer it runs with."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stacks import recorder
from stacks.config import ConfigurationError, LatencySettings
from tests.infrastructure.helpers import PROJECT_ROOT, LogicalIds, arn_of, ref
from tests.support.app import SynthesizedApp
from tracker import constants
from tracker.config import RecorderConfig

pytestmark = pytest.mark.infrastructure

POWERTOOLS_PARAMETER = "/aws/service/powertools/python/arm64/python3.14/{version}"


@pytest.fixture(scope="module")
def function(resources: dict[str, Any], ids: LogicalIds) -> dict[str, Any]:
    return resources[ids.function]["Properties"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def mapping(synthesized: SynthesizedApp, ids: LogicalIds) -> dict[str, Any]:
    """The recorder's one event source mapping (the notifier's: test_notifications)."""
    (mapping,) = (
        mapping["Properties"]
        for mapping in synthesized.resources_of_type("AWS::Lambda::EventSourceMapping").values()
        if mapping["Properties"]["FunctionName"] == ref(ids.function)
    )
    return mapping  # type: ignore[no-any-return]


def test_recorder_runs_python_3_14_on_arm64(function: dict[str, Any]) -> None:
    assert function["Runtime"] == "python3.14"
    assert function["Architectures"] == ["arm64"]


def test_recorder_handler_is_in_the_code_asset(function: dict[str, Any], synthesized: SynthesizedApp) -> None:
    assert function["Handler"] == "tracker.recorder.handler.lambda_handler"
    asset = synthesized.outdir / f"asset.{function['Code']['S3Key'].removesuffix('.zip')}"
    handler = asset / "tracker" / "recorder" / "handler.py"
    assert re.search(r"^def lambda_handler\(", handler.read_text(), re.MULTILINE)
    assert not list(asset.rglob("__pycache__"))


AARCH64_LINUX = re.compile(r"(aarch64|arm64)")


def test_recorder_asset_is_pure_python_and_small(function: dict[str, Any], synthesized: SynthesizedApp) -> None:
    # boto3 comes with the runtime and Powertools with the layer, so the asset is our code alone.
    # Should a compiled wheel ever be bundled, it must be the Linux aarch64 build.
    asset = synthesized.outdir / f"asset.{function['Code']['S3Key'].removesuffix('.zip')}"
    files = [path for path in asset.rglob("*") if path.is_file()]
    compiled = [path for path in files if path.suffix == ".so" or ".so." in path.name]

    assert sum(path.stat().st_size for path in files) < 1_000_000
    assert [path for path in compiled if not AARCH64_LINUX.search(path.name)] == []
    assert {path.suffix for path in files} <= {".py", ".so", ".typed", ".json"}
    # The one data file: the price catalogue that ships with the functions (docs/costs.md).
    assert [path.relative_to(asset).as_posix() for path in files if path.suffix == ".json"] == [
        "tracker/data/price-catalogue.json"
    ]


def test_recorder_has_only_the_powertools_layer_from_its_ssm_parameter(
    function: dict[str, Any], template_json: dict[str, Any]
) -> None:
    (layer,) = function["Layers"]
    parameter = template_json["Parameters"][layer["Ref"]]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert parameter["Default"] == POWERTOOLS_PARAMETER.format(version=constants.POWERTOOLS_VERSION)


def test_recorder_powertools_layer_matches_its_runtime_and_architecture(
    function: dict[str, Any], template_json: dict[str, Any]
) -> None:
    (layer,) = function["Layers"]
    *_, architecture, runtime, _ = template_json["Parameters"][layer["Ref"]]["Default"].split("/")
    assert [architecture] == function["Architectures"]
    assert runtime == function["Runtime"]


def test_powertools_version_matches_the_requirements_pin() -> None:
    requirements = (PROJECT_ROOT / "requirements.txt").read_text()
    pins = re.findall(r"^aws-lambda-powertools(?:\[[^\]]*\])?==([^\s;#]+)", requirements, re.MULTILINE)
    assert pins == [constants.POWERTOOLS_VERSION]


def test_recorder_logs_to_its_own_log_group_with_retention(
    function: dict[str, Any], resources: dict[str, Any], ids: LogicalIds
) -> None:
    assert function["LoggingConfig"]["LogGroup"] == ref(ids.log_group)
    assert resources[ids.log_group]["Properties"]["RetentionInDays"] == 30


def test_recorder_environment_names_its_tables(function: dict[str, Any], ids: LogicalIds) -> None:
    variables = function["Environment"]["Variables"]
    assert variables[constants.ENV_TASK_TABLE] == ref(ids.task_table)
    assert variables[constants.ENV_REJECTED_TABLE] == ref(ids.rejected_table)


def test_recorder_environment_passes_the_functions_own_config_check(function: dict[str, Any]) -> None:
    # Table names are resolved at deploy time: stand in a placeholder for each reference.
    resolved = {constants.ENV_CONNECTIONS_ENDPOINT: "https://abc123.execute-api.us-east-1.amazonaws.com/live"}
    variables = {
        name: value if isinstance(value, str) else resolved.get(name, "resolved-at-deploy")
        for name, value in function["Environment"]["Variables"].items()
    }
    config = RecorderConfig.from_env(variables)
    assert config.enrich_max_attempts >= 1
    assert config.live is not None  # it pushes the ends it records
    assert config.details_after_end is True


def test_recorder_environment_configures_powertools_like_the_alarms_expect(function: dict[str, Any]) -> None:
    # The RejectedEvents alarm watches this namespace with dimension service=<service name>.
    variables = function["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == constants.RECORDER_SERVICE
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == constants.METRICS_NAMESPACE


def test_event_source_mapping_feeds_the_capture_queue_to_the_recorder(mapping: dict[str, Any], ids: LogicalIds) -> None:
    assert mapping["EventSourceArn"] == arn_of(ids.queue)
    assert mapping["FunctionName"] == ref(ids.function)


def test_event_source_mapping_reports_batch_item_failures(mapping: dict[str, Any]) -> None:
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_event_source_mapping_batches_ten_messages_without_a_window(mapping: dict[str, Any]) -> None:
    # Any batching window may hold a message on a quiet queue for up to 20 s (docs/latency.md).
    assert mapping["BatchSize"] == recorder.BATCH_SIZE == 10
    assert mapping.get("MaximumBatchingWindowInSeconds", 0) == 0


def test_recorder_has_the_memory_that_docs_latency_models(function: dict[str, Any]) -> None:
    assert function["MemorySize"] == LatencySettings().recorder_memory_mb == 1024


def test_event_source_mapping_caps_concurrency(mapping: dict[str, Any]) -> None:
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": recorder.MAX_CONCURRENCY}
    assert recorder.MAX_CONCURRENCY >= 2  # the smallest value Lambda accepts


def test_latency_context_sets_the_order_the_memory_and_provisioned_pollers(
    synthesized_with_email: SynthesizedApp,
) -> None:
    # detailsAfterEnd=false, recorderMemorySize=512, captureProvisionedPollers=3 (LATENCY_CONTEXT).
    ids = LogicalIds.of(synthesized_with_email.stack)
    resources = synthesized_with_email.resources
    function = resources[ids.function]["Properties"]
    (mapping,) = (
        mapping["Properties"]
        for mapping in synthesized_with_email.resources_of_type("AWS::Lambda::EventSourceMapping").values()
        if mapping["Properties"]["FunctionName"] == ref(ids.function)
    )
    assert function["Environment"]["Variables"][constants.ENV_DETAILS_AFTER_END] == "false"
    assert function["MemorySize"] == 512
    assert mapping["ProvisionedPollerConfig"] == {"MinimumPollers": 3, "MaximumPollers": 3}
    assert "ScalingConfig" not in mapping  # Lambda takes provisioned pollers or a maximum concurrency, not both


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"captureProvisionedPollers": 1}, r"0 \(standard mode\) or 2 to 200"),
        ({"captureProvisionedPollers": 201}, "captureProvisionedPollers"),
        ({"recorderMemorySize": 64}, "recorderMemorySize"),
        ({"detailsAfterEnd": "sometimes"}, "detailsAfterEnd"),
    ],
)
def test_bad_latency_settings_stop_synth_naming_the_key(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        LatencySettings.from_context(context.get)

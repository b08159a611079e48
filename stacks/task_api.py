"""The Task API: an IAM-authorized REST API on API Gateway, one Lambda, the results bucket and the
idempotency table."""

from __future__ import annotations

import json

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from lambdas.tracker import constants
from stacks.api_logging import api_gateway_logging
from stacks.config import ApiSettings
from stacks.functions import TrackerFunction
from stacks.nag import acknowledge, nag_resource
from stacks.results_bucket import results_bucket, results_bucket_name
from stacks.task_tables import working_table

TIMEOUT = Duration.seconds(25)
"""Under API Gateway's 29-second integration timeout, so the function answers before the gateway gives up."""
STAGE = "v1"
ERROR_TEMPLATE = json.dumps(
    {"error": "$context.error.responseType", "message": "$context.error.messageString", "details": {}}
).replace('"$context.error.messageString"', "$context.error.messageString")
"""API Gateway's own errors in the API's error shape ({error, message, details}); messageString is quoted JSON."""
TOO_LARGE_TEMPLATE = json.dumps(
    {
        "error": "ProgramTooLarge",
        "message": f"the body is not JSON, or its program is over {constants.MAX_PROGRAM_BYTES:,} characters",
        "details": {"limitBytes": constants.MAX_PROGRAM_BYTES},
    }
)
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "time": "$context.requestTime",
        "caller": "$context.identity.userArn",
        "sourceIp": "$context.identity.sourceIp",
        "method": "$context.httpMethod",
        "resource": "$context.resourcePath",
        "path": "$context.path",
        "status": "$context.status",
        "latencyMs": "$context.responseLatency",
        "responseLength": "$context.responseLength",
        "error": "$context.error.responseType",
        "integrationError": "$context.integrationErrorMessage",
    }
)
LIST_INDEXES = (
    constants.INDEX_BY_ACCOUNT,
    constants.INDEX_BY_STATUS,
    constants.INDEX_BY_DEVICE,
    constants.INDEX_BY_SUBMITTER,
    constants.INDEX_BY_TASK_ID,
)


class TaskApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tasks: dynamodb.Table,
        settings: ApiSettings,
        log_retention: logs.RetentionDays,
        other_regions: tuple[str, ...] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.idempotency = working_table(  # 24-hour records: nothing to keep
            self, "Idempotency", key=constants.IDEMPOTENCY_KEY, ttl=constants.IDEMPOTENCY_TTL_ATTRIBUTE
        )
        self.results = results_bucket(
            self,
            "Results",
            name=results_bucket_name(stack.stack_name, stack.account, stack.region),
            retention_days=settings.results_retention_days,
        )
        # The forwarder stacks own the other Regions' buckets, by the same rule (known once the home
        # Region is: app.py builds forwarders only then).
        self.other_regions = (
            ()
            if Token.is_unresolved(stack.region)
            else tuple(region for region in other_regions if region != stack.region)
        )
        self.results_buckets = {stack.region: self.results.bucket_name} | {
            region: results_bucket_name(stack.stack_name, stack.account, region) for region in self.other_regions
        }
        self.handler = TrackerFunction(
            self,
            "Handler",
            handler="tracker.api.handler.lambda_handler",
            service=constants.API_SERVICE,
            description="Task API: submit, get, list, cancel and results",
            log_retention=log_retention,
            timeout=TIMEOUT,
            memory_size=512,
            environment={
                constants.ENV_TASK_TABLE: tasks.table_name,
                constants.ENV_IDEMPOTENCY_TABLE: self.idempotency.table_name,
                constants.ENV_RESULTS_BUCKETS: stack.to_json_string(self.results_buckets),
                constants.ENV_READABLE_BUCKETS: json.dumps(list(settings.readable_results_buckets)),
                constants.ENV_DEVICE_ALLOWLIST: json.dumps(list(settings.device_allowlist)),
                constants.ENV_ADMIN_PRINCIPALS: json.dumps(list(settings.admin_principals)),
                constants.ENV_PROMOTED_TAG_KEYS: json.dumps(list(settings.promoted_tag_keys)),
            },
        )
        self.function = self.handler.function
        self.role = self.handler.role
        self._grant(stack, tasks, settings)
        self.api = self._rest_api(stack, settings, log_retention)

    def _grant(self, stack: Stack, tasks: dynamodb.Table, settings: ApiSettings) -> None:
        indexes = [*LIST_INDEXES, *(constants.tag_index_name(key) for key in settings.promoted_tag_keys)]
        statements = [
            ("ReadAndWriteTasks", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [tasks.table_arn]),
            ("QueryTaskIndexes", ["dynamodb:Query"], [f"{tasks.table_arn}/index/{name}" for name in indexes]),
            (
                "IdempotencyRecords",
                ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                [self.idempotency.table_arn],
            ),
            (
                "SubmitTasks",
                ["braket:CreateQuantumTask", "braket:TagResource"],
                [self.task_arns(stack, region) for region in self.results_buckets],
            ),
            ("CancelAndQueueInfo", ["braket:CancelQuantumTask", "braket:GetQuantumTask"], [self.task_arns(stack, "*")]),
            (
                "ReadResults",
                ["s3:GetObject"],
                [
                    self.results.arn_for_objects(f"{constants.RESULTS_PREFIX}/*"),
                    *(
                        f"{self.regional_results(stack, region)}/{constants.RESULTS_PREFIX}/*"
                        for region in self.other_regions
                    ),
                    *(f"arn:{stack.partition}:s3:::{bucket}/*" for bucket in settings.readable_results_buckets),
                ],
            ),
        ]
        for sid, actions, resources in statements:
            self.role.add_to_principal_policy(iam.PolicyStatement(sid=sid, actions=actions, resources=resources))
        # Without ListBucket, S3 answers a missing key with 403 rather than 404: deleted results
        # would look like a refused bucket. Listing is limited to the results prefix.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="TellDeletedResults",
                actions=["s3:ListBucket"],
                resources=[self.results.bucket_arn, *(self.regional_results(stack, r) for r in self.other_regions)],
                conditions={"StringLike": {"s3:prefix": f"{constants.RESULTS_PREFIX}/*"}},
            )
        )
        if settings.readable_results_buckets:
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="TellDeletedResultsInReadableBuckets",
                    actions=["s3:ListBucket"],
                    resources=[f"arn:{stack.partition}:s3:::{bucket}" for bucket in settings.readable_results_buckets],
                )
            )
        self._read_the_accounts_braket_buckets(stack)

    def _read_the_accounts_braket_buckets(self, stack: Stack) -> None:
        """results.json of tasks submitted elsewhere (the SDK, the console, hybrid jobs): Braket writes
        only to buckets named amazon-braket-*, and the SDK's default bucket is one
        (amazon-braket-<region>-<account>). Readable only if this account owns the bucket
        (s3:ResourceAccount), so that no other account's bucket of that name is."""
        buckets = f"arn:{stack.partition}:s3:::{constants.RESULTS_BUCKET_PREFIX}*"
        own_account = {"StringEquals": {"s3:ResourceAccount": stack.account}}
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadResultsInTheAccountsBraketBuckets",
                actions=["s3:GetObject"],
                resources=[f"{buckets}/*"],
                conditions=own_account,
            )
        )
        self.role.add_to_principal_policy(  # 404 rather than 403 for results that were deleted
            iam.PolicyStatement(
                sid="TellDeletedResultsInTheAccountsBraketBuckets",
                actions=["s3:ListBucket"],
                resources=[buckets],
                conditions=own_account,
            )
        )
        for resource, what in ((f"{buckets}/*", "Reads results.json"), (buckets, "Lists (to tell deleted results)")):
            acknowledge(
                self.role,
                f"AwsSolutions-IAM5[Resource::{nag_resource(stack, resource)}]",
                f"{what} in the buckets Braket may write results to (it requires names starting with "
                f"{constants.RESULTS_BUCKET_PREFIX}), only those this account owns (s3:ResourceAccount): "
                "results of tasks submitted with the SDK, the console or hybrid jobs.",
            )

    def regional_results(self, stack: Stack, region: str) -> str:
        """The ARN of the results bucket of another Region (a forwarder stack owns it)."""
        return f"arn:{stack.partition}:s3:::{self.results_buckets[region]}"

    @staticmethod
    def task_arns(stack: Stack, region: str) -> str:
        return f"arn:{stack.partition}:braket:{region}:{stack.account}:quantum-task/*"

    def _rest_api(self, stack: Stack, settings: ApiSettings, log_retention: logs.RetentionDays) -> apigw.RestApi:
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=log_retention, removal_policy=RemovalPolicy.RETAIN
        )
        api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"{stack.stack_name}-tasks",
            description="Braket Task Tracker: submit, get, list, cancel quantum tasks and read their results",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=False,  # the stack's one account-level role: stacks/api_logging.py
            default_method_options=apigw.MethodOptions(authorization_type=apigw.AuthorizationType.IAM),
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                throttling_rate_limit=settings.throttle_rate,
                throttling_burst_limit=settings.throttle_burst,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(ACCESS_LOG_FORMAT),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
            ),
        )
        api.node.try_remove_child("Endpoint")  # the stack's TaskApiUrl output says it once
        if settings.owns_cloudwatch_role:
            api.deployment_stage.node.add_dependency(api_gateway_logging(stack))
        integration = apigw.LambdaIntegration(self.function, proxy=True)
        size_check = api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        size_model = api.add_model(
            "SubmitTaskBody",
            content_type="application/json",
            # Only the program's size, so that this model's one failure is "too large" (413); the
            # function validates everything else, with field paths.
            description="The program's size limit",
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4,
                properties={"program": apigw.JsonSchema(max_length=constants.MAX_PROGRAM_BYTES)},
            ),
        )
        tasks = api.root.add_resource("tasks")
        tasks.add_method(
            "POST", integration, request_validator=size_check, request_models={"application/json": size_model}
        )
        tasks.add_method("GET", integration)
        task = tasks.add_resource("{task_id}")
        task.add_method("GET", integration)
        task.add_resource("cancel").add_method("POST", integration)
        task.add_resource("result").add_method("GET", integration)

        json_error = {"application/json": ERROR_TEMPLATE}
        api.add_gateway_response("Default4xx", type=apigw.ResponseType.DEFAULT_4_XX, templates=json_error)
        api.add_gateway_response("Default5xx", type=apigw.ResponseType.DEFAULT_5_XX, templates=json_error)
        api.add_gateway_response(
            "ProgramTooLarge",
            type=apigw.ResponseType.BAD_REQUEST_BODY,
            status_code="413",
            templates={"application/json": TOO_LARGE_TEMPLATE},
        )
        return api

"""Live updates: a WebSocket API (IAM-authorized at $connect) that pushes every status change of the
tasks a client subscribed to. A task's end is pushed by the function that records it, right after its
write (`push_ends_from`); every other change, by the pusher on the task table's stream."""

from __future__ import annotations

import json

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambdas.tracker import constants
from stacks.alarms import alarm_to_topic
from stacks.api_logging import api_gateway_logging
from stacks.capture import encrypted_queue
from stacks.functions import TrackerFunction
from stacks.task_tables import working_table

ROUTE_SELECTION = "$request.body.action"
CONNECTIONS_TIMEOUT = Duration.seconds(29)  # API Gateway's integration timeout
PUSHER_TIMEOUT = Duration.seconds(60)
PUSHER_RETRIES = 5
THROTTLE_RATE = 50  # requests per second, over the stage (messages and connects)
THROTTLE_BURST = 100
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.identity.userArn",
    "requestTime": "$context.requestTime",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "connectionId": "$context.connectionId",
    "error": "$context.error.message",
    "integrationError": "$context.integrationErrorMessage",
}
_STRING = dynamodb.AttributeType.STRING


class LiveUpdates(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tasks: dynamodb.Table,
        log_retention: logs.RetentionDays,
        account_logging: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.connections = working_table(  # open connections only: nothing to keep
            self,
            "Connections",
            key=constants.CONNECTIONS_KEY,
            sort_key=constants.CONNECTIONS_SORT_KEY,
            ttl=constants.CONNECTIONS_TTL_ATTRIBUTE,
        )
        self.connections.add_global_secondary_index(
            index_name=constants.INDEX_BY_TARGET,
            partition_key=dynamodb.Attribute(name=constants.CONNECTIONS_TARGET, type=_STRING),
            sort_key=dynamodb.Attribute(name=constants.CONNECTIONS_KEY, type=_STRING),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )

        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=f"{stack.stack_name}-live-updates",
            description="Braket Task Tracker live updates: task status changes, pushed",
            route_selection_expression=ROUTE_SELECTION,
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=constants.LIVE_STAGE,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=THROTTLE_RATE, burst_limit=THROTTLE_BURST),
        )
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=log_retention, removal_policy=RemovalPolicy.RETAIN
        )
        cfn_stage = self.stage.node.default_child
        assert isinstance(cfn_stage, apigwv2.CfnStage)
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_logs.log_group_arn, format=json.dumps(ACCESS_LOG_FORMAT)
        )
        if account_logging:
            cfn_stage.node.add_dependency(api_gateway_logging(stack))

        environment = {
            constants.ENV_TASK_TABLE: tasks.table_name,
            constants.ENV_CONNECTIONS_TABLE: self.connections.table_name,
            constants.ENV_CONNECTIONS_ENDPOINT: self.stage.callback_url,
        }
        handler = TrackerFunction(
            self,
            "ConnectionsHandler",
            handler="tracker.live.connections_handler.lambda_handler",
            service=constants.LIVE_SERVICE,
            description="The live-updates WebSocket routes: connect, subscribe, unsubscribe, disconnect",
            log_retention=log_retention,
            timeout=CONNECTIONS_TIMEOUT,
            environment=environment,
        )
        self.handler: lambda_.Function = handler.function
        self.handler_role = handler.role
        integration = integrations.WebSocketLambdaIntegration("Routes", self.handler)
        self.api.add_route("$connect", integration=integration, authorizer=authorizers.WebSocketIamAuthorizer())
        self.unauthorized_routes = [
            self.api.add_route(route, integration=integration) for route in constants.LIVE_ROUTES if route != "$connect"
        ]

        self.handler_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RecordConnectionsAndSubscriptions",
                actions=[
                    "dynamodb:PutItem",
                    "dynamodb:GetItem",
                    "dynamodb:Query",
                    "dynamodb:BatchWriteItem",
                ],
                resources=[self.connections.table_arn],
            )
        )
        self.handler_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadSubscribedTasks", actions=["dynamodb:BatchGetItem"], resources=[tasks.table_arn]
            )
        )
        self.handler_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ListTheSubmittersTasks",
                actions=["dynamodb:Query"],
                resources=[f"{tasks.table_arn}/index/{constants.INDEX_BY_SUBMITTER}"],
            )
        )

        self.failures = encrypted_queue(self, "FailedPushes")
        pusher = TrackerFunction(
            self,
            "Pusher",
            handler="tracker.live.pusher_handler.lambda_handler",
            service=constants.LIVE_PUSHER_SERVICE,
            description="Pushes each task status change to its WebSocket subscribers",
            log_retention=log_retention,
            timeout=PUSHER_TIMEOUT,
            memory_size=512,
            environment=environment,
        )
        self.pusher: lambda_.Function = pusher.function
        self.pusher_role = pusher.role
        self.manage_connections_arn = stack.format_arn(
            service="execute-api",
            resource=self.api.api_id,
            resource_name=f"{constants.LIVE_STAGE}/POST/@connections/*",
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        self._grant_fan_out(self.pusher_role)
        self.handler_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PostToConnections",
                actions=["execute-api:ManageConnections"],
                resources=[self.manage_connections_arn],
            )
        )
        self.pusher.add_event_source(
            sources.DynamoEventSource(
                tasks,
                starting_position=lambda_.StartingPosition.LATEST,
                batch_size=10,
                # Records of one item stay in order across parallel batches; different tasks fan out at once.
                parallelization_factor=4,
                bisect_batch_on_error=True,
                retry_attempts=PUSHER_RETRIES,
                max_record_age=Duration.hours(1),
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(self.failures),
                filters=[lambda_.FilterCriteria.filter({"eventName": ["INSERT", "MODIFY"]})],
            )
        )

    def push_ends_from(self, function: lambda_.Function, role: iam.IRole) -> None:
        """Let `function` (the recorder) push the ends it writes: the variables that name the
        connections table and the stage's @connections URL, and the fan-out's grants (as the pusher's)."""
        function.add_environment(constants.ENV_CONNECTIONS_TABLE, self.connections.table_name)
        function.add_environment(constants.ENV_CONNECTIONS_ENDPOINT, self.stage.callback_url)
        self._grant_fan_out(role)

    def _grant_fan_out(self, role: iam.IRole) -> None:
        """Find a task's subscribers, forget the connections that are gone, post to the others."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="FindSubscribers",
                actions=["dynamodb:Query"],
                resources=[f"{self.connections.table_arn}/index/{constants.INDEX_BY_TARGET}"],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ForgetGoneConnections",
                actions=["dynamodb:Query", "dynamodb:BatchWriteItem"],
                resources=[self.connections.table_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PostToConnections",
                actions=["execute-api:ManageConnections"],
                resources=[self.manage_connections_arn],
            )
        )

    @property
    def url(self) -> str:
        """wss://{api-id}.execute-api.{region}.amazonaws.com/live"""
        return self.stage.url

    def add_alarms(self, topic: sns.ITopic) -> list[cloudwatch.Alarm]:
        alarms = [
            alarm_to_topic(
                self,
                "PusherErrors",
                "The live-updates pusher failed: read its logs; the stream batch is retried meanwhile",
                self.pusher.metric_errors(period=Duration.minutes(5), statistic="Sum"),
                topic,
            ),
            alarm_to_topic(
                self,
                "PushesFailed",
                "Stream records the pusher gave up on are in the failed-pushes queue: their subscribers missed "
                "a status (a resubscribe sends the current state)",
                self.failures.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(5), statistic="Maximum"
                ),
                topic,
            ),
        ]
        return alarms

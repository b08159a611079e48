"""The local Lambda runner: the stack's real handlers, run with the events AWS would give them.

from local.runner import LocalRunner

with LocalRunner(template, cdk_out, stack_name, aws_endpoint, region) as runner:
    runner.invoke("MyFunctionLogicalId", {...})
    runner.endpoints["MyApiLogicalId"].url
"""

from local.runner.apigateway import ApiEndpoint
from local.runner.deployed import Credentials
from local.runner.functions import Invocation, LocalFunction
from local.runner.runner import LocalRunner

__all__ = ["ApiEndpoint", "Credentials", "Invocation", "LocalFunction", "LocalRunner"]

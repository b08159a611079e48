"""API Gateway's AWS_IAM authorization: SigV4 verified by recomputing the signature with botocore's SigV4Auth
for service "execute-api" and the local credentials this API knows: the runner's, and each function's own.

Rejections carry API Gateway's messages: a request with no Authorization header is "Missing
Authentication Token"; a wrong signature is "The request signature we calculated does not match...".
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from collections.abc import Callable, Iterable

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials

from local.runner.deployed import Credentials

SERVICE = "execute-api"
MAX_SKEW = dt.timedelta(minutes=5)
_AUTH = re.compile(r"AWS4-HMAC-SHA256\s+(?P<params>.*)", re.DOTALL)
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)


class Rejected(Exception):
    """A request API Gateway would refuse with 403."""

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type


class SigV4Verifier:
    def __init__(
        self,
        credentials: Credentials | Iterable[Credentials],
        region: str,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        known = [credentials] if isinstance(credentials, Credentials) else list(credentials)
        self.credentials = known[0]  # the runner's own
        self._known = {c.access_key: c for c in known}
        self.region = region
        self.now = now

    def verify(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> str:
        """The access key that signed the request; raises Rejected otherwise."""
        found = {name.lower(): value for name, value in headers}
        authorization = found.get("authorization")
        if not authorization:
            raise Rejected("Missing Authentication Token", "MissingAuthenticationTokenException")
        match = _AUTH.fullmatch(authorization.strip())
        params = dict(
            part.strip().split("=", 1) for part in (match.group("params") if match else "").split(",") if "=" in part
        )
        amz_date = found.get("x-amz-date")
        missing = [
            f"Authorization header requires '{name}' parameter."
            for name in ("Credential", "Signature", "SignedHeaders")
            if not params.get(name)
        ]
        if not amz_date:
            missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        if not match or missing:
            raise Rejected(" ".join(missing) + f" Authorization={authorization}", "IncompleteSignatureException")

        access_key, _, scope = params["Credential"].partition("/")
        scope_date, scope_region, scope_service = ([*scope.split("/"), "", "", ""])[:3]
        credentials = self._known.get(access_key)
        if credentials is None or (credentials.token and found.get("x-amz-security-token") != credentials.token):
            raise Rejected("The security token included in the request is invalid.", "UnrecognizedClientException")
        if scope_service != SERVICE:
            raise Rejected(
                f"Credential should be scoped to correct service: '{SERVICE}'. ", "InvalidSignatureException"
            )
        if scope_region != self.region:
            raise Rejected("Credential should be scoped to a valid region. ", "InvalidSignatureException")
        assert amz_date is not None
        self._check_time(amz_date)
        if scope_date != amz_date[:8]:
            raise Rejected(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP",
                "InvalidSignatureException",
            )

        signed = params["SignedHeaders"].split(";")
        request = AWSRequest(method=method, url=url, data=body)
        for name, value in headers:
            if name.lower() in signed:
                request.headers[name] = value
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(
            BotocoreCredentials(credentials.access_key, credentials.secret_key, credentials.token),
            SERVICE,
            self.region,
        )
        canonical = signer.canonical_request(request)
        string_to_sign = signer.string_to_sign(request, canonical)
        if not hmac.compare_digest(signer.signature(string_to_sign, request), params["Signature"]):
            raise Rejected(
                f"{_SIGNATURE_MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n"
                f"The String-to-Sign should have been\n'{string_to_sign}'\n",
                "InvalidSignatureException",
            )
        return access_key

    def _check_time(self, amz_date: str) -> None:
        try:
            signed_at = dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            raise Rejected(f"Invalid X-Amz-Date: {amz_date}", "IncompleteSignatureException") from None
        now = self.now()
        stamp = "%Y%m%dT%H%M%SZ"
        if signed_at < now - MAX_SKEW:
            raise Rejected(
                f"Signature expired: {amz_date} is now earlier than {(now - MAX_SKEW).strftime(stamp)} "
                f"({now.strftime(stamp)} - 5 min.)",
                "InvalidSignatureException",
            )
        if signed_at > now + MAX_SKEW:
            raise Rejected(
                f"Signature not yet current: {amz_date} is still later than {(now + MAX_SKEW).strftime(stamp)} "
                f"({now.strftime(stamp)} + 5 min.)",
                "InvalidSignatureException",
            )

"""Braket's errors, as the REST-JSON protocol carries them (status, x-amzn-ErrorType, {"message"})."""

from __future__ import annotations


class BraketError(Exception):
    """An error answered to the caller: botocore turns it into a ClientError with this code."""

    code = "InternalServiceException"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationException(BraketError):
    code = "ValidationException"
    status = 400


class SerializationException(BraketError):
    """The body is not JSON (what AWS's REST-JSON front ends answer)."""

    code = "SerializationException"
    status = 400


class ResourceNotFoundException(BraketError):
    code = "ResourceNotFoundException"
    status = 404


class ConflictException(BraketError):
    code = "ConflictException"
    status = 409


class MissingAuthenticationTokenException(BraketError):
    code = "MissingAuthenticationTokenException"
    status = 403


class IncompleteSignatureException(BraketError):
    code = "IncompleteSignatureException"
    status = 403


class InvalidSignatureException(BraketError):
    code = "InvalidSignatureException"
    status = 403


class UnknownOperationException(BraketError):
    code = "UnknownOperationException"
    status = 404


class MethodNotAllowedException(UnknownOperationException):
    status = 405


class InternalServiceException(BraketError):
    pass


class ServiceQuotaExceededException(BraketError):
    code = "ServiceQuotaExceededException"
    status = 402

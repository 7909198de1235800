"""One domain error type, rendered one way by the API and the UI.

Services raise DomainError (or a subclass) with a stable machine code, a translated
message that tells the user what to do, and optional details (field -> messages).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    UNAUTHENTICATED = "unauthenticated"
    CONFLICT = "conflict"
    THROTTLED = "throttled"
    INVALID_DOCUMENT = "invalid_document"
    INVALID_PHONE = "invalid_phone"
    INVALID_ADDRESS = "invalid_address"
    INVALID_PACK = "invalid_pack"
    TOO_LARGE = "too_large"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    SERVER_ERROR = "server_error"


class DomainError(Exception):
    code: ErrorCode = ErrorCode.INVALID
    status: int = 400

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        details: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = str(message)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": str(self.code), "message": self.message, "details": self.details}


class ValidationFailed(DomainError):
    """Input that cannot be accepted; ``details`` maps field names to messages."""

    code = ErrorCode.INVALID
    status = 422


class NotFound(DomainError):
    """The object does not exist *for this user*: never say whether it exists elsewhere."""

    code = ErrorCode.NOT_FOUND
    status = 404


class PermissionDenied(DomainError):
    code = ErrorCode.FORBIDDEN
    status = 403

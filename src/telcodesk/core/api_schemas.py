"""Schemas every API router shares: strict request bodies and the error shape.

The error responses are documentation only: ``telcodesk.api`` renders every
DomainError as ``{code, message, details}``; routers list them in ``response=``.
"""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict


class InputSchema(Schema):
    """Request bodies refuse unknown fields: a typo must not be silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ErrorOut(Schema):
    code: str
    message: str
    details: dict[str, Any]


ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
# Writes that can conflict (a duplicate, a refused send) also answer 409.
CONFLICT_ERRORS: dict[int, Any] = {**ERRORS, 409: ErrorOut}

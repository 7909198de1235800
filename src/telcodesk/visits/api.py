"""The visits part of the JSON API (registered in telcodesk.api)."""

from __future__ import annotations

from ninja import Router

router = Router()

"""The JSON API under /api/v1: routers from each app, one error format."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(
    title="telcodesk API",
    version="1",
    urls_namespace="api",
    description="Customers, subscriptions and search for telecom operators and resellers.",
)

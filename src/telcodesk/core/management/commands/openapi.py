"""``telcodesk openapi``: print the API's OpenAPI schema (what docs/openapi.json holds).

The output is stable (sorted keys, two-space indent, trailing newline) so the committed
file can be compared byte for byte: ``make schema`` writes it, ``make schema-check``
and tests/test_openapi_schema.py fail when the code and the file drift apart.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import translation


def openapi_schema_text() -> str:
    """The schema as committed: English descriptions, sorted keys, trailing newline."""
    from telcodesk.api import api

    with translation.override("en"):
        schema = api.get_openapi_schema(path_prefix="/api/v1/")
        return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


class Command(BaseCommand):
    help = "Print the OpenAPI schema of /api/v1 as JSON (make schema writes docs/openapi.json)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(openapi_schema_text(), ending="")

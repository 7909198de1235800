"""Template helpers for the playbook panel (presentation only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

register = template.Library()


@register.filter(name="lookup")
def lookup(mapping: Mapping[str, Any] | None, key: str) -> Any:
    """``{{ errors|lookup:row.key }}``: a dict's value by a variable key ("" if absent)."""
    if not mapping:
        return ""
    return mapping.get(key, "")

"""Variables in a step's texts: ``{provider}``, ``{agent_name}``, ``{ticket_number}``...

The names a text may use are checked when the pack loads (pack_spec); at run time a
variable without a value is shown as its name in brackets (``[ticket_number]``) so
the agent sees what is missing, and rendering never fails.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDER_RE = re.compile(r"\{([a-z][a-z0-9_]*)\}")

# Always available: filled when the run starts (provider: the organization's brand,
# agent_name: the agent's first name, customer_name) or by actions (ticket_number by
# create_ticket, eta by schedule_visit).
BUILTIN_VARIABLES: tuple[str, ...] = (
    "provider",
    "agent_name",
    "customer_name",
    "ticket_number",
    "eta",
)


def text_variables(text: str) -> list[str]:
    """The variable names ``text`` uses, in order of first appearance."""
    seen: list[str] = []
    for name in PLACEHOLDER_RE.findall(text):
        if name not in seen:
            seen.append(name)
    return seen


def text_render(text: str, variables: Mapping[str, object]) -> str:
    """``text`` with each ``{name}`` replaced by its value, or ``[name]`` if it has none."""

    def value_of(match: re.Match[str]) -> str:
        value = variables.get(match.group(1))
        if value is None or str(value).strip() == "":
            return f"[{match.group(1)}]"
        return str(value)

    return PLACEHOLDER_RE.sub(value_of, text)

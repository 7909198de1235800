"""The named fields a playbook question may fill, registered by the apps that own them.

The playbooks app knows no ticket: the tickets app declares its fields once, in its
``AppConfig.ready``::

    register_playbook_fields("ticket", ["since_when", "devices_affected", ...],
                             writer=ticket_fields_write)

A question then names ``field: ticket.since_when``; a pack naming a field nobody
registered is refused at load with the path of the question. When a question with a
field is answered, the namespace's ``writer`` (if any) receives the answers of all
the run's questions of that namespace, by field name; it writes them where they
belong (e.g. ``ticket_answers_set`` once the run is linked to a ticket) and does
nothing when there is nowhere to write yet. A writer's failure is recorded on the run
(as an action log entry) and never breaks the agent's answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from telcodesk.core.tenancy import Actor
    from telcodesk.playbooks.models import PlaybookRun

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class FieldWrite:
    """What a namespace's writer receives after an answer."""

    actor: Actor
    run: PlaybookRun
    namespace: str
    # Every answered question of the run that fills a field of this namespace:
    # field name -> the typed value (str, int, float, bool, ISO date str).
    values: Mapping[str, Any]
    # The field the latest answer filled.
    changed: str


FieldWriter = Callable[[FieldWrite], None]


@dataclass(frozen=True)
class FieldNamespace:
    name: str
    fields: frozenset[str]
    writer: FieldWriter | None = None


_NAMESPACES: dict[str, FieldNamespace] = {}


def register_playbook_fields(
    namespace: str, names: Iterable[str], *, writer: FieldWriter | None = None
) -> None:
    """Declare the fields of ``namespace`` that questions may fill (``namespace.name``).

    Registering a namespace again replaces it (``AppConfig.ready`` may run more than
    once). Names are lower-case identifiers: ``since_when``, ``wifi_or_cable``.
    """
    fields = frozenset(names)
    for name in (namespace, *fields):
        if not NAME_RE.match(name):
            raise ValueError(f"{name!r} is not a lower-case identifier (a-z, 0-9, _)")
    _NAMESPACES[namespace] = FieldNamespace(name=namespace, fields=fields, writer=writer)


def registered_playbook_fields() -> Mapping[str, FieldNamespace]:
    return dict(_NAMESPACES)


def field_namespace(namespace: str) -> FieldNamespace | None:
    return _NAMESPACES.get(namespace)

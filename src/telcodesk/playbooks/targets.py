"""What a playbook run may be attached to (its subject), registered by the owning apps.

A run refers to its interaction or ticket by ``(target_type, target_id)`` so that the
playbooks app imports neither tickets nor messaging. An app declares its type once::

    register_playbook_target("ticket", visible=lambda actor, pk: tickets_visible(
        actor=actor).filter(pk=pk).exists(), url=lambda pk: reverse("tickets:detail", args=[pk]))

Starting a run with a target of a type nobody registered, or with an id the actor
cannot see (another organization's ticket), is refused. Actions attach further
targets to a run (``ActionResult.links``); those are trusted, not checked here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telcodesk.playbooks.fields import NAME_RE

if TYPE_CHECKING:
    from telcodesk.core.tenancy import Actor


@dataclass(frozen=True)
class TargetType:
    name: str
    # Whether ``actor`` may see the target with this id (scoping by organization).
    visible: Callable[[Actor, int], bool]
    # The console page of the target, for links in the panel (optional).
    url: Callable[[int], str] | None = None


_TARGETS: dict[str, TargetType] = {}


def register_playbook_target(
    name: str,
    *,
    visible: Callable[[Actor, int], bool],
    url: Callable[[int], str] | None = None,
) -> None:
    """Allow runs to be attached to targets of type ``name`` (replaces a previous one)."""
    if not NAME_RE.match(name) or len(name) > 40:
        raise ValueError(f"{name!r} is not a lower-case identifier of at most 40 characters")
    _TARGETS[name] = TargetType(name=name, visible=visible, url=url)


def registered_playbook_targets() -> Mapping[str, TargetType]:
    return dict(_TARGETS)


def playbook_target(name: str) -> TargetType | None:
    return _TARGETS.get(name)

"""The actions a playbook step may run, registered by the apps that implement them.

The playbooks app implements none of the ticket or network actions; the tickets and
network apps register theirs in their ``AppConfig.ready``::

    register_playbook_action(
        "run_diagnostics",
        diagnostics_action,                 # (ActionContext) -> ActionResult
        label=gettext_lazy("Run the diagnostics"),
        params=RunDiagnosticsParams,        # a pydantic model, or None: no parameters
        facts=("fault_found", "intermittent"),
    )

A pack naming an action nobody registered is refused at load with the path; its
``params`` are validated by the action's pydantic model at load too. The names the
wisp-mx pack uses: ``identify_customer``, ``confirm_contact``, ``create_ticket``,
``run_diagnostics``, ``schedule_visit``, ``send_template``, ``send_nps``.

A handler runs inside the caller's transaction, in a savepoint: if it raises, what it
wrote is rolled back, the failure is recorded on the run (``RunAction``, status
failed, with the error's message) and the run goes on. A handler reports a refusal it
foresaw with ``ActionResult(ok=False, message=...)`` (a translated text that says what
to do).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise
from pydantic import BaseModel

if TYPE_CHECKING:
    from telcodesk.core.tenancy import Actor
    from telcodesk.playbooks.models import PlaybookRun
    from telcodesk.playbooks.pack_spec import PlaybookSpec

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")

# A value a condition may compare: what answers and facts hold.
Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class ActionContext:
    """Everything a handler may read. Write through your own app's services."""

    actor: Actor
    run: PlaybookRun
    playbook: PlaybookSpec
    step_key: str
    # The action's key in the step and its registered name.
    action_key: str
    action: str
    # "entered", "completed" or "manual" (the agent pressed the button).
    trigger: str
    # The step's params for this action, as validated by the registered model (JSON).
    params: Mapping[str, Any]
    # Question key -> typed value, for every answered question of the run.
    answers: Mapping[str, Any]
    # What earlier actions reported (ActionResult.facts), by name.
    facts: Mapping[str, Scalar]
    # The run's variables (provider, agent_name, customer_name, ticket_number, ...).
    variables: Mapping[str, str]
    # Target type -> ids the run is attached to ({"conversation": [5], "ticket": [42]}).
    links: Mapping[str, tuple[int, ...]]

    def field_values(self, namespace: str) -> dict[str, Any]:
        """The answers that fill fields of ``namespace``, by field name."""
        return self.playbook.field_values(namespace, self.answers)

    def link(self, target_type: str) -> int | None:
        """The latest id of ``target_type`` the run is attached to, or None."""
        ids = self.links.get(target_type, ())
        return ids[-1] if ids else None


@dataclass(frozen=True)
class ActionResult:
    """What a handler reports; everything but ``ok`` is optional."""

    ok: bool = True
    # Shown to the agent in the panel (translated where it was written).
    message: str = ""
    # Merged into the run's variables: {"ticket_number": "T-000123", "eta": "..."}.
    variables: Mapping[str, str] = field(default_factory=dict)
    # Merged into the run's facts, which ``next`` conditions read like answers.
    facts: Mapping[str, Scalar] = field(default_factory=dict)
    # Attach the run to these targets ({"ticket": 42}) ...
    links: Mapping[str, int] = field(default_factory=dict)
    # ... and make this one its subject (target_type, target_id); it is linked too.
    subject: tuple[str, int] | None = None
    # The customer the run is about (identify_customer); must be visible to the actor.
    customer_id: int | None = None
    # Kept on the action's log entry (JSON), e.g. the ids of diagnostic results.
    data: Mapping[str, Any] = field(default_factory=dict)


ActionHandler = Callable[[ActionContext], ActionResult]


@dataclass(frozen=True)
class RegisteredAction:
    name: str
    handler: ActionHandler
    label: str | Promise
    params: type[BaseModel] | None = None
    facts: frozenset[str] = frozenset()


_ACTIONS: dict[str, RegisteredAction] = {}


def register_playbook_action(
    name: str,
    handler: ActionHandler,
    *,
    label: str | Promise = "",
    params: type[BaseModel] | None = None,
    facts: Iterable[str] = (),
) -> None:
    """Make ``name`` usable in playbook steps (``actions: [{action: name}]``).

    ``label`` is the button's default text (gettext_lazy); ``params`` the pydantic
    model of the step's parameters (None: the action takes none, and a pack giving
    some is refused); ``facts`` the names of the facts the handler may report, which
    ``next`` conditions may then test. Registering a name again replaces it.
    """
    names = frozenset(facts)
    for value in (name, *names):
        if not NAME_RE.match(value):
            raise ValueError(f"{value!r} is not a lower-case identifier (a-z, 0-9, _)")
    _ACTIONS[name] = RegisteredAction(
        name=name, handler=handler, label=label or name, params=params, facts=names
    )


def registered_playbook_actions() -> Mapping[str, RegisteredAction]:
    return dict(_ACTIONS)


def playbook_action(name: str) -> RegisteredAction | None:
    return _ACTIONS.get(name)

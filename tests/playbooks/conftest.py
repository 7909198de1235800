"""A small support-call playbook with a branch, fake actions, fields and targets.

The playbooks app implements no ticket or network action: the tests register fakes
(``create_ticket``, ``run_checks``, ``explode``), a ``ticket`` field namespace with a
writer that records what it was given, and a ``ticket`` target type whose visible ids
are per organization. The registries are restored after each test.

The example playbook (``support_call``):

    greeting      confirm_holder (item), problem_kind (choice)
                  administrative -> administrative
    investigate   since_when (text, ticket.since_when), devices (number 0..50,
                  ticket.devices), wifi (yes_no, optional); create_ticket on completion
    diagnose      run_checks (manual, required; facts fault_found, intermittent)
                  fault_found false and intermittent true -> advice, else -> closing
    advice        explain_wifi (item), suggest_cable (optional item)
    closing       give_number (item), nps (number 0..10, optional); ends
    administrative transfer (item); ends
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from telcodesk.accounts.models import Organization
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer
from telcodesk.playbooks import actions as actions_module
from telcodesk.playbooks import fields as fields_module
from telcodesk.playbooks import targets as targets_module
from telcodesk.playbooks.actions import ActionContext, ActionResult, register_playbook_action
from telcodesk.playbooks.fields import FieldWrite, register_playbook_fields
from telcodesk.playbooks.models import Playbook
from telcodesk.playbooks.pack_spec import PlaybookSpec
from telcodesk.playbooks.pack_sync import playbooks_sync
from telcodesk.playbooks.targets import register_playbook_target
from tests.conftest import World


class RunChecksParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kinds: list[str]


@dataclass
class Fakes:
    """What the fake actions report and what the fakes were given."""

    facts: dict[str, Any] = field(default_factory=lambda: {"fault_found": True})
    ticket_id: int = 42
    tickets: dict[int, set[int]] = field(default_factory=dict)  # organization id -> ids
    contexts: list[ActionContext] = field(default_factory=list)
    writes: list[dict[str, Any]] = field(default_factory=list)
    writer_fails: bool = False


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Fakes]:
    monkeypatch.setattr(actions_module, "_ACTIONS", {})
    monkeypatch.setattr(fields_module, "_NAMESPACES", {})
    monkeypatch.setattr(targets_module, "_TARGETS", {})
    state = Fakes()

    def create_ticket(context: ActionContext) -> ActionResult:
        state.contexts.append(context)
        state.tickets.setdefault(context.run.organization_id, set()).add(state.ticket_id)
        return ActionResult(
            message="Ticket T-000042 created.",
            variables={"ticket_number": "T-000042"},
            subject=("ticket", state.ticket_id),
            data={"ticket_id": state.ticket_id},
        )

    def run_checks(context: ActionContext) -> ActionResult:
        state.contexts.append(context)
        return ActionResult(message="Checks done.", facts=dict(state.facts))

    def explode(context: ActionContext) -> ActionResult:
        raise RuntimeError("the OLT caught fire")

    def ticket_writer(write: FieldWrite) -> None:
        if state.writer_fails:
            raise RuntimeError("ticket table locked")
        state.writes.append({"changed": write.changed, **write.values})

    register_playbook_action("create_ticket", create_ticket, label="Create the ticket")
    register_playbook_action(
        "run_checks",
        run_checks,
        label="Run the checks",
        params=RunChecksParams,
        facts=("fault_found", "intermittent"),
    )
    register_playbook_action("explode", explode, label="Explode")
    register_playbook_fields("ticket", ["since_when", "devices", "wifi"], writer=ticket_writer)
    register_playbook_target(
        "ticket",
        visible=lambda actor, pk: pk in state.tickets.get(actor.organization.pk, set()),
        url=lambda pk: f"/tickets/{pk}/",
    )
    register_playbook_target("conversation", visible=lambda actor, pk: pk > 0)
    yield state


SUPPORT_CALL: dict[str, Any] = {
    "key": "support_call",
    "name": "Support call",
    "version": "1.0.0",
    "variables": [{"key": "plan_name", "label": "Plan", "default": "your plan"}],
    "steps": [
        {
            "key": "greeting",
            "title": "Greeting",
            "script": "Good morning, this is {provider}, {agent_name} speaking.",
            "checklist": [{"key": "confirm_holder", "text": "Confirm the holder's name"}],
            "questions": [
                {
                    "key": "problem_kind",
                    "text": "Technical or administrative?",
                    "type": "choice",
                    "choices": [
                        {"value": "technical", "label": "Technical"},
                        {"value": "administrative", "label": "Administrative"},
                    ],
                }
            ],
            "next": [{"when": {"problem_kind": "administrative"}, "goto": "administrative"}],
        },
        {
            "key": "investigate",
            "title": "Key questions",
            "questions": [
                {
                    "key": "since_when",
                    "text": "Since when?",
                    "type": "text",
                    "field": "ticket.since_when",
                },
                {
                    "key": "devices",
                    "text": "How many devices?",
                    "type": "number",
                    "min": 0,
                    "max": 50,
                    "field": "ticket.devices",
                },
                {
                    "key": "wifi",
                    "text": "Over Wi-Fi?",
                    "type": "yes_no",
                    "required": False,
                    "field": "ticket.wifi",
                },
            ],
            "actions": [{"action": "create_ticket", "when": "completed"}],
        },
        {
            "key": "diagnose",
            "title": "Validations",
            "actions": [
                {
                    "action": "run_checks",
                    "required": True,
                    "params": {"kinds": ["ping", "optical_power"]},
                }
            ],
            "next": [
                {"when": {"fault_found": False, "intermittent": True}, "goto": "advice"},
                {"goto": "closing"},
            ],
        },
        {
            "key": "advice",
            "title": "Advice",
            "script": "Over Wi-Fi you do not get all of {plan_name}.",
            "checklist": [
                {"key": "explain_wifi", "text": "Explain Wi-Fi"},
                {"key": "suggest_cable", "text": "Suggest a cable test", "required": False},
            ],
        },
        {
            "key": "closing",
            "title": "Closing",
            "script": "Your ticket number is {ticket_number}. Thank you, {customer_name}.",
            "checklist": [{"key": "give_number", "text": "Give the ticket number"}],
            "questions": [
                {
                    "key": "nps",
                    "text": "From 0 to 10?",
                    "type": "number",
                    "min": 0,
                    "max": 10,
                    "required": False,
                }
            ],
            "end": True,
        },
        {
            "key": "administrative",
            "title": "Administrative route",
            "checklist": [{"key": "transfer", "text": "Transfer to billing"}],
            "end": True,
        },
    ],
}


def support_call(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(SUPPORT_CALL)
    data.update(changes)
    return data


def install(organization: Organization, data: dict[str, Any] | None = None) -> Playbook:
    spec = PlaybookSpec.model_validate(data or support_call())
    playbooks_sync(organization=organization, pack_name="test-pack", specs=[spec])
    return Playbook.objects.get(organization=organization, key=spec.key, is_active=True)


@dataclass
class Desk:
    world: World
    fakes: Fakes
    playbook: Playbook
    other_playbook: Playbook
    customer: Customer
    other_customer: Customer

    @property
    def agent(self) -> Actor:
        return self.world.actor(self.world.agent)

    @property
    def supervisor(self) -> Actor:
        return self.world.actor(self.world.supervisor)

    @property
    def outsider(self) -> Actor:
        return self.world.actor(self.world.outsider)


@pytest.fixture
def desk(world: World, fakes: Fakes) -> Desk:
    return Desk(
        world=world,
        fakes=fakes,
        playbook=install(world.operator),
        other_playbook=install(world.other_operator),
        customer=Customer.objects.create(
            organization=world.operator, first_name="Lucía", last_name="Fernández"
        ),
        other_customer=Customer.objects.create(
            organization=world.other_operator, first_name="João", last_name="Silva"
        ),
    )

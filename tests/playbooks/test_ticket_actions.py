"""The ticket's playbook actions driven through the real engine: a support call (the
ISP's Process 2) finds the customer, confirms their contact data, opens the ticket with
the five key questions, checks for an extra cost and sends a WhatsApp template.

Nothing is faked: the actions are the ones TicketsConfig.ready registers, the writes go
through the customers, tickets and messaging services. The network validations with a
real SNMP agent are in test_ticket_diagnostics.py.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import (
    ContactPoint,
    Customer,
    CustomerAssignment,
    Subscription,
    SubscriptionStatus,
)
from telcodesk.customers.services import customer_create
from telcodesk.messaging.models import Channel, Conversation, Message, Template
from telcodesk.playbooks.models import ActionStatus, PlaybookRun, RunAction, RunAnswer, RunLink
from telcodesk.playbooks.services import (
    RunTarget,
    playbook_run_start,
    run_action,
    run_answer,
    run_step_complete,
)
from telcodesk.playbooks.targets import playbook_target
from telcodesk.tickets.models import ChargeStatus, Ticket, TicketCharge, TicketSubcategory
from telcodesk.tickets.services import ticket_status_set
from tests.conftest import World
from tests.messaging.helpers import make_channel
from tests.messaging.outbox_helpers import make_conversation, make_template, recent
from tests.playbooks.conftest import install

pytestmark = pytest.mark.django_db

WA_ID = "59171234567"  # Juana's WhatsApp (+591 71234567)

SUPPORT_CALL: dict[str, Any] = {
    "key": "soporte",
    "name": "Atención por llamada",
    "version": "1.0.0",
    "steps": [
        {
            "key": "identify",
            "title": "Identificación",
            "questions": [
                {"key": "caller", "text": "¿Nombre, teléfono o ID de servicio?", "type": "text"}
            ],
            "actions": [
                {"action": "identify_customer", "required": True, "params": {"question": "caller"}}
            ],
        },
        {
            "key": "contact",
            "title": "Datos de contacto",
            "questions": [
                {"key": "phone_same", "text": "¿Sigue siendo su teléfono?", "type": "yes_no"},
                {"key": "new_phone", "text": "Nuevo teléfono", "type": "text", "required": False},
                {"key": "email_same", "text": "¿Sigue siendo su correo?", "type": "yes_no"},
                {"key": "new_email", "text": "Nuevo correo", "type": "text", "required": False},
            ],
            "actions": [
                {
                    "action": "confirm_contact",
                    "required": True,
                    "params": {
                        "phone_question": "phone_same",
                        "new_phone_question": "new_phone",
                        "email_question": "email_same",
                        "new_email_question": "new_email",
                    },
                }
            ],
        },
        {
            "key": "key_questions",
            "title": "Las cinco preguntas",
            "questions": [
                {
                    "key": "since_when",
                    "text": "¿Desde cuándo?",
                    "type": "text",
                    "field": "ticket.since_when",
                },
                {
                    "key": "devices",
                    "text": "¿En todos los equipos o en uno?",
                    "type": "choice",
                    "choices": [
                        {"value": "all", "label": "Todos"},
                        {"value": "some", "label": "Algunos"},
                        {"value": "one", "label": "Uno"},
                    ],
                    "field": "ticket.all_devices_or_one",
                },
                {
                    "key": "connection",
                    "text": "¿Wi-Fi o cable?",
                    "type": "choice",
                    "choices": [
                        {"value": "wifi", "label": "Wi-Fi"},
                        {"value": "cable", "label": "Cable"},
                        {"value": "both", "label": "Ambos"},
                    ],
                    "field": "ticket.wifi_or_cable",
                },
                {
                    "key": "brand",
                    "text": "Marca del equipo",
                    "type": "text",
                    "field": "ticket.device_brand",
                },
                {
                    "key": "people",
                    "text": "¿Cuántas personas y equipos?",
                    "type": "number",
                    "min": 0,
                    "max": 50,
                    "field": "ticket.people_and_devices",
                },
                {
                    "key": "words",
                    "text": "En palabras del cliente",
                    "type": "text",
                    "field": "ticket.customer_words",
                },
                {"key": "comes_and_goes", "text": "¿Se corta y vuelve?", "type": "yes_no"},
            ],
            "actions": [
                {
                    "action": "create_ticket",
                    "when": "completed",
                    "params": {
                        "category": "technical",
                        "subcategory": "intermitencia",
                        "priority": "high",
                        "subject": "Intermitencia - {customer_name}",
                    },
                }
            ],
        },
        {
            "key": "validations",
            "title": "Validaciones técnicas",
            "actions": [
                {
                    "action": "run_diagnostics",
                    "required": True,
                    "params": {
                        "kinds": ["onu_status", "optical_power", "ping", "traffic"],
                        "intermittent_question": "comes_and_goes",
                    },
                }
            ],
            "next": [
                {"when": {"fault_found": False, "intermittent": True}, "goto": "advice"},
                {"when": {"fault_found": True}, "goto": "visit"},
                {"goto": "closing"},
            ],
        },
        {
            "key": "advice",
            "title": "Asesorar al cliente",
            "checklist": [{"key": "cable_test", "text": "Sugerir prueba por cable"}],
            "next": [{"goto": "closing"}],
        },
        {
            "key": "visit",
            "title": "Agendar visita",
            "checklist": [{"key": "book_visit", "text": "Agendar la visita técnica"}],
            "next": [{"goto": "closing"}],
        },
        {
            "key": "closing",
            "title": "Cierre",
            "script": "Su número de ticket es {ticket_number}.",
            "questions": [
                {
                    "key": "damage",
                    "text": "¿Hay daño interno o manipulación?",
                    "type": "yes_no",
                    "field": "ticket.extra_cost",
                },
                {
                    "key": "amount",
                    "text": "Monto",
                    "type": "number",
                    "min": 0,
                    "integer": False,
                    "required": False,
                },
            ],
            "actions": [
                {
                    "action": "charge_check",
                    "params": {"question": "damage", "amount_question": "amount"},
                },
                {
                    "action": "send_template",
                    "params": {
                        "template": "ticket_abierto",
                        "params": ["{customer_name}", "ticket.display_number"],
                    },
                },
            ],
            "end": True,
        },
    ],
}


def support_call() -> dict[str, Any]:
    return copy.deepcopy(SUPPORT_CALL)


def make_customer(
    world: World, first: str, last: str, phone: str, *, email: str = "", document: str = ""
) -> Customer:
    return customer_create(
        actor=world.actor(world.agent),
        first_name=first,
        last_name=last,
        phones=[{"raw": phone, "is_whatsapp": True}],
        emails=[{"raw": email}] if email else [],
        documents=[{"kind": "bo_ci", "number": document}] if document else [],
    )


def make_service(customer: Customer, service_id: str, **fields: Any) -> Subscription:
    defaults: dict[str, Any] = {
        "organization": customer.organization,
        "customer": customer,
        "contract_number": f"C-{service_id}",
        "service_id": service_id,
        "service_type": "fiber_ftth",
        "technology": "fiber",
        "currency": customer.organization.currency,
        "started_on": date(2024, 3, 1),
    }
    defaults.update(fields)
    return Subscription.objects.create(**defaults)


@dataclass
class Call:
    world: World
    customer: Customer  # Juana Mamani, +591 71234567, FTTH-1001
    subscription: Subscription
    namesake: Customer  # Pedro Mamani, another customer with the same last name
    outsider_customer: Customer  # the other operator's

    @property
    def agent(self) -> Actor:
        return self.world.actor(self.world.agent)

    @property
    def outsider(self) -> Actor:
        return self.world.actor(self.world.outsider)

    def start(self, customer: Customer | None = None, **kwargs: Any) -> PlaybookRun:
        playbook = install(self.world.operator, support_call())
        return playbook_run_start(actor=self.agent, playbook=playbook, customer=customer, **kwargs)

    def answer(self, run: PlaybookRun, **answers: Any) -> None:
        for key, value in answers.items():
            run_answer(actor=self.agent, run=run, question_key=key, raw_value=value)

    def act(self, run: PlaybookRun, key: str) -> RunAction:
        return run_action(actor=self.agent, run=run, action_key=key)

    def complete(self, run: PlaybookRun) -> None:
        run_step_complete(actor=self.agent, run=run)

    def identified(self, run: PlaybookRun, caller: str = "71234567") -> RunAction:
        self.answer(run, caller=caller)
        record = self.act(run, "identify_customer")
        self.complete(run)
        return record

    def contact_confirmed(self, run: PlaybookRun) -> RunAction:
        self.answer(run, phone_same="sí", email_same="sí")
        record = self.act(run, "confirm_contact")
        self.complete(run)
        return record

    def key_questions(self, run: PlaybookRun, *, comes_and_goes: str = "sí") -> None:
        self.answer(
            run,
            since_when="Desde el lunes, por las noches",
            devices="Todos",
            connection="wifi",
            brand="Samsung",
            people="4",
            words="Se me corta el internet cada rato",
            comes_and_goes=comes_and_goes,
        )
        self.complete(run)

    def to_validations(self, run: PlaybookRun, **options: Any) -> Ticket:
        self.identified(run)
        self.contact_confirmed(run)
        self.key_questions(run, **options)
        return Ticket.objects.get(customer=self.customer)


def call_setup(world: World) -> Call:
    """Juana (phone, e-mail, document, one active service), Pedro Mamani, and the other
    operator's customer; the "intermitencia" subcategory the playbook opens tickets in."""
    TicketSubcategory.objects.create(
        organization=world.operator, category="technical", key="intermitencia", name="Intermitencia"
    )
    juana = make_customer(
        world, "Juana", "Mamani", "71234567", email="juana@example.com", document="4567890"
    )
    pedro = make_customer(world, "Pedro", "Mamani", "72345678")
    outsider = customer_create(
        actor=world.actor(world.outsider),
        first_name="Maria",
        last_name="Silva",
        phones=[{"raw": "11987654321"}],
    )
    make_service(outsider, "BR-3003")
    return Call(
        world=world,
        customer=juana,
        subscription=make_service(juana, "FTTH-1001"),
        namesake=pedro,
        outsider_customer=outsider,
    )


@pytest.fixture
def call(world: World) -> Call:
    return call_setup(world)


def closing(call: Call) -> tuple[PlaybookRun, Ticket]:
    """A run at its closing step: no ONU on file, so the checks find no fault."""
    run = call.start()
    ticket = call.to_validations(run, comes_and_goes="no")
    call.act(run, "run_diagnostics")
    call.complete(run)
    return run, ticket


def customer_target_url(pk: int) -> str:
    target = playbook_target("customer")
    assert target is not None and target.url is not None
    return target.url(pk)


def status_of(record: RunAction) -> tuple[str, str]:
    return (record.status, record.message)


# --- registration --------------------------------------------------------------------


def test_the_tickets_app_registers_the_ticket_target_with_the_ticket_page(call: Call) -> None:
    ticket_target = playbook_target("ticket")
    assert ticket_target is not None and ticket_target.url is not None
    assert ticket_target.url(7) == "/tickets/7/"
    assert customer_target_url(7) == "/customers/7/"
    ticket = Ticket.objects.create(
        organization=call.world.operator,
        number=1,
        customer=call.customer,
        category="technical",
        subject="Sin internet",
        status_changed_at=recent(),
    )
    assert ticket_target.visible(call.agent, ticket.pk) is True
    assert ticket_target.visible(call.outsider, ticket.pk) is False
    customer_target = playbook_target("customer")
    assert customer_target is not None
    assert customer_target.visible(call.agent, call.customer.pk) is True
    assert customer_target.visible(call.outsider, call.customer.pk) is False


# --- identify_customer ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "matched_on"),
    [
        ("71234567", "phone"),
        ("+591 7123-4567", "phone"),
        ("ftth-1001", "service_id"),
        ("4567890", "document"),
        ("Juana Mamani", "name"),
    ],
)
def test_the_customer_is_found_by_phone_service_id_document_or_name(
    call: Call, caller: str, matched_on: str
) -> None:
    run = call.start()
    call.answer(run, caller=caller)

    record = call.act(run, "identify_customer")

    assert status_of(record) == ("ok", "Customer found: Juana Mamani.")
    assert record.data == {"customer_id": call.customer.pk, "matched_on": matched_on}
    run.refresh_from_db()
    assert run.customer_id == call.customer.pk
    assert run.variables["customer_name"] == "Juana Mamani"
    assert run.facts == {"customer_found": True}
    assert run.variables.get("service_id") == ("FTTH-1001" if matched_on == "service_id" else None)


def test_an_unknown_phone_is_refused_with_what_to_try_next(call: Call) -> None:
    run = call.start()
    call.answer(run, caller="79999999")

    record = call.act(run, "identify_customer")

    assert status_of(record) == (
        "failed",
        "No customer has the phone, document or service ID “79999999”. Check the number "
        "with the customer, or search by their name.",
    )
    assert record.data == {"query": "79999999", "candidates": []}
    run.refresh_from_db()
    assert (run.customer_id, run.facts) == (None, {})


def test_an_unknown_service_id_is_refused_and_the_step_stays_open(call: Call) -> None:
    run = call.start()
    call.answer(run, caller="FTTH-9999")

    record = call.act(run, "identify_customer")

    assert status_of(record) == (
        "failed",
        "No customer has the phone, document or service ID “FTTH-9999”. Check the number "
        "with the customer, or search by their name.",
    )
    with pytest.raises(ValidationFailed) as refused:
        call.complete(run)
    assert refused.value.details == {"identify_customer": ["Do it, or write why it was skipped."]}


def test_an_unknown_name_is_refused_asking_for_the_phone_or_service_id(call: Call) -> None:
    run = call.start()
    call.answer(run, caller="Zacarías Flores")

    record = call.act(run, "identify_customer")

    assert status_of(record) == (
        "failed",
        "Nobody is called “Zacarías Flores” among your customers. Ask for the name as on "
        "the contract, or for the phone or service ID.",
    )


def test_a_name_shared_by_several_customers_lists_the_candidates(call: Call) -> None:
    run = call.start()
    call.answer(run, caller="Mamani")

    record = call.act(run, "identify_customer")

    juana, pedro = call.customer.pk, call.namesake.pk
    assert status_of(record) == (
        "failed",
        f"2 customers match “Mamani”: Juana Mamani (#{juana}); Pedro Mamani (#{pedro}). Ask "
        "for the phone or service ID to tell them apart.",
    )
    assert record.data == {
        "query": "Mamani",
        "candidates": [
            {"id": juana, "name": "Juana Mamani", "matched_on": "name"},
            {"id": pedro, "name": "Pedro Mamani", "matched_on": "name"},
        ],
    }
    run.refresh_from_db()
    assert run.customer_id is None
    # The agent picks Pedro among the candidates.
    call.answer(run, caller=f"#{pedro}")
    picked = call.act(run, "identify_customer")
    assert status_of(picked) == ("ok", "Customer found: Pedro Mamani.")
    run.refresh_from_db()
    assert run.customer_id == pedro


def test_another_organizations_customer_is_never_found(call: Call) -> None:
    run = call.start()
    call.answer(run, caller="11987654321")

    record = call.act(run, "identify_customer")

    assert record.status == "failed"
    assert record.data == {"query": "11987654321", "candidates": []}
    # Nor by its id.
    call.answer(run, caller=f"#{call.outsider_customer.pk}")
    by_id = call.act(run, "identify_customer")
    assert status_of(by_id) == (
        "failed",
        f"Customer #{call.outsider_customer.pk} is not among your customers. Search again by "
        "the customer's name, phone or service ID.",
    )
    assert by_id.data == {"query": f"#{call.outsider_customer.pk}", "candidates": []}
    run.refresh_from_db()
    assert run.customer_id is None


def test_a_run_started_from_the_customer_page_reports_its_customer(call: Call) -> None:
    run = call.start(customer=call.customer)
    call.answer(run, caller="Pedro Mamani")  # what the agent typed does not matter

    record = call.act(run, "identify_customer")

    assert status_of(record) == (
        "ok",
        "The customer is Juana Mamani (the playbook was started from their page).",
    )
    run.refresh_from_db()
    assert (run.customer_id, run.facts) == (call.customer.pk, {"customer_found": True})


def test_the_identification_question_must_be_answered_first(call: Call) -> None:
    run = call.start()

    record = call.act(run, "identify_customer")

    assert status_of(record) == (
        "failed",
        "Ask the customer “¿Nombre, teléfono o ID de servicio?” and write the answer first.",
    )


# --- confirm_contact -----------------------------------------------------------------


def test_yes_confirms_the_phone_and_email_on_file(call: Call) -> None:
    run = call.start()
    call.identified(run)
    call.answer(run, phone_same="sí", email_same="sí")

    record = call.act(run, "confirm_contact")

    assert status_of(record) == (
        "ok",
        "Contact data confirmed with the customer: +59171234567, juana@example.com.",
    )
    contacts = ContactPoint.objects.filter(customer=call.customer).order_by("kind")
    assert [(c.kind, c.value, c.verified_on is not None, c.verified_by) for c in contacts] == [
        ("email", "juana@example.com", True, call.world.agent),
        ("phone", "+59171234567", True, call.world.agent),
    ]
    assert record.data["added"] == []


def test_no_records_the_new_phone_as_primary_and_confirms_it(call: Call) -> None:
    run = call.start()
    call.identified(run)
    call.answer(run, phone_same="no", new_phone="76543210", email_same="sí")

    record = call.act(run, "confirm_contact")

    assert status_of(record) == (
        "ok",
        "Contact data confirmed with the customer: +59176543210, juana@example.com.",
    )
    phones = ContactPoint.objects.filter(customer=call.customer, kind="phone").order_by("id")
    assert [(p.value, p.is_primary, p.verified_on is not None) for p in phones] == [
        ("+59171234567", False, False),
        ("+59176543210", True, True),
    ]
    assert record.data["added"] == [phones[1].pk]


def test_no_without_the_new_value_refuses_and_changes_nothing(call: Call) -> None:
    run = call.start()
    call.identified(run)
    call.answer(run, phone_same="sí", email_same="no")

    record = call.act(run, "confirm_contact")

    assert status_of(record) == (
        "failed",
        "The customer gave a new e-mail address: write it in “Nuevo correo”.",
    )
    assert not ContactPoint.objects.filter(
        customer=call.customer, verified_on__isnull=False
    ).exists()


def test_a_bad_new_phone_is_refused_with_the_customers_services_message(call: Call) -> None:
    run = call.start()
    call.identified(run)
    call.answer(run, phone_same="no", new_phone="12", email_same="sí")

    record = call.act(run, "confirm_contact")

    assert record.status == "failed"
    assert record.message.startswith("12 is not a valid phone number in Bolivia.")
    # The e-mail's confirmation was rolled back with the refused phone.
    assert not ContactPoint.objects.filter(
        customer=call.customer, verified_on__isnull=False
    ).exists()
    assert ContactPoint.objects.filter(customer=call.customer).count() == 2


# --- create_ticket and the ticket fields ---------------------------------------------


def test_the_call_opens_the_ticket_with_the_five_key_questions(call: Call) -> None:
    run = call.start()
    call.identified(run)
    call.contact_confirmed(run)
    # Before the ticket exists the answers stay on the run only.
    call.answer(run, since_when="Desde el lunes")
    assert not Ticket.objects.exists()
    assert not RunAction.objects.filter(run=run, action="fields:ticket").exists()

    call.key_questions(run)

    ticket = Ticket.objects.get()
    assert (
        ticket.display_number,
        ticket.customer,
        ticket.subscription,
        ticket.category,
        ticket.subcategory.key if ticket.subcategory else None,
        ticket.priority,
        ticket.subject,
        ticket.customer_words,
        ticket.channel,
        ticket.assigned_user,
    ) == (
        "T-000001",
        call.customer,
        call.subscription,
        "technical",
        "intermitencia",
        "high",
        "Intermitencia - Juana Mamani",
        "Se me corta el internet cada rato",
        "call",
        call.world.agent,
    )
    assert ticket.answers == {
        "since_when": "Desde el lunes, por las noches",
        "all_devices_or_one": "all",
        "wifi_or_cable": "wifi",
        "device_brand": "Samsung",
        "people_and_devices": "4",
    }
    run.refresh_from_db()
    assert (run.target_type, run.target_id) == ("ticket", ticket.pk)
    assert run.variables["ticket_number"] == "T-000001"
    assert list(RunLink.objects.filter(run=run).values_list("target_type", "target_id")) == [
        ("ticket", ticket.pk)
    ]
    created = RunAction.objects.get(run=run, action="create_ticket")
    assert status_of(created) == ("ok", "Ticket T-000001 opened for Juana Mamani.")
    assert created.data == {
        "ticket_id": ticket.pk,
        "ticket_number": "T-000001",
        "subscription_id": call.subscription.pk,
    }


def test_answers_given_after_the_ticket_exists_are_written_to_it(call: Call) -> None:
    run, _ticket = closing(call)
    run.refresh_from_db()
    assert run.current_step is not None and run.current_step.step_key == "closing"

    call.answer(run, damage="no")

    ticket = Ticket.objects.get()
    assert ticket.answers["extra_cost"] is False
    call.answer(run, damage="sí")
    ticket.refresh_from_db()
    assert ticket.answers["extra_cost"] is True


def test_an_answer_the_closed_ticket_refuses_is_recorded_on_the_run_and_kept(
    call: Call,
) -> None:
    run, ticket = closing(call)
    supervisor = call.world.actor(call.world.supervisor)
    ticket_status_set(actor=supervisor, ticket=ticket, status="resolved")
    ticket_status_set(actor=supervisor, ticket=ticket, status="closed")

    call.answer(run, damage="no")

    failure = RunAction.objects.get(run=run, action="fields:ticket")
    assert status_of(failure) == (
        "failed",
        "Ticket T-000001 is closed and cannot change; open a new ticket for the customer instead.",
    )
    assert RunAnswer.objects.get(run=run, question_key="damage").value is False
    ticket.refresh_from_db()
    assert "extra_cost" not in ticket.answers


def test_a_run_that_has_its_ticket_reports_it_instead_of_opening_another(call: Call) -> None:
    playbook_data = support_call()
    # The same action once more as a button in the validations step.
    playbook_data["steps"][3]["actions"].append(
        {
            "action": "create_ticket",
            "key": "ticket_again",
            "params": {"subject": "Otra vez"},
        }
    )
    playbook = install(call.world.operator, playbook_data)
    run = playbook_run_start(actor=call.agent, playbook=playbook)
    call.to_validations(run)

    record = call.act(run, "ticket_again")

    ticket = Ticket.objects.get()
    assert status_of(record) == ("ok", "This call already has ticket T-000001.")
    assert record.data == {"ticket_id": ticket.pk, "ticket_number": "T-000001", "existing": True}


def test_the_service_id_the_customer_was_found_by_is_the_tickets(call: Call) -> None:
    second = make_service(call.customer, "FTTH-1002")
    run = call.start()
    call.identified(run, caller="FTTH-1002")
    call.contact_confirmed(run)
    call.key_questions(run)

    assert Ticket.objects.get().subscription == second


def test_with_several_active_services_and_none_named_the_ticket_has_no_service(
    call: Call,
) -> None:
    make_service(call.customer, "FTTH-1002")
    make_service(call.customer, "FTTH-1003", status=SubscriptionStatus.CANCELLED)
    run = call.start()
    call.to_validations(run)

    assert Ticket.objects.get().subscription is None


def test_a_ticket_needs_an_identified_customer(call: Call) -> None:
    playbook_data = support_call()
    playbook_data["steps"][0]["actions"][0]["required"] = False
    playbook = install(call.world.operator, playbook_data)
    run = playbook_run_start(actor=call.agent, playbook=playbook)
    call.answer(run, caller="nadie")
    call.complete(run)  # the agent did not press "find the customer"
    call.answer(run, phone_same="sí", email_same="sí")
    run_step_complete(
        actor=call.agent,
        run=run,
        skip_reasons={"confirm_contact": "El cliente no quiso dar sus datos"},
    )
    call.key_questions(run)

    record = RunAction.objects.get(run=run, action="create_ticket")
    assert status_of(record) == (
        "failed",
        "Identify the customer first: search them by name, phone or service ID in this "
        "playbook, or start it from the customer's page.",
    )
    assert not Ticket.objects.exists()


def test_a_reseller_that_lost_the_customer_mid_call_cannot_open_their_ticket(
    call: Call,
) -> None:
    world = call.world
    CustomerAssignment.objects.create(customer=call.customer, reseller=world.reseller)
    reseller = world.actor(world.reseller_agent)
    playbook = install(world.reseller, support_call())
    run = playbook_run_start(actor=reseller, playbook=playbook, customer=call.customer)
    run_answer(actor=reseller, run=run, question_key="caller", raw_value="Juana")
    assert run_action(actor=reseller, run=run, action_key="identify_customer").status == "ok"
    run_step_complete(actor=reseller, run=run)
    for key in ("phone_same", "email_same"):
        run_answer(actor=reseller, run=run, question_key=key, raw_value="sí")
    assert run_action(actor=reseller, run=run, action_key="confirm_contact").status == "ok"
    run_step_complete(actor=reseller, run=run)
    # The operator takes the customer back while the reseller is on the call.
    CustomerAssignment.objects.filter(customer=call.customer).delete()
    key_answers = {
        "since_when": "ayer",
        "devices": "one",
        "connection": "cable",
        "brand": "LG",
        "people": "2",
        "words": "no anda",
        "comes_and_goes": "no",
    }
    for key, value in key_answers.items():
        run_answer(actor=reseller, run=run, question_key=key, raw_value=value)
    run_step_complete(actor=reseller, run=run)

    record = RunAction.objects.get(run=run, action="create_ticket")
    assert status_of(record) == (
        ActionStatus.FAILED,
        "No such customer. Search again by name, phone or service ID.",
    )
    assert not Ticket.objects.exists()


def test_an_outsider_can_neither_start_a_run_for_our_customer_nor_on_our_ticket(
    call: Call,
) -> None:
    run = call.start()
    call.to_validations(run)
    ticket = Ticket.objects.get()
    outsider_playbook = install(call.world.other_operator, support_call())
    before = (Ticket.objects.count(), PlaybookRun.objects.count(), RunAction.objects.count())

    with pytest.raises(NotFound):
        playbook_run_start(actor=call.outsider, playbook=outsider_playbook, customer=call.customer)
    with pytest.raises(NotFound):
        playbook_run_start(
            actor=call.outsider,
            playbook=outsider_playbook,
            target=RunTarget("ticket", ticket.pk),
        )
    with pytest.raises(NotFound):
        run_action(actor=call.outsider, run=run, action_key="run_diagnostics")

    assert (
        Ticket.objects.count(),
        PlaybookRun.objects.count(),
        RunAction.objects.count(),
    ) == before


# --- charge_check --------------------------------------------------------------------


def test_internal_damage_proposes_a_charge_for_the_supervisor(call: Call) -> None:
    run, ticket = closing(call)
    call.answer(run, damage="sí", amount="150.50")

    record = call.act(run, "charge_check")

    charge = TicketCharge.objects.get()
    assert (charge.ticket, charge.kind, charge.amount, charge.currency, charge.status) == (
        ticket,
        "internal_damage",
        Decimal("150.50"),
        "BOB",
        ChargeStatus.PROPOSED,
    )
    assert charge.reason == "Found during the call with the playbook “Atención por llamada”."
    assert status_of(record) == (
        "ok",
        "Internal damage charge of 150.50 BOB proposed on T-000001; a supervisor approves or "
        "rejects it.",
    )
    # Pressed again: the same charge, not a second one.
    again = call.act(run, "charge_check")
    assert status_of(again) == ("ok", "A charge of 150.50 BOB is already proposed on T-000001.")
    assert TicketCharge.objects.count() == 1


def test_no_damage_charges_nothing(call: Call) -> None:
    run, _ticket = closing(call)
    call.answer(run, damage="no")

    record = call.act(run, "charge_check")

    assert status_of(record) == ("ok", "No internal damage or manipulation: nothing is charged.")
    assert not TicketCharge.objects.exists()


def test_damage_without_an_amount_asks_for_it(call: Call) -> None:
    run, _ticket = closing(call)
    call.answer(run, damage="sí")

    record = call.act(run, "charge_check")

    assert status_of(record) == ("failed", "Ask the customer “Monto” and write the answer first.")
    assert not TicketCharge.objects.exists()


# --- send_template -------------------------------------------------------------------


def whatsapp(call: Call, **template: Any) -> tuple[Conversation, Template]:
    channel = make_channel(call.world.operator)
    conversation = make_conversation(
        channel, wa_id=WA_ID, customer=call.customer, last_inbound_at=recent()
    )
    defaults: dict[str, Any] = {
        "name": "ticket_abierto",
        "language": "es",
        "body": "Hola {{1}}, registramos su reclamo con el número {{2}}.",
        "param_fields": [],
        "buttons": [],
    }
    defaults.update(template)
    return conversation, make_template(channel, **defaults)


def test_the_template_goes_to_the_outbox_with_the_ticket_number(call: Call) -> None:
    conversation, template = whatsapp(call)
    run, _ticket = closing(call)

    record = call.act(run, "send_template")

    message = Message.objects.get()
    assert (message.conversation, message.kind, message.template, message.body) == (
        conversation,
        Message.Kind.TEMPLATE,
        template,
        "Hola Juana Mamani, registramos su reclamo con el número T-000001.",
    )
    assert message.payload["template"]["name"] == "ticket_abierto"
    assert status_of(record) == ("ok", f"Template “ticket_abierto” queued to {WA_ID}.")
    assert record.data == {
        "message_id": message.pk,
        "template_id": template.pk,
        "params": ["Juana Mamani", "T-000001"],
    }


def test_a_run_started_from_the_conversation_opens_the_ticket_on_it(call: Call) -> None:
    conversation, _template = whatsapp(call)
    run = call.start(target=RunTarget("conversation", conversation.pk))
    ticket = call.to_validations(run)

    assert (ticket.conversation, ticket.channel) == (conversation, "whatsapp")
    assert set(RunLink.objects.filter(run=run).values_list("target_type", "target_id")) == {
        ("conversation", conversation.pk),
        ("ticket", ticket.pk),
    }


def test_a_marketing_template_to_a_customer_who_opted_out_is_refused(call: Call) -> None:
    conversation, _template = whatsapp(call, category=Template.Category.MARKETING)
    Conversation.objects.filter(pk=conversation.pk).update(marketing_opt_out_at=recent())
    run, _ticket = closing(call)

    record = call.act(run, "send_template")

    assert status_of(record) == (
        "failed",
        "This customer has not consented to WhatsApp marketing or has opted out. Send a "
        "utility template or contact them another way.",
    )
    assert record.data == {"reason": "no_marketing_consent"}
    assert not Message.objects.exists()


def test_a_customer_without_whatsapp_gets_no_template(call: Call) -> None:
    Channel.objects.all().delete()
    run, _ticket = closing(call)

    record = call.act(run, "send_template")

    assert status_of(record) == (
        "failed",
        "The customer has no WhatsApp conversation with us, so a template cannot be sent. "
        "Tell them the ticket number on the call, or write to them by e-mail from the ticket.",
    )
    assert record.data == {"reason": "no_channel"}
    assert not Message.objects.exists()


def test_a_template_parameter_without_a_value_is_refused_before_sending(call: Call) -> None:
    whatsapp(call)
    playbook_data = support_call()
    playbook_data["steps"][-1]["actions"][1]["params"]["params"] = [
        "{customer_name}",
        "ticket.device_brand",
    ]
    playbook = install(call.world.operator, playbook_data)
    run = playbook_run_start(actor=call.agent, playbook=playbook)
    call.identified(run)
    call.contact_confirmed(run)
    call.answer(
        run,
        since_when="ayer",
        devices="one",
        connection="cable",
        people="1",
        words="no anda",
        comes_and_goes="no",
    )
    run_step_complete(actor=call.agent, run=run, skip_reasons={"brand": "No lo sabe"})
    call.act(run, "run_diagnostics")
    call.complete(run)

    record = call.act(run, "send_template")

    assert status_of(record) == (
        "failed",
        "The template needs “ticket.device_brand”, which is empty for this call. Fill it in "
        "first or send the message from the inbox.",
    )
    assert not Message.objects.exists()

"""Ticket services: creation and its checks, status workflow and history, assignment,
answers, charges, corrections; scoping by organization (the outsider changes nothing)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from telcodesk.accounts.models import AuditLog, Team
from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from telcodesk.customers.models import CustomerAssignment, TimelineEvent
from telcodesk.tickets.answers import TICKET_ANSWER_FIELDS, ticket_answer_field
from telcodesk.tickets.models import (
    ChargeStatus,
    Ticket,
    TicketCharge,
    TicketStatus,
    TicketStatusChange,
    TicketSubcategory,
)
from telcodesk.tickets.selectors import ticket_get, tickets_visible
from telcodesk.tickets.services import (
    ticket_answers_set,
    ticket_assign,
    ticket_charge_add,
    ticket_charge_approve,
    ticket_charge_reject,
    ticket_create,
    ticket_reopen,
    ticket_status_set,
    ticket_take,
    ticket_update,
)

from .conftest import Desk

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int]:
    return (
        Ticket.objects.count(),
        TicketStatusChange.objects.count(),
        TimelineEvent.objects.filter(kind=TimelineEvent.Kind.TICKET).count(),
        AuditLog.objects.filter(object_type__startswith="tickets.").count(),
    )


def _ticket_entries(desk: Desk) -> list[str]:
    return list(
        TimelineEvent.objects.filter(customer=desk.customer, kind=TimelineEvent.Kind.TICKET)
        .order_by("at", "id")
        .values_list("summary", flat=True)
    )


# --- creating --------------------------------------------------------------------------------


class TestCreate:
    def test_it_opens_a_ticket_with_its_number_history_audit_and_timeline(self, desk: Desk) -> None:
        world = desk.world
        ticket = ticket_create(
            actor=world.actor(world.agent),
            customer=desk.customer,
            subscription=desk.subscription,
            category="technical",
            subject="  Sin   internet desde ayer ",
            description="Luz LOS roja en la ONU.",
            customer_words="Desde ayer no me anda nada, ni el celular.",
            priority="high",
            answers={"since_when": "ayer a la noche", "wifi_or_cable": "wifi"},
        )
        ticket.refresh_from_db()
        assert (ticket.number, ticket.display_number) == (1, "T-000001")
        assert ticket.organization == world.operator
        assert (ticket.customer, ticket.subscription) == (desk.customer, desk.subscription)
        assert (ticket.category, ticket.priority, ticket.status) == ("technical", "high", "new")
        assert ticket.subject == "Sin internet desde ayer"
        assert ticket.customer_words == "Desde ayer no me anda nada, ni el celular."
        assert ticket.answers == {"since_when": "ayer a la noche", "wifi_or_cable": "wifi"}
        assert (ticket.channel, ticket.created_by) == ("call", world.agent)
        # The creating agent works it, with their team.
        assert ticket.assigned_user == world.agent
        assert ticket.assigned_team == Team.objects.get(organization=world.operator)
        [history] = ticket.status_history.all()
        assert (history.from_status, history.to_status, history.actor) == ("", "new", world.agent)
        audit = AuditLog.objects.get(object_type="tickets.ticket", object_id=str(ticket.pk))
        assert audit.action == AuditLog.Action.CREATE
        assert audit.changes == {
            "number": "T-000001",
            "customer": desk.customer.pk,
            "category": "technical",
            "priority": "high",
        }
        assert _ticket_entries(desk) == [
            "Ticket T-000001 opened (Technical): Sin internet desde ayer"
        ]

    def test_without_take_it_starts_unassigned(self, desk: Desk) -> None:
        ticket = desk.ticket(take=False)
        assert (ticket.assigned_user, ticket.assigned_team) == (None, None)

    def test_a_service_of_another_customer_is_refused_and_nothing_is_written(
        self, desk: Desk
    ) -> None:
        before = _counts()
        with pytest.raises(ValidationFailed) as caught:
            desk.ticket(subscription=desk.other_subscription)
        assert caught.value.details == {
            "subscription": [
                "The service FTTH-2002 is not one of this customer's services; choose one of "
                "theirs or none."
            ]
        }
        assert _counts() == before

    def test_another_organizations_customer_or_service_is_not_found(self, desk: Desk) -> None:
        before = _counts()
        with pytest.raises(NotFound):
            desk.ticket(customer=desk.outsider_customer)
        with pytest.raises(NotFound):
            desk.ticket(subscription=desk.outsider_subscription)
        assert _counts() == before

    def test_a_reseller_opens_tickets_only_for_its_assigned_customers(self, desk: Desk) -> None:
        world = desk.world
        ticket = desk.ticket(world.reseller_agent)
        assert (ticket.organization, ticket.number) == (world.reseller, 1)
        with pytest.raises(NotFound):
            desk.ticket(world.reseller_agent, customer=desk.other_customer)
        # The operator's timeline of its customer shows the reseller's ticket.
        assert _ticket_entries(desk) == [
            "Ticket T-000001 opened (Technical): Sin internet desde ayer"
        ]
        # The operator does not see the reseller's ticket, nor the reseller once the
        # customer is taken back.
        with pytest.raises(NotFound):
            ticket_get(actor=world.actor(world.agent), ticket_id=ticket.pk)
        CustomerAssignment.objects.filter(reseller=world.reseller).delete()
        assert not tickets_visible(actor=world.actor(world.reseller_agent)).exists()

    def test_bad_fields_are_refused_each_with_its_reason(self, desk: Desk) -> None:
        before = _counts()
        with pytest.raises(ValidationFailed) as caught:
            desk.ticket(category="networking", priority="asap", channel="fax")
        assert caught.value.details == {
            "category": [
                "Choose one of the categories: technical, administrative, billing, "
                "commercial, other."
            ],
            "priority": ["Choose low, normal, high or urgent."],
            "channel": ["Choose how the customer reached us: call, whatsapp, email, web."],
        }
        with pytest.raises(ValidationFailed) as caught:
            desk.ticket(subject="   ")
        assert caught.value.details == {"subject": ["Subject: this field is required."]}
        with pytest.raises(ValidationFailed) as caught:
            desk.ticket(answers={"favourite_colour": "blue"})
        assert list(caught.value.details) == ["favourite_colour"]
        assert _counts() == before

    def test_a_subcategory_must_be_in_use_and_of_the_same_category(self, desk: Desk) -> None:
        world = desk.world
        slow = TicketSubcategory.objects.create(
            organization=world.operator, category="technical", key="lentitud", name="Lentitud"
        )
        billing = TicketSubcategory.objects.create(
            organization=world.operator, category="billing", key="doble-cobro", name="Doble cobro"
        )
        theirs = TicketSubcategory.objects.create(
            organization=world.other_operator, category="technical", key="lentidao", name="Lento"
        )
        assert desk.ticket(subcategory=slow).subcategory == slow
        with pytest.raises(ValidationFailed) as caught:
            desk.ticket(subcategory=billing)
        assert caught.value.details == {
            "subcategory": ["The subcategory “Doble cobro” belongs to the category Billing."]
        }
        with pytest.raises(ValidationFailed):
            desk.ticket(subcategory=theirs)
        TicketSubcategory.objects.filter(pk=slow.pk).update(is_active=False)
        with pytest.raises(ValidationFailed):
            desk.ticket(subcategory=slow)

    def test_a_role_without_customer_edit_cannot_open_tickets(self, desk: Desk) -> None:
        from telcodesk.core.tenancy import Actor

        viewer = Actor(organization=desk.world.operator, role="integration", label="store")
        with pytest.raises(PermissionDenied):
            ticket_create(actor=viewer, customer=desk.customer, category="other", subject="x")


# --- status ---------------------------------------------------------------------------------


class TestStatus:
    def test_a_ticket_walks_the_workflow_and_every_step_is_in_its_history(self, desk: Desk) -> None:
        world = desk.world
        agent = world.actor(world.agent)
        ticket = desk.ticket()
        start = timezone.now()
        for offset, (status, note) in enumerate(
            [
                ("in_progress", ""),
                ("waiting_customer", "Pedimos prueba por cable"),
                ("visit_scheduled", "Potencia -29 dBm"),
                ("resolved", "Conector cambiado"),
            ]
        ):
            ticket = ticket_status_set(
                actor=agent,
                ticket=ticket,
                status=status,
                note=note,
                now=start + timedelta(minutes=offset),
            )
        assert ticket.status == "resolved"
        assert ticket.resolved_at == start + timedelta(minutes=3)
        ticket = ticket_reopen(
            actor=agent, ticket=ticket, note="Volvió a cortarse", now=start + timedelta(minutes=9)
        )
        assert (ticket.status, ticket.resolved_at) == ("in_progress", None)
        rows = list(
            ticket.status_history.order_by("at", "id").values_list(
                "from_status", "to_status", "note", "actor"
            )
        )
        assert rows == [
            ("", "new", "", world.agent.pk),
            ("new", "in_progress", "", world.agent.pk),
            ("in_progress", "waiting_customer", "Pedimos prueba por cable", world.agent.pk),
            ("waiting_customer", "visit_scheduled", "Potencia -29 dBm", world.agent.pk),
            ("visit_scheduled", "resolved", "Conector cambiado", world.agent.pk),
            ("resolved", "in_progress", "Volvió a cortarse", world.agent.pk),
        ]
        assert _ticket_entries(desk) == [
            "Ticket T-000001 opened (Technical): Sin internet desde ayer",
            "Ticket T-000001 resolved: Sin internet desde ayer",
            "Ticket T-000001 reopened: Volvió a cortarse",
        ]

    def test_closing_a_resolved_ticket_writes_the_timeline_and_makes_it_final(
        self, desk: Desk
    ) -> None:
        agent = desk.world.actor(desk.world.agent)
        ticket = ticket_status_set(actor=agent, ticket=desk.ticket(), status="resolved")
        ticket = ticket_status_set(actor=agent, ticket=ticket, status="closed")
        assert ticket.closed_at is not None
        assert _ticket_entries(desk)[-1] == "Ticket T-000001 closed: Sin internet desde ayer"
        before = _counts()
        with pytest.raises(ValidationFailed) as caught:
            ticket_status_set(actor=agent, ticket=ticket, status="in_progress", note="otra vez")
        assert caught.value.message == (
            "A closed ticket is final and cannot change; open a new ticket instead."
        )
        with pytest.raises(ValidationFailed) as caught:
            ticket_assign(actor=desk.world.actor(desk.world.supervisor), ticket=ticket, user=None)
        assert caught.value.details["user"] == [
            "Ticket T-000001 is closed and cannot change; open a new ticket for the customer "
            "instead."
        ]
        assert _counts() == before

    def test_a_refused_move_says_which_are_allowed_and_changes_nothing(self, desk: Desk) -> None:
        ticket = desk.ticket()
        before = _counts()
        with pytest.raises(ValidationFailed) as caught:
            ticket_status_set(
                actor=desk.world.actor(desk.world.agent), ticket=ticket, status="closed"
            )
        assert caught.value.details == {
            "status": [
                "A ticket that is “New” can only move to: In progress, Waiting for the "
                "customer, Visit scheduled, Resolved."
            ]
        }
        ticket.refresh_from_db()
        assert ticket.status == "new"
        assert _counts() == before

    def test_setting_the_same_status_changes_nothing(self, desk: Desk) -> None:
        ticket = desk.ticket()
        before = _counts()
        ticket_status_set(actor=desk.world.actor(desk.world.agent), ticket=ticket, status="new")
        assert _counts() == before

    def test_reopening_needs_a_note_and_a_resolved_ticket(self, desk: Desk) -> None:
        agent = desk.world.actor(desk.world.agent)
        ticket = desk.ticket()
        with pytest.raises(ValidationFailed) as caught:
            ticket_reopen(actor=agent, ticket=ticket, note="por qué no")
        assert caught.value.message == (
            "Only a resolved ticket can be reopened; this one is “New”."
        )
        ticket = ticket_status_set(actor=agent, ticket=ticket, status="resolved")
        with pytest.raises(ValidationFailed) as caught:
            ticket_reopen(actor=agent, ticket=ticket, note="")
        assert caught.value.details == {
            "status": ["Say why the ticket is reopened: write a note (e.g. the problem came back)."]
        }
        ticket.refresh_from_db()
        assert ticket.status == TicketStatus.RESOLVED

    def test_the_outsider_cannot_move_our_ticket(self, desk: Desk) -> None:
        ticket = desk.ticket()
        before = _counts()
        with pytest.raises(NotFound):
            ticket_status_set(
                actor=desk.world.actor(desk.world.outsider), ticket=ticket, status="in_progress"
            )
        ticket.refresh_from_db()
        assert ticket.status == "new"
        assert _counts() == before


# --- assignment -------------------------------------------------------------------------------


class TestAssignment:
    def test_an_agent_takes_an_unassigned_ticket_and_it_is_audited(self, desk: Desk) -> None:
        world = desk.world
        ticket = desk.ticket(world.supervisor, take=False)
        taken = ticket_take(actor=world.actor(world.agent), ticket=ticket)
        team = Team.objects.get(organization=world.operator)
        assert (taken.assigned_user, taken.assigned_team) == (world.agent, team)
        entry = AuditLog.objects.get(
            object_type="tickets.ticket", object_id=str(ticket.pk), action="update"
        )
        assert entry.changes == {
            "assigned_user": [None, world.agent.pk],
            "assigned_team": [None, team.pk],
        }
        assert entry.actor == world.agent

    def test_an_agent_cannot_give_a_ticket_away_nor_take_another_agents(self, desk: Desk) -> None:
        world = desk.world
        ticket = desk.ticket(world.back_office)  # worked by the back office
        before = _counts()
        with pytest.raises(PermissionDenied) as caught:
            ticket_take(actor=world.actor(world.agent), ticket=ticket)
        assert caught.value.message == (
            "Another agent already works this ticket. Ask a supervisor to reassign it."
        )
        with pytest.raises(PermissionDenied) as caught:
            ticket_assign(actor=world.actor(world.agent), ticket=ticket, user=world.admin)
        assert caught.value.message.startswith("Only supervisors give tickets to other agents")
        ticket.refresh_from_db()
        assert ticket.assigned_user == world.back_office
        assert _counts() == before

    def test_a_supervisor_assigns_to_anyone_and_to_a_team(self, desk: Desk) -> None:
        world = desk.world
        night = Team.objects.create(organization=world.operator, name="Noche")
        supervisor = world.actor(world.supervisor)
        ticket = ticket_assign(
            actor=supervisor, ticket=desk.ticket(), user=world.back_office, team=night
        )
        assert (ticket.assigned_user, ticket.assigned_team) == (world.back_office, night)
        ticket = ticket_assign(actor=supervisor, ticket=ticket, user=None, team=night)
        assert (ticket.assigned_user, ticket.assigned_team) == (None, night)

    def test_people_and_teams_of_other_organizations_are_refused(self, desk: Desk) -> None:
        world = desk.world
        supervisor = world.actor(world.supervisor)
        ticket = desk.ticket()
        foreign_team = Team.objects.get(organization=world.other_operator)
        with pytest.raises(ValidationFailed) as caught:
            ticket_assign(actor=supervisor, ticket=ticket, user=world.outsider)
        assert caught.value.details == {
            "user": ["outsider is not a member of your organization; choose one of its agents."]
        }
        with pytest.raises(ValidationFailed):
            ticket_assign(actor=supervisor, ticket=ticket, user=world.agent, team=foreign_team)
        ticket.refresh_from_db()
        assert ticket.assigned_user == world.agent

    def test_the_outsider_cannot_take_our_ticket(self, desk: Desk) -> None:
        ticket = desk.ticket(take=False)
        with pytest.raises(NotFound):
            ticket_take(actor=desk.world.actor(desk.world.outsider), ticket=ticket)
        ticket.refresh_from_db()
        assert ticket.assigned_user is None


# --- answers ---------------------------------------------------------------------------------


class TestAnswers:
    def test_the_registry_has_the_five_key_questions_and_the_closing_fields(self) -> None:
        assert list(TICKET_ANSWER_FIELDS) == [
            "since_when",
            "all_devices_or_one",
            "wifi_or_cable",
            "device_brand",
            "people_and_devices",
            "observations_customer_words",
            "diagnosis_summary",
            "extra_cost",
        ]
        field = ticket_answer_field("wifi_or_cable")
        assert field is not None and field.choice_values() == ("wifi", "cable", "both")
        assert ticket_answer_field("favourite_colour") is None

    def test_answers_merge_typed_and_clear_with_empty_values(self, desk: Desk) -> None:
        agent = desk.world.actor(desk.world.agent)
        ticket = desk.ticket(answers={"since_when": "ayer"})
        ticket = ticket_answers_set(
            actor=agent,
            ticket=ticket,
            answers={
                "all_devices_or_one": "all",
                "device_brand": "  Samsung A52 ",
                "extra_cost": "no",
            },
        )
        assert ticket.answers == {
            "since_when": "ayer",
            "all_devices_or_one": "all",
            "device_brand": "Samsung A52",
            "extra_cost": False,
        }
        ticket = ticket_answers_set(actor=agent, ticket=ticket, answers={"since_when": ""})
        ticket.refresh_from_db()
        assert "since_when" not in ticket.answers

    def test_one_bad_answer_refuses_them_all(self, desk: Desk) -> None:
        ticket = desk.ticket()
        with pytest.raises(ValidationFailed) as caught:
            ticket_answers_set(
                actor=desk.world.actor(desk.world.agent),
                ticket=ticket,
                answers={
                    "since_when": "ayer",
                    "wifi_or_cable": "fibra",
                    "extra_cost": "quizás",
                    "router_colour": "blanco",
                },
            )
        details = caught.value.details
        assert details["wifi_or_cable"] == ["Choose one of: wifi, cable, both."]
        assert details["extra_cost"] == ["Answer yes or no."]
        assert details["router_colour"][0].startswith(
            "The ticket has no question field “router_colour”; use one of: since_when, "
        )
        assert "since_when" not in details
        ticket.refresh_from_db()
        assert ticket.answers == {}

    def test_the_outsider_cannot_write_answers(self, desk: Desk) -> None:
        ticket = desk.ticket()
        with pytest.raises(NotFound):
            ticket_answers_set(
                actor=desk.world.actor(desk.world.outsider),
                ticket=ticket,
                answers={"since_when": "hoy"},
            )
        ticket.refresh_from_db()
        assert ticket.answers == {}


# --- charges ---------------------------------------------------------------------------------


class TestCharges:
    def test_an_agent_proposes_and_a_supervisor_approves_in_the_orgs_currency(
        self, desk: Desk
    ) -> None:
        world = desk.world
        ticket = desk.ticket()
        charge = ticket_charge_add(
            actor=world.actor(world.agent),
            ticket=ticket,
            kind="internal_damage",
            amount="150.5",
            reason="Cable de fibra doblado dentro del domicilio",
        )
        assert (charge.amount, charge.currency, charge.status) == (
            Decimal("150.50"),
            "BOB",
            ChargeStatus.PROPOSED,
        )
        assert charge.proposed_by == world.agent
        approved = ticket_charge_approve(
            actor=world.actor(world.supervisor), charge=charge, note="Visto con fotos"
        )
        assert (approved.status, approved.decided_by, approved.decision_note) == (
            "approved",
            world.supervisor,
            "Visto con fotos",
        )
        assert _ticket_entries(desk)[-1] == (
            "Charge of 150.50 BOB for Internal damage approved on ticket T-000001"
        )
        assert list(
            AuditLog.objects.filter(object_type="tickets.charge")
            .order_by("id")
            .values_list("action", "changes")
        ) == [
            (
                "create",
                {
                    "ticket": ticket.pk,
                    "kind": "internal_damage",
                    "amount": "150.50",
                    "currency": "BOB",
                },
            ),
            ("update", {"status": ["proposed", "approved"]}),
        ]

    def test_only_a_supervisor_decides_and_only_once(self, desk: Desk) -> None:
        world = desk.world
        charge = ticket_charge_add(
            actor=world.actor(world.agent),
            ticket=desk.ticket(),
            kind="manipulation",
            amount=Decimal("80"),
            reason="ONU reseteada por el cliente",
        )
        with pytest.raises(PermissionDenied):
            ticket_charge_approve(actor=world.actor(world.agent), charge=charge)
        charge.refresh_from_db()
        assert charge.status == "proposed"
        ticket_charge_reject(actor=world.actor(world.supervisor), charge=charge, note="No aplica")
        with pytest.raises(ValidationFailed) as caught:
            ticket_charge_approve(actor=world.actor(world.supervisor), charge=charge)
        assert (
            caught.value.message == "This charge was already rejected; it cannot be decided again."
        )
        charge.refresh_from_db()
        assert charge.status == "rejected"

    @pytest.mark.parametrize("amount", ["0", "-5", "abc", "10.001", "NaN", "1e20"])
    def test_a_bad_amount_is_refused_and_nothing_is_written(self, desk: Desk, amount: str) -> None:
        ticket = desk.ticket()
        with pytest.raises(ValidationFailed) as caught:
            ticket_charge_add(
                actor=desk.world.actor(desk.world.agent),
                ticket=ticket,
                kind="manipulation",
                amount=amount,
                reason="x",
            )
        assert caught.value.details == {
            "amount": [
                "Write the amount as a number above zero with at most 2 decimals, e.g. 150.00."
            ]
        }
        assert not TicketCharge.objects.exists()

    def test_an_unknown_kind_is_refused(self, desk: Desk) -> None:
        with pytest.raises(ValidationFailed) as caught:
            ticket_charge_add(
                actor=desk.world.actor(desk.world.agent),
                ticket=desk.ticket(),
                kind="late_fee",
                amount="10",
                reason="x",
            )
        assert caught.value.details == {"kind": ["Choose internal damage or manipulation."]}

    def test_the_outsider_cannot_propose_nor_decide(self, desk: Desk) -> None:
        world = desk.world
        ticket = desk.ticket()
        charge = ticket_charge_add(
            actor=world.actor(world.agent),
            ticket=ticket,
            kind="manipulation",
            amount="5",
            reason="x",
        )
        with pytest.raises(NotFound):
            ticket_charge_add(
                actor=world.actor(world.outsider),
                ticket=ticket,
                kind="manipulation",
                amount="5",
                reason="x",
            )
        with pytest.raises(NotFound):
            ticket_charge_approve(actor=world.actor(world.outsider), charge=charge)
        charge.refresh_from_db()
        assert (TicketCharge.objects.count(), charge.status) == (1, "proposed")


# --- corrections -------------------------------------------------------------------------------


class TestUpdate:
    def test_priority_and_category_changes_are_audited(self, desk: Desk) -> None:
        world = desk.world
        ticket = desk.ticket(subscription=desk.subscription)
        ticket = ticket_update(
            actor=world.actor(world.agent),
            ticket=ticket,
            priority="urgent",
            category="billing",
            subject="Cobro doble",
            subscription=None,
        )
        ticket.refresh_from_db()
        assert (ticket.priority, ticket.category, ticket.subject, ticket.subscription) == (
            "urgent",
            "billing",
            "Cobro doble",
            None,
        )
        entry = AuditLog.objects.filter(object_type="tickets.ticket", action="update").get()
        assert entry.changes == {
            "priority": ["normal", "urgent"],
            "category": ["technical", "billing"],
        }

    def test_unknown_fields_and_another_customers_service_are_refused(self, desk: Desk) -> None:
        agent = desk.world.actor(desk.world.agent)
        ticket = desk.ticket()
        with pytest.raises(ValidationFailed) as caught:
            ticket_update(actor=agent, ticket=ticket, status="closed")
        assert caught.value.details == {"status": ["This field does not exist."]}
        with pytest.raises(ValidationFailed):
            ticket_update(actor=agent, ticket=ticket, subscription=desk.other_subscription)
        with pytest.raises(NotFound):
            ticket_update(
                actor=desk.world.actor(desk.world.outsider), ticket=ticket, priority="low"
            )
        ticket.refresh_from_db()
        assert (ticket.priority, ticket.subscription) == ("normal", None)

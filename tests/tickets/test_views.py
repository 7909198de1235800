"""The console's ticket pages: queues, the new-ticket form, the ticket page and its
actions, the customer page's panel. Another organization's user gets 404s and changes
nothing."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from telcodesk.accounts.models import Team
from telcodesk.messaging.models import Message
from telcodesk.tickets.models import ChargeStatus, Ticket, TicketCharge, TicketComment
from telcodesk.tickets.services import ticket_charge_add, ticket_status_set
from tests.messaging.helpers import make_channel
from tests.messaging.outbox_helpers import make_conversation, recent

from .conftest import Desk, signed_in

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _numbers(html: str) -> list[str]:
    return re.findall(r"T-\d{6}", html)


class TestQueue:
    def test_an_agent_sees_their_own_open_tickets_most_urgent_first(self, desk: Desk) -> None:
        world = desk.world
        normal = desk.ticket(subject="Lentitud")
        urgent = desk.ticket(subject="Sin servicio", priority="urgent")
        desk.ticket(world.supervisor, subject="De otro")  # the supervisor's
        done = desk.ticket(subject="Ya resuelto")
        ticket_status_set(actor=world.actor(world.agent), ticket=done, status="resolved")
        page = signed_in(world.agent).get(reverse("tickets:queue"))
        assert page.status_code == 200
        html = page.content.decode()
        assert _numbers(html) == [urgent.display_number, normal.display_number]
        assert "Sin servicio" in html and "Urgent" in html

    def test_unassigned_team_and_filters(self, desk: Desk) -> None:
        world = desk.world
        loose = desk.ticket(world.supervisor, take=False, category="billing")
        mine = desk.ticket()
        client = signed_in(world.agent)
        unassigned = client.get(reverse("tickets:queue") + "?scope=unassigned").content.decode()
        assert _numbers(unassigned) == [loose.display_number]
        team = client.get(reverse("tickets:queue") + "?scope=team").content.decode()
        assert _numbers(team) == [mine.display_number]  # the agent's team: Front line
        billing = client.get(
            reverse("tickets:queue") + "?scope=unassigned&category=billing"
        ).content.decode()
        assert _numbers(billing) == [loose.display_number]
        none = client.get(reverse("tickets:queue") + "?scope=mine&status=closed").content.decode()
        assert _numbers(none) == [] and "No tickets in this queue" in none

    def test_only_supervisors_see_every_ticket(self, desk: Desk) -> None:
        world = desk.world
        desk.ticket()
        desk.ticket(world.back_office)
        refused = signed_in(world.agent).get(reverse("tickets:queue") + "?scope=all")
        assert refused.status_code == 403
        assert "Only supervisors see every ticket." in refused.content.decode()
        every = signed_in(world.supervisor).get(reverse("tickets:queue") + "?scope=all")
        assert _numbers(every.content.decode()) == ["T-000001", "T-000002"]

    def test_the_filters_answer_with_the_rows_only_for_htmx(self, desk: Desk) -> None:
        desk.ticket()
        response = signed_in(desk.world.agent).get(
            reverse("tickets:queue") + "?priority=normal",
            headers={**HTMX, "HX-Target": "ticket-queue"},
        )
        html = response.content.decode()
        assert html.lstrip().startswith('<section class="card"') and "T-000001" in html
        assert "<html" not in html

    def test_the_outsider_sees_none_of_our_tickets(self, desk: Desk) -> None:
        desk.ticket()
        html = (
            signed_in(desk.world.outsider)
            .get(reverse("tickets:queue") + "?scope=all")
            .content.decode()
        )
        assert _numbers(html) == []


class TestNewTicket:
    def test_the_form_opens_from_a_customer_and_creates_the_ticket(self, desk: Desk) -> None:
        client = signed_in(desk.world.agent)
        url = reverse("tickets:new") + f"?customer={desk.customer.pk}"
        form = client.get(url)
        assert form.status_code == 200
        html = form.content.decode()
        assert "Juana Mamani" in html and "FTTH-1001" in html and 'name="customer_words"' in html
        # Her only service is chosen already.
        assert f'<option value="{desk.subscription.pk}" selected>' in html
        response = client.post(
            url,
            {
                "category": "technical",
                "subscription": str(desk.subscription.pk),
                "subject": "Intermitencia por las noches",
                "customer_words": "Se corta a cada rato",
                "priority": "high",
                "channel": "call",
                "take": "on",
            },
        )
        ticket = Ticket.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("tickets:detail", args=[ticket.pk])
        assert (ticket.subject, ticket.subscription, ticket.priority, ticket.assigned_user) == (
            "Intermitencia por las noches",
            desk.subscription,
            "high",
            desk.world.agent,
        )

    def test_a_bad_form_comes_back_with_its_errors_and_creates_nothing(self, desk: Desk) -> None:
        client = signed_in(desk.world.agent)
        response = client.post(
            reverse("tickets:new") + f"?customer={desk.customer.pk}",
            {"category": "technical", "subject": "", "priority": "normal", "channel": "call"},
        )
        assert response.status_code == 422
        assert "This field is required." in response.content.decode()
        assert not Ticket.objects.exists()

    def test_another_organizations_customer_is_a_404_and_creates_nothing(self, desk: Desk) -> None:
        client = signed_in(desk.world.outsider)
        url = reverse("tickets:new") + f"?customer={desk.customer.pk}"
        assert client.get(url).status_code == 404
        posted = client.post(
            url, {"category": "technical", "subject": "x", "priority": "normal", "channel": "call"}
        )
        assert posted.status_code == 404
        assert signed_in(desk.world.agent).get(reverse("tickets:new")).status_code == 404
        assert not Ticket.objects.exists()


class TestTicketPage:
    def test_the_page_shows_the_header_customer_answers_and_actions(self, desk: Desk) -> None:
        ticket = desk.ticket(
            subscription=desk.subscription,
            customer_words="No anda nada",
            answers={"wifi_or_cable": "cable"},
        )
        html = signed_in(desk.world.agent).get(reverse("tickets:detail", args=[ticket.pk]))
        assert html.status_code == 200
        page = html.content.decode()
        for expected in (
            'id="ticket-number">T-000001<',
            "Sin internet desde ayer",
            "ticket-status-new",
            "ticket-priority-normal",
            "Ana Quispe",  # the assignee
            "No anda nada",
            "FTTH-1001",
            "+591 71234567",
            "juana@example.com",
            'id="ticket-answers-form"',
            'value="cable" selected',
            'id="ticket-reply-form"',
            "Propose an extra cost",
        ):
            assert expected in page, expected
        # The status buttons are the table's moves from "new".
        assert re.findall(r'name="status" value="([a-z_]+)"', page) == [
            "in_progress",
            "waiting_customer",
            "visit_scheduled",
            "resolved",
        ]

    def test_another_organizations_user_gets_404_everywhere_and_changes_nothing(
        self, desk: Desk
    ) -> None:
        ticket = desk.ticket()
        client = signed_in(desk.world.outsider)
        assert client.get(reverse("tickets:detail", args=[ticket.pk])).status_code == 404
        for name, data in (
            ("tickets:status", {"status": "in_progress"}),
            ("tickets:take", {}),
            ("tickets:reply", {"body": "hola"}),
            ("tickets:note", {"body": "hola"}),
            ("tickets:answers", {"since_when": "hoy"}),
            ("tickets:charge_add", {"kind": "manipulation", "amount": "5", "reason": "x"}),
        ):
            assert client.post(reverse(name, args=[ticket.pk]), data).status_code == 404, name
        ticket.refresh_from_db()
        assert (ticket.status, ticket.answers) == ("new", {})
        assert not TicketComment.objects.exists() and not TicketCharge.objects.exists()
        assert (
            client.get(reverse("tickets:customer_tickets", args=[desk.customer.pk])).status_code
            == 404
        )

    def test_a_refused_move_comes_back_inline_with_the_allowed_statuses(self, desk: Desk) -> None:
        ticket = desk.ticket()
        response = signed_in(desk.world.agent).post(
            reverse("tickets:status", args=[ticket.pk]), {"status": "closed"}, headers=HTMX
        )
        assert response.status_code == 422
        html = response.content.decode()
        assert html.lstrip().startswith('<section class="card" id="ticket-actions"')
        assert "can only move to: In progress, Waiting for the customer" in html
        ticket.refresh_from_db()
        assert ticket.status == "new"

    def test_moving_the_ticket_reloads_the_page(self, desk: Desk) -> None:
        ticket = desk.ticket()
        response = signed_in(desk.world.agent).post(
            reverse("tickets:status", args=[ticket.pk]),
            {"status": "waiting_customer", "note": "Pedimos foto de la ONU"},
            headers=HTMX,
        )
        assert response.status_code == 200
        assert response["HX-Redirect"] == reverse("tickets:detail", args=[ticket.pk])
        ticket.refresh_from_db()
        assert ticket.status == "waiting_customer"
        assert ticket.status_history.last().note == "Pedimos foto de la ONU"  # type: ignore[union-attr]

    def test_a_reply_and_a_note_from_the_page(self, desk: Desk) -> None:
        channel = make_channel(desk.world.operator)
        make_conversation(
            channel, wa_id="59171234567", customer=desk.customer, last_inbound_at=recent()
        )
        ticket = desk.ticket()
        client = signed_in(desk.world.agent)
        page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
        assert "Replies go by WhatsApp to +591 71234567 (the 24-hour window is open)." in page
        client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "Ya lo revisamos"})
        client.post(reverse("tickets:note", args=[ticket.pk]), {"body": "Llamó enojada"})
        assert Message.objects.get().body == "Ya lo revisamos"
        page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
        assert "Reply sent to the customer." in page
        assert "Sent by WhatsApp" in page and "Llamó enojada" in page and "Internal note" in page

    def test_a_refused_reply_is_shown_with_its_reason(self, desk: Desk) -> None:
        ticket = desk.ticket()
        client = signed_in(desk.world.agent)
        client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "Hola Juana"})
        page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
        assert "The reply was kept but not sent:" in page
        assert "Not sent" in page and "Send again" in page
        assert TicketComment.objects.get().send_status == "refused"

    def test_answers_are_saved_from_the_page_and_a_bad_choice_is_refused(self, desk: Desk) -> None:
        ticket = desk.ticket()
        client = signed_in(desk.world.agent)
        client.post(
            reverse("tickets:answers", args=[ticket.pk]),
            {"since_when": "El lunes", "wifi_or_cable": "wifi", "extra_cost": "no"},
        )
        ticket.refresh_from_db()
        assert ticket.answers == {
            "since_when": "El lunes",
            "wifi_or_cable": "wifi",
            "extra_cost": False,
        }
        refused = client.post(
            reverse("tickets:answers", args=[ticket.pk]),
            {"wifi_or_cable": "satelite"},
            headers=HTMX,
        )
        assert refused.status_code == 422
        assert 'id="ticket-answers"' in refused.content.decode()
        ticket.refresh_from_db()
        assert ticket.answers["wifi_or_cable"] == "wifi"

    def test_a_charge_is_proposed_by_the_agent_and_approved_by_the_supervisor(
        self, desk: Desk
    ) -> None:
        world = desk.world
        ticket = desk.ticket()
        agent = signed_in(world.agent)
        agent.post(
            reverse("tickets:charge_add", args=[ticket.pk]),
            {"kind": "internal_damage", "amount": "120.00", "reason": "Roseta rota"},
        )
        charge = TicketCharge.objects.get()
        page = agent.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
        assert "Bs\xa0120.00" in page or "Bs\xa0120,00" in page
        assert "Approve" not in page
        decide = reverse("tickets:charge_decide", args=[ticket.pk, charge.pk, "approve"])
        refused = agent.post(decide)
        assert refused.status_code == 422
        assert "Your role does not allow this action." in refused.content.decode()
        charge.refresh_from_db()
        assert charge.status == ChargeStatus.PROPOSED
        supervisor = signed_in(world.supervisor)
        assert (
            "Approve"
            in supervisor.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
        )
        assert supervisor.post(decide).status_code == 302
        charge.refresh_from_db()
        assert (charge.status, charge.decided_by) == ("approved", world.supervisor)

    def test_take_and_assign_from_the_page(self, desk: Desk) -> None:
        world = desk.world
        ticket = desk.ticket(world.supervisor, take=False)
        agent = signed_in(world.agent)
        page = agent.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
        assert 'id="ticket-take"' in page and 'id="ticket-assign-form"' not in page
        agent.post(reverse("tickets:take", args=[ticket.pk]))
        ticket.refresh_from_db()
        assert ticket.assigned_user == world.agent
        team = Team.objects.get(organization=world.operator)
        supervisor = signed_in(world.supervisor)
        supervisor.post(
            reverse("tickets:assign", args=[ticket.pk]),
            {"user": str(world.back_office.pk), "team": str(team.pk)},
        )
        ticket.refresh_from_db()
        assert ticket.assigned_user == world.back_office
        refused = supervisor.post(
            reverse("tickets:assign", args=[ticket.pk]), {"user": str(world.outsider.pk)}
        )
        assert refused.status_code == 422
        assert (
            "Choose one of the people and teams of your organization." in refused.content.decode()
        )

    def test_a_closed_ticket_offers_no_actions(self, desk: Desk) -> None:
        agent = desk.world.actor(desk.world.agent)
        ticket = ticket_status_set(actor=agent, ticket=desk.ticket(), status="resolved")
        ticket_status_set(actor=agent, ticket=ticket, status="closed")
        page = signed_in(desk.world.agent).get(reverse("tickets:detail", args=[ticket.pk]))
        html = page.content.decode()
        assert 'id="ticket-closed"' in html
        for form_id in ("ticket-reply-form", "ticket-status-form", "ticket-charge-form"):
            assert f'id="{form_id}"' not in html


class TestCustomerPanel:
    def test_the_customers_tickets_open_first_with_a_new_ticket_link(self, desk: Desk) -> None:
        world = desk.world
        agent = world.actor(world.agent)
        old = desk.ticket(subject="Viejo")
        ticket_status_set(actor=agent, ticket=old, status="resolved")
        current = desk.ticket(subject="Actual")
        desk.ticket(customer=desk.other_customer, subject="De Pedro")
        ticket_charge_add(actor=agent, ticket=current, kind="manipulation", amount="1", reason="x")
        response = signed_in(world.agent).get(
            reverse("tickets:customer_tickets", args=[desk.customer.pk])
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert _numbers(html) == [current.display_number, old.display_number]
        assert "De Pedro" not in html
        assert f'href="/tickets/new/?customer={desk.customer.pk}"' in html

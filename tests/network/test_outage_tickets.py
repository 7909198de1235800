"""Outages and tickets: a new ticket of a customer the outage covers is linked to it and
needs no visit; closing the outage tells each linked customer once, on their
conversation, with a note on every linked ticket; another organization gets nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from telcodesk.core.errors import DomainError, NotFound
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Subscription
from telcodesk.messaging.models import Conversation, Message, MessageStatus
from telcodesk.network.models import Outage
from telcodesk.network.outages import outage_close, outage_declare
from telcodesk.tickets.models import SendStatus, Ticket, TicketComment
from telcodesk.tickets.services import ticket_create, ticket_status_set
from tests.conftest import World
from tests.messaging.helpers import make_channel
from tests.messaging.outbox_helpers import make_conversation, recent
from tests.network.conftest import make_subscription

pytestmark = pytest.mark.django_db

ZONE = "Queru Queru"
WA_ID = "59171112222"


def supervisor(world: World) -> Actor:
    return world.actor(world.supervisor)


def agent(world: World) -> Actor:
    return world.actor(world.agent)


def service(world: World, service_id: str = "SRV-100", zone: str = ZONE) -> Subscription:
    subscription = make_subscription(world.operator, service_id, zone=zone)
    subscription.customer.preferred_language = "en"
    subscription.customer.save(update_fields=["preferred_language"])
    return subscription


def zone_outage(world: World, zone: str = ZONE) -> Outage:
    return outage_declare(
        actor=supervisor(world), scope="zone", zone=zone, description="Fibre cut on the trunk"
    ).outage


def open_ticket(world: World, subscription: Subscription, *, with_service: bool = True) -> Ticket:
    return ticket_create(
        actor=agent(world),
        customer=subscription.customer,
        subscription=subscription if with_service else None,
        category="technical",
        subject="Sin internet",
    )


def whatsapp(world: World, subscription: Subscription) -> Conversation:
    return make_conversation(
        make_channel(world.operator),
        wa_id=WA_ID,
        customer=subscription.customer,
        last_inbound_at=recent(),
    )


def test_a_new_ticket_of_a_covered_service_is_linked_and_skips_the_visit(world: World) -> None:
    subscription = service(world)
    outage = zone_outage(world)

    ticket = open_ticket(world, subscription)

    assert (ticket.outage, ticket.visit_needed, ticket.visit_skip_reason) == (
        outage,
        False,
        "outage",
    )


def test_a_ticket_without_a_service_is_linked_through_the_customers_services(
    world: World,
) -> None:
    subscription = service(world)
    outage = zone_outage(world)

    assert open_ticket(world, subscription, with_service=False).outage == outage


def test_a_ticket_outside_the_outage_or_after_it_ended_is_not_linked(world: World) -> None:
    elsewhere = service(world, "SRV-200", zone="Cala Cala")
    covered = service(world, "SRV-300")
    outage = zone_outage(world)
    outage_close(actor=supervisor(world), outage_id=outage.pk)

    for subscription in (elsewhere, covered):
        ticket = open_ticket(world, subscription)
        assert (ticket.outage, ticket.visit_needed, ticket.visit_skip_reason) == (None, True, "")


def test_closing_the_outage_tells_each_linked_customer_once_on_their_conversation(
    world: World,
) -> None:
    subscription = service(world)
    conversation = whatsapp(world, subscription)
    outage = zone_outage(world)
    first = open_ticket(world, subscription)
    second = open_ticket(world, subscription, with_service=False)
    ended = datetime(2030, 1, 1, 12, tzinfo=UTC)

    change = outage_close(actor=supervisor(world), outage_id=outage.pk, ended_at=ended)

    message = Message.objects.get()
    assert (message.conversation, message.status, message.kind) == (
        conversation,
        MessageStatus.QUEUED,
        Message.Kind.TEXT,
    )
    expected = (
        "Hello Cliente SRV-100, the network outage that affected your service is over and "
        "the service should work again. If it still does not, answer this message "
        f"(ticket {second.display_number})."
    )
    assert message.body == expected
    assert change.notified is not None
    [reply] = change.notified.replies
    assert (reply.ticket, reply.is_public, reply.send_status, reply.message) == (
        second,
        True,
        SendStatus.SENT,
        message,
    )
    assert (change.notified.refused, change.notified.skipped_customers) == ([], [])
    for ticket in (first, second):
        ticket.refresh_from_db()
        assert (ticket.outage_notified_at, ticket.status) == (ended, "new")
        [note] = TicketComment.objects.filter(ticket=ticket, is_public=False)
        assert note.body == (
            f"El corte masivo “{ZONE}” terminó; se avisó al cliente en {second.display_number}. "
            "Revise el servicio y resuelva el ticket."
        )
        assert note.author == world.supervisor


def test_closing_twice_is_refused_and_sends_nothing_more(world: World) -> None:
    subscription = service(world)
    whatsapp(world, subscription)
    outage = zone_outage(world)
    open_ticket(world, subscription)
    outage_close(actor=supervisor(world), outage_id=outage.pk)

    with pytest.raises(DomainError) as refused:
        outage_close(actor=supervisor(world), outage_id=outage.pk)

    assert refused.value.status == 409
    assert Message.objects.count() == 1
    assert TicketComment.objects.count() == 2  # the reply and the note, once


def test_a_customer_whose_linked_tickets_are_all_closed_is_not_messaged(world: World) -> None:
    subscription = service(world)
    whatsapp(world, subscription)
    outage = zone_outage(world)
    ticket = open_ticket(world, subscription)
    for status in ("resolved", "closed"):
        ticket_status_set(actor=agent(world), ticket=ticket, status=status)

    change = outage_close(actor=supervisor(world), outage_id=outage.pk)

    assert change.notified is not None
    assert change.notified.skipped_customers == [subscription.customer_id]
    assert Message.objects.count() == 0


def test_a_reply_that_cannot_go_out_is_kept_unsent_on_the_ticket(world: World) -> None:
    subscription = service(world)  # no conversation, no e-mail: no way to reach them
    outage = zone_outage(world)
    ticket = open_ticket(world, subscription)

    change = outage_close(actor=supervisor(world), outage_id=outage.pk)

    assert change.notified is not None
    [refused] = change.notified.refused
    assert (refused.ticket, refused.send_status, refused.refusal_reason) == (
        ticket,
        SendStatus.REFUSED,
        "no_channel",
    )
    ticket.refresh_from_db()
    assert ticket.outage_notified_at == change.outage.ended_at


def test_another_organization_gets_nothing(world: World) -> None:
    subscription = service(world)
    whatsapp(world, subscription)
    outage = zone_outage(world)
    ticket = open_ticket(world, subscription)
    theirs = make_subscription(world.other_operator, "BR-100", zone=ZONE)
    their_ticket = ticket_create(
        actor=world.actor(world.outsider),
        customer=theirs.customer,
        subscription=theirs,
        category="technical",
        subject="Sem internet",
    )

    with pytest.raises(NotFound):
        outage_close(actor=world.actor(world.outsider), outage_id=outage.pk)

    assert their_ticket.outage is None
    outage.refresh_from_db()
    ticket.refresh_from_db()
    assert (outage.ended_at, ticket.outage_notified_at) == (None, None)
    assert (Message.objects.count(), TicketComment.objects.count()) == (0, 0)


def test_the_ticket_page_shows_the_linked_outage_banner(world: World) -> None:
    subscription = service(world)
    zone_outage(world)
    ticket = open_ticket(world, subscription)
    client = Client()
    client.force_login(world.agent)

    page = client.get(f"/tickets/{ticket.pk}/").content.decode()

    assert 'data-linked="true"' in page
    assert "Outage in progress, linked to this ticket" in page
    assert "No technician visit: the outage explains the problem." in page
    outsider = Client()
    outsider.force_login(world.outsider)
    assert outsider.get(f"/tickets/{ticket.pk}/").status_code == 404


def test_the_estimated_end_is_shown_while_the_outage_lasts(world: World) -> None:
    subscription = service(world)
    outage = outage_declare(
        actor=supervisor(world),
        scope="zone",
        zone=ZONE,
        description="Fibre cut",
        estimated_end_at=datetime.now(UTC) + timedelta(hours=3),
    ).outage
    ticket = open_ticket(world, subscription)
    client = Client()
    client.force_login(world.agent)

    page = client.get(f"/tickets/{ticket.pk}/").content.decode()

    assert f'data-outage="{outage.pk}"' in page
    assert "estimated end" in page

"""Public replies go to the customer through the real messaging services (WhatsApp text
inside the 24-hour window, a template outside it, e-mail); refusals are kept unsent with
their reason; internal notes are never sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import timezone

from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.customers.models import Customer, TimelineEvent
from telcodesk.messaging.models import Channel, Conversation, Message, MessageStatus, Template
from telcodesk.messaging.outbox import outbox_message_send
from telcodesk.tickets.models import SendStatus, TicketComment
from telcodesk.tickets.selectors import reply_route
from telcodesk.tickets.services import (
    ticket_note,
    ticket_reply,
    ticket_reply_resend,
    ticket_status_set,
)
from tests.messaging.helpers import make_channel
from tests.messaging.outbox_helpers import ScriptedClient, make_conversation, make_template, recent
from tests.messaging.sms_helpers import make_sms_channel
from tests.messaging.test_email_support import (
    SmtpMailbox,
    make_email_channel,
    running_smtp_server,
)

from .conftest import Desk

pytestmark = pytest.mark.django_db

WA_ID = "59171234567"  # Juana's WhatsApp (+591 71234567)


def _whatsapp(desk: Desk, *, window_open: bool = True) -> Conversation:
    channel = make_channel(desk.world.operator)
    return make_conversation(
        channel,
        wa_id=WA_ID,
        customer=desk.customer,
        last_inbound_at=recent() if window_open else None,
    )


def _reply_entries(desk: Desk) -> list[str]:
    return list(
        TimelineEvent.objects.filter(customer=desk.customer, summary__startswith="Reply on")
        .order_by("id")
        .values_list("summary", flat=True)
    )


class TestWhatsApp:
    def test_inside_the_window_the_reply_is_a_whatsapp_text_in_the_outbox(self, desk: Desk) -> None:
        conversation = _whatsapp(desk)
        ticket = desk.ticket()
        comment = ticket_reply(
            actor=desk.world.actor(desk.world.agent),
            ticket=ticket,
            body="Juana, ya revisamos: la ONU tiene buena potencia. Probá reiniciar el router.",
        )
        assert (comment.is_public, comment.send_status, comment.sent_via) == (
            True,
            SendStatus.SENT,
            "whatsapp",
        )
        message = Message.objects.get()
        assert comment.message == message
        assert (message.conversation, message.kind, message.status) == (
            conversation,
            Message.Kind.TEXT,
            MessageStatus.QUEUED,
        )
        assert message.payload == {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": WA_ID,
            "type": "text",
            "text": {
                "body": (
                    "Juana, ya revisamos: la ONU tiene buena potencia. Probá reiniciar el router."
                ),
                "preview_url": False,
            },
        }
        assert message.created_by == desk.world.agent
        assert _reply_entries(desk) == [
            "Reply on ticket T-000001 sent by WhatsApp: Juana, ya revisamos: la ONU tiene buena "
            "potencia. Probá reiniciar el router."
        ]
        # The outbox sends it with the provider's client; the reply shows its status.
        assert (
            outbox_message_send(message_id=message.pk, client=ScriptedClient("wamid.ok1")) == "sent"
        )
        comment.refresh_from_db()
        assert comment.message is not None and comment.message.status == MessageStatus.SENT

    def test_outside_the_window_the_reply_is_kept_unsent_with_the_reason(self, desk: Desk) -> None:
        _whatsapp(desk, window_open=False)
        ticket = desk.ticket()
        comment = ticket_reply(
            actor=desk.world.actor(desk.world.agent), ticket=ticket, body="¿Sigue sin servicio?"
        )
        comment.refresh_from_db()
        assert (comment.send_status, comment.refusal_reason, comment.message) == (
            SendStatus.REFUSED,
            "needs_template",
            None,
        )
        assert comment.refusal_message == (
            "The customer has not written in the last 24 hours: this needs an approved "
            "template. Pick a template instead."
        )
        assert comment.body == "¿Sigue sin servicio?"
        assert not Message.objects.exists()
        assert _reply_entries(desk) == []

    def test_outside_the_window_a_template_goes_with_the_tickets_number(self, desk: Desk) -> None:
        conversation = _whatsapp(desk, window_open=False)
        template = make_template(
            conversation.channel,
            name="ticket_update",
            body="Hola {{1}}, novedades de tu ticket {{2}}: escribinos para seguir.",
            param_fields=["customer.first_name", "ticket.display_number"],
            buttons=[],
        )
        comment = ticket_reply(
            actor=desk.world.actor(desk.world.agent),
            ticket=desk.ticket(),
            body="",
            template=template,
        )
        assert comment.send_status == SendStatus.SENT
        message = Message.objects.get()
        assert (message.kind, message.template) == (Message.Kind.TEMPLATE, template)
        assert message.payload["template"]["components"] == [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Juana"},
                    {"type": "text", "text": "T-000001"},
                ],
            }
        ]
        assert (
            comment.body == "Hola Juana, novedades de tu ticket T-000001: escribinos para seguir."
        )

    def test_a_marketing_template_to_a_customer_who_opted_out_is_refused(self, desk: Desk) -> None:
        conversation = _whatsapp(desk, window_open=False)
        Conversation.objects.filter(pk=conversation.pk).update(marketing_opt_out_at=timezone.now())
        promo = make_template(
            conversation.channel,
            name="promo_fibra",
            category=Template.Category.MARKETING,
            param_fields=["customer.first_name"],
        )
        comment = ticket_reply(
            actor=desk.world.actor(desk.world.agent), ticket=desk.ticket(), body="", template=promo
        )
        assert (comment.send_status, comment.refusal_reason) == (
            SendStatus.REFUSED,
            "no_marketing_consent",
        )
        assert comment.refusal_message.startswith(
            "This customer has not consented to WhatsApp marketing or has opted out."
        )
        assert not Message.objects.exists()

    def test_a_refused_reply_is_sent_again_once_the_customer_writes(self, desk: Desk) -> None:
        conversation = _whatsapp(desk, window_open=False)
        agent = desk.world.actor(desk.world.agent)
        comment = ticket_reply(actor=agent, ticket=desk.ticket(), body="Ya está solucionado.")
        assert comment.send_status == SendStatus.REFUSED
        Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=recent())
        again = ticket_reply_resend(actor=agent, comment=comment)
        assert (again.send_status, again.refusal_reason, again.refusal_message) == ("sent", "", "")
        assert Message.objects.get().body == "Ya está solucionado."
        with pytest.raises(ValidationFailed) as caught:
            ticket_reply_resend(actor=agent, comment=again)
        assert caught.value.message == "This reply was already sent; write a new one instead."
        assert Message.objects.count() == 1

    def test_the_tickets_own_conversation_is_preferred(self, desk: Desk) -> None:
        first = _whatsapp(desk)
        second_channel = make_channel(
            desk.world.operator, phone_number_id="5544332211", name="Soporte"
        )
        second = make_conversation(
            second_channel, wa_id=WA_ID, customer=desk.customer, last_inbound_at=timezone.now()
        )
        assert reply_route(ticket=desk.ticket()).conversation == second  # type: ignore[union-attr]
        ticket = desk.ticket(conversation=first)
        route = reply_route(ticket=ticket)
        assert route is not None and (route.kind, route.conversation) == ("whatsapp", first)


class TestOtherRoutes:
    def test_with_no_conversation_and_no_email_channel_the_reply_is_kept_unsent(
        self, desk: Desk
    ) -> None:
        comment = ticket_reply(
            actor=desk.world.actor(desk.world.agent), ticket=desk.ticket(), body="Hola"
        )
        assert (comment.send_status, comment.refusal_reason) == (SendStatus.REFUSED, "no_channel")
        assert comment.refusal_message.startswith(
            "The customer has no WhatsApp conversation, e-mail address or mobile number for "
            "SMS we can write to."
        )

    def test_a_switched_off_channel_is_not_used(self, desk: Desk) -> None:
        conversation = _whatsapp(desk)
        Channel.objects.filter(pk=conversation.channel_id).update(is_active=False)
        comment = ticket_reply(
            actor=desk.world.actor(desk.world.agent), ticket=desk.ticket(), body="Hola"
        )
        assert comment.refusal_reason == "no_channel"
        assert not Message.objects.exists()

    def test_without_whatsapp_the_reply_is_an_email_to_the_customers_address(
        self, desk: Desk
    ) -> None:
        make_email_channel(desk.world.operator)
        comment = ticket_reply(
            actor=desk.world.actor(desk.world.agent),
            ticket=desk.ticket(),
            body="Revisamos tu caso.",
        )
        assert (comment.send_status, comment.sent_via) == (SendStatus.SENT, "email")
        message = Message.objects.get()
        assert message.kind == Message.Kind.EMAIL
        assert (message.payload["to"], message.payload["subject"], message.payload["body"]) == (
            "juana@example.com",
            "Ticket T-000001: Sin internet desde ayer",
            "Revisamos tu caso.",
        )
        assert message.conversation.customer == desk.customer
        assert _reply_entries(desk) == [
            "Reply on ticket T-000001 sent by e-mail: Revisamos tu caso."
        ]

    def test_without_whatsapp_or_email_the_reply_is_an_sms_to_the_customers_mobile(
        self, desk: Desk
    ) -> None:
        channel = make_sms_channel(desk.world.operator)
        comment = ticket_reply(
            actor=desk.world.actor(desk.world.agent),
            ticket=desk.ticket(),
            body="Revisamos tu caso.",
        )
        assert (comment.send_status, comment.sent_via) == (SendStatus.SENT, "sms")
        message = Message.objects.get()
        assert (message.conversation.channel_id, message.body) == (channel.pk, "Revisamos tu caso.")
        assert message.conversation.customer == desk.customer

    def test_a_customer_who_prefers_sms_is_answered_by_sms(self, desk: Desk) -> None:
        _whatsapp(desk)
        make_sms_channel(desk.world.operator)
        Customer.objects.filter(pk=desk.customer.pk).update(preferred_channel="sms")
        route = reply_route(ticket=desk.ticket())
        assert route is not None and (route.kind, route.conversation) == ("sms", None)

    def test_a_customer_who_prefers_email_is_answered_by_email(self, desk: Desk) -> None:
        _whatsapp(desk)
        make_email_channel(desk.world.operator)
        Customer.objects.filter(pk=desk.customer.pk).update(preferred_channel="email")
        ticket = desk.ticket()
        route = reply_route(ticket=ticket)
        assert route is not None and (route.kind, route.address) == ("email", "juana@example.com")
        comment = ticket_reply(
            actor=desk.world.actor(desk.world.agent), ticket=ticket, body="x", template=None
        )
        assert comment.sent_via == "email"

    def test_a_whatsapp_template_is_not_sent_by_email(self, desk: Desk) -> None:
        make_email_channel(desk.world.operator)
        whatsapp = make_channel(desk.world.operator)
        template = make_template(whatsapp)
        comment = ticket_reply(
            actor=desk.world.actor(desk.world.agent),
            ticket=desk.ticket(),
            body="",
            template=template,
        )
        assert (comment.send_status, comment.refusal_reason) == (
            SendStatus.REFUSED,
            "template_not_for_email",
        )


class TestNotesAndRefusals:
    def test_a_note_is_kept_and_never_sent(self, desk: Desk) -> None:
        _whatsapp(desk)
        note = ticket_note(
            actor=desk.world.actor(desk.world.agent),
            ticket=desk.ticket(),
            body="Cliente molesto, tercer reclamo del mes.",
        )
        assert (note.is_public, note.send_status, note.message) == (False, "", None)
        assert not Message.objects.exists()
        assert _reply_entries(desk) == []

    def test_an_empty_or_too_long_reply_keeps_nothing(self, desk: Desk) -> None:
        _whatsapp(desk)
        ticket = desk.ticket()
        agent = desk.world.actor(desk.world.agent)
        with pytest.raises(ValidationFailed) as caught:
            ticket_reply(actor=agent, ticket=ticket, body="   ")
        assert caught.value.details == {
            "body": ["Write the reply to the customer, or choose a template."]
        }
        with pytest.raises(ValidationFailed):
            ticket_reply(actor=agent, ticket=ticket, body="x" * 4097)
        with pytest.raises(ValidationFailed):
            ticket_note(actor=agent, ticket=ticket, body="")
        assert not TicketComment.objects.exists()
        assert not Message.objects.exists()

    def test_a_closed_ticket_takes_no_reply_and_no_note(self, desk: Desk) -> None:
        _whatsapp(desk)
        agent = desk.world.actor(desk.world.agent)
        ticket = ticket_status_set(actor=agent, ticket=desk.ticket(), status="resolved")
        ticket = ticket_status_set(actor=agent, ticket=ticket, status="closed")
        with pytest.raises(ValidationFailed):
            ticket_reply(actor=agent, ticket=ticket, body="Hola")
        with pytest.raises(ValidationFailed):
            ticket_note(actor=agent, ticket=ticket, body="Hola")
        assert not TicketComment.objects.exists()

    def test_the_outsider_can_neither_reply_nor_note(self, desk: Desk) -> None:
        _whatsapp(desk)
        ticket = desk.ticket()
        outsider = desk.world.actor(desk.world.outsider)
        with pytest.raises(NotFound):
            ticket_reply(actor=outsider, ticket=ticket, body="Hola")
        with pytest.raises(NotFound):
            ticket_note(actor=outsider, ticket=ticket, body="Hola")
        assert not TicketComment.objects.exists()
        assert not Message.objects.exists()


@pytest.fixture
def smtp_server() -> Iterator[SmtpMailbox]:
    with running_smtp_server() as mailbox:
        yield mailbox


@pytest.mark.django_db(transaction=True)
def test_an_email_reply_reaches_the_customers_mailbox(desk: Desk, smtp_server: SmtpMailbox) -> None:
    make_email_channel(desk.world.operator, port=smtp_server.port)
    comment = ticket_reply(
        actor=desk.world.actor(desk.world.agent),
        ticket=desk.ticket(),
        body="Juana: la visita técnica queda para mañana entre 9 y 13.",
    )
    message = Message.objects.get(pk=comment.message_id)
    if message.status != MessageStatus.SENT:  # the outbox runs after commit
        assert outbox_message_send(message_id=message.pk) == "sent"
    [received] = smtp_server.received
    mail = received.parsed()
    assert received.rcpt_tos == ["juana@example.com"]
    assert mail["Subject"] == "Ticket T-000001: Sin internet desde ayer"
    assert mail.get_content().strip() == "Juana: la visita técnica queda para mañana entre 9 y 13."

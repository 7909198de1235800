"""A customer's e-mail is a reply too: it finds the lead by address, never creates one.

The mails go through the real path: raw RFC 5322 bytes parsed by the e-mail channel and
stored by ``inbound_email_record``, which runs the inbound handlers like WhatsApp does.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from email.utils import format_datetime

import pytest
from django.utils import timezone

from telcodesk.accounts.roles import Role
from telcodesk.automation.models import Timer
from telcodesk.automation.tick import tick
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer
from telcodesk.customers.services import customer_assign, customer_create
from telcodesk.messaging.email import inbound_email_record
from telcodesk.messaging.email_reading import parse_email
from telcodesk.messaging.models import Channel, Conversation, Message
from telcodesk.pipelines.automations import WAIT_REPLY_KIND
from telcodesk.pipelines.models import (
    AutomationRun,
    Lead,
    LeadNotification,
    LeadStageChange,
    Stage,
)
from telcodesk.pipelines.services import lead_lose, lead_move
from tests.messaging.helpers import make_channel
from tests.messaging.test_email_support import make_email_channel, raw_mail
from tests.pipelines.conftest import Claro
from tests.pipelines.test_automations import inbound

_mail_ids = itertools.count(1)


@pytest.fixture
def whatsapp(claro: Claro) -> Channel:
    return make_channel(claro.reseller, display_phone="+54 11 5555-0000")


@pytest.fixture
def mailbox(claro: Claro) -> Channel:
    return make_email_channel(claro.reseller)


def mail_in(
    channel: Channel,
    *,
    sender: str = "Lucía Fernández <lu@example.com>",
    text: str = "Hola, ya te pago",
    in_reply_to: str = "",
) -> Message:
    """A mail from ``sender`` received on ``channel`` now (a new Message-ID each time;
    the Date a minute ahead, which the channel caps at the time of receipt)."""
    mail = parse_email(
        raw_mail(
            sender=sender,
            to=channel.email_from_address,
            subject="Re: Tu pedido",
            text=text,
            message_id=f"<reply-{next(_mail_ids)}@example.com>",
            in_reply_to=in_reply_to,
            date=format_datetime(timezone.now() + timedelta(minutes=1)),
        )
    )
    assert mail is not None
    message, created = inbound_email_record(channel=channel, mail=mail)
    assert created
    return message


def waits(lead: Lead) -> list[tuple[timedelta, str]]:
    """(due after the loss, state) of the lead's reply-cancelled waits, in due order."""
    assert lead.lost_at is not None
    return [
        (timer.due_at - lead.lost_at, timer.state)
        for timer in Timer.objects.filter(kind=WAIT_REPLY_KIND, target_id=lead.pk).order_by(
            "due_at"
        )
    ]


def unpaid(claro: Claro, whatsapp: Channel, email: str = "Lu@Example.com") -> Lead:
    """A TECHSTORE lead with a chat, lost as "No realizó el pago" (two attempts pending)."""
    lead = claro.lead("TECHSTORE CHATS", phone="+5491123456789", data={"email": email})
    inbound(whatsapp, "Hola")
    lead.refresh_from_db()
    return lead_lose(
        actor=claro.actor(claro.agent),
        lead=lead,
        reason=claro.reason("TECHSTORE CHATS", "No realizó el pago"),
    )


def outbound_kinds() -> list[tuple[str, str]]:
    return list(Message.objects.filter(direction="out").order_by("id").values_list("kind", "body"))


# --- "No realizó el pago": the e-mail reply ends the attempts -------------------------------


def test_a_reply_to_the_reminder_e_mail_cancels_the_second_attempt(
    claro: Claro, whatsapp: Channel, mailbox: Channel
) -> None:
    lead = unpaid(claro, whatsapp)
    assert lead.lost_at is not None
    tick(now=lead.lost_at + timedelta(hours=24, seconds=1))
    reminder = AutomationRun.objects.get(lead=lead, action="send_email").message
    assert reminder is not None and reminder.conversation.external_address == "lu@example.com"
    sent = outbound_kinds()
    assert [kind for kind, _body in sent] == ["text", "email"]  # /no pago and the e-mail

    reply = mail_in(mailbox, in_reply_to=reminder.payload["message_id"])

    assert reply.conversation_id == reminder.conversation_id  # threaded into the reminder's
    assert waits(lead) == [
        (timedelta(hours=24), Timer.State.FIRED),
        (timedelta(hours=48), Timer.State.CANCELLED),
    ]
    tick(now=lead.lost_at + timedelta(hours=48, seconds=1))
    assert outbound_kinds() == sent
    assert AutomationRun.objects.filter(lead=lead, action="send_email").count() == 1


def test_an_e_mail_before_the_first_attempt_cancels_both_in_any_case(
    claro: Claro, whatsapp: Channel, mailbox: Channel
) -> None:
    lead = unpaid(claro, whatsapp, email="Lu@Example.com")

    mail_in(mailbox, sender="LU@EXAMPLE.COM")

    assert waits(lead) == [
        (timedelta(hours=24), Timer.State.CANCELLED),
        (timedelta(hours=48), Timer.State.CANCELLED),
    ]
    assert lead.lost_at is not None
    tick(now=lead.lost_at + timedelta(hours=48, seconds=1))
    assert outbound_kinds() == []
    assert not AutomationRun.objects.filter(lead=lead, action__in=["send_bot", "send_email"])


def test_an_e_mail_from_another_address_leaves_the_attempts_pending(
    claro: Claro, whatsapp: Channel, mailbox: Channel
) -> None:
    lead = unpaid(claro, whatsapp)

    mail_in(mailbox, sender="otra.persona@example.com")

    assert waits(lead) == [
        (timedelta(hours=24), Timer.State.PENDING),
        (timedelta(hours=48), Timer.State.PENDING),
    ]


# --- an open lead: the same reply logic as WhatsApp ------------------------------------------


def test_an_e_mail_reply_on_an_offer_stage_moves_the_lead_by_its_e_mail(
    claro: Claro, mailbox: Channel
) -> None:
    lead = claro.lead("FIBRA", stage="Con Cobertura", email="juana@example.com")

    message = mail_in(mailbox, sender="Juana <Juana@Example.com>", text="Me interesa el de 600")

    lead.refresh_from_db()
    assert lead.stage.name == "Respondió oferta"
    assert lead.last_inbound_at == message.sent_at
    conversation = Conversation.objects.get(channel=mailbox)
    assert (conversation.external_address, lead.conversation_id) == (
        "juana@example.com",
        conversation.pk,
    )
    change = LeadStageChange.objects.filter(lead=lead).order_by("-at", "-id").first()
    assert change is not None
    assert (change.from_stage.name, change.to_stage.name, change.automatic) == (
        "Con Cobertura",
        "Respondió oferta",
        True,
    )
    assert list(
        AutomationRun.objects.filter(lead=lead, trigger=f"message:{message.pk}")
        .order_by("action_index")
        .values_list("action", "outcome")
    ) == [("move_to", "done"), ("notify_owner", "done")]
    assert LeadNotification.objects.get(lead=lead).user == claro.agent


def assigned_customer(claro: Claro, email: str) -> Customer:
    """A customer of Claro Argentina with an e-mail, assigned to the reseller."""
    operator = Actor(organization=claro.operator, role=Role.ADMIN, label="operator")
    customer = customer_create(
        actor=operator,
        kind="person",
        first_name="Lucía",
        last_name="Fernández",
        emails=[{"raw": email}],
    )
    customer_assign(actor=operator, customer=customer, reseller=claro.reseller)
    return customer


def test_the_linked_customers_e_mail_finds_the_lead_and_resets_its_follow_up(
    claro: Claro, mailbox: Channel
) -> None:
    customer = assigned_customer(claro, "lucia.fernandez@example.com")
    lead = claro.lead("FIBRA", stage="Con Cobertura", customer=customer)
    lead = lead_move(
        actor=claro.actor(claro.agent), lead=lead, to_stage=claro.stage("FIBRA", "Aguardando datos")
    )
    Lead.objects.filter(pk=lead.pk).update(
        follow_up_count=2, proposed_loss_reason=claro.reason("FIBRA", "Abandono gestión")
    )
    wait = Timer.objects.get(kind=WAIT_REPLY_KIND, target_id=lead.pk)
    assert (lead.email, lead.data.get("email")) == ("", None)

    message = mail_in(mailbox, sender="Lucia.Fernandez@example.com", text="Te mando los datos")

    lead.refresh_from_db()
    wait.refresh_from_db()
    assert wait.state == Timer.State.CANCELLED
    assert (lead.stage.name, lead.last_inbound_at) == ("Aguardando datos", message.sent_at)
    assert (lead.follow_up_count, lead.proposed_loss_reason, lead.proposed_at) == (0, None, None)
    assert lead.conversation == Conversation.objects.get(channel=mailbox)


def test_an_unknown_e_mail_sender_gets_no_lead(claro: Claro, mailbox: Channel) -> None:
    claro.lead("FIBRA", phone="11 2345-6789", email="juana@example.com")

    mail_in(mailbox, sender="Nuevo Cliente <nuevo@example.com>", text="¿Tienen fibra?")

    assert Message.objects.filter(direction="in").count() == 1
    assert Lead.objects.count() == 1
    assert Lead.objects.get().last_inbound_at is None


def test_a_closed_lead_is_not_reopened_nor_moved_by_an_e_mail(
    claro: Claro, mailbox: Channel
) -> None:
    lead = claro.lead("FIBRA", email="juana@example.com")
    lead = lead_lose(
        actor=claro.actor(claro.agent),
        lead=lead,
        reason=claro.reason("FIBRA", "Fuera de cobertura"),
    )
    stage = lead.stage

    mail_in(mailbox, sender="juana@example.com")

    lead.refresh_from_db()
    assert (lead.stage, lead.last_inbound_at, lead.conversation) == (stage, None, None)


# --- which conversation the lead keeps -------------------------------------------------------


def test_a_chat_replaces_the_e_mail_conversation_and_bots_never_write_by_e_mail(
    claro: Claro, whatsapp: Channel, mailbox: Channel
) -> None:
    lead = claro.lead("FIBRA", phone="+5491123456789", email="lu@example.com")
    mail_in(mailbox)
    lead.refresh_from_db()
    email_conversation = Conversation.objects.get(channel=mailbox)
    assert lead.conversation == email_conversation

    moved = lead_move(
        actor=claro.actor(claro.agent), lead=lead, to_stage=claro.stage("FIBRA", "Con Cobertura")
    )

    run = AutomationRun.objects.get(lead=moved, action="send_bot")
    assert (run.subject, run.outcome, run.detail_text) == (
        "/En cober",
        "skipped",
        "no WhatsApp conversation with the customer yet",
    )
    assert outbound_kinds() == []

    inbound(whatsapp, "Hola, soy Lucía")

    lead.refresh_from_db()
    assert lead.conversation == Conversation.objects.get(channel=whatsapp)


def test_a_chat_conversation_is_kept_when_an_e_mail_arrives(
    claro: Claro, whatsapp: Channel, mailbox: Channel
) -> None:
    lead = claro.lead("FIBRA", phone="+5491123456789", email="lu@example.com")
    inbound(whatsapp, "Hola")
    chat = Conversation.objects.get(channel=whatsapp)

    message = mail_in(mailbox)

    lead.refresh_from_db()
    assert (lead.conversation, lead.last_inbound_at) == (chat, message.sent_at)


# --- tenancy --------------------------------------------------------------------------------


def test_an_e_mail_to_another_organization_changes_nothing_of_the_resellers_leads(
    claro: Claro, whatsapp: Channel, mailbox: Channel
) -> None:
    unpaid_lead = unpaid(claro, whatsapp, email="lu@example.com")
    open_lead = claro.lead("FIBRA", phone="11 4444-5555", email="lu@example.com")
    outsider_stage = Stage.objects.get(pipeline=claro.outsider_pipeline, name="Nuevo")
    outsider_lead = Lead.objects.create(
        organization=claro.outsider_org,
        pipeline=claro.outsider_pipeline,
        stage=outsider_stage,
        name="Lucía",
        phone="+5491166667777",
        email="lu@example.com",
        source="manual",
        stage_entered_at=open_lead.stage_entered_at,
        currency="ARS",
    )
    outsider_mailbox = make_email_channel(
        claro.outsider_org, email_from_address="ventas@otro.test", email_reply_domain=""
    )

    message = mail_in(outsider_mailbox, sender="lu@example.com")

    assert waits(unpaid_lead) == [
        (timedelta(hours=24), Timer.State.PENDING),
        (timedelta(hours=48), Timer.State.PENDING),
    ]
    open_lead.refresh_from_db()
    assert (open_lead.last_inbound_at, open_lead.conversation) == (None, None)
    # The outsider's own lead with that address is the one that got the reply.
    outsider_lead.refresh_from_db()
    assert (outsider_lead.last_inbound_at, outsider_lead.conversation) == (
        message.sent_at,
        message.conversation,
    )

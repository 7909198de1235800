"""Channels, conversations and messages for the inbox tests.

Conversations of the operator ``world.operator`` are the agent's; the outsider's
organization has one too, which nobody of the operator may see.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from telcodesk.accounts.models import Organization, User
from telcodesk.messaging.models import Channel, Conversation, Message, MessageStatus
from tests.messaging.helpers import make_channel
from tests.pipelines.conftest import claro  # noqa: F401 (the Claro pack fixture)

COUNTER = iter(range(1, 10_000))


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def htmx(client: Client) -> dict[str, str]:
    return {"HX-Request": "true"}


def conversation_for(
    channel: Channel,
    *,
    wa_id: str,
    name: str = "",
    last_inbound_at: datetime | None = None,
    unread: int = 0,
    **fields: Any,
) -> Conversation:
    return Conversation.objects.create(
        organization=channel.organization,
        channel=channel,
        external_address=wa_id,
        phone_e164="+" + wa_id,
        display_name=name,
        last_inbound_at=last_inbound_at,
        unread_count=unread,
        **fields,
    )


def inbound(conversation: Conversation, text: str, *, at: datetime | None = None) -> Message:
    """An inbound message row as the webhook stores it (for list and thread tests)."""
    at = at or timezone.now()
    number = next(COUNTER)
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        channel=conversation.channel,
        conversation=conversation,
        direction=Message.Direction.INBOUND,
        provider_message_id=f"wamid.in-{conversation.pk}-{number}",
        kind=Message.Kind.TEXT,
        body=text,
        status=MessageStatus.RECEIVED,
        sent_at=at,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=at)
    conversation.refresh_from_db()
    return message


def outbound(
    conversation: Conversation, text: str, *, status: str = MessageStatus.SENT, **fields: Any
) -> Message:
    fields.setdefault("kind", Message.Kind.TEXT)
    return Message.objects.create(
        organization_id=conversation.organization_id,
        channel=conversation.channel,
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        body=text,
        status=status,
        **fields,
    )


def recent(minutes: int = 5) -> datetime:
    return timezone.now() - timedelta(minutes=minutes)


def second_channel(organization: Organization) -> Channel:
    return make_channel(organization, phone_number_id="9988776655443", name="WhatsApp soporte")

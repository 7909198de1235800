"""Customers, channels, tickets and the organization's NPS settings for the nps tests.

``survey_desk.customer`` (Juana, WhatsApp 59171234567) is the operator's; its WhatsApp
channel has the approved ``encuesta_nps`` template with the three band buttons. The
other operator (``world.outsider``'s) has its own customer, who must never be reached.
Inbound messages go through messaging's real ``inbound_message_record``, which runs the
registered inbound handlers like a webhook does.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from telcodesk.accounts.models import Organization, User
from telcodesk.customers.models import Customer
from telcodesk.customers.services import customer_create
from telcodesk.messaging.models import Channel, Conversation, Message, Template
from telcodesk.messaging.providers.whatsapp_cloud import InboundMessage
from telcodesk.messaging.services import inbound_message_record
from telcodesk.nps.models import NpsSettings
from telcodesk.nps.pack_spec import NpsSpec
from telcodesk.nps.pack_sync import nps_settings_sync
from telcodesk.packs.loader import Tally
from telcodesk.tickets.models import Ticket
from telcodesk.tickets.services import ticket_create
from tests.conftest import World
from tests.messaging.helpers import make_channel

WA_ID = "59171234567"
SMS_ADDRESS = "+59171234567"
_ids = itertools.count(1)


def nps_settings(organization: Organization, **fields: Any) -> NpsSettings:
    """The organization's settings written the way a pack load writes them."""
    spec = NpsSpec.model_validate({"template": "encuesta_nps", **fields})
    nps_settings_sync(organization=organization, spec=spec, pack_name="test-pack", tally=Tally())
    return NpsSettings.objects.get(organization=organization)


def survey_template(channel: Channel, **fields: Any) -> Template:
    defaults: dict[str, Any] = {
        "name": "encuesta_nps",
        "language": "es",
        "category": Template.Category.UTILITY,
        "body": "Hola {{1}}, ¿qué tan probable es que nos recomiende? Elija una opción.",
        "param_fields": ["customer.first_name"],
        "buttons": [
            {"type": "QUICK_REPLY", "text": "0–6"},
            {"type": "QUICK_REPLY", "text": "7–8"},
            {"type": "QUICK_REPLY", "text": "9–10"},
        ],
        "status": Template.Status.APPROVED,
    }
    defaults.update(fields)
    return Template.objects.create(organization=channel.organization, channel=channel, **defaults)


@dataclass
class SurveyDesk:
    world: World
    customer: Customer
    other_customer: Customer
    outsider_customer: Customer
    channel: Channel
    settings: NpsSettings

    def conversation(
        self,
        *,
        window_open: bool = True,
        customer: Customer | None = None,
        channel: Channel | None = None,
        address: str = WA_ID,
    ) -> Conversation:
        return Conversation.objects.create(
            organization=(channel or self.channel).organization,
            channel=channel or self.channel,
            external_address=address,
            phone_e164="+" + address.lstrip("+"),
            display_name="Juana Mamani",
            customer=customer or self.customer,
            last_inbound_at=timezone.now() - timedelta(minutes=5) if window_open else None,
        )

    def ticket(self, user: User | None = None, **fields: Any) -> Ticket:
        defaults: dict[str, Any] = {
            "customer": self.customer,
            "category": "technical",
            "subject": "Sin internet desde ayer",
        }
        defaults.update(fields)
        return ticket_create(actor=self.world.actor(user or self.world.agent), **defaults)


def inbound(
    conversation: Conversation,
    text: str = "",
    *,
    kind: str = "text",
    reply_payload: str = "",
    at: datetime | None = None,
) -> Message:
    """A new message from the customer, stored by messaging (handlers included)."""
    channel = conversation.channel
    event = InboundMessage(
        phone_number_id=channel.phone_number_id,
        waba_id=channel.waba_id,
        wa_id=conversation.external_address,
        provider_message_id=f"wamid.NPS{next(_ids):06d}",
        kind=kind,
        sent_at=at,
        raw={},
        profile_name="Juana Mamani",
        body=text,
        reply_payload=reply_payload,
    )
    message, created = inbound_message_record(channel=channel, event=event)
    assert created
    return message


def _customer(world: World, user: User, first: str, last: str, phone: str) -> Customer:
    return customer_create(
        actor=world.actor(user),
        first_name=first,
        last_name=last,
        phones=[{"raw": phone, "is_whatsapp": True}],
        emails=[{"raw": f"{first.lower()}@example.com"}],
    )


@pytest.fixture
def survey_desk(world: World) -> SurveyDesk:
    channel = make_channel(world.operator)
    survey_template(channel)
    return SurveyDesk(
        world=world,
        customer=_customer(world, world.agent, "Juana", "Mamani", "71234567"),
        other_customer=_customer(world, world.agent, "Pedro", "Rojas", "72345678"),
        outsider_customer=_customer(world, world.outsider, "Maria", "Silva", "11987654321"),
        channel=channel,
        settings=nps_settings(world.operator),
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client

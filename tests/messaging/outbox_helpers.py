"""Conversations, templates and a scripted provider client for the sending tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from telcodesk.customers.models import Customer
from telcodesk.messaging.models import Channel, Conversation, Template
from telcodesk.messaging.providers.whatsapp_cloud import ProviderError, SendResult

WA_ID = "59171234567"


def make_conversation(
    channel: Channel,
    *,
    wa_id: str = WA_ID,
    last_inbound_at: datetime | None = None,
    customer: Customer | None = None,
) -> Conversation:
    return Conversation.objects.create(
        organization=channel.organization,
        channel=channel,
        external_address=wa_id,
        phone_e164="+" + wa_id,
        display_name="Juana Mamani",
        customer=customer,
        last_inbound_at=last_inbound_at,
    )


def recent() -> datetime:
    return timezone.now() - timedelta(minutes=5)


def make_template(channel: Channel, **fields: Any) -> Template:
    defaults: dict[str, Any] = {
        "name": "en_cobertura",
        "language": "es_AR",
        "category": Template.Category.UTILITY,
        "body": "Hola {{1}}, ¡tenemos cobertura de fibra en tu zona!",
        "param_fields": ["customer.first_name"],
        "buttons": [{"type": "QUICK_REPLY", "text": "Me interesa"}],
        "status": Template.Status.APPROVED,
    }
    defaults.update(fields)
    return Template.objects.create(organization=channel.organization, channel=channel, **defaults)


class ScriptedClient:
    """Answers each send with the next item of ``script`` (a wamid or a ProviderError)."""

    def __init__(self, *script: str | ProviderError) -> None:
        self.script = list(script)
        self.payloads: list[dict[str, Any]] = []

    def send(self, payload: dict[str, Any]) -> SendResult:
        self.payloads.append(payload)
        outcome = self.script.pop(0)
        if isinstance(outcome, ProviderError):
            raise outcome
        return SendResult(wamid=outcome, raw={})

"""Building blocks for the messaging tests: channels and signed webhook posts."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from django.urls import reverse

from telcodesk.accounts.models import Organization
from telcodesk.messaging.models import Channel
from telcodesk.messaging.providers.whatsapp_cloud import signature_for

APP_SECRET = "test-app-secret-0123456789"
VERIFY_TOKEN = "verify-me-please"
PHONE_NUMBER_ID = "1122334455667"
WABA_ID = "1234567890987654321"


def make_channel(
    organization: Organization, *, phone_number_id: str = PHONE_NUMBER_ID, **fields: Any
) -> Channel:
    defaults: dict[str, Any] = {
        "name": "WhatsApp ventas",
        "kind": Channel.Kind.WHATSAPP_CLOUD,
        "waba_id": WABA_ID,
        "display_phone": "+591 2 1234567",
        "verify_token": VERIFY_TOKEN,
        "app_secret": APP_SECRET,
        "access_token": "EAAG-test-token",
    }
    defaults.update(fields)
    return Channel.objects.create(
        organization=organization, phone_number_id=phone_number_id, **defaults
    )


def webhook_url(channel_id: int) -> str:
    return reverse("messaging:whatsapp_webhook", args=[channel_id])


def post_signed(
    client: Client,
    channel: Channel,
    body: bytes | dict[str, Any],
    *,
    secret: str | None = None,
    signature: str | None = None,
) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    header = signature if signature is not None else signature_for(secret or APP_SECRET, raw)
    return client.post(
        webhook_url(channel.pk),
        data=raw,
        content_type="application/json",
        headers={"X-Hub-Signature-256": header},
    )


def message_body(
    *,
    wamid: str = "wamid.HBgLNTkxNzEyMzQ1NjcVAgASGBQzQUFCQ0Q=",
    wa_id: str = "59171234567",
    text: str = "Hola, quiero fibra",
    timestamp: int = 1_700_000_000,
    name: str = "Juana Mamani",
    phone_number_id: str = PHONE_NUMBER_ID,
) -> dict[str, Any]:
    """An inbound text message webhook, shaped like Meta's."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "59121234567",
                                "phone_number_id": phone_number_id,
                            },
                            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": wamid,
                                    "timestamp": str(timestamp),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def status_body(
    *,
    wamid: str,
    status: str,
    timestamp: int,
    errors: list[dict[str, Any]] | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
) -> dict[str, Any]:
    """A status webhook for an outbound message."""
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": "59171234567",
    }
    if errors:
        item["errors"] = errors
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "59121234567",
                                "phone_number_id": phone_number_id,
                            },
                            "statuses": [item],
                        },
                    }
                ],
            }
        ],
    }

"""Building blocks for the SMS (Twilio) tests: channels, forms, signed posts."""

from __future__ import annotations

import urllib.parse
from typing import Any

from django.test import Client
from django.urls import reverse

from telcodesk.accounts.models import Organization
from telcodesk.messaging.models import Channel, Conversation
from telcodesk.messaging.providers.twilio_sms import twilio_signature

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-auth-token-0123456789"
SENDER = "+15550100001"
CUSTOMER_NUMBER = "+59171234567"
CUSTOMER_DIGITS = "59171234567"
TEST_ORIGIN = "http://testserver"


def make_sms_channel(organization: Organization, **fields: Any) -> Channel:
    defaults: dict[str, Any] = {
        "name": "SMS avisos",
        "kind": Channel.Kind.SMS,
        "display_phone": SENDER,
        "sms_account_sid": ACCOUNT_SID,
        "sms_auth_token": AUTH_TOKEN,
        "sms_from": SENDER,
    }
    defaults.update(fields)
    channel = Channel(organization=organization, **defaults)
    channel.full_clean()
    channel.save()
    return channel


def inbound_url(channel: Channel) -> str:
    return reverse("messaging:twilio_webhook", args=[channel.pk])


def status_url(channel: Channel) -> str:
    return reverse("messaging:twilio_status", args=[channel.pk])


def inbound_form(
    *, sid: str = "SM" + "a" * 32, body: str = "Hola", sender: str = CUSTOMER_NUMBER, **extra: str
) -> dict[str, str]:
    """The form Twilio posts for an incoming SMS."""
    form = {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": SENDER,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    form.update(extra)
    return form


def status_form(*, sid: str, status: str, **extra: str) -> dict[str, str]:
    """The form of a status callback."""
    form = {
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": CUSTOMER_NUMBER,
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": SENDER,
        "ApiVersion": "2010-04-01",
    }
    form.update(extra)
    return form


def post_twilio(
    client: Client,
    path: str,
    form: dict[str, str],
    *,
    token: str = AUTH_TOKEN,
    signature: str | None = None,
) -> Any:
    """POST ``form`` as Twilio does: form-encoded, signed over the full URL."""
    header = (
        signature
        if signature is not None
        else twilio_signature(token, TEST_ORIGIN + path, form.items())
    )
    headers = {"X-Twilio-Signature": header} if header else {}
    return client.post(
        path,
        data=urllib.parse.urlencode(list(form.items())),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


def sms_conversation(channel: Channel, **fields: Any) -> Conversation:
    defaults: dict[str, Any] = {
        "organization": channel.organization,
        "channel": channel,
        "external_address": CUSTOMER_DIGITS,
        "phone_e164": CUSTOMER_NUMBER,
        "display_name": "Juana Mamani",
    }
    defaults.update(fields)
    return Conversation.objects.create(**defaults)

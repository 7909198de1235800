"""The demo's SMS channels: one per organization, wired to the sandbox's Twilio."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.urls import reverse

from telcodesk.accounts.models import Organization
from telcodesk.messaging.models import Channel

# +1 555 0100-0199 is reserved for fiction (NANP): no real phone gets a demo SMS.
DEMO_SENDER_PREFIX = "+1555020"


def demo_sms_sender(index: int) -> str:
    return f"{DEMO_SENDER_PREFIX}{index:04d}"


def sms_sandbox_channels(*, host: str, port: int, write: Callable[[str], object]) -> int:
    """An SMS channel per organization pointing at the sandbox's Twilio (idempotent).

    The real Twilio client talks to ``/messaging/sandbox/twilio`` over HTTP, status
    callbacks come back to this server, and the phone simulator plays the customer.
    A channel made for another host or port follows the new one. Returns how many
    channels were created.
    """
    origin = f"http://{host}:{port}"
    api = f"{origin}/messaging/sandbox/twilio"
    created = 0
    for index, organization in enumerate(Organization.objects.order_by("slug"), start=1):
        channel = Channel.objects.filter(
            organization=organization, kind=Channel.Kind.SMS, name__endswith="(sandbox)"
        ).first()
        if channel is not None:
            if (channel.sms_api_base_url, channel.sms_webhook_base_url) != (api, origin):
                channel.sms_api_base_url, channel.sms_webhook_base_url = api, origin
                channel.save(update_fields=["sms_api_base_url", "sms_webhook_base_url"])
            continue
        sender = demo_sms_sender(index)
        channel = Channel(
            organization=organization,
            kind=Channel.Kind.SMS,
            name=f"SMS {organization.display_name} (sandbox)",
            display_phone=sender,
            sms_account_sid="AC" + secrets.token_hex(16),
            sms_auth_token=secrets.token_hex(16),
            sms_from=sender,
            sms_api_base_url=api,
            sms_webhook_base_url=origin,
            # Twilio queues what a number cannot send at once; 10/s keeps the demo honest.
            rate_limit_per_second=10,
        )
        channel.full_clean()
        channel.save()
        created += 1
        simulator = reverse("messaging:sandbox_phone", args=[channel.pk])
        write(
            f"  {organization.slug}: SMS sandbox channel {sender}; phone simulator at "
            f"{origin}{simulator}"
        )
    return created

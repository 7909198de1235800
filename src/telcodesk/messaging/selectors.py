"""Reads of the messaging app."""

from __future__ import annotations

import contextlib
import re

from django.db.models import Q

from telcodesk.accounts.models import Organization
from telcodesk.customers.models import ContactPoint, Customer
from telcodesk.customers.phones import InvalidPhone, normalize_phone, phone_query_forms
from telcodesk.messaging.models import Channel

_WA_ID = re.compile(r"\d{6,15}")


def channel_for_webhook(*, channel_id: int) -> Channel | None:
    """The active WhatsApp Cloud channel a webhook URL names, else None (answer 404)."""
    return (
        Channel.objects.select_related("organization")
        .filter(pk=channel_id, kind=Channel.Kind.WHATSAPP_CLOUD, is_active=True)
        .first()
    )


def channel_for_phone_number(*, receiving: Channel, phone_number_id: str) -> Channel | None:
    """The channel a change addressed to ``phone_number_id`` belongs to.

    A Meta app posts the changes of all its numbers to one callback URL, so a webhook
    received on one channel's URL may carry another number's messages. Such a change is
    routed to that number's channel only when it shares the app secret that signed the
    body (it comes from the same Meta app); otherwise it is not ours to process.
    A change without a phone number id (template, account updates) belongs to the
    receiving channel.
    """
    if not phone_number_id or phone_number_id == receiving.phone_number_id:
        return receiving
    return (
        Channel.objects.select_related("organization")
        .filter(
            kind=Channel.Kind.WHATSAPP_CLOUD,
            phone_number_id=phone_number_id,
            app_secret=receiving.app_secret,
            is_active=True,
        )
        .exclude(app_secret="")
        .first()
    )


def whatsapp_id_phone_forms(wa_id: str, *, region: str) -> list[str]:
    """E.164 numbers a WhatsApp id may stand for, the most likely first.

    WhatsApp reports some numbers under historical forms: Mexico's ``521`` prefix,
    Argentine mobiles with or without the 9, Brazilian mobiles without the ninth digit.
    """
    if not _WA_ID.fullmatch(wa_id):
        return []
    forms: list[str] = []
    with contextlib.suppress(InvalidPhone):
        forms.append(normalize_phone("+" + wa_id, region=region))
    forms += phone_query_forms("+" + wa_id, region=region)
    if wa_id.startswith("55") and len(wa_id) == 12 and wa_id[4] in "6789":
        forms.append(f"+55{wa_id[2:4]}9{wa_id[4:]}")
    forms.append("+" + wa_id)
    return list(dict.fromkeys(forms))


def customer_for_whatsapp_id(*, organization: Organization, wa_id: str) -> Customer | None:
    """The one customer of (or assigned to) ``organization`` with this WhatsApp number.

    The forms are tried in order; a form shared by several customers is ambiguous and
    links nobody (an agent picks the customer in the inbox).
    """
    forms = whatsapp_id_phone_forms(wa_id, region=organization.country or "US")
    if not forms:
        return None
    rows = (
        ContactPoint.objects.filter(kind=ContactPoint.Kind.PHONE, value__in=forms)
        .filter(Q(organization=organization) | Q(customer__assignments__reseller=organization))
        .values_list("value", "customer_id")
        .distinct()
    )
    by_form: dict[str, set[int]] = {}
    for value, customer_id in rows:
        by_form.setdefault(value, set()).add(customer_id)
    for form in forms:
        customer_ids = by_form.get(form, set())
        if len(customer_ids) > 1:
            return None
        if customer_ids:
            return Customer.objects.get(pk=customer_ids.pop())
    return None

"""Reads of the messaging app."""

from __future__ import annotations

import contextlib
import re
import threading
import time

from django.db.models import Q

from telcodesk.accounts.models import Organization
from telcodesk.customers.models import ContactPoint, Customer
from telcodesk.customers.phones import InvalidPhone, normalize_phone, phone_query_forms
from telcodesk.messaging.models import Channel

_WA_ID = re.compile(r"\d{6,15}")

# Per-process caches of rarely changing rows read by every webhook. Saving or deleting
# the row in this process clears its entry at once (signals in apps.py); other
# processes see the change when their entry expires.
CHANNEL_CACHE_SECONDS = 5.0
CUSTOMER_MISS_CACHE_SECONDS = 30.0
CUSTOMER_MISS_CACHE_SIZE = 100_000
_channel_cache: dict[int, tuple[float, Channel]] = {}
_customer_misses: dict[tuple[int, str], float] = {}
_cache_lock = threading.Lock()


def channel_for_webhook(*, channel_id: int) -> Channel | None:
    """The active WhatsApp Cloud channel a webhook URL names, else None (answer 404).

    Cached per process for ``CHANNEL_CACHE_SECONDS`` (only found channels: an unknown
    id is read again each time). The instance is shared: treat it as read-only.
    """
    now = time.monotonic()
    cached = _channel_cache.get(channel_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    channel = (
        Channel.objects.select_related("organization")
        .filter(pk=channel_id, kind=Channel.Kind.WHATSAPP_CLOUD, is_active=True)
        .first()
    )
    with _cache_lock:
        if channel is None:
            _channel_cache.pop(channel_id, None)
        else:
            _channel_cache[channel_id] = (now + CHANNEL_CACHE_SECONDS, channel)
    return channel


def sms_channel_for_webhook(*, channel_id: int) -> Channel | None:
    """The active SMS channel a Twilio webhook URL names, else None (answer 404)."""
    return (
        Channel.objects.select_related("organization")
        .filter(pk=channel_id, kind=Channel.Kind.SMS, is_active=True)
        .first()
    )


def channel_cache_clear(*, channel_id: int | None = None) -> None:
    """Forget the cached channel ``channel_id`` (all of them when None)."""
    with _cache_lock:
        if channel_id is None:
            _channel_cache.clear()
        else:
            _channel_cache.pop(channel_id, None)


def customer_misses_clear() -> None:
    """Forget every remembered failed customer lookup (a contact point changed)."""
    with _cache_lock:
        _customer_misses.clear()


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


def customer_for_whatsapp_id(
    *, organization: Organization, wa_id: str, remember_miss: bool = False
) -> Customer | None:
    """The one customer of (or assigned to) ``organization`` with this WhatsApp number.

    The forms are tried in order; a form shared by several customers is ambiguous and
    links nobody (an agent picks the customer in the inbox). With ``remember_miss`` a
    lookup that found nobody is not repeated in this process for
    ``CUSTOMER_MISS_CACHE_SECONDS``, unless a contact point, customer, assignment,
    organization or channel is saved or deleted in this process meanwhile.
    """
    forms = whatsapp_id_phone_forms(wa_id, region=organization.country or "US")
    if not forms:
        return None
    key = (organization.pk, wa_id)
    if remember_miss:
        until = _customer_misses.get(key)
        if until is not None and until > time.monotonic():
            return None
    customer = _customer_lookup(organization=organization, forms=forms)
    if customer is None and remember_miss:
        now = time.monotonic()
        with _cache_lock:
            if len(_customer_misses) >= CUSTOMER_MISS_CACHE_SIZE:
                for stale in [k for k, until in _customer_misses.items() if until <= now]:
                    del _customer_misses[stale]
                if len(_customer_misses) >= CUSTOMER_MISS_CACHE_SIZE:
                    _customer_misses.clear()
            _customer_misses[key] = now + CUSTOMER_MISS_CACHE_SECONDS
    return customer


def _customer_lookup(*, organization: Organization, forms: list[str]) -> Customer | None:
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

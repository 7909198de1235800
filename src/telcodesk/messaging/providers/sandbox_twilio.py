"""The sandbox's Twilio: a local stand-in for Programmable Messaging and the customer's phone.

It speaks Twilio's wire format, so the real ``TwilioSmsClient`` talks to it over HTTP
when an SMS channel's ``sms_api_base_url`` points at ``/messaging/sandbox/twilio``:

- ``sandbox_sms_accept`` answers ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``
  like Twilio: HTTP Basic auth checked against the channels of that account, ``201``
  with the Message resource (``sid`` "SM" + 32 hex, ``status`` "queued", or "accepted"
  through a messaging service), or Twilio's error object: 20003 (401) bad credentials,
  21602 no body, 21604 no ``To``, 21603 no ``From``, 21606 a ``From`` that is not the
  account's, 21617 over 1,600 characters, 21211 an invalid number, 21614 a landline,
  21610 a number that texted STOP, 20429 (429) over
  ``TELCODESK_SANDBOX_MESSAGES_PER_SECOND`` in one second; and Twilio's magic test
  numbers (+15005550001 invalid, +15005550004 unsubscribed, +15005550009 not a mobile);
- ``sandbox_sms_statuses_deliver`` posts the signed status callbacks (queued → sent →
  delivered) to the ``StatusCallback`` the send request gave;
- ``sandbox_sms_phone_message`` is the customer texting from the phone simulator: it
  builds the form Twilio posts to the number's "A message comes in" URL (with
  ``OptOutType`` for STOP / START, as Twilio's Advanced Opt-Out does), which the caller
  signs and posts.

What it sees is kept in ``SandboxMessage`` (``phone_number_id`` is the channel's
sender number or messaging service SID). Never use it for a production channel.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import phonenumbers
from django.urls import reverse
from django.utils import timezone

from telcodesk.messaging.models import Channel, SandboxMessage
from telcodesk.messaging.providers.sandbox import sandbox_latency_seconds, sandbox_throughput
from telcodesk.messaging.providers.twilio_sms import (
    API_VERSION,
    BODY_TOO_LONG,
    INVALID_TO,
    MAX_BODY_LENGTH,
    NOT_MOBILE,
    SIGNATURE_HEADER,
    TOO_MANY_REQUESTS,
    UNSUBSCRIBED,
    error_body,
    new_message_sid,
    parse_basic_authorization,
    sms_segments,
    twilio_signature,
)

logger = logging.getLogger("telcodesk.messaging")

# (absolute URL, raw body, headers) -> HTTP status of the answer
FormPoster = Callable[[str, bytes, dict[str, str]], int]

STATUS_STEPS = ("queued", "sent", "delivered")
KIND = "sms"
# Twilio's default opt-out and opt-in keywords (Advanced Opt-Out, English set).
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
# Twilio's magic "To" numbers of its test credentials, and the error each one gives.
MAGIC_NUMBERS: dict[str, tuple[int, str]] = {
    "+15005550001": (INVALID_TO, "Invalid 'To' Phone Number: +15005550001"),
    "+15005550004": (UNSUBSCRIBED, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (NOT_MOBILE, "'To' number is not a valid mobile number"),
}


def sandbox_sms_key(channel: Channel) -> str:
    """What the sandbox files a channel's messages under: its sender or service SID."""
    return channel.sms_from or channel.sms_messaging_service_sid


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _error(code: int, message: str, status: int = 400) -> tuple[int, dict[str, Any]]:
    return status, error_body(code, message, status)


def _account_channels(account_sid: str, authorization: str) -> list[Channel] | None:
    """The SMS channels of ``account_sid`` whose auth token the Basic credentials give."""
    credentials = parse_basic_authorization(authorization)
    if credentials is None or credentials.account_sid != account_sid:
        return None
    channels = [
        channel
        for channel in Channel.objects.filter(
            kind=Channel.Kind.SMS, sms_account_sid=account_sid
        ).select_related("organization")
        if channel.sms_auth_token
        and hmac.compare_digest(
            credentials.auth_token.encode("utf-8"), channel.sms_auth_token.encode("utf-8")
        )
    ]
    return channels or None


def sandbox_sms_opted_out(*, key: str, number: str) -> bool:
    """Whether the simulated phone's latest STOP / START to this sender was a STOP."""
    latest = (
        SandboxMessage.objects.filter(
            phone_number_id=key,
            wa_id=_digits(number),
            direction=SandboxMessage.Direction.FROM_PHONE,
            payload__has_key="OptOutType",
        )
        .order_by("-created_at", "-id")
        .values_list("payload", flat=True)
        .first()
    )
    return isinstance(latest, dict) and latest.get("OptOutType") == "STOP"


def _to_problem(to: str) -> tuple[int, str] | None:
    if to in MAGIC_NUMBERS:
        return MAGIC_NUMBERS[to]
    try:
        number = phonenumbers.parse(to, None)
    except phonenumbers.NumberParseException:
        return INVALID_TO, f"Invalid 'To' Phone Number: {to[:40]}"
    if not phonenumbers.is_valid_number(number):
        return INVALID_TO, f"Invalid 'To' Phone Number: {to[:40]}"
    if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE:
        return NOT_MOBILE, "'To' number is not a valid mobile number"
    return None


def _resource(message: SandboxMessage, *, account_sid: str, status: str) -> dict[str, Any]:
    """The Message resource as Twilio's REST API represents it."""
    form = message.payload
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{message.wamid}"
    created = format_datetime(message.created_at.astimezone(UTC))
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": message.text,
        "date_created": created,
        "date_sent": None,
        "date_updated": created,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From") or None,
        "messaging_service_sid": form.get("MessagingServiceSid") or None,
        "num_media": "0",
        "num_segments": str(sms_segments(message.text)),
        "price": None,
        "price_unit": "USD",
        "sid": message.wamid,
        "status": status,
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": form.get("To"),
        "uri": f"{uri}.json",
    }


def sandbox_sms_accept(
    *, account_sid: str, authorization: str, form: dict[str, str], now: datetime | None = None
) -> tuple[int, dict[str, Any]]:
    """Answer a send request like Twilio: (HTTP status, JSON body)."""
    if sandbox_latency_seconds() > 0:
        time.sleep(sandbox_latency_seconds())
    now = now or timezone.now()
    channels = _account_channels(account_sid, authorization)
    if channels is None:
        return _error(20003, "Authenticate", 401)
    to, body = form.get("To", "").strip(), form.get("Body", "")
    sender, service = form.get("From", "").strip(), form.get("MessagingServiceSid", "").strip()
    if not to:
        return _error(21604, "A 'To' phone number is required.")
    if service:
        channel = next((c for c in channels if c.sms_messaging_service_sid == service), None)
        if channel is None:
            return _error(21701, f"The Messaging Service Sid {service[:40]} is invalid.")
    elif sender:
        channel = next((c for c in channels if c.sms_from == sender), None)
        if channel is None:
            return _error(
                21606,
                f"The From phone number {sender[:40]} is not a valid, SMS-capable inbound "
                "phone number or short code for your account.",
            )
    else:
        return _error(21603, "A 'From' phone number is required.")
    if not body:
        return _error(21602, "Message body is required.")
    if len(body) > MAX_BODY_LENGTH:
        return _error(
            BODY_TOO_LONG, "The concatenated message body exceeds the 1600 character limit."
        )
    problem = _to_problem(to)
    if problem is not None:
        return _error(*problem)
    key = sandbox_sms_key(channel)
    if sandbox_sms_opted_out(key=key, number=to):
        return _error(UNSUBSCRIBED, "Attempt to send to unsubscribed recipient")
    second = now.replace(microsecond=0)
    sent_this_second = SandboxMessage.objects.filter(
        phone_number_id=key,
        direction=SandboxMessage.Direction.TO_PHONE,
        created_at__gte=second,
        created_at__lt=second + timedelta(seconds=1),
    ).count()
    if sent_this_second >= sandbox_throughput():
        return _error(TOO_MANY_REQUESTS, "Too Many Requests", 429)
    message = SandboxMessage.objects.create(
        phone_number_id=key,
        wa_id=_digits(to),
        direction=SandboxMessage.Direction.TO_PHONE,
        wamid=new_message_sid(),
        kind=KIND,
        text=body,
        payload={name: value for name, value in form.items()},
        created_at=now,
    )
    return 201, _resource(
        message, account_sid=account_sid, status="accepted" if service else "queued"
    )


# --- callbacks back to us -----------------------------------------------------------------


def signed_form(auth_token: str, url: str, form: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a webhook Twilio would post to ``url``."""
    raw = urllib.parse.urlencode(list(form.items())).encode("ascii")
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        SIGNATURE_HEADER: twilio_signature(auth_token, url, form.items()),
    }
    return raw, headers


def _channel_of(message: SandboxMessage) -> Channel:
    form = message.payload
    if form.get("MessagingServiceSid"):
        return Channel.objects.get(
            kind=Channel.Kind.SMS, sms_messaging_service_sid=form["MessagingServiceSid"]
        )
    return Channel.objects.get(kind=Channel.Kind.SMS, sms_from=form.get("From", ""))


def sandbox_sms_status_form(
    *, channel: Channel, message: SandboxMessage, status: str, error_code: int | None = None
) -> dict[str, str]:
    """The form of a status callback, as Twilio posts it."""
    form = {
        "SmsSid": message.wamid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": str(message.payload.get("To", "")),
        "MessageSid": message.wamid,
        "AccountSid": channel.sms_account_sid,
        "From": channel.sms_from,
        "ApiVersion": API_VERSION,
    }
    if message.payload.get("MessagingServiceSid"):
        form["MessagingServiceSid"] = str(message.payload["MessagingServiceSid"])
    if error_code is not None:
        form["ErrorCode"] = str(error_code)
    return form


def sandbox_sms_statuses_deliver(
    *,
    sid: str,
    post: FormPoster,
    statuses: tuple[str, ...] = STATUS_STEPS,
    error_code: int | None = None,
    pause_seconds: float = 0.0,
) -> list[int]:
    """Post the status callbacks of a message the sandbox accepted, in the given order,
    to its ``StatusCallback`` (none given: nothing is posted). ``error_code`` goes with
    "failed" and "undelivered" (30003 unreachable, 30007 filtered...)."""
    message = SandboxMessage.objects.get(wamid=sid, kind=KIND)
    url = str(message.payload.get("StatusCallback", ""))
    if not url:
        return []
    channel = _channel_of(message)
    answers = []
    for step, status in enumerate(statuses):
        if step and pause_seconds:
            time.sleep(pause_seconds)
        code = error_code if status in ("failed", "undelivered") else None
        form = sandbox_sms_status_form(
            channel=channel, message=message, status=status, error_code=code
        )
        raw, headers = signed_form(channel.sms_auth_token, url, form)
        answers.append(post(url, raw, headers))
    return answers


def url_poster(*, timeout: float = 10.0) -> FormPoster:
    """A FormPoster that posts over HTTP to the absolute URL it is given."""

    def post(url: str, raw: bytes, headers: dict[str, str]) -> int:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the callback URL must be http(s)")
        request = urllib.request.Request(url, data=raw, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    return post


def sandbox_sms_statuses_deliver_later(*, sid: str) -> None:
    """Deliver the callbacks from a background thread, a second apart (the running
    sandbox, not tests)."""

    def run() -> None:
        from django.db import connection

        try:
            sandbox_sms_statuses_deliver(sid=sid, post=url_poster(), pause_seconds=1.0)
        except Exception:  # a stand-in: a lost status is only a missing tick
            logger.warning("sandbox SMS status delivery failed", exc_info=True)
        finally:
            connection.close()

    threading.Thread(target=run, name="sandbox-sms-statuses", daemon=True).start()


# --- the simulated phone -------------------------------------------------------------------


def sandbox_sms_inbound_url(channel: Channel, base_url: str) -> str:
    """The number's "A message comes in" URL on our server."""
    return base_url.rstrip("/") + reverse("messaging:twilio_webhook", args=[channel.pk])


def sandbox_sms_phone_message(
    *, channel: Channel, number: str, text: str, now: datetime | None = None
) -> tuple[SandboxMessage, dict[str, str]]:
    """The customer texts ``text`` from ``number`` (E.164 or digits): record it, return the
    form Twilio would post (STOP / START words carry ``OptOutType``)."""
    now = now or timezone.now()
    sender = "+" + _digits(number)
    sid = new_message_sid()
    to = channel.sms_from or channel.display_phone
    form = {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": text,
        "To": to,
        "NumSegments": str(sms_segments(text)),
        "MessageSid": sid,
        "AccountSid": channel.sms_account_sid,
        "From": sender,
        "ApiVersion": API_VERSION,
    }
    if channel.sms_messaging_service_sid:
        form["MessagingServiceSid"] = channel.sms_messaging_service_sid
    word = text.strip().upper()
    if word in OPT_OUT_KEYWORDS:
        form["OptOutType"] = "STOP"
    elif word in OPT_IN_KEYWORDS:
        form["OptOutType"] = "START"
    record = SandboxMessage.objects.create(
        phone_number_id=sandbox_sms_key(channel),
        wa_id=_digits(number),
        direction=SandboxMessage.Direction.FROM_PHONE,
        wamid=sid,
        kind=KIND,
        text=text,
        payload=form,
        created_at=now,
    )
    return record, form

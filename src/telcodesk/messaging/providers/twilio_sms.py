"""The Twilio Programmable Messaging wire format: the send client, webhooks, signatures.

Pure functions over bytes and dicts, no database (like ``whatsapp_cloud``):

- ``TwilioSmsClient.send`` is ``POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json``
  with form-encoded ``To``, ``From`` (or ``MessagingServiceSid``), ``Body`` and
  ``StatusCallback``, HTTP Basic auth ``AccountSid:AuthToken``. Twilio answers ``201``
  with the Message resource (``sid`` "SM" + 32 hex, ``status`` "queued" or
  "accepted"), or an error object ``{"code", "message", "more_info", "status"}``.
- ``twilio_signature`` / ``twilio_signature_matches``: the ``X-Twilio-Signature`` of a
  webhook, base64 of the HMAC-SHA1 (key: the auth token) of the full URL followed by
  every POST parameter's name and value, sorted by name.
- ``parse_inbound`` / ``parse_status``: the form of an incoming message ("A message
  comes in") and of a status callback, as the typed events ``messaging.services``
  stores (the same ``InboundMessage`` and ``StatusUpdate`` as WhatsApp's).

Reference: https://www.twilio.com/docs/messaging/api/message-resource,
https://www.twilio.com/docs/usage/webhooks/webhooks-security.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import secrets
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telcodesk.messaging.providers import http_pool
from telcodesk.messaging.providers.whatsapp_cloud import (
    InboundMessage,
    ProviderError,
    ReportedError,
    SendResult,
    StatusUpdate,
)

API_VERSION = "2010-04-01"
SIGNATURE_HEADER = "X-Twilio-Signature"
# Twilio's own limit: it splits a longer body into segments itself, up to this length.
MAX_BODY_LENGTH = 1600
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
# An E.164 number, or an alphanumeric sender id (up to 11 characters, at least one letter).
SENDER = re.compile(r"\+[1-9]\d{5,14}|(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")

# The form fields of a send request; anything else in a stored payload is ours.
SEND_PARAMS = ("To", "From", "MessagingServiceSid", "Body", "StatusCallback")

# Error codes (https://www.twilio.com/docs/api/errors).
TOO_MANY_REQUESTS = 20429
INVALID_TO = 21211
UNSUBSCRIBED = 21610
NOT_MOBILE = 21614
BODY_TOO_LONG = 21617
# Worth another attempt later: too many requests, Twilio's internal and unavailable
# errors. Every other 4xx (bad number, unsubscribed, landline, bad credentials) cannot
# succeed by retrying.
RETRYABLE_CODES = frozenset({TOO_MANY_REQUESTS, 20500, 20503})

# The delivery error codes of status callbacks, with Twilio's titles (stored in English,
# like the provider's own error titles).
DELIVERY_ERRORS: dict[int, str] = {
    30001: "Queue overflow",
    30002: "Account suspended",
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered by the carrier",
    30008: "Unknown error",
    30010: "Message price exceeds max price",
    21610: "Attempt to send to unsubscribed recipient",
}

MEDIA_KINDS_BY_TYPE = (("image/", "image"), ("audio/", "audio"), ("video/", "video"))


# The GSM 03.38 default alphabet (and its extension table, two septets each): a body in
# it goes in 160-character segments (153 when split); anything else is UCS-2 (70 / 67).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")


def sms_segments(body: str) -> int:
    """How many segments a body is billed as (what Twilio reports in ``num_segments``)."""
    if all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in body):
        septets = sum(2 if ch in GSM_EXTENSION else 1 for ch in body)
        return 1 if septets <= 160 else -(-septets // 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


def new_message_sid(prefix: str = "SM") -> str:
    """A sid shaped like Twilio's: "SM" (SMS) or "MM" (MMS) and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def error_link(code: int) -> str:
    return f"https://www.twilio.com/docs/errors/{code}"


def error_body(code: int, message: str, status: int) -> dict[str, Any]:
    """An error object in the shape Twilio's REST API answers."""
    return {"code": code, "message": message, "more_info": error_link(code), "status": status}


# --- signatures ----------------------------------------------------------------------------


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The ``X-Twilio-Signature`` of a POST to ``url`` with form ``params``.

    The URL exactly as Twilio requested it (scheme, host, port, path, query), then each
    parameter name followed by its value, names sorted (a repeated name: its values
    sorted), HMAC-SHA1 keyed with the auth token, base64.
    """
    by_name: dict[str, list[str]] = {}
    for name, value in params:
        by_name.setdefault(name, []).append(value)
    data = url + "".join(
        name + value for name in sorted(by_name) for value in sorted(by_name[name])
    )
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _url_forms(url: str) -> list[str]:
    """The URL as given, and with the default port added or removed: Twilio signs the
    URL as configured, which may or may not spell the port out."""
    parts = urllib.parse.urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    forms = [url]
    host = parts.hostname or ""
    if default is None or not host:
        return forms
    if parts.port is None:
        forms.append(urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default}")))
    elif parts.port == default:
        netloc = parts.netloc.rsplit(":", 1)[0]
        forms.append(urllib.parse.urlunsplit(parts._replace(netloc=netloc)))
    return forms


def twilio_signature_matches(
    auth_token: str, url: str, params: list[tuple[str, str]], header: str | None
) -> bool:
    """Whether ``header`` signs this request (constant-time compare of each URL form).

    An empty token never matches: a channel without one cannot authenticate anything.
    """
    if not auth_token or not header:
        return False
    received = header.strip().encode("utf-8", "replace")
    matched = False
    for form in _url_forms(url):
        expected = twilio_signature(auth_token, form, params).encode("ascii")
        # Compare every form (no early exit) so the timing says nothing either.
        matched = hmac.compare_digest(expected, received) or matched
    return matched


def form_params(raw: bytes) -> list[tuple[str, str]]:
    """The (name, value) pairs of a form-encoded body, in order, blanks kept."""
    return urllib.parse.parse_qsl(
        raw.decode("utf-8", "replace"), keep_blank_values=True, errors="replace"
    )


# --- webhooks in ----------------------------------------------------------------------------


def _digits(address: str) -> str:
    return "".join(ch for ch in address if ch.isdigit())


def sender_address(value: str) -> tuple[str, str]:
    """(wa_id-style digits, other id) of a Twilio ``From``: "+59171234567" gives the
    digits, as WhatsApp ids are kept; a short code or sender name stays as it is."""
    value = value.strip()
    if re.fullmatch(r"\+\d{6,15}", value):
        return value[1:], ""
    return "", value


def _media_kind(content_type: str) -> str:
    for prefix, kind in MEDIA_KINDS_BY_TYPE:
        if content_type.startswith(prefix):
            return kind
    return "document"


def parse_inbound(params: Mapping[str, str], *, received_at: datetime) -> InboundMessage:
    """An incoming SMS or MMS ("A message comes in" webhook) as an ``InboundMessage``.

    Twilio gives no timestamp: the message is dated when the webhook was received.
    ``reply_payload`` and ``reply_to`` stay empty here; a numbered answer to options we
    sent is mapped by ``messaging.sms``. Media: the first item's kind and type, its
    ``ME`` sid as the media id; every URL stays in ``raw``.
    """
    wa_id, other = sender_address(params.get("From", ""))
    body = params.get("Body", "")
    try:
        media_count = int(params.get("NumMedia", "0") or 0)
    except ValueError:
        media_count = 0
    fields: dict[str, Any] = {"kind": "text", "body": body}
    if media_count > 0:
        content_type = params.get("MediaContentType0", "")
        url = params.get("MediaUrl0", "")
        fields = {
            "kind": _media_kind(content_type),
            "body": body,
            "media_id": url.rstrip("/").rpartition("/")[2][:128],
            "media_mime_type": content_type,
            "media_caption": body,
        }
    return InboundMessage(
        phone_number_id=params.get("To", ""),
        waba_id=params.get("AccountSid", ""),
        wa_id=wa_id,
        user_id=other,
        provider_message_id=params.get("MessageSid") or params.get("SmsMessageSid", ""),
        sent_at=received_at,
        raw=dict(params),
        **fields,
    )


def parse_status(params: Mapping[str, str], *, received_at: datetime) -> StatusUpdate:
    """A status callback (``MessageStatus`` queued, sending, sent, delivered,
    undelivered, failed; ``ErrorCode`` when it failed) as a ``StatusUpdate``.

    Twilio's callbacks carry no timestamp: the status is dated when it was received,
    and ``messaging.services`` orders SMS statuses by their place in the lifecycle
    instead (a "sent" arriving after "delivered" changes nothing).
    """
    status = (params.get("MessageStatus") or params.get("SmsStatus", "")).strip().lower()
    error: ReportedError | None = None
    raw_code = params.get("ErrorCode", "").strip()
    if raw_code.isdigit() and int(raw_code) != 0:
        code = int(raw_code)
        error = ReportedError(
            code=code,
            title=DELIVERY_ERRORS.get(code, f"Twilio error {code}"),
            details=error_link(code),
        )
    return StatusUpdate(
        phone_number_id=params.get("From", ""),
        waba_id=params.get("AccountSid", ""),
        provider_message_id=params.get("MessageSid") or params.get("SmsSid", ""),
        status=status,
        occurred_at=received_at,
        recipient_id=_digits(params.get("To", ""))[:64],
        raw=dict(params),
        error=error,
    )


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


# --- sending: the REST client ------------------------------------------------------------


def twilio_error_from_response(status: int, raw: bytes) -> ProviderError:
    """Turn a Twilio error answer (``{"code", "message", "more_info", "status"}``) into a
    ProviderError; 429, 5xx and RETRYABLE_CODES are retryable."""
    try:
        body = json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = body.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    message = body.get("message")
    title = message if isinstance(message, str) and message else f"HTTP {status}"
    more_info = body.get("more_info")
    details = more_info if isinstance(more_info, str) else ""
    retryable = status >= 500 or status == 429 or code in RETRYABLE_CODES
    return ProviderError(code, title, retryable=retryable, details=details, status=status)


def basic_authorization(account_sid: str, auth_token: str) -> str:
    token = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode("ascii")
    return f"Basic {token}"


@dataclass(frozen=True)
class TwilioCredentials:
    account_sid: str
    auth_token: str


def parse_basic_authorization(header: str) -> TwilioCredentials | None:
    """The (user, password) of an ``Authorization: Basic`` header, else None."""
    scheme, _sep, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return TwilioCredentials(user, password) if sep else None


class TwilioSmsClient:
    """``POST {base_url}/2010-04-01/Accounts/{sid}/Messages.json`` on a kept-alive
    connection (``http_pool``). Works against api.twilio.com and against the sandbox
    (same wire format)."""

    def __init__(
        self, *, base_url: str, account_sid: str, auth_token: str, timeout: float = 10.0
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("the API base URL must be http(s)")
        self.base_url = base_url.rstrip("/")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.timeout = timeout

    @property
    def messages_url(self) -> str:
        sid = urllib.parse.quote(self.account_sid, safe="")
        return f"{self.base_url}/{API_VERSION}/Accounts/{sid}/Messages.json"

    def send(self, payload: dict[str, Any]) -> SendResult:
        """Send the Twilio form fields of ``payload``; the ``SM`` sid on success, else
        raises ProviderError (retryable on 429, 20429, 5xx, timeouts, network errors)."""
        form = [(name, str(payload[name])) for name in SEND_PARAMS if payload.get(name)]
        try:
            answer = http_pool.request(
                "POST",
                self.messages_url,
                body=urllib.parse.urlencode(form).encode("ascii"),
                headers={
                    "Authorization": basic_authorization(self.account_sid, self.auth_token),
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                },
                timeout=self.timeout,
            )
        except (OSError, http.client.HTTPException) as exc:
            raise ProviderError(None, f"network error: {exc}", retryable=True) from exc
        if answer.status >= 400:
            raise twilio_error_from_response(answer.status, answer.body)
        if answer.status >= 300:
            raise ProviderError(
                None,
                f"HTTP {answer.status} redirect to {answer.location or '?'}: check the "
                "channel's SMS API base URL",
                retryable=False,
                status=answer.status,
            )
        try:
            body = json.loads(answer.body.decode("utf-8"))
        except ValueError as exc:
            raise ProviderError(None, "answer is not JSON", retryable=True) from exc
        sid = body.get("sid") if isinstance(body, dict) else None
        if not isinstance(sid, str) or not sid:
            raise ProviderError(None, "answer has no message sid", retryable=False)
        return SendResult(wamid=sid, raw=body)

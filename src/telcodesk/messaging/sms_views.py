"""Twilio's webhooks for an SMS channel: incoming messages and status callbacks.

``POST /messaging/twilio/webhook/<channel id>/`` (the number's "A message comes in"
URL) and ``POST /messaging/twilio/status/<channel id>/`` (the ``StatusCallback`` we give
with each send) take Twilio's form-encoded body signed in ``X-Twilio-Signature`` with
the channel's auth token. Like the WhatsApp webhook they answer fast: check, store the
raw body, answer 200 with an empty TwiML ``<Response/>`` (no automatic reply); the body
is applied after commit (``sms.sms_event_apply``). A refused request stores nothing and
leaves one line in the ``telcodesk.security`` log with the reason.

The signature covers the full URL Twilio requested: behind a proxy that terminates TLS,
set Django's ``SECURE_PROXY_SSL_HEADER`` (and ``USE_X_FORWARDED_HOST`` if the host is
rewritten) so that ``request.build_absolute_uri()`` gives that URL back.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from telcodesk.messaging.providers.twilio_sms import (
    EMPTY_TWIML,
    SIGNATURE_HEADER,
    form_params,
    twilio_signature_matches,
)
from telcodesk.messaging.selectors import sms_channel_for_webhook
from telcodesk.messaging.services import webhook_event_record

security_log = logging.getLogger("telcodesk.security")

# Twilio's form bodies are small (an SMS is at most 1,600 characters, plus ~20 fields).
DEFAULT_MAX_BODY_BYTES = 64 * 1024
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def _max_body_bytes() -> int:
    return int(getattr(settings, "TELCODESK_SMS_WEBHOOK_MAX_BYTES", DEFAULT_MAX_BODY_BYTES))


def _refuse(
    request: HttpRequest, status: int, reason: str, message: str, channel_id: int
) -> HttpResponse:
    security_log.warning(
        "twilio webhook refused",
        extra={
            "reason": reason,
            "status": status,
            "channel_id": channel_id,
            "request_id": getattr(request, "request_id", "-"),
            "client_ip": request.META.get("REMOTE_ADDR", ""),
        },
    )
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _receive(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = sms_channel_for_webhook(channel_id=channel_id)
    if channel is None:
        return _refuse(request, 404, "unknown channel", _("Unknown channel."), channel_id)
    limit = _max_body_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _refuse(request, 413, "body too large", _("Body too large."), channel.pk)
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return _refuse(request, 413, "body too large", _("Body too large."), channel.pk)
    if (request.content_type or "").lower() != FORM_CONTENT_TYPE:
        return _refuse(
            request, 415, "not a form", _("Send the form-encoded body Twilio sends."), channel.pk
        )
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _refuse(request, 400, "not utf-8", _("The body is not UTF-8."), channel.pk)
    signature = request.headers.get(SIGNATURE_HEADER)
    if not twilio_signature_matches(
        channel.sms_auth_token, request.build_absolute_uri(), form_params(raw), signature
    ):
        reason = "missing signature" if not signature else "bad signature"
        return _refuse(request, 403, reason, _("Invalid signature."), channel.pk)
    webhook_event_record(
        channel=channel,
        body=body,
        headers=request.headers,
        request_id=getattr(request, "request_id", ""),
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml; charset=utf-8")


@csrf_exempt
@require_POST
def twilio_webhook(request: HttpRequest, channel_id: int) -> HttpResponse:
    """An incoming SMS or MMS, signed by Twilio."""
    return _receive(request, channel_id)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest, channel_id: int) -> HttpResponse:
    """A status callback of a message we sent (queued, sent, delivered, failed...)."""
    return _receive(request, channel_id)

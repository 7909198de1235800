"""HTTP endpoints of the messaging app: the WhatsApp Cloud API webhook.

The webhook answers fast: it checks the request, stores the raw body and returns 200;
the body is processed after commit (messaging.webhooks). A refused request stores
nothing; it leaves one line in the ``telcodesk.security`` log with the reason.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from telcodesk.messaging.models import Channel
from telcodesk.messaging.providers.whatsapp_cloud import (
    SIGNATURE_HEADER,
    parse_body,
    signature_matches,
)
from telcodesk.messaging.selectors import channel_for_webhook
from telcodesk.messaging.services import webhook_event_record

security_log = logging.getLogger("telcodesk.security")

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
MAX_CHALLENGE_LENGTH = 256


def _max_body_bytes() -> int:
    return int(getattr(settings, "TELCODESK_WHATSAPP_WEBHOOK_MAX_BYTES", DEFAULT_MAX_BODY_BYTES))


def _refuse(
    request: HttpRequest, status: int, reason: str, message: str, channel_id: int
) -> HttpResponse:
    security_log.warning(
        "whatsapp webhook refused",
        extra={
            "reason": reason,
            "status": status,
            "channel_id": channel_id,
            "request_id": getattr(request, "request_id", "-"),
            "client_ip": request.META.get("REMOTE_ADDR", ""),
        },
    )
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _verify(request: HttpRequest, channel: Channel) -> HttpResponse:
    """Meta's subscription handshake: echo hub.challenge when the token matches."""
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    token_ok = bool(channel.verify_token) and hmac.compare_digest(
        token.encode("utf-8", "replace"), channel.verify_token.encode("utf-8", "replace")
    )
    if mode != "subscribe" or not token_ok:
        return _refuse(request, 403, "bad verify token", _("Verification refused."), channel.pk)
    if not challenge or len(challenge) > MAX_CHALLENGE_LENGTH:
        return _refuse(request, 400, "bad challenge", _("Missing hub.challenge."), channel.pk)
    return HttpResponse(challenge, content_type="text/plain; charset=utf-8")


def _receive(request: HttpRequest, channel: Channel) -> HttpResponse:
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
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature_matches(channel.app_secret, raw, signature):
        reason = "missing signature" if not signature else "bad signature"
        return _refuse(request, 403, reason, _("Invalid signature."), channel.pk)
    try:
        body = parse_body(raw)
    except ValueError:
        return _refuse(request, 400, "not json", _("The body is not valid JSON."), channel.pk)
    if not isinstance(body, dict):
        return _refuse(
            request, 400, "not a json object", _("The body is not a JSON object."), channel.pk
        )
    webhook_event_record(
        channel=channel,
        body=raw.decode("utf-8"),
        headers=request.headers,
        request_id=getattr(request, "request_id", ""),
    )
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request: HttpRequest, channel_id: int) -> HttpResponse:
    """``GET``: verification handshake. ``POST``: a signed notification from Meta."""
    channel = channel_for_webhook(channel_id=channel_id)
    if channel is None:
        return _refuse(request, 404, "unknown channel", _("Unknown channel."), channel_id)
    if request.method == "GET":
        return _verify(request, channel)
    return _receive(request, channel)

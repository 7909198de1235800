"""The inbound e-mail webhook: a mail service posts each received mail here, raw.

``POST /messaging/email/inbound/<channel id>/`` with ``Content-Type: message/rfc822``
and the body signed by the channel's inbound secret:
``X-Telcodesk-Signature: sha256=<hex HMAC-SHA256 of the raw body>``. Like the WhatsApp
webhook it answers fast: checks, stores the raw mail, answers 200; the mail is threaded
after commit. A refused request stores nothing and leaves one line in the
``telcodesk.security`` log with the reason.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from telcodesk.messaging.email import email_event_store, parse_email
from telcodesk.messaging.models import Channel
from telcodesk.messaging.providers.whatsapp_cloud import signature_matches

security_log = logging.getLogger("telcodesk.security")

SIGNATURE_HEADER = "X-Telcodesk-Signature"
CONTENT_TYPES = ("message/rfc822",)
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024


def _max_body_bytes() -> int:
    return int(getattr(settings, "TELCODESK_EMAIL_INBOUND_MAX_BYTES", DEFAULT_MAX_BODY_BYTES))


def _refuse(
    request: HttpRequest, status: int, reason: str, message: str, channel_id: int
) -> HttpResponse:
    security_log.warning(
        "email webhook refused",
        extra={
            "reason": reason,
            "status": status,
            "channel_id": channel_id,
            "request_id": getattr(request, "request_id", "-"),
            "client_ip": request.META.get("REMOTE_ADDR", ""),
        },
    )
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_POST
def email_inbound(request: HttpRequest, channel_id: int) -> HttpResponse:
    """One received mail, raw (RFC 822), signed with the channel's inbound secret."""
    channel = (
        Channel.objects.select_related("organization")
        .filter(pk=channel_id, kind=Channel.Kind.EMAIL, is_active=True)
        .first()
    )
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
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature_matches(channel.email_inbound_secret, raw, signature):
        reason = "missing signature" if not signature else "bad signature"
        return _refuse(request, 403, reason, _("Invalid signature."), channel.pk)
    content_type = request.content_type or ""
    if content_type.lower() not in CONTENT_TYPES:
        return _refuse(
            request,
            415,
            "not message/rfc822",
            _("Send the raw mail with Content-Type: message/rfc822."),
            channel.pk,
        )
    if not raw.strip() or parse_email(raw) is None:
        return _refuse(
            request,
            400,
            "not an e-mail",
            _("The body is not an e-mail (no sender address)."),
            channel.pk,
        )
    email_event_store(
        channel=channel,
        raw=raw,
        source="webhook",
        headers={"Content-Length": str(len(raw))},
        request_id=getattr(request, "request_id", ""),
    )
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")

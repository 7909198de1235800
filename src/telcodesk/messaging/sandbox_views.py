"""HTTP face of the sandbox: the fake Graph API and the phone simulator page.

Mounted under ``/messaging/sandbox/``. The Graph endpoint authenticates like Meta (the
channel's access token as a Bearer token); the simulator is for signed-in users of the
channel's organization. The simulator plays the customer on a WhatsApp channel and on an
SMS channel (texts only: the customer answers numbered options by typing the number);
the sandbox's Twilio endpoint is ``sandbox_twilio_views``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from telcodesk.accounts.services import actor_for_user
from telcodesk.core.errors import DomainError
from telcodesk.messaging.models import Channel, SandboxMessage
from telcodesk.messaging.providers.sandbox import (
    MAX_MEDIA_BYTES,
    Poster,
    SandboxMedia,
    http_poster,
    sandbox_media_download,
    sandbox_media_get,
    sandbox_media_id_of,
    sandbox_media_info,
    sandbox_media_store,
    sandbox_media_upload,
    sandbox_message_accept,
    sandbox_phone_message,
    sandbox_statuses_deliver_later,
    signed_post,
)
from telcodesk.messaging.providers.sandbox_twilio import (
    sandbox_sms_inbound_url,
    sandbox_sms_key,
    sandbox_sms_phone_message,
    signed_form,
)

MAX_BODY_BYTES = 256 * 1024
PHONE_MESSAGES_SHOWN = 50


def _own_base_url(request: HttpRequest) -> str:
    """Where our own webhook answers: a setting, else the origin of this request."""
    configured = getattr(settings, "TELCODESK_SANDBOX_WEBHOOK_BASE_URL", "")
    return configured or request.build_absolute_uri("/").rstrip("/")


def webhook_poster_for(request: HttpRequest) -> Poster:
    """How the simulator reaches our webhook (tests replace it with the test client)."""
    return http_poster(_own_base_url(request))


def _status_delivery_enabled() -> bool:
    return bool(getattr(settings, "TELCODESK_SANDBOX_STATUS_WEBHOOKS", True))


@csrf_exempt
@require_POST
def graph_messages(request: HttpRequest, version: str, phone_number_id: str) -> JsonResponse:
    """``POST /messaging/sandbox/graph/<version>/<phone_number_id>/messages``."""
    raw = request.read(MAX_BODY_BYTES + 1)
    try:
        payload: Any = json.loads(raw) if len(raw) <= MAX_BODY_BYTES else None
    except ValueError:
        payload = None
    status, body = sandbox_message_accept(
        phone_number_id=phone_number_id,
        authorization=request.headers.get("Authorization", ""),
        payload=payload,
    )
    if status == 200 and _status_delivery_enabled():
        wamid = body["messages"][0]["id"]
        base_url = _own_base_url(request)
        transaction.on_commit(
            lambda: sandbox_statuses_deliver_later(wamid=wamid, base_url=base_url)
        )
    return JsonResponse(body, status=status)


@csrf_exempt
@require_POST
def graph_media_upload(request: HttpRequest, version: str, phone_number_id: str) -> JsonResponse:
    """``POST /messaging/sandbox/graph/<version>/<phone_number_id>/media`` (multipart)."""
    upload = request.FILES.get("file")
    data = upload.read(MAX_MEDIA_BYTES + 1) if upload is not None else None
    status, body = sandbox_media_upload(
        phone_number_id=phone_number_id,
        authorization=request.headers.get("Authorization", ""),
        messaging_product=request.POST.get("messaging_product", ""),
        data=data,
        mime_type=request.POST.get("type", "")
        or (upload.content_type if upload is not None else "")
        or "",
        filename=(upload.name or "") if upload is not None else "",
    )
    return JsonResponse(body, status=status)


@require_GET
def graph_media_info(request: HttpRequest, version: str, media_id: str) -> JsonResponse:
    """``GET /messaging/sandbox/graph/<version>/<media_id>``: the file's download URL."""
    status, body = sandbox_media_info(
        media_id=media_id,
        authorization=request.headers.get("Authorization", ""),
        download_url=request.build_absolute_uri(
            reverse("messaging:sandbox_media_download", args=[media_id])
        ),
    )
    return JsonResponse(body, status=status)


@require_GET
def media_download(request: HttpRequest, media_id: str) -> HttpResponse | FileResponse:
    """The download URL: the file's bytes for the bearer of its channel's token."""
    media = sandbox_media_download(
        media_id=media_id, authorization=request.headers.get("Authorization", "")
    )
    if media is None:
        return JsonResponse(
            {"error": {"message": "Invalid OAuth access token", "type": "OAuthException"}},
            status=401,
        )
    return _file(media)


def _file(media: SandboxMedia) -> FileResponse:
    response = FileResponse(media.path.open("rb"), content_type=media.mime_type)
    response["Content-Length"] = str(media.size)
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- the phone simulator ---------------------------------------------------------------------


def _channel_for(request: HttpRequest, channel_id: int) -> Channel:
    try:
        actor = actor_for_user(request.user)  # type: ignore[arg-type]
    except DomainError as exc:
        raise Http404(exc.message) from exc
    channel = Channel.objects.filter(
        pk=channel_id,
        organization=actor.organization,
        kind__in=(Channel.Kind.WHATSAPP_CLOUD, Channel.Kind.SMS),
    ).first()
    if channel is None:
        raise Http404
    return channel


def _sandbox_key(channel: Channel) -> str:
    """What the sandbox files the channel's messages under."""
    if channel.kind == Channel.Kind.SMS:
        return sandbox_sms_key(channel)
    return channel.phone_number_id


def _wa_id(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())[:20]


def _messages(channel: Channel, wa_id: str) -> list[SandboxMessage]:
    if not wa_id:
        return []
    recent = list(
        SandboxMessage.objects.filter(phone_number_id=_sandbox_key(channel), wa_id=wa_id).order_by(
            "-created_at", "-id"
        )[:PHONE_MESSAGES_SHOWN]
    )
    for message in recent:
        # Shown by the page: the media the message carries (a photo inline, else a link).
        message.media_id = sandbox_media_id_of(message)  # type: ignore[attr-defined]
        message.is_image = message.kind in ("image", "sticker")  # type: ignore[attr-defined]
    return list(reversed(recent))


def _thread(request: HttpRequest, channel: Channel, wa_id: str, error: str = "") -> HttpResponse:
    return render(
        request,
        "messaging/sandbox/thread.html",
        {"channel": channel, "wa_id": wa_id, "messages": _messages(channel, wa_id), "error": error},
    )


@login_required
@require_GET
def phone(request: HttpRequest, channel_id: int) -> HttpResponse:
    """The simulator page: one customer's phone talking to this channel."""
    channel = _channel_for(request, channel_id)
    wa_id = _wa_id(request.GET.get("wa_id", ""))
    recent_phones = (
        SandboxMessage.objects.filter(phone_number_id=_sandbox_key(channel))
        .order_by("wa_id")
        .values_list("wa_id", flat=True)
        .distinct()[:20]
    )
    return render(
        request,
        "messaging/sandbox/phone.html",
        {
            "channel": channel,
            "wa_id": wa_id,
            "name": request.GET.get("name", "")[:100],
            "messages": _messages(channel, wa_id),
            "recent_phones": list(recent_phones),
            "is_sms": channel.kind == Channel.Kind.SMS,
        },
    )


@login_required
@require_GET
def phone_thread(request: HttpRequest, channel_id: int) -> HttpResponse:
    """The message list (polled by htmx every two seconds)."""
    channel = _channel_for(request, channel_id)
    return _thread(request, channel, _wa_id(request.GET.get("wa_id", "")))


@login_required
@require_POST
def phone_send(request: HttpRequest, channel_id: int) -> HttpResponse:
    """The customer types a reply or taps a button: post a signed inbound webhook."""
    from django.utils.translation import gettext as _

    channel = _channel_for(request, channel_id)
    wa_id = _wa_id(request.POST.get("wa_id", ""))
    if channel.kind == Channel.Kind.SMS:
        return _sms_phone_send(request, channel, wa_id)
    text = request.POST.get("text", "").strip()[:4096]
    button: dict[str, str] | None = None
    context_wamid = ""
    if request.POST.get("button_of"):
        origin = SandboxMessage.objects.filter(
            wamid=request.POST["button_of"],
            phone_number_id=channel.phone_number_id,
            wa_id=wa_id,
            direction=SandboxMessage.Direction.TO_PHONE,
        ).first()
        index = request.POST.get("button_index", "")
        if origin is not None and index.isdigit() and int(index) < len(origin.buttons):
            button = dict(origin.buttons[int(index)])
            context_wamid = origin.wamid
    if not wa_id:
        return _thread(request, channel, wa_id, _("Enter the customer's phone number first."))
    upload = request.FILES.get("file")
    media: SandboxMedia | None = None
    if upload is not None and button is None:
        data = upload.read(MAX_MEDIA_BYTES + 1)
        if len(data) > MAX_MEDIA_BYTES or not data:
            return _thread(request, channel, wa_id, _("Attach a file of at most 16 MB."))
        media = sandbox_media_store(
            phone_number_id=channel.phone_number_id,
            data=data,
            mime_type=upload.content_type or "application/octet-stream",
            filename=upload.name or "",
        )
    if button is None and media is None and not text:
        return _thread(request, channel, wa_id, _("Type a message or tap a button."))
    _record, body = sandbox_phone_message(
        channel=channel,
        wa_id=wa_id,
        name=request.POST.get("name", "")[:100],
        text=text,
        button=button,
        context_wamid=context_wamid,
        media=media,
    )
    post: Callable[[str, bytes, dict[str, str]], int] = webhook_poster_for(request)
    status = signed_post(channel, body, post)
    error = "" if status == 200 else _("The webhook answered %(status)d.") % {"status": status}
    return _thread(request, channel, wa_id, error)


def _sms_phone_send(request: HttpRequest, channel: Channel, number: str) -> HttpResponse:
    """The customer texts the SMS channel: post the form Twilio would, signed with the
    channel's auth token, to our own "A message comes in" webhook."""
    from django.utils.translation import gettext as _

    text = request.POST.get("text", "").strip()[:1600]
    if not number:
        return _thread(request, channel, number, _("Enter the customer's phone number first."))
    if not text:
        return _thread(request, channel, number, _("Type a message."))
    _record, form = sandbox_sms_phone_message(channel=channel, number=number, text=text)
    base = _own_base_url(request)
    url = sandbox_sms_inbound_url(channel, base)
    raw, headers = signed_form(channel.sms_auth_token, url, form)
    post: Callable[[str, bytes, dict[str, str]], int] = webhook_poster_for(request)
    status = post(url.removeprefix(base), raw, headers)
    error = "" if status == 200 else _("The webhook answered %(status)d.") % {"status": status}
    return _thread(request, channel, number, error)


@login_required
@require_GET
def phone_media(request: HttpRequest, channel_id: int, media_id: str) -> FileResponse:
    """A file of this channel's sandbox, for the simulator page (signed-in members)."""
    channel = _channel_for(request, channel_id)
    media = sandbox_media_get(media_id)
    if media is None or media.phone_number_id != _sandbox_key(channel):
        raise Http404
    return _file(media)

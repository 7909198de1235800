"""The sandbox: a local stand-in for Meta's Graph API and for the customer's phone.

It speaks the Cloud API wire format, so the real ``WhatsAppCloudClient`` talks to it
over HTTP when a channel's ``api_base_url`` points at ``/messaging/sandbox/graph``:

- ``sandbox_message_accept`` answers ``POST /{version}/{phone_number_id}/messages`` like
  Meta (the same success body with a ``wamid``, the same error objects for 131047 and
  130429) and records the message for the phone simulator;
- ``sandbox_statuses_deliver`` posts signed status webhooks (sent → delivered → read)
  to the channel's webhook endpoint;
- ``sandbox_phone_message`` is the customer writing, tapping a button or sending a
  photo on the simulator: it builds a real inbound webhook body, which the caller
  posts signed;
- ``sandbox_media_upload`` / ``sandbox_media_info`` / ``sandbox_media_download`` answer
  ``POST /{version}/{phone_number_id}/media``, ``GET /{version}/{media_id}`` and the
  download URL that answer gives, like Meta's media endpoints. Files (uploads and the
  simulator's photos) are kept under ``TELCODESK_SANDBOX_MEDIA_DIR``.

Never use it for a production channel: it accepts any recipient.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from telcodesk.messaging.models import Channel, SandboxMessage, Template
from telcodesk.messaging.providers.whatsapp_cloud import MEDIA_KINDS, signature_for

logger = logging.getLogger("telcodesk.messaging")

# (path, raw body, headers) -> HTTP status of the answer
Poster = Callable[[str, bytes, dict[str, str]], int]

SESSION_WINDOW = timedelta(hours=24)
DEFAULT_MESSAGES_PER_SECOND = 1000
STATUS_STEPS = ("sent", "delivered", "read")
MAX_MEDIA_BYTES = 16 * 1024 * 1024


def new_wamid() -> str:
    """An id shaped like Meta's: ``wamid.`` and base64 of opaque bytes."""
    return (
        "wamid." + base64.b64encode(b"\x15\x02\x00\x11\x18\x12" + secrets.token_bytes(18)).decode()
    )


def sandbox_throughput() -> int:
    return int(
        getattr(settings, "TELCODESK_SANDBOX_MESSAGES_PER_SECOND", DEFAULT_MESSAGES_PER_SECOND)
    )


def sandbox_latency_seconds() -> float:
    """A pause before each send is answered, like a slow network (the crash test)."""
    return float(getattr(settings, "TELCODESK_SANDBOX_LATENCY_SECONDS", 0) or 0)


def graph_error(
    code: int, message: str, *, details: str = "", error_type: str = "OAuthException"
) -> dict[str, Any]:
    """An error object in the shape the Graph API answers."""
    error: dict[str, Any] = {
        "message": message,
        "type": error_type,
        "code": code,
        "fbtrace_id": "A" + secrets.token_urlsafe(16),
    }
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


def _channel_authorized(phone_number_id: str, authorization: str) -> Channel | None:
    """The sandbox channel of ``phone_number_id`` if the bearer token is its token."""
    channel = (
        Channel.objects.filter(kind=Channel.Kind.WHATSAPP_CLOUD, phone_number_id=phone_number_id)
        .select_related("organization")
        .first()
    )
    token = authorization.removeprefix("Bearer ").strip()
    if (
        channel is None
        or not channel.access_token
        or not hmac.compare_digest(token.encode(), channel.access_token.encode())
    ):
        return None
    return channel


def _bad_token() -> dict[str, Any]:
    return graph_error(190, "Invalid OAuth access token - Cannot parse access token")


# --- media ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SandboxMedia:
    id: str
    phone_number_id: str
    mime_type: str
    filename: str
    sha256: str
    size: int
    path: Path


def sandbox_media_dir() -> Path:
    configured = getattr(settings, "TELCODESK_SANDBOX_MEDIA_DIR", "")
    return Path(configured) if configured else Path(settings.VAR_DIR) / "sandbox-media"


def _media_id_valid(media_id: str) -> bool:
    return media_id.isdigit() and 10 <= len(media_id) <= 20


def sandbox_media_store(
    *, phone_number_id: str, data: bytes, mime_type: str, filename: str = ""
) -> SandboxMedia:
    """Keep a file for a phone number; returns it with a new id shaped like Meta's."""
    folder = sandbox_media_dir()
    folder.mkdir(parents=True, exist_ok=True)
    media_id = str(10**15 + secrets.randbelow(9 * 10**15))
    path = folder / f"{media_id}.bin"
    path.write_bytes(data)
    meta = {
        "phone_number_id": phone_number_id,
        "mime_type": mime_type,
        "filename": filename,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    (folder / f"{media_id}.json").write_text(json.dumps(meta), encoding="utf-8")
    return SandboxMedia(
        id=media_id,
        phone_number_id=phone_number_id,
        mime_type=mime_type,
        filename=filename,
        sha256=str(meta["sha256"]),
        size=len(data),
        path=path,
    )


def sandbox_media_get(media_id: str) -> SandboxMedia | None:
    if not _media_id_valid(media_id):
        return None
    folder = sandbox_media_dir()
    try:
        meta = json.loads((folder / f"{media_id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return SandboxMedia(
        id=media_id,
        phone_number_id=str(meta["phone_number_id"]),
        mime_type=str(meta["mime_type"]),
        filename=str(meta.get("filename", "")),
        sha256=str(meta.get("sha256", "")),
        size=int(meta.get("size", 0)),
        path=folder / f"{media_id}.bin",
    )


def sandbox_media_upload(
    *,
    phone_number_id: str,
    authorization: str,
    messaging_product: str,
    data: bytes | None,
    mime_type: str,
    filename: str,
) -> tuple[int, dict[str, Any]]:
    """Answer ``POST /{version}/{phone_number_id}/media`` (multipart) like the Graph API."""
    if _channel_authorized(phone_number_id, authorization) is None:
        return 401, _bad_token()
    if messaging_product != "whatsapp":
        return 400, graph_error(
            100, "(#100) The parameter messaging_product is required.", details="messaging_product"
        )
    if data is None or not data:
        return 400, graph_error(100, "(#100) The parameter file is required.", details="file")
    if len(data) > MAX_MEDIA_BYTES:
        return 400, graph_error(131053, "(#131053) Media upload error", details="file too large")
    if "/" not in mime_type:
        return 400, graph_error(100, "(#100) Param type must be a MIME type", details="type")
    media = sandbox_media_store(
        phone_number_id=phone_number_id, data=data, mime_type=mime_type, filename=filename
    )
    return 200, {"id": media.id}


def _media_authorized(media_id: str, authorization: str) -> SandboxMedia | None:
    media = sandbox_media_get(media_id)
    if media is None or _channel_authorized(media.phone_number_id, authorization) is None:
        return None
    return media


def sandbox_media_info(
    *, media_id: str, authorization: str, download_url: str
) -> tuple[int, dict[str, Any]]:
    """Answer ``GET /{version}/{media_id}``: the URL to download the file from."""
    media = _media_authorized(media_id, authorization)
    if media is None:
        # Meta answers an unknown id and a foreign token alike.
        return 400, graph_error(
            100,
            f"Unsupported get request. Object with ID '{media_id[:40]}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation.",
            error_type="GraphMethodException",
        )
    return 200, {
        "messaging_product": "whatsapp",
        "url": download_url,
        "mime_type": media.mime_type,
        "sha256": media.sha256,
        "file_size": media.size,
        "id": media.id,
    }


def sandbox_media_download(*, media_id: str, authorization: str) -> SandboxMedia | None:
    """The file behind a download URL, for the bearer of its channel's token only."""
    return _media_authorized(media_id, authorization)


def sandbox_media_id_of(message: SandboxMessage) -> str:
    """The media id a recorded message carries (its image, document...), else ""."""
    content = message.payload.get(message.kind) if isinstance(message.payload, dict) else None
    if isinstance(content, dict) and isinstance(content.get("id"), str):
        return str(content["id"])
    return ""


def _render(channel: Channel, payload: dict[str, Any]) -> tuple[str, list[dict[str, str]]] | None:
    """The text and buttons the phone shows for an outbound body; None if not valid."""
    kind = payload.get("type")
    if kind == "text":
        text = payload.get("text")
        body = text.get("body") if isinstance(text, dict) else None
        return (body, []) if isinstance(body, str) and body else None
    if kind == "template":
        template_body = payload.get("template")
        if not isinstance(template_body, dict) or not template_body.get("name"):
            return None
        language = template_body.get("language")
        code = language.get("code", "") if isinstance(language, dict) else ""
        params = [
            str(parameter.get("text", ""))
            for component in template_body.get("components") or []
            if isinstance(component, dict) and component.get("type") == "body"
            for parameter in component.get("parameters") or []
            if isinstance(parameter, dict)
        ]
        template = (
            Template.objects.filter(
                organization_id=channel.organization_id, name=template_body["name"], language=code
            )
            .order_by("channel_id")
            .first()
        )
        if template is None:
            return None
        from telcodesk.messaging.sending import template_render

        template_buttons = [
            {
                "id": str(button.get("text", "")),
                "title": str(button.get("text", "")),
                "kind": "template",
            }
            for button in template.buttons
            if isinstance(button, dict) and button.get("text")
        ]
        return template_render(template.body, params), template_buttons
    if kind in MEDIA_KINDS:
        media = payload.get(kind)
        if not isinstance(media, dict) or not isinstance(media.get("id"), str):
            return None
        stored = sandbox_media_get(media["id"])
        if stored is None or stored.phone_number_id != channel.phone_number_id:
            return None
        return str(media.get("caption") or media.get("filename") or ""), []
    if kind == "interactive":
        interactive = payload.get("interactive")
        if not isinstance(interactive, dict):
            return None
        body = (interactive.get("body") or {}).get("text", "")
        action = interactive.get("action") or {}
        buttons: list[dict[str, str]] = []
        if interactive.get("type") == "button":
            buttons = [
                {"id": b["reply"]["id"], "title": b["reply"]["title"], "kind": "button_reply"}
                for b in action.get("buttons") or []
            ]
        elif interactive.get("type") == "list":
            # What the phone shows: the section titles above their rows, descriptions.
            buttons = [
                {
                    "id": row["id"],
                    "title": row["title"],
                    "kind": "list_reply",
                    "section": str(section.get("title") or ""),
                    "description": str(row.get("description") or ""),
                }
                for section in action.get("sections") or []
                for row in section.get("rows") or []
            ]
            header = (interactive.get("header") or {}).get("text", "")
            footer = (interactive.get("footer") or {}).get("text", "")
            body = "\n".join(part for part in (header, body, footer) if part)
        return (body, buttons) if body and buttons else None
    return None


def sandbox_message_accept(
    *,
    phone_number_id: str,
    authorization: str,
    payload: Any,
    now: datetime | None = None,
) -> tuple[int, dict[str, Any]]:
    """Answer a send request like the Graph API: (HTTP status, JSON body)."""
    if sandbox_latency_seconds() > 0:
        time.sleep(sandbox_latency_seconds())
    now = now or timezone.now()
    channel = _channel_authorized(phone_number_id, authorization)
    if channel is None:
        return 401, _bad_token()
    if not isinstance(payload, dict) or payload.get("messaging_product") != "whatsapp":
        return 400, graph_error(
            100, "(#100) The parameter messaging_product is required.", details="messaging_product"
        )
    to = str(payload.get("to", ""))
    if not to.lstrip("+").isdigit():
        return 400, graph_error(100, "(#100) Invalid parameter", details="to: not a phone number")
    try:
        rendered = _render(channel, payload)
    except (KeyError, TypeError, AttributeError):
        rendered = None
    if rendered is None:
        return 400, graph_error(
            100,
            "(#100) Invalid parameter",
            details=f"Unsupported or invalid {payload.get('type')} body",
        )
    second = now.replace(microsecond=0)
    sent_this_second = SandboxMessage.objects.filter(
        phone_number_id=phone_number_id,
        direction=SandboxMessage.Direction.TO_PHONE,
        created_at__gte=second,
        created_at__lt=second + timedelta(seconds=1),
    ).count()
    if sent_this_second >= sandbox_throughput():
        return 400, graph_error(
            130429,
            "(#130429) Rate limit hit",
            details="Cloud API message throughput has been reached.",
        )
    wa_id = to.lstrip("+")
    if payload["type"] != "template":
        last_from_phone = (
            SandboxMessage.objects.filter(
                phone_number_id=phone_number_id,
                wa_id=wa_id,
                direction=SandboxMessage.Direction.FROM_PHONE,
            )
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if last_from_phone is None or last_from_phone < now - SESSION_WINDOW:
            return 400, graph_error(
                131047,
                "(#131047) Re-engagement message",
                details=(
                    "Message failed to send because more than 24 hours have passed since "
                    "the customer last replied to this number."
                ),
            )
    text, buttons = rendered
    message = SandboxMessage.objects.create(
        phone_number_id=phone_number_id,
        wa_id=wa_id,
        direction=SandboxMessage.Direction.TO_PHONE,
        wamid=new_wamid(),
        kind=str(payload["type"]),
        text=text,
        buttons=buttons,
        payload=payload,
        created_at=now,
    )
    answer: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": wa_id}],
        "messages": [{"id": message.wamid}],
    }
    if payload["type"] == "template":
        answer["messages"][0]["message_status"] = "accepted"
    return 200, answer


# --- webhooks back to us --------------------------------------------------------------------


def _envelope(channel: Channel, value: dict[str, Any]) -> dict[str, Any]:
    digits = "".join(ch for ch in channel.display_phone if ch.isdigit())
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": channel.waba_id or "0",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": digits,
                                "phone_number_id": channel.phone_number_id,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def sandbox_status_body(
    *, channel: Channel, message: SandboxMessage, status: str, at: datetime
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": message.wamid,
        "status": status,
        "timestamp": str(int(at.timestamp())),
        "recipient_id": message.wa_id,
    }
    if status == "sent":
        item["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "service"}
    if isinstance(message.payload, dict) and message.payload.get("biz_opaque_callback_data"):
        # Meta echoes the sender's opaque data in the statuses of the message.
        item["biz_opaque_callback_data"] = message.payload["biz_opaque_callback_data"]
    return _envelope(channel, {"statuses": [item]})


def signed_post(channel: Channel, body: dict[str, Any], post: Poster) -> int:
    """POST ``body`` signed with the channel's app secret to the channel's webhook."""
    raw = json.dumps(body).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signature_for(channel.app_secret, raw),
    }
    return post(reverse("messaging:whatsapp_webhook", args=[channel.pk]), raw, headers)


def sandbox_statuses_deliver(
    *,
    wamid: str,
    post: Poster,
    statuses: tuple[str, ...] = STATUS_STEPS,
    pause_seconds: float = 0.0,
) -> list[int]:
    """Post the statuses of a message the sandbox accepted, one webhook each, in order."""
    message = SandboxMessage.objects.get(wamid=wamid)
    channel = Channel.objects.get(
        kind=Channel.Kind.WHATSAPP_CLOUD, phone_number_id=message.phone_number_id
    )
    start = message.created_at.replace(microsecond=0)
    answers = []
    for step, status in enumerate(statuses):
        if step and pause_seconds:
            time.sleep(pause_seconds)
        body = sandbox_status_body(
            channel=channel, message=message, status=status, at=start + timedelta(seconds=step)
        )
        answers.append(signed_post(channel, body, post))
    return answers


def http_poster(base_url: str, *, timeout: float = 10.0) -> Poster:
    """A Poster that sends over HTTP to ``base_url`` (e.g. http://127.0.0.1:8000)."""

    if not base_url.startswith(("https://", "http://")):
        raise ValueError("the webhook base URL must be http(s)")

    def post(path: str, raw: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(  # noqa: S310 (base_url is checked to be http)
            base_url.rstrip("/") + path, data=raw, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    return post


def sandbox_statuses_deliver_later(*, wamid: str, base_url: str) -> None:
    """Deliver the statuses from a background thread (the running sandbox, not tests)."""

    def run() -> None:
        from django.db import connection

        try:
            sandbox_statuses_deliver(wamid=wamid, post=http_poster(base_url), pause_seconds=1.0)
        except Exception:  # a stand-in: a lost status is only a missing tick
            logger.warning("sandbox status delivery failed", exc_info=True)
        finally:
            connection.close()

    threading.Thread(target=run, name="sandbox-statuses", daemon=True).start()


# --- the simulated phone -------------------------------------------------------------------


def sandbox_phone_message(
    *,
    channel: Channel,
    wa_id: str,
    name: str = "",
    text: str = "",
    button: dict[str, str] | None = None,
    context_wamid: str = "",
    media: SandboxMedia | None = None,
    now: datetime | None = None,
) -> tuple[SandboxMessage, dict[str, Any]]:
    """The customer writes ``text`` or taps ``button``: record it, return the webhook body.

    ``button`` is one of the buttons the sandbox recorded on a message to the phone
    (``{"id", "title", "kind"}``), ``context_wamid`` that message's id. ``media`` is a
    file stored with ``sandbox_media_store``: the customer sends it as a photo (an image
    type) or a document, with ``text`` as its caption.
    """
    now = now or timezone.now()
    wamid = new_wamid()
    message: dict[str, Any] = {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(int(now.timestamp())),
    }
    if context_wamid:
        digits = "".join(ch for ch in channel.display_phone if ch.isdigit())
        message["context"] = {"from": digits, "id": context_wamid}
    if media is not None:
        kind = "image" if media.mime_type in ("image/jpeg", "image/png") else "document"
        content: dict[str, Any] = {
            "id": media.id,
            "mime_type": media.mime_type,
            "sha256": media.sha256,
        }
        if text:
            content["caption"] = text
        if kind == "document":
            content["filename"] = media.filename or "document"
        message.update(type=kind, **{kind: content})
        shown = text
    elif button is None:
        message.update(type="text", text={"body": text})
        kind, shown = "text", text
    elif button.get("kind") == "template":
        message.update(type="button", button={"payload": button["id"], "text": button["title"]})
        kind, shown = "button", button["title"]
    else:
        reply_kind = "list_reply" if button.get("kind") == "list_reply" else "button_reply"
        message.update(
            type="interactive",
            interactive={
                "type": reply_kind,
                reply_kind: {"id": button["id"], "title": button["title"]},
            },
        )
        kind, shown = "interactive", button["title"]
    record = SandboxMessage.objects.create(
        phone_number_id=channel.phone_number_id,
        wa_id=wa_id,
        direction=SandboxMessage.Direction.FROM_PHONE,
        wamid=wamid,
        kind=kind,
        text=shown,
        payload=message,
        created_at=now,
    )
    contact = {"profile": {"name": name or wa_id}, "wa_id": wa_id}
    return record, _envelope(channel, {"contacts": [contact], "messages": [message]})

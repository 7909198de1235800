"""The WhatsApp Cloud API wire format: webhooks in, and the client that sends messages.

Pure functions over bytes and dicts, no database: ``parse_webhook`` turns a webhook
body into typed events that ``messaging.webhooks`` applies. It never raises on an
unexpected shape; whatever it does not understand becomes ``Unhandled`` with the raw
change, so the event is kept and answered 200.

Reference: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import http.client
import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telcodesk.messaging.providers import http_pool

SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="

MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")
# Message kinds we store as such; anything else WhatsApp sends is stored as "unknown".
KNOWN_KINDS = frozenset(
    {
        "text",
        *MEDIA_KINDS,
        "location",
        "contacts",
        "interactive",
        "button",
        "reaction",
        "order",
        "system",
        "edit",
        "revoke",
    }
)
TEMPLATE_FIELDS = frozenset(
    {
        "message_template_status_update",
        "message_template_quality_update",
        "message_template_components_update",
        "template_category_update",
    }
)


# --- signatures -------------------------------------------------------------------


def signature_for(secret: str, body: bytes) -> str:
    """The header value Meta sends: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` under ``secret`` (constant time).

    An empty secret never matches: a channel without one cannot authenticate anything.
    """
    if not secret or not header:
        return False
    expected = signature_for(secret, body).encode()
    received = header.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected, received)


# --- typed events ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReportedError:
    code: int | None
    title: str
    details: str


@dataclass(frozen=True)
class InboundMessage:
    phone_number_id: str
    waba_id: str
    wa_id: str
    provider_message_id: str
    kind: str  # one of KNOWN_KINDS or "unknown"
    sent_at: datetime | None
    raw: dict[str, Any]
    profile_name: str = ""
    user_id: str = ""
    body: str = ""
    media_id: str = ""
    media_mime_type: str = ""
    media_filename: str = ""
    media_caption: str = ""
    reply_to: str = ""  # the message this one answers, reacts to, edits or deletes
    reply_payload: str = ""  # id of the tapped button / list row, or quick-reply payload
    error: ReportedError | None = None


@dataclass(frozen=True)
class StatusUpdate:
    phone_number_id: str
    waba_id: str
    provider_message_id: str
    status: str  # sent, delivered, read, played, failed, ... (lower case)
    occurred_at: datetime | None
    recipient_id: str
    raw: dict[str, Any]
    error: ReportedError | None = None


@dataclass(frozen=True)
class TemplateStatus:
    field: str
    waba_id: str
    template_id: str
    name: str
    language: str
    occurred_at: datetime | None
    raw: dict[str, Any]
    event: str = ""  # APPROVED, REJECTED, PAUSED, ... (status updates)
    reason: str = ""
    category: str = ""  # the category, or the new one for template_category_update
    quality_score: str = ""  # new quality score for quality updates


@dataclass(frozen=True)
class MarketingPreference:
    phone_number_id: str
    waba_id: str
    wa_id: str
    category: str
    value: str  # stop, resume, signup
    detail: str
    occurred_at: datetime | None
    raw: dict[str, Any]


@dataclass(frozen=True)
class Unhandled:
    field: str
    raw: Any
    phone_number_id: str = ""
    waba_id: str = ""
    reason: str = ""


ParsedEvent = InboundMessage | StatusUpdate | TemplateStatus | MarketingPreference | Unhandled


@dataclass
class _Context:
    field: str
    waba_id: str
    phone_number_id: str
    entry_time: datetime | None
    profiles: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    value_errors: list[Any] = dataclasses.field(default_factory=list)


def event_label(event: ParsedEvent) -> str:
    """A short label of an event's kind (kept on the WebhookEvent, shown in the admin)."""
    if isinstance(event, InboundMessage):
        return f"message:{event.kind}"
    if isinstance(event, StatusUpdate):
        return f"status:{event.status}"
    if isinstance(event, TemplateStatus):
        return f"template:{event.field}"
    if isinstance(event, MarketingPreference):
        return f"marketing_preference:{event.value}"
    return f"unhandled:{event.field}"


# --- parsing ----------------------------------------------------------------------------


def parse_timestamp(value: Any) -> datetime | None:
    """Meta's Unix timestamps (seconds, as a string or a number) as aware UTC datetimes."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        seconds = int(str(value).strip())
    except ValueError:
        return None
    if not 0 <= seconds < 32_503_680_000:  # before year 3000
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


def _str(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _first_error(errors: Any) -> ReportedError | None:
    for error in _list(errors):
        if not isinstance(error, dict):
            continue
        code = error.get("code")
        try:
            number = int(code) if code is not None and not isinstance(code, bool) else None
        except (TypeError, ValueError):
            number = None
        return ReportedError(
            code=number,
            title=_str(error.get("title") or error.get("message")),
            details=_str(_dict(error.get("error_data")).get("details")),
        )
    return None


def parse_webhook(body: Any) -> list[ParsedEvent]:
    """Every event of a webhook body, in order. Never raises.

    A body that is not a WhatsApp Business Account notification, or a change we do not
    handle (calls, account updates, message echoes, ...), comes back as ``Unhandled``.
    """
    if not isinstance(body, dict):
        return [Unhandled(field="", raw=body, reason="body is not an object")]
    if body.get("object") not in (None, "whatsapp_business_account"):
        return [Unhandled(field="", raw=body, reason="not a WhatsApp Business Account object")]
    events: list[ParsedEvent] = []
    for entry in _list(body.get("entry")):
        if not isinstance(entry, dict):
            events.append(Unhandled(field="", raw=entry, reason="entry is not an object"))
            continue
        waba_id = _str(entry.get("id"))
        for change in _list(entry.get("changes")):
            change_field = _str(_dict(change).get("field"))
            try:
                events.extend(_parse_change(change, waba_id, parse_timestamp(entry.get("time"))))
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                events.append(
                    Unhandled(
                        field=change_field, raw=change, waba_id=waba_id, reason=f"malformed: {exc}"
                    )
                )
    return events


def _parse_change(change: Any, waba_id: str, entry_time: datetime | None) -> list[ParsedEvent]:
    if not isinstance(change, dict):
        return [Unhandled(field="", raw=change, waba_id=waba_id, reason="change is not an object")]
    change_field = _str(change.get("field"))
    value = _dict(change.get("value"))
    context = _Context(
        field=change_field,
        waba_id=waba_id,
        phone_number_id=_str(_dict(value.get("metadata")).get("phone_number_id")),
        entry_time=entry_time,
        value_errors=_list(value.get("errors")),
    )
    if change_field == "messages":
        for contact in _list(value.get("contacts")):
            contact = _dict(contact)
            wa_id = _str(contact.get("wa_id"))
            context.profiles[wa_id] = {
                "name": _str(_dict(contact.get("profile")).get("name")),
                "user_id": _str(contact.get("user_id")),
            }
        events: list[ParsedEvent] = []
        events += [_parse_message(_dict(m), context) for m in _list(value.get("messages"))]
        events += [_parse_status(_dict(s), context) for s in _list(value.get("statuses"))]
        if not events:
            events.append(_unhandled(context, change, "no messages or statuses"))
        return events
    if change_field in TEMPLATE_FIELDS:
        return [_parse_template(value, context)]
    if change_field == "user_preferences":
        return [_parse_preference(_dict(p), context) for p in _list(value.get("user_preferences"))]
    return [_unhandled(context, change, "field not handled")]


def _unhandled(context: _Context, raw: Any, reason: str) -> Unhandled:
    return Unhandled(
        field=context.field,
        raw=raw,
        phone_number_id=context.phone_number_id,
        waba_id=context.waba_id,
        reason=reason,
    )


def _parse_message(message: dict[str, Any], context: _Context) -> ParsedEvent:
    provider_id = _str(message.get("id"))
    wa_id = _str(message.get("from"))
    if not provider_id or not (wa_id or message.get("from_user_id")):
        return _unhandled(context, message, "message without id or sender")
    message_type = _str(message.get("type"))
    kind = message_type if message_type in KNOWN_KINDS else "unknown"
    profile = context.profiles.get(wa_id, {})
    fields: dict[str, Any] = {
        "reply_to": _str(_dict(message.get("context")).get("id")),
        "error": _first_error(message.get("errors")) or _first_error(context.value_errors),
    }
    content = _dict(message.get(message_type)) if message_type else {}
    if kind == "text":
        fields["body"] = _str(content.get("body"))
    elif kind in MEDIA_KINDS:
        fields |= _media_fields(content)
    elif kind == "location":
        place = [_str(content.get("name")), _str(content.get("address"))]
        fields["body"] = ", ".join(part for part in place if part)
    elif kind == "contacts":
        names = [
            _str(_dict(_dict(card).get("name")).get("formatted_name"))
            for card in _list(message.get("contacts"))
        ]
        fields["body"] = ", ".join(name for name in names if name)
    elif kind == "interactive":
        fields |= _interactive_fields(content)
    elif kind == "button":
        fields["body"] = _str(content.get("text"))
        fields["reply_payload"] = _str(content.get("payload"))
    elif kind == "reaction":
        fields["body"] = _str(content.get("emoji"))
        fields["reply_to"] = _str(content.get("message_id"))
    elif kind == "order":
        fields["body"] = _str(content.get("text"))
    elif kind == "system":
        fields["body"] = _str(content.get("body"))
    elif kind == "revoke":
        fields["reply_to"] = _str(content.get("original_message_id"))
    elif kind == "edit":
        fields["reply_to"] = _str(content.get("original_message_id"))
        edited = _dict(content.get("message"))
        edited_type = _str(edited.get("type"))
        edited_content = _dict(edited.get(edited_type))
        if edited_type == "text":
            fields["body"] = _str(edited_content.get("body"))
        elif edited_type in MEDIA_KINDS:
            fields |= _media_fields(edited_content)
    return InboundMessage(
        phone_number_id=context.phone_number_id,
        waba_id=context.waba_id,
        wa_id=wa_id,
        provider_message_id=provider_id,
        kind=kind,
        sent_at=parse_timestamp(message.get("timestamp")),
        raw=message,
        profile_name=profile.get("name", ""),
        user_id=profile.get("user_id", "") or _str(message.get("from_user_id")),
        **fields,
    )


def _media_fields(content: dict[str, Any]) -> dict[str, Any]:
    caption = _str(content.get("caption"))
    return {
        "media_id": _str(content.get("id")),
        "media_mime_type": _str(content.get("mime_type")),
        "media_filename": _str(content.get("filename")),
        "media_caption": caption,
        "body": caption,
    }


def _interactive_fields(content: dict[str, Any]) -> dict[str, Any]:
    reply_type = _str(content.get("type"))
    reply = _dict(content.get(reply_type))
    if reply_type in ("button_reply", "list_reply"):
        return {"body": _str(reply.get("title")), "reply_payload": _str(reply.get("id"))}
    if reply_type == "nfm_reply":  # a completed WhatsApp Flow; the answers stay in payload
        return {"body": _str(reply.get("body")), "reply_payload": _str(reply.get("name"))}
    if reply_type == "call_permission_reply":
        response = _str(reply.get("response"))
        return {"body": response, "reply_payload": response}
    return {}


def _parse_status(status: dict[str, Any], context: _Context) -> ParsedEvent:
    provider_id = _str(status.get("id"))
    value = _str(status.get("status")).lower()
    if not provider_id or not value:
        return _unhandled(context, status, "status without id or value")
    return StatusUpdate(
        phone_number_id=context.phone_number_id,
        waba_id=context.waba_id,
        provider_message_id=provider_id,
        status=value,
        occurred_at=parse_timestamp(status.get("timestamp")),
        recipient_id=_str(status.get("recipient_id")),
        raw=status,
        error=_first_error(status.get("errors")),
    )


def _parse_template(value: dict[str, Any], context: _Context) -> ParsedEvent:
    return TemplateStatus(
        field=context.field,
        waba_id=context.waba_id,
        template_id=_str(value.get("message_template_id")),
        name=_str(value.get("message_template_name")),
        language=_str(value.get("message_template_language")),
        occurred_at=context.entry_time,
        raw=value,
        event=_str(value.get("event")),
        reason=_str(value.get("reason")),
        category=_str(value.get("new_category") or value.get("message_template_category")),
        quality_score=_str(value.get("new_quality_score")),
    )


def _parse_preference(preference: dict[str, Any], context: _Context) -> ParsedEvent:
    wa_id = _str(preference.get("wa_id"))
    value = _str(preference.get("value")).lower()
    if not wa_id or not value:
        return _unhandled(context, preference, "preference without wa_id or value")
    return MarketingPreference(
        phone_number_id=context.phone_number_id,
        waba_id=context.waba_id,
        wa_id=wa_id,
        category=_str(preference.get("category")),
        value=value,
        detail=_str(preference.get("detail")),
        occurred_at=parse_timestamp(preference.get("timestamp")),
        raw=preference,
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_body(raw: bytes) -> Any:
    """The JSON document in a raw body; raises ValueError unless it is strict UTF-8 JSON.

    NaN and Infinity (which Python would accept) are refused, and so is nesting deep
    enough to exhaust the parser's recursion.
    """
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


# --- sending: the Graph API client ------------------------------------------------------

# Error codes worth another attempt later: throughput (130429), pair rate (131056), and
# Meta's generic temporary ones. Everything else 4xx cannot succeed by retrying.
RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056})
OUTSIDE_WINDOW_CODE = 131047


@dataclass(frozen=True)
class SendResult:
    wamid: str
    raw: dict[str, Any]


class ProviderError(Exception):
    """The provider refused or could not be reached; ``retryable`` says whether to retry."""

    def __init__(
        self, code: int | None, title: str, *, retryable: bool, details: str = "", status: int = 0
    ) -> None:
        super().__init__(f"{code}: {title}")
        self.code = code
        self.title = title
        self.retryable = retryable
        self.details = details
        self.status = status


def provider_error_from_response(status: int, raw: bytes) -> ProviderError:
    """Turn a Graph API error answer (``{"error": {...}}``) into a ProviderError."""
    try:
        error = _dict(json.loads(raw.decode("utf-8", "replace")).get("error"))
    except (ValueError, AttributeError):
        error = {}
    code = error.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    details = _str(_dict(error.get("error_data")).get("details"))
    title = _str(error.get("message")) or f"HTTP {status}"
    retryable = status >= 500 or status == 429 or (code in RETRYABLE_CODES)
    return ProviderError(code, title, retryable=retryable, details=details, status=status)


class WhatsAppCloudClient:
    """``POST {base_url}/{version}/{phone_number_id}/messages`` over HTTP(S), on a kept-alive
    connection (``http_pool``); media calls use urllib.

    Works against graph.facebook.com and against the sandbox (same wire format).
    """

    def __init__(
        self,
        *,
        base_url: str,
        version: str,
        phone_number_id: str,
        access_token: str,
        timeout: float = 10.0,
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("the API base URL must be http(s)")
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.phone_number_id = phone_number_id
        self.access_token = access_token
        self.timeout = timeout

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{self.version}/{self.phone_number_id}/messages"

    def send(self, payload: dict[str, Any]) -> SendResult:
        """Send one message body; the wamid on success, else raises ProviderError."""
        # base_url is http(s) only (checked in __init__); the connection is kept alive.
        try:
            answer = http_pool.request(
                "POST",
                self.messages_url,
                body=json.dumps(payload).encode("utf-8"),
                headers={
                    "Authorization": f"Bearer {self.access_token}",
                    "Content-Type": "application/json",
                },
                timeout=self.timeout,
            )
        except (OSError, http.client.HTTPException) as exc:
            raise ProviderError(None, f"network error: {exc}", retryable=True) from exc
        if answer.status >= 400:
            raise provider_error_from_response(answer.status, answer.body)
        if answer.status >= 300:
            raise ProviderError(
                None,
                f"HTTP {answer.status} redirect to {answer.location or '?'}: check the "
                "channel's API base URL",
                retryable=False,
                status=answer.status,
            )
        raw = answer.body
        try:
            body = _dict(json.loads(raw.decode("utf-8")))
        except ValueError as exc:
            raise ProviderError(None, "answer is not JSON", retryable=True) from exc
        messages = _list(body.get("messages"))
        wamid = _str(_dict(messages[0]).get("id")) if messages else ""
        if not wamid:
            raise ProviderError(None, "answer has no message id", retryable=False)
        return SendResult(wamid=wamid, raw=body)

    # --- media -------------------------------------------------------------------------

    @property
    def media_upload_url(self) -> str:
        return f"{self.base_url}/{self.version}/{self.phone_number_id}/media"

    def _call(
        self, url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[bytes, str]:
        """One authenticated request; (body, content type), or raises ProviderError."""
        if not url.startswith(("https://", "http://")):
            raise ProviderError(None, "media URL is not http(s)", retryable=False)
        request = urllib.request.Request(  # noqa: S310 (http(s) checked above)
            url,
            data=data,
            method="POST" if data is not None else "GET",
            headers={"Authorization": f"Bearer {self.access_token}", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.read(MAX_MEDIA_BYTES + 1), response.headers.get_content_type()
        except urllib.error.HTTPError as exc:
            raise provider_error_from_response(exc.code, exc.read()) from exc
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            raise ProviderError(None, f"network error: {exc}", retryable=True) from exc

    def _json(self, raw: bytes) -> dict[str, Any]:
        try:
            return _dict(json.loads(raw.decode("utf-8")))
        except ValueError as exc:
            raise ProviderError(None, "answer is not JSON", retryable=True) from exc

    def upload_media(self, *, data: bytes, mime_type: str, filename: str) -> str:
        """``POST /{version}/{phone-number-id}/media`` (multipart); the new media id."""
        boundary = "telcodesk-" + secrets.token_hex(12)
        body = multipart_body(
            boundary,
            fields={"messaging_product": "whatsapp", "type": mime_type},
            file_field="file",
            filename=filename,
            mime_type=mime_type,
            data=data,
        )
        raw, _type = self._call(
            self.media_upload_url,
            data=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        media_id = _str(self._json(raw).get("id"))
        if not media_id:
            raise ProviderError(None, "answer has no media id", retryable=False)
        return media_id

    def media_info(self, media_id: str) -> MediaInfo:
        """``GET /{version}/{media-id}``: where to download the file (a short-lived URL)."""
        if not media_id or not all(ch.isalnum() or ch in "._-" for ch in media_id):
            raise ProviderError(100, "invalid media id", retryable=False)
        raw, _type = self._call(f"{self.base_url}/{self.version}/{media_id}")
        body = self._json(raw)
        url = _str(body.get("url"))
        if not url:
            raise ProviderError(None, "answer has no media url", retryable=False)
        size = body.get("file_size")
        return MediaInfo(
            id=_str(body.get("id")) or media_id,
            url=url,
            mime_type=_str(body.get("mime_type")),
            sha256=_str(body.get("sha256")),
            file_size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        )

    def media_download(self, url: str) -> tuple[bytes, str]:
        """``GET url`` with the bearer token: the file's bytes and content type."""
        data, content_type = self._call(url)
        if len(data) > MAX_MEDIA_BYTES:
            raise ProviderError(None, "media file too large", retryable=False)
        return data, content_type


MAX_MEDIA_BYTES = 100 * 1024 * 1024  # WhatsApp's largest (documents); images are 5 MB


@dataclass(frozen=True)
class MediaInfo:
    id: str
    url: str
    mime_type: str
    sha256: str = ""
    file_size: int | None = None


def multipart_body(
    boundary: str,
    *,
    fields: dict[str, str],
    file_field: str,
    filename: str,
    mime_type: str,
    data: bytes,
) -> bytes:
    """A ``multipart/form-data`` body with plain fields and one file."""
    safe_name = filename.replace('"', "").replace("\r", "").replace("\n", "") or "file"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{safe_name}"\r\nContent-Type: {mime_type}\r\n\r\n'.encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)


def text_payload(to: str, body: str, *, preview_url: bool = False) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": preview_url, "body": body},
    }


def template_payload(to: str, *, name: str, language: str, params: list[str]) -> dict[str, Any]:
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if params:
        template["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": value} for value in params]}
        ]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": template,
    }


def interactive_buttons_payload(
    to: str, *, body: str, buttons: list[tuple[str, str]]
) -> dict[str, Any]:
    """Reply buttons: ``buttons`` is up to three (id, title) pairs."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": button_id, "title": title}}
                    for button_id, title in buttons
                ]
            },
        },
    }


def media_payload(
    to: str, *, kind: str, media_id: str, caption: str = "", filename: str = ""
) -> dict[str, Any]:
    """A media message by uploaded id: image, document, audio, video or sticker.

    Captions go with images, videos and documents; a filename only with documents.
    """
    if kind not in MEDIA_KINDS:
        raise ValueError(f"not a media kind: {kind!r}")
    media: dict[str, Any] = {"id": media_id}
    if caption and kind in ("image", "video", "document"):
        media["caption"] = caption
    if filename and kind == "document":
        media["filename"] = filename
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
        kind: media,
    }

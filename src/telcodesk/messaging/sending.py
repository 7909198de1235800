"""Sending: the services that put an outbound message in the outbox, and their checks.

An outbound ``Message`` row is the outbox entry. ``message_send_*`` validate, build the
Graph API body, create the row (status ``queued``) in the caller's transaction and
enqueue the send for after the commit; ``messaging.outbox`` sends it. A refusal raises
``SendRefused`` with a translated message saying what to do instead.

The same services serve SMS conversations: for a channel of kind "sms" they hand over
to ``sms_sending`` (no 24-hour window, 1,600 characters, numbered options for buttons
and lists; see docs/messaging.md).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.core.errors import DomainError, ErrorCode, NotFound
from telcodesk.core.tasks import enqueue_on_commit
from telcodesk.core.tenancy import Actor
from telcodesk.messaging.interactive_lists import (
    InteractiveList,
    interactive_list_check,
    interactive_list_payload,
)
from telcodesk.messaging.models import (
    Channel,
    Conversation,
    MarketingPreferenceEvent,
    Message,
    MessageStatus,
    Template,
)
from telcodesk.messaging.providers.whatsapp_cloud import (
    interactive_buttons_payload,
    media_payload,
    template_payload,
    text_payload,
)

SESSION_WINDOW = timedelta(hours=24)
MAX_TEXT_LENGTH = 4096
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
# Kinds an agent may send by uploaded media id, and the MIME types WhatsApp takes for each.
MEDIA_SEND_TYPES: dict[str, frozenset[str]] = {
    "image": frozenset({"image/jpeg", "image/png"}),
    "document": frozenset(
        {
            "application/pdf",
            "text/plain",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        }
    ),
    "audio": frozenset({"audio/aac", "audio/mp4", "audio/mpeg", "audio/amr", "audio/ogg"}),
    "video": frozenset({"video/mp4", "video/3gpp"}),
}
MAX_CAPTION_LENGTH = 1024


class SendRefused(DomainError):
    """A message that must not be sent; ``reason`` is a stable machine code."""

    code = ErrorCode.CONFLICT
    status = 409

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, details={"reason": [reason]})
        self.reason = reason


# --- checks -----------------------------------------------------------------------------


def session_window_open(*, conversation: Conversation, now: datetime | None = None) -> bool:
    """Whether free-form messages are allowed: on WhatsApp, the customer wrote in the
    last 24 hours; SMS and e-mail have no such window (always True)."""
    if conversation.channel.kind != Channel.Kind.WHATSAPP_CLOUD:
        return True
    last = conversation.last_inbound_at
    return last is not None and last > (now or timezone.now()) - SESSION_WINDOW


def marketing_allowed(*, conversation: Conversation) -> bool:
    """Whether marketing may be sent: consent given and no opt-out recorded anywhere.

    The consent is the one of the conversation's channel: WhatsApp, or SMS on an SMS
    channel.
    """
    if conversation.marketing_opt_out_at is not None:
        return False
    customer = conversation.customer
    if customer is None:
        return False
    if conversation.channel.kind == Channel.Kind.SMS:
        return customer.consent_sms
    if not customer.consent_whatsapp:
        return False
    latest = (
        MarketingPreferenceEvent.objects.filter(
            channel_id=conversation.channel_id, wa_id=conversation.external_address
        )
        .order_by("-occurred_at", "-id")
        .values_list("value", flat=True)
        .first()
    )
    return latest != "stop"


def _check_scope(actor: Actor | None, conversation: Conversation) -> None:
    if actor is not None and conversation.organization_id != actor.organization.pk:
        raise NotFound(_("This conversation does not exist or is not yours."))
    if not conversation.channel.is_active:
        raise SendRefused(
            _("The channel is switched off. Ask an administrator to activate it."),
            reason="channel_inactive",
        )


def _check_window(conversation: Conversation) -> None:
    if not session_window_open(conversation=conversation):
        raise SendRefused(
            _(
                "The customer has not written in the last 24 hours: this needs an "
                "approved template. Pick a template instead."
            ),
            reason="needs_template",
        )


# --- templates --------------------------------------------------------------------------


def template_placeholder_count(body: str) -> int:
    return max((int(n) for n in PLACEHOLDER.findall(body)), default=0)


def template_render(body: str, params: list[str]) -> str:
    """The body with ``{{n}}`` replaced by ``params[n-1]`` (missing ones left as is)."""

    def replace(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return params[index] if 0 <= index < len(params) else match.group(0)

    return PLACEHOLDER.sub(replace, body)


def _field_value(context: dict[str, Any], dotted: str) -> str:
    head, _sep, rest = dotted.partition(".")
    value: Any = context.get(head)
    for part in rest.split(".") if rest else []:
        if value is None or part.startswith("_"):
            return ""
        value = getattr(value, part, None)
        if callable(value) and not isinstance(value, Model):
            value = value()
    return "" if value is None else str(value)


def template_params_guess(
    *, template: Template, conversation: Conversation, lead: Model | None = None
) -> list[str]:
    """The template's parameters as far as they can be filled ("" where empty).

    For previews: unlike ``template_params_resolve`` it never refuses, and it also
    reads ``lead.*`` fields when a lead is given.
    """
    context: dict[str, Any] = {
        "customer": conversation.customer,
        "conversation": conversation,
        "lead": lead,
    }
    return [_field_value(context, str(dotted)).strip() for dotted in template.param_fields]


def template_params_resolve(*, template: Template, conversation: Conversation) -> list[str]:
    """Fill the template's parameters from its ``param_fields`` (customer, conversation)."""
    context: dict[str, Any] = {"customer": conversation.customer, "conversation": conversation}
    params: list[str] = []
    for dotted in template.param_fields:
        value = _field_value(context, str(dotted)).strip()
        if not value:
            raise SendRefused(
                _(
                    "The template needs “%(field)s”, which is empty for this conversation. "
                    "Fill it in or give the parameters by hand."
                )
                % {"field": dotted},
                reason="missing_param",
            )
        params.append(value)
    return params


# --- the services -----------------------------------------------------------------------


def outbox_message_queue(
    *,
    actor: Actor | None,
    conversation: Conversation,
    kind: str,
    body: str,
    payload: dict[str, Any],
    template: Template | None = None,
    media: dict[str, str] | None = None,
) -> Message:
    """Create the outbound row (the outbox entry, ``queued``) in the caller's transaction
    and enqueue its send for after the commit. Callers have checked everything."""
    from telcodesk.messaging.tasks import send_outbox_message

    now = timezone.now()
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        channel=conversation.channel,
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        kind=kind,
        body=body,
        payload=payload,
        template=template,
        status=MessageStatus.QUEUED,
        status_at=now,
        next_attempt_at=now,
        idempotency_key=uuid.uuid4().hex,
        created_by=actor.user if actor is not None else None,
        **(media or {}),
    )
    enqueue_on_commit(send_outbox_message, message.pk)
    return message


def message_send_text(
    *, actor_or_none: Actor | None, conversation: Conversation, body: str
) -> Message:
    """Queue a free-form text (on WhatsApp only inside the 24-hour window; on SMS at
    any time, up to 1,600 characters)."""
    _check_scope(actor_or_none, conversation)
    if conversation.channel.kind == Channel.Kind.SMS:
        # Imported here: sms_sending builds on this module's checks and outbox.
        from telcodesk.messaging.sms_sending import sms_send_text

        return sms_send_text(actor_or_none=actor_or_none, conversation=conversation, body=body)
    body = body.strip()
    if not body or len(body) > MAX_TEXT_LENGTH:
        raise SendRefused(
            _("Write a message of 1 to %(max)d characters.") % {"max": MAX_TEXT_LENGTH},
            reason="bad_body",
        )
    _check_window(conversation)
    return outbox_message_queue(
        actor=actor_or_none,
        conversation=conversation,
        kind=Message.Kind.TEXT,
        body=body,
        payload=text_payload(conversation.external_address, body),
    )


def message_send_template(
    *,
    actor_or_none: Actor | None,
    conversation: Conversation,
    template: Template,
    params: list[str] | None = None,
) -> Message:
    """Queue a template message (allowed outside the 24-hour window).

    ``params`` default to the template's ``param_fields`` read from the conversation's
    customer. Marketing templates need the customer's WhatsApp consent and no opt-out.
    On SMS the rendered body goes as a text (see ``sms_sending.sms_send_template``).
    """
    _check_scope(actor_or_none, conversation)
    if template.organization_id != conversation.organization_id or template.channel_id not in (
        None,
        conversation.channel_id,
    ):
        raise NotFound(_("This template does not exist for this channel."))
    if conversation.channel.kind == Channel.Kind.SMS:
        from telcodesk.messaging.sms_sending import sms_send_template

        return sms_send_template(
            actor_or_none=actor_or_none, conversation=conversation, template=template, params=params
        )
    if template.status != Template.Status.APPROVED:
        raise SendRefused(
            _(
                "The template “%(name)s” is not approved by WhatsApp (status: %(status)s). "
                "Use an approved template."
            )
            % {"name": template.name, "status": template.get_status_display()},
            reason="template_not_approved",
        )
    if template.category == Template.Category.MARKETING and not marketing_allowed(
        conversation=conversation
    ):
        raise SendRefused(
            _(
                "This customer has not consented to WhatsApp marketing or has opted out. "
                "Send a utility template or contact them another way."
            ),
            reason="no_marketing_consent",
        )
    if params is None:
        params = template_params_resolve(template=template, conversation=conversation)
    expected = template_placeholder_count(template.body)
    if len(params) != expected:
        raise SendRefused(
            _("The template “%(name)s” takes %(expected)d parameters; %(given)d were given.")
            % {"name": template.name, "expected": expected, "given": len(params)},
            reason="bad_params",
        )
    return outbox_message_queue(
        actor=actor_or_none,
        conversation=conversation,
        kind=Message.Kind.TEMPLATE,
        body=template_render(template.body, params),
        payload=template_payload(
            conversation.external_address,
            name=template.name,
            language=template.language,
            params=params,
        ),
        template=template,
    )


def message_send_interactive(
    *,
    actor_or_none: Actor | None,
    conversation: Conversation,
    body: str = "",
    buttons: list[tuple[str, str]] | None = None,
    list_spec: InteractiveList | None = None,
) -> Message:
    """Queue reply buttons (up to 3, with ``body``) or a list message (``list_spec``:
    sections, rows with descriptions, header, footer; checked against Meta's limits by
    ``interactive_list_check``), inside the 24-hour window.

    On SMS the same call sends a text with numbered options ("1. Sí", "2. No", "Reply
    with a number from 1 to 2.") and a numeric reply comes back as the option's id in
    ``reply_payload`` (``sms_sending.sms_send_interactive``)."""
    _check_scope(actor_or_none, conversation)
    if (buttons is None) == (list_spec is None):
        raise SendRefused(_("Give either buttons or list rows."), reason="bad_interactive")
    if conversation.channel.kind == Channel.Kind.SMS:
        from telcodesk.messaging.sms_sending import sms_send_interactive

        return sms_send_interactive(
            actor_or_none=actor_or_none,
            conversation=conversation,
            body=body,
            buttons=buttons,
            list_spec=list_spec,
        )
    to = conversation.external_address
    if list_spec is not None:
        interactive_list_check(list_spec)
        body = list_spec.body.strip()
        _check_window(conversation)
        payload = interactive_list_payload(to, list_spec)
    else:
        body = body.strip()
        if not body or len(body) > 1024:
            raise SendRefused(_("Write a message of 1 to 1024 characters."), reason="bad_body")
        if not buttons or (
            len(buttons) > MAX_BUTTONS or any(len(t) > MAX_BUTTON_TITLE for _i, t in buttons)
        ):
            raise SendRefused(
                _("Give at most 3 buttons of at most 20 characters each."), reason="bad_interactive"
            )
        _check_window(conversation)
        payload = interactive_buttons_payload(to, body=body, buttons=buttons)
    return outbox_message_queue(
        actor=actor_or_none,
        conversation=conversation,
        kind=Message.Kind.INTERACTIVE,
        body=body,
        payload=payload,
    )


def media_kind_for(mime_type: str) -> str | None:
    """The WhatsApp message kind for a MIME type we may send, else None."""
    for kind, types in MEDIA_SEND_TYPES.items():
        if mime_type in types:
            return kind
    return None


def message_send_media(
    *,
    actor_or_none: Actor | None,
    conversation: Conversation,
    kind: str,
    media_id: str,
    mime_type: str,
    filename: str = "",
    caption: str = "",
) -> Message:
    """Queue a media message by the id the provider gave its upload (inside the window).

    ``kind`` is image, document, audio or video and must match ``mime_type``. Not on
    SMS (MMS would need a public URL for the file): refused with "not_on_sms".
    """
    _check_scope(actor_or_none, conversation)
    if conversation.channel.kind == Channel.Kind.SMS:
        raise SendRefused(
            _("Files cannot be sent by SMS. Write the information as text, or send it by e-mail."),
            reason="not_on_sms",
        )
    if kind not in MEDIA_SEND_TYPES or mime_type not in MEDIA_SEND_TYPES[kind]:
        raise SendRefused(
            _(
                "This file type cannot be sent on WhatsApp. Send a JPEG or PNG image, "
                "a PDF or Office document, an MP4 video or an audio file."
            ),
            reason="bad_media_type",
        )
    if not media_id:
        raise SendRefused(_("Upload the file first."), reason="no_media")
    caption = caption.strip()
    if len(caption) > MAX_CAPTION_LENGTH:
        raise SendRefused(
            _("Write a caption of at most %(max)d characters.") % {"max": MAX_CAPTION_LENGTH},
            reason="bad_caption",
        )
    _check_window(conversation)
    return outbox_message_queue(
        actor=actor_or_none,
        conversation=conversation,
        kind=kind,
        body=caption,
        payload=media_payload(
            conversation.external_address,
            kind=kind,
            media_id=media_id,
            caption=caption,
            filename=filename,
        ),
        media={
            "media_id": media_id[:128],
            "media_mime_type": mime_type[:128],
            "media_filename": filename[:255],
            "media_caption": caption,
        },
    )

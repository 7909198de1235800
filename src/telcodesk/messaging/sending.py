"""Sending: the services that put an outbound message in the outbox, and their checks.

An outbound ``Message`` row is the outbox entry. ``message_send_*`` validate, build the
Graph API body, create the row (status ``queued``) in the caller's transaction and
enqueue the send for after the commit; ``messaging.outbox`` sends it. A refusal raises
``SendRefused`` with a translated message saying what to do instead.
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
from telcodesk.messaging.models import (
    Conversation,
    MarketingPreferenceEvent,
    Message,
    MessageStatus,
    Template,
)
from telcodesk.messaging.providers.whatsapp_cloud import (
    interactive_buttons_payload,
    interactive_list_payload,
    template_payload,
    text_payload,
)

SESSION_WINDOW = timedelta(hours=24)
MAX_TEXT_LENGTH = 4096
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_LIST_ROWS = 10
PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


class SendRefused(DomainError):
    """A message that must not be sent; ``reason`` is a stable machine code."""

    code = ErrorCode.CONFLICT
    status = 409

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, details={"reason": [reason]})
        self.reason = reason


# --- checks -----------------------------------------------------------------------------


def session_window_open(*, conversation: Conversation, now: datetime | None = None) -> bool:
    """Whether the customer wrote in the last 24 hours (free-form messages allowed)."""
    last = conversation.last_inbound_at
    return last is not None and last > (now or timezone.now()) - SESSION_WINDOW


def marketing_allowed(*, conversation: Conversation) -> bool:
    """Whether marketing may be sent: consent given and no opt-out recorded anywhere."""
    if conversation.marketing_opt_out_at is not None:
        return False
    customer = conversation.customer
    if customer is None or not customer.consent_whatsapp:
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


def _outbox_add(
    *,
    actor: Actor | None,
    conversation: Conversation,
    kind: str,
    body: str,
    payload: dict[str, Any],
    template: Template | None = None,
) -> Message:
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
    )
    enqueue_on_commit(send_outbox_message, message.pk)
    return message


def message_send_text(
    *, actor_or_none: Actor | None, conversation: Conversation, body: str
) -> Message:
    """Queue a free-form text (only inside the 24-hour window)."""
    _check_scope(actor_or_none, conversation)
    body = body.strip()
    if not body or len(body) > MAX_TEXT_LENGTH:
        raise SendRefused(
            _("Write a message of 1 to %(max)d characters.") % {"max": MAX_TEXT_LENGTH},
            reason="bad_body",
        )
    _check_window(conversation)
    return _outbox_add(
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
    """
    _check_scope(actor_or_none, conversation)
    if template.organization_id != conversation.organization_id or template.channel_id not in (
        None,
        conversation.channel_id,
    ):
        raise NotFound(_("This template does not exist for this channel."))
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
    return _outbox_add(
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
    body: str,
    buttons: list[tuple[str, str]] | None = None,
    rows: list[tuple[str, str]] | None = None,
    list_button: str = "",
) -> Message:
    """Queue reply buttons (up to 3) or a list (up to 10 rows), inside the 24-hour window."""
    _check_scope(actor_or_none, conversation)
    body = body.strip()
    if not body or len(body) > 1024:
        raise SendRefused(_("Write a message of 1 to 1024 characters."), reason="bad_body")
    if bool(buttons) == bool(rows):
        raise SendRefused(_("Give either buttons or list rows."), reason="bad_interactive")
    if buttons is not None and (
        len(buttons) > MAX_BUTTONS or any(len(t) > MAX_BUTTON_TITLE for _i, t in buttons)
    ):
        raise SendRefused(
            _("Give at most 3 buttons of at most 20 characters each."), reason="bad_interactive"
        )
    if rows is not None and (len(rows) > MAX_LIST_ROWS or not list_button):
        raise SendRefused(
            _("Give a list button text and at most 10 rows."), reason="bad_interactive"
        )
    _check_window(conversation)
    to = conversation.external_address
    payload = (
        interactive_buttons_payload(to, body=body, buttons=buttons)
        if buttons
        else interactive_list_payload(to, body=body, button=list_button, rows=rows or [])
    )
    return _outbox_add(
        actor=actor_or_none,
        conversation=conversation,
        kind=Message.Kind.INTERACTIVE,
        body=body,
        payload=payload,
    )

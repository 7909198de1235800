"""Sending to an SMS conversation: what ``sending.message_send_*`` do on an SMS channel.

The caller's checks (scope, channel switched on) have run in ``sending``. There is no
24-hour window on SMS. A body is at most 1,600 characters, Twilio's limit (it splits
longer texts into segments itself, up to that); a longer one is refused with
"sms_too_long". The row is queued in the same outbox as WhatsApp, with the Twilio form
fields as its payload (``sms.sms_payload``).

Interactive messages are sent as numbered options: the body, one line per button or
list row ("1. Sí"), and "Reply with a number from 1 to 3." in the customer's language;
the options are kept in the payload so that a numeric reply maps back to the option's
id (``sms.sms_option_chosen``). A template is rendered and sent as a text (Meta's
approval does not concern SMS), its quick-reply buttons as numbered options.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from telcodesk.core.tenancy import Actor
from telcodesk.messaging.interactive_lists import InteractiveList, interactive_list_check
from telcodesk.messaging.models import Conversation, Message, Template
from telcodesk.messaging.providers.twilio_sms import MAX_BODY_LENGTH
from telcodesk.messaging.sending import (
    MAX_BUTTON_TITLE,
    MAX_BUTTONS,
    SendRefused,
    marketing_allowed,
    outbox_message_queue,
    template_params_resolve,
    template_placeholder_count,
    template_render,
)
from telcodesk.messaging.sms import sms_payload


def _language(conversation: Conversation) -> str:
    customer = conversation.customer
    if customer is not None and customer.preferred_language:
        return customer.preferred_language
    return conversation.organization.default_language or "es"


def sms_body_check(body: str) -> str:
    """The body to send (stripped), or SendRefused when empty or over 1,600 characters."""
    body = body.strip()
    if not body:
        raise SendRefused(_("Write a message of 1 to 1,600 characters."), reason="bad_body")
    if len(body) > MAX_BODY_LENGTH:
        raise SendRefused(
            _(
                "An SMS carries at most %(max)d characters (Twilio sends it in segments); "
                "this one has %(length)d. Shorten it, or send the details by e-mail."
            )
            % {"max": MAX_BODY_LENGTH, "length": len(body)},
            reason="sms_too_long",
        )
    return body


def sms_options_text(
    *,
    conversation: Conversation,
    body: str,
    lines: list[str],
    count: int,
    header: str = "",
    footer: str = "",
) -> str:
    """The text of a message with ``count`` numbered options (``lines`` already hold the
    numbers, and section titles when a list has several), and how to answer."""
    with translation.override(_language(conversation)):
        how = ngettext("Reply with 1.", "Reply with a number from 1 to %(last)d.", count) % {
            "last": count
        }
    parts = [header.strip(), body.strip(), *lines, footer.strip(), how]
    return "\n".join(part for part in parts if part)


def _queue(
    *,
    actor_or_none: Actor | None,
    conversation: Conversation,
    kind: str,
    body: str,
    options: list[dict[str, Any]] | None = None,
    template: Template | None = None,
) -> Message:
    body = sms_body_check(body)
    return outbox_message_queue(
        actor=actor_or_none,
        conversation=conversation,
        kind=kind,
        body=body,
        payload=sms_payload(conversation=conversation, body=body, options=options),
        template=template,
    )


def sms_send_text(*, actor_or_none: Actor | None, conversation: Conversation, body: str) -> Message:
    """Queue a text to an SMS conversation (any time; up to 1,600 characters)."""
    return _queue(
        actor_or_none=actor_or_none, conversation=conversation, kind=Message.Kind.TEXT, body=body
    )


def _option(number: int, option_id: str, title: str, reply_kind: str) -> dict[str, Any]:
    return {"number": number, "id": option_id, "title": title, "reply_kind": reply_kind}


def sms_send_template(
    *,
    actor_or_none: Actor | None,
    conversation: Conversation,
    template: Template,
    params: list[str] | None,
) -> Message:
    """Queue a template's rendered body as a text; marketing needs SMS consent and no
    opt-out. Quick-reply buttons become numbered options (answered as kind "button")."""
    if template.category == Template.Category.MARKETING and not marketing_allowed(
        conversation=conversation
    ):
        raise SendRefused(
            _(
                "This customer has not consented to SMS marketing or has opted out. "
                "Send a utility message or contact them another way."
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
    body = template_render(template.body, params)
    titles = [
        str(button["text"])
        for button in template.buttons
        if isinstance(button, dict) and button.get("type") == "QUICK_REPLY" and button.get("text")
    ]
    options: list[dict[str, Any]] | None = None
    if titles:
        options = [
            _option(n, title, title, Message.Kind.BUTTON) for n, title in enumerate(titles, 1)
        ]
        body = sms_options_text(
            conversation=conversation,
            body=body,
            lines=[f"{n}. {title}" for n, title in enumerate(titles, 1)],
            count=len(titles),
        )
    return _queue(
        actor_or_none=actor_or_none,
        conversation=conversation,
        kind=Message.Kind.TEMPLATE,
        body=body,
        options=options,
        template=template,
    )


def sms_send_interactive(
    *,
    actor_or_none: Actor | None,
    conversation: Conversation,
    body: str,
    buttons: list[tuple[str, str]] | None,
    list_spec: InteractiveList | None,
) -> Message:
    """Queue buttons or a list as a text with numbered options.

    The same limits as on WhatsApp apply (3 buttons of 20 characters; the list rules of
    ``interactive_list_check``), so a caller's message works on either channel.
    """
    lines: list[str] = []
    options: list[dict[str, Any]] = []
    header = footer = ""
    if list_spec is not None:
        interactive_list_check(list_spec)
        body = list_spec.body
        header, footer = list_spec.header, list_spec.footer
        several = len(list_spec.sections) > 1
        number = 0
        for section in list_spec.sections:
            if several and section.title.strip():
                lines.append(section.title.strip())
            for row in section.rows:
                number += 1
                title = row.title.strip()
                description = row.description.strip()
                lines.append(
                    f"{number}. {title} — {description}" if description else f"{number}. {title}"
                )
                options.append(_option(number, row.id, title, Message.Kind.INTERACTIVE))
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
        for number, (button_id, title) in enumerate(buttons, 1):
            lines.append(f"{number}. {title}")
            options.append(_option(number, button_id, title, Message.Kind.INTERACTIVE))
    text = sms_options_text(
        conversation=conversation,
        body=body,
        lines=lines,
        count=len(options),
        header=header,
        footer=footer,
    )
    return _queue(
        actor_or_none=actor_or_none,
        conversation=conversation,
        kind=Message.Kind.INTERACTIVE,
        body=text,
        options=options,
    )

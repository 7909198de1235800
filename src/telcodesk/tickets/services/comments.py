"""Public replies (sent to the customer) and internal notes (never sent) on a ticket.

A reply whose sending is refused (the 24-hour window closed and no template chosen,
the customer opted out of marketing, the channel switched off, no way to reach the
customer) is still kept, as "not sent" with messaging's reason and message, so the
agent sees it and can send it again (``ticket_reply_resend``) once the reason is gone.
Bad input (an empty or too long text) is refused and keeps nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.messaging.models import Template
from telcodesk.messaging.sending import MAX_TEXT_LENGTH, SendRefused
from telcodesk.tickets.models import SendStatus, Ticket, TicketComment
from telcodesk.tickets.services.common import (
    check_not_closed,
    text_clean,
    ticket_locked,
    ticket_timeline,
)
from telcodesk.tickets.services.delivery import reply_deliver
from telcodesk.tickets.services.sla import sla_first_response_met

NOTE_MAX = 10_000
PREVIEW = 120
CHANNEL_LABELS = {
    "whatsapp": gettext_noop("WhatsApp"),
    "email": gettext_noop("e-mail"),
    "sms": gettext_noop("SMS"),
}


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1] + "…"


def _reply_body(body: str, template: Template | None) -> str:
    text = (body or "").replace("\r\n", "\n").strip()
    if not text and template is None:
        message = _("Write the reply to the customer, or choose a template.")
        raise ValidationFailed(message, details={"body": [message]})
    if len(text) > MAX_TEXT_LENGTH:
        message = _("Too long: at most %(max)s characters.") % {"max": MAX_TEXT_LENGTH}
        raise ValidationFailed(message, details={"body": [message]})
    return text


def _send(
    *,
    actor: Actor,
    ticket: Ticket,
    comment: TicketComment,
    template: Template | None,
    params: list[str] | None,
) -> None:
    """Try to send ``comment`` (not saved here); record the outcome on it."""
    try:
        with transaction.atomic():  # whatever a refused send wrote is undone
            message, route = reply_deliver(
                actor=actor, ticket=ticket, body=comment.body, template=template, params=params
            )
    except SendRefused as refused:
        comment.send_status = SendStatus.REFUSED
        comment.refusal_reason = refused.reason[:40]
        comment.refusal_message = refused.message
        comment.sent_via = ""
        comment.message = None
        return
    now = timezone.now()
    comment.send_status = SendStatus.SENT
    comment.refusal_reason = ""
    comment.refusal_message = ""
    comment.sent_via = route.kind
    comment.message = message
    comment.sent_at = now
    if template is not None:
        comment.body = message.body  # what the customer reads: the rendered template
    # A reply that went out is the customer's first answer, if nothing answered before.
    sla_first_response_met(ticket=ticket, at=now)
    ticket_timeline(
        actor=actor,
        ticket=ticket,
        message=gettext_noop("Reply on ticket %(number)s sent by %(channel_label)s: %(preview)s"),
        params={"channel_label": CHANNEL_LABELS[route.kind], "preview": _preview(comment.body)},
        data={"comment": comment.pk, "message_id": message.pk},
        at=now,
    )


def ticket_reply(
    *,
    actor: Actor,
    ticket: Ticket,
    body: str,
    template: Template | None = None,
    params: list[str] | None = None,
) -> TicketComment:
    """A public reply, sent to the customer on their channel (see tickets.selectors
    .reply_route). With ``template`` (WhatsApp, outside the 24-hour window) the approved
    template goes instead of the text; ``params`` default to its fields. Check
    ``send_status`` of the answer: "sent" (queued in the outbox) or "refused" (kept
    unsent, ``refusal_reason`` / ``refusal_message`` say why)."""
    text = _reply_body(body, template)
    with transaction.atomic():
        locked = ticket_locked(actor=actor, ticket=ticket)
        check_not_closed(locked, field="body")
        comment = TicketComment(
            ticket=locked,
            is_public=True,
            body=text or (template.name if template else ""),
            author=actor.user,
            author_label=actor.display,
        )
        comment.save()
        _send(actor=actor, ticket=locked, comment=comment, template=template, params=params)
        comment.save()
    return comment


def ticket_reply_resend(
    *,
    actor: Actor,
    comment: TicketComment,
    template: Template | None = None,
    params: list[str] | None = None,
) -> TicketComment:
    """Send again a reply that was not sent (e.g. the customer wrote back and the window
    is open, or with a template now). A reply that went out is not sent twice."""
    with transaction.atomic():
        locked = ticket_locked(actor=actor, ticket=comment.ticket)
        row = (
            TicketComment.objects.select_for_update()
            .filter(pk=comment.pk, ticket=locked, is_public=True)
            .first()
        )
        if row is None:
            raise NotFound(_("No such reply on this ticket."))
        check_not_closed(locked, field="body")
        if row.send_status != SendStatus.REFUSED:
            message = _("This reply was already sent; write a new one instead.")
            raise ValidationFailed(message, details={"body": [message]})
        _send(actor=actor, ticket=locked, comment=row, template=template, params=params)
        row.save()
    return row


def ticket_note(*, actor: Actor, ticket: Ticket, body: str) -> TicketComment:
    """An internal note: seen by the organization's people only, never sent."""
    text = text_clean(body, field="body", label=_("Note"), max_length=NOTE_MAX, required=True)
    with transaction.atomic():
        locked = ticket_locked(actor=actor, ticket=ticket)
        check_not_closed(locked, field="body")
        return TicketComment.objects.create(
            ticket=locked,
            is_public=False,
            body=text,
            author=actor.user,
            author_label=actor.display,
        )

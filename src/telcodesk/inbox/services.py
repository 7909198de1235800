"""Every write of the inbox: read marks, assignment, the composer's sends, lead creation.

Sends go through ``messaging.sending`` (the outbox) and bots through
``pipelines.bots``; refusals are their DomainErrors (SendRefused, ValidationFailed),
whose translated message the console shows inline and the API returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from telcodesk.accounts.models import AuditLog, Membership, Team, User
from telcodesk.accounts.services import audit_record
from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.inbox.selectors import VIEW_PERMISSION, is_supervisor, lead_of
from telcodesk.messaging.interactive_lists import (
    InteractiveList,
)
from telcodesk.messaging.models import Channel, Conversation, Message
from telcodesk.messaging.providers.whatsapp_cloud import ProviderError
from telcodesk.messaging.sending import (
    SendRefused,
    media_kind_for,
    message_send_interactive,
    message_send_media,
    message_send_text,
    session_window_open,
)

if TYPE_CHECKING:
    from telcodesk.pipelines.models import Lead


class MediaUploader(Protocol):
    def upload_media(self, *, data: bytes, mime_type: str, filename: str) -> str: ...


MAX_UPLOAD_BYTES = {"image": 5 * 1024 * 1024, "document": 100 * 1024 * 1024}
MAX_UPLOAD_BYTES_DEFAULT = 16 * 1024 * 1024


REPLY_PERMISSION = "conversation.reply"


def _check_conversation(
    actor: Actor, conversation: Conversation, *, permission: str = REPLY_PERMISSION
) -> None:
    """Writes to a conversation need "conversation.reply"; marking it read only needs
    to see it."""
    actor.require(permission)
    if conversation.organization_id != actor.organization.pk:
        raise NotFound(_("This conversation does not exist or is not yours."))


# --- read marks and status -----------------------------------------------------------------


def conversation_mark_read(*, actor: Actor, conversation: Conversation) -> bool:
    """Zero the unread count (opening the thread). True if it was unread."""
    _check_conversation(actor, conversation, permission=VIEW_PERMISSION)
    changed = (
        Conversation.objects.filter(pk=conversation.pk, unread_count__gt=0).update(
            unread_count=0, updated_at=timezone.now()
        )
        == 1
    )
    conversation.unread_count = 0
    return changed


def conversation_status_set(
    *, actor: Actor, conversation: Conversation, status: str
) -> Conversation:
    """Close or reopen a conversation (a new inbound message reopens it anyway)."""
    _check_conversation(actor, conversation)
    if status not in Conversation.Status.values:
        message = _("Choose open or closed.")
        raise ValidationFailed(message, details={"status": [message]})
    conversation.status = status
    conversation.save(update_fields=["status", "updated_at"])
    return conversation


# --- assignment -----------------------------------------------------------------------------


def _member(actor: Actor, user: User) -> Membership:
    membership = (
        Membership.objects.filter(organization=actor.organization, user=user)
        .select_related("team")
        .first()
    )
    if membership is None:
        name = user.get_full_name() or user.get_username()
        message = _("%(name)s is not a member of your organization; choose one of its agents.") % {
            "name": name
        }
        raise ValidationFailed(message, details={"user": [message]})
    return membership


@transaction.atomic
def conversation_assign(
    *,
    actor: Actor,
    conversation: Conversation,
    user: User | None,
    team: Team | None = None,
) -> Conversation:
    """Give the conversation to ``user`` and/or ``team`` (both None: unassign).

    Agents may only take a conversation for themselves (when nobody else has it) or
    release their own; assigning to someone else, or taking it from another agent,
    is for supervisors. A user or team outside the organization is refused. Without
    a team, the user's team is used.
    """
    _check_conversation(actor, conversation)
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if team is not None and team.organization_id != actor.organization.pk:
        message = _("This team is not of your organization; choose one of its teams.")
        raise ValidationFailed(message, details={"team": [message]})
    membership = _member(actor, user) if user is not None else None
    if not is_supervisor(actor):
        me = actor.user
        taking = user is not None and me is not None and user.pk == me.pk
        releasing = (
            user is None and team is None and locked.assigned_user_id == getattr(me, "pk", 0)
        )
        if not (taking or releasing):
            raise PermissionDenied(
                _(
                    "Only supervisors assign conversations to others. Use “Take it” to "
                    "answer it yourself."
                )
            )
        if taking and locked.assigned_user_id not in (None, user.pk):  # type: ignore[union-attr]
            raise PermissionDenied(
                _("Another agent already works this conversation. Ask a supervisor to reassign it.")
            )
    if team is None and membership is not None:
        team = membership.team
    before = [locked.assigned_user_id, locked.assigned_team_id]
    after = [user.pk if user else None, team.pk if team else None]
    locked.assigned_user = user
    locked.assigned_team = team
    locked.save(update_fields=["assigned_user", "assigned_team", "updated_at"])
    if before != after:
        audit_record(
            actor=actor,
            action=AuditLog.Action.UPDATE,
            object_type="messaging.conversation",
            object_id=locked.pk,
            changes={"user": [before[0], after[0]], "team": [before[1], after[1]]},
        )
    conversation.assigned_user = user
    conversation.assigned_team = team
    return conversation


def conversation_take(*, actor: Actor, conversation: Conversation) -> Conversation:
    """ "Take it": the acting agent answers this conversation from now on."""
    if actor.user is None:
        raise PermissionDenied(_("Only a signed-in agent can take a conversation."))
    with transaction.atomic():
        taken = conversation_assign(actor=actor, conversation=conversation, user=actor.user)
        # The lead follows when nobody works it yet ("aceptar el lead").
        lead = lead_of(conversation=taken)
        taking_lead = lead is not None and lead.owner_id is None and lead.is_open
        if taking_lead and actor.can("lead.work"):
            from telcodesk.pipelines.assignment import lead_take

            lead_take(actor=actor, lead=lead)  # type: ignore[arg-type]
    return taken


# --- the composer ---------------------------------------------------------------------------


@dataclass
class ComposerResult:
    messages: list[Message] = field(default_factory=list)
    bot_name: str = ""
    bot_result: Any = None  # pipelines.bots.BotRunResult when a slash command ran


def bot_command_fire(*, actor: Actor, conversation: Conversation, name: str) -> ComposerResult:
    """Fire the bot called ``name`` ("/En cober") on the conversation and its lead."""
    from telcodesk.pipelines import bots

    _check_conversation(actor, conversation)
    name = " ".join(name.split())
    result = bots.bot_fire(
        actor=actor, conversation=conversation, name=name, lead=lead_of(conversation=conversation)
    )
    return ComposerResult(messages=list(result.messages), bot_name=name, bot_result=result)


def composer_send(*, actor: Actor, conversation: Conversation, body: str) -> ComposerResult:
    """What the reply box does with its text: "/name" fires a bot, anything else is a text."""
    _check_conversation(actor, conversation)
    text = body.strip()
    if conversation.channel.kind == Channel.Kind.EMAIL:
        return ComposerResult(
            messages=[email_reply_send(actor=actor, conversation=conversation, body=text)]
        )
    if text.startswith("/"):
        return bot_command_fire(actor=actor, conversation=conversation, name=text)
    message = message_send_text(actor_or_none=actor, conversation=conversation, body=text)
    return ComposerResult(messages=[message])


def email_reply_subject(conversation: Conversation) -> str:
    """ "Re: " and the subject of the thread's last mail; a generic subject otherwise."""
    last = (
        Message.objects.filter(conversation=conversation, kind=Message.Kind.EMAIL)
        .order_by("-created_at", "-id")
        .only("payload")
        .first()
    )
    subject = " ".join(str((last.payload or {}).get("subject", "")).split()) if last else ""
    if not subject:
        with translation.override(conversation.organization.default_language):
            return str(_("Your enquiry to %(organization)s")) % {
                "organization": conversation.organization.display_name
            }
    return subject if subject.casefold().startswith("re:") else f"Re: {subject}"


def email_reply_send(*, actor: Actor, conversation: Conversation, body: str) -> Message:
    """The agent's reply in an e-mail conversation: a threaded e-mail through the outbox."""
    from telcodesk.messaging.email import email_send

    _check_conversation(actor, conversation)
    return email_send(
        actor_or_none=actor,
        organization=conversation.organization,
        to_address=conversation.external_address,
        subject=email_reply_subject(conversation),
        body=body,
        customer=conversation.customer,
        conversation=conversation,
    )


def conversation_list_send(
    *, actor: Actor, conversation: Conversation, spec: InteractiveList
) -> Message:
    """Queue a WhatsApp list message (sections, rows with descriptions, header, footer):
    checked against Meta's limits, the channel and the 24-hour window by
    ``message_send_interactive``; nothing is queued when anything is wrong."""
    _check_conversation(actor, conversation)
    if conversation.channel.kind != Channel.Kind.WHATSAPP_CLOUD:
        raise SendRefused(
            _("Lists are a WhatsApp message; in this conversation write a reply instead."),
            reason="bad_interactive",
        )
    return message_send_interactive(actor_or_none=actor, conversation=conversation, list_spec=spec)


def conversation_media_send(
    *,
    actor: Actor,
    conversation: Conversation,
    data: bytes,
    mime_type: str,
    filename: str,
    caption: str = "",
    client: MediaUploader | None = None,
) -> Message:
    """Upload a file to the provider and queue it as an image or document message.

    Checked before anything is uploaded: the file type, its size and the 24-hour window.
    The upload is synchronous (the message needs the provider's media id); the message
    itself goes through the outbox like any other.
    """
    from telcodesk.inbox.media import whatsapp_client_for

    _check_conversation(actor, conversation)
    kind = media_kind_for(mime_type)
    if kind is None:
        raise SendRefused(
            _(
                "This file type cannot be sent on WhatsApp. Send a JPEG or PNG image, "
                "a PDF or Office document, an MP4 video or an audio file."
            ),
            reason="bad_media_type",
        )
    limit = MAX_UPLOAD_BYTES.get(kind, MAX_UPLOAD_BYTES_DEFAULT)
    if not data or len(data) > limit:
        raise SendRefused(
            _("Attach a file of at most %(size)d MB.") % {"size": limit // (1024 * 1024)},
            reason="bad_media_size",
        )
    if not session_window_open(conversation=conversation):
        raise SendRefused(
            _(
                "The customer has not written in the last 24 hours: this needs an "
                "approved template. Pick a template instead."
            ),
            reason="needs_template",
        )
    uploader: MediaUploader = client or whatsapp_client_for(conversation.channel)
    try:
        media_id = uploader.upload_media(data=data, mime_type=mime_type, filename=filename)
    except ProviderError as error:
        raise SendRefused(
            _("WhatsApp did not accept the file (%(error)s). Try again or send another file.")
            % {"error": error.title},
            reason="upload_failed",
        ) from error
    return message_send_media(
        actor_or_none=actor,
        conversation=conversation,
        kind=kind,
        media_id=media_id,
        mime_type=mime_type,
        filename=filename,
        caption=caption,
    )


# --- leads ------------------------------------------------------------------------------------


def conversation_lead_create(*, actor: Actor, conversation: Conversation) -> Lead:
    """A lead for the conversation's phone in the entry pipeline, owned by the agent.

    When the phone already has an open lead in that pipeline, that lead is linked to
    the conversation (if it has none) and returned instead of a second one.
    """
    from telcodesk.pipelines.models import Lead, LeadSource, Pipeline
    from telcodesk.pipelines.services import lead_create

    _check_conversation(actor, conversation)
    pipelines = Pipeline.objects.filter(organization=actor.organization, is_active=True)
    pipeline = (
        pipelines.filter(is_entry=True).order_by("position", "id").first()
        or pipelines.order_by("position", "id").first()
    )
    if pipeline is None:
        raise ValidationFailed(
            _("Your organization has no lead pipeline. Ask an administrator to load one.")
        )
    customer = conversation.customer
    name = customer.display_name if customer is not None else conversation.display_name
    result = lead_create(
        actor=actor,
        pipeline=pipeline,
        name=name,
        phone=conversation.phone_e164 or "+" + conversation.external_address,
        source=LeadSource.CHANNEL,
        owner=actor.user,
        customer=customer,
        source_ref=f"channel:{conversation.channel_id}",
    )
    Lead.objects.filter(pk=result.lead.pk, conversation__isnull=True).update(
        conversation=conversation
    )
    result.lead.refresh_from_db()
    return result.lead

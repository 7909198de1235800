"""Reads of the inbox: the conversations an agent sees, a thread, the composer's state.

Every read is scoped to the actor's organization: a conversation of another
organization (a reseller's operator included) does not exist for the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import (
    DateTimeField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.core.errors import NotFound, PermissionDenied
from telcodesk.core.tenancy import Actor
from telcodesk.messaging.models import Channel, Conversation, Message, Template
from telcodesk.messaging.sending import (
    SESSION_WINDOW,
    SendRefused,
    template_params_guess,
    template_render,
)

if TYPE_CHECKING:
    from telcodesk.pipelines.models import Lead

VIEW_PERMISSION = "conversation.view"
# Supervisors see every conversation of the organization ("all") and assign to anyone.
SUPERVISE_PERMISSION = "conversation.supervise"
THREAD_MESSAGES_SHOWN = 200
PREVIEW_LENGTH = 90
CLOSING_SOON = timedelta(hours=1)


class Scope:
    QUEUE = "queue"  # mine and unassigned (an agent's default)
    MINE = "mine"
    UNASSIGNED = "unassigned"
    TEAM = "team"
    ALL = "all"

    CHOICES = (QUEUE, MINE, UNASSIGNED, TEAM, ALL)


def is_supervisor(actor: Actor) -> bool:
    return actor.can(SUPERVISE_PERMISSION)


def default_scope(actor: Actor) -> str:
    return Scope.ALL if is_supervisor(actor) or actor.user is None else Scope.QUEUE


def scopes_for(actor: Actor) -> list[str]:
    """The list filters the actor may choose, in the order shown."""
    if actor.user is None:  # an API key: nobody is "me"
        return [Scope.ALL, Scope.UNASSIGNED]
    scopes = [Scope.QUEUE, Scope.MINE, Scope.UNASSIGNED, Scope.TEAM]
    return [*scopes, Scope.ALL] if is_supervisor(actor) else scopes


@dataclass(frozen=True)
class ConversationFilters:
    scope: str = ""  # "" = the actor's default
    channel_id: int | None = None
    status: str = Conversation.Status.OPEN  # "" = open and closed
    query: str = ""


def _team_id(actor: Actor) -> int | None:
    if actor.user is None:
        return None
    from telcodesk.accounts.models import Membership

    return (
        Membership.objects.filter(user=actor.user, organization=actor.organization)
        .values_list("team_id", flat=True)
        .first()
    )


def conversations_visible(*, actor: Actor) -> QuerySet[Conversation]:
    """Every conversation of the actor's organization."""
    actor.require(VIEW_PERMISSION)
    return Conversation.objects.filter(organization=actor.organization)


def _scoped(actor: Actor, conversations: QuerySet[Conversation], scope: str) -> Any:
    if scope not in scopes_for(actor):
        if scope == Scope.ALL:
            raise PermissionDenied(
                _("Only supervisors see all conversations. Choose “Mine” or “Unassigned”.")
            )
        raise NotFound(_("Unknown list filter. Choose one of the filters shown."))
    if scope == Scope.QUEUE:
        return conversations.filter(Q(assigned_user=actor.user) | Q(assigned_user__isnull=True))
    if scope == Scope.MINE:
        return conversations.filter(assigned_user=actor.user)
    if scope == Scope.UNASSIGNED:
        return conversations.filter(assigned_user__isnull=True)
    if scope == Scope.TEAM:
        team_id = _team_id(actor)
        if team_id is None:
            return conversations.none()
        return conversations.filter(
            Q(assigned_team_id=team_id) | Q(assigned_user__memberships__team_id=team_id)
        ).distinct()
    return conversations


def _search(conversations: QuerySet[Conversation], query: str) -> QuerySet[Conversation]:
    query = query.strip()[:100]
    if not query:
        return conversations
    condition = (
        Q(display_name__icontains=query)
        | Q(customer__first_name__icontains=query)
        | Q(customer__last_name__icontains=query)
        | Q(customer__company_name__icontains=query)
    )
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 3:
        condition |= Q(external_address__contains=digits) | Q(phone_e164__contains=digits)
    return conversations.filter(condition)


def conversations_filtered(*, actor: Actor, filters: ConversationFilters) -> QuerySet[Conversation]:
    """The list: filtered, most recent activity first, with the last message annotated.

    Annotations: ``activity_at``, ``last_body``, ``last_kind``, ``last_direction``.
    """
    conversations = _scoped(
        actor, conversations_visible(actor=actor), filters.scope or default_scope(actor)
    )
    if filters.channel_id is not None:
        conversations = conversations.filter(channel_id=filters.channel_id)
    if filters.status:
        conversations = conversations.filter(status=filters.status)
    conversations = _search(conversations, filters.query)
    last = Message.objects.filter(conversation=OuterRef("pk")).order_by("-id")
    epoch = Value(datetime(2000, 1, 1, tzinfo=UTC), output_field=DateTimeField())
    return (
        conversations.select_related("channel", "customer", "assigned_user", "assigned_team")
        .annotate(
            activity_at=Greatest(
                Coalesce("last_inbound_at", "created_at", epoch),
                Coalesce("last_outbound_at", "created_at", epoch),
            ),
            last_body=Subquery(last.values("body")[:1]),
            last_kind=Subquery(last.values("kind")[:1]),
            last_direction=Subquery(last.values("direction")[:1]),
        )
        .order_by(F("activity_at").desc(), "-id")
    )


def unread_total(*, actor: Actor, scope: str = "") -> int:
    """Unread messages in the open conversations of the actor's list (default scope)."""
    conversations = _scoped(
        actor,
        conversations_visible(actor=actor).filter(status=Conversation.Status.OPEN),
        scope or default_scope(actor),
    )
    total = conversations.aggregate(total=Sum("unread_count"))["total"]
    return int(total or 0)


def conversation_get(*, actor: Actor, conversation_id: int) -> Conversation:
    conversation = (
        conversations_visible(actor=actor)
        .select_related("channel", "customer", "assigned_user", "assigned_team", "organization")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise NotFound(_("This conversation does not exist or is not yours."))
    return conversation


def channels_of(*, actor: Actor) -> list[Channel]:
    actor.require(VIEW_PERMISSION)
    return list(Channel.objects.filter(organization=actor.organization).order_by("name", "id"))


def thread_messages(
    *, conversation: Conversation, after_id: int | None = None, limit: int = THREAD_MESSAGES_SHOWN
) -> list[Message]:
    """The last ``limit`` messages of the thread, oldest first (after ``after_id``)."""
    messages = Message.objects.filter(conversation=conversation).select_related(
        "created_by", "template"
    )
    if after_id is not None:
        messages = messages.filter(pk__gt=after_id)
    return list(reversed(messages.order_by("-id")[:limit]))


# A status webhook whose transaction was still open when the last poll read the thread
# (written before, committed after) still shows with the next one.
THREAD_CHANGE_OVERLAP = timedelta(seconds=2)


@dataclass(frozen=True)
class ThreadChanges:
    """What a poll adds to the thread the browser shows: messages after its last one,
    and earlier ones that changed since (ticks, edits, deletions)."""

    new: list[Message]
    changed: list[Message]


def thread_changes(*, conversation: Conversation, after_id: int, since: datetime) -> ThreadChanges:
    messages = Message.objects.filter(conversation=conversation).select_related(
        "created_by", "template"
    )
    new = list(messages.filter(pk__gt=after_id).order_by("id")[:THREAD_MESSAGES_SHOWN])
    changed = list(
        messages.filter(pk__lte=after_id, updated_at__gte=since - THREAD_CHANGE_OVERLAP).order_by(
            "id"
        )[:THREAD_MESSAGES_SHOWN]
    )
    return ThreadChanges(new=new, changed=changed)


def message_get(*, actor: Actor, conversation: Conversation, message_id: int) -> Message:
    message = Message.objects.filter(
        pk=message_id, conversation=conversation, organization=actor.organization
    ).first()
    if message is None:
        raise NotFound(_("This message does not exist or is not yours."))
    return message


def _kind_preview(kind: str) -> str:
    """What the list says for a message without text (a photo with no caption...)."""
    labels: dict[str, str] = {
        Message.Kind.IMAGE: _("Photo"),
        Message.Kind.STICKER: _("Sticker"),
        Message.Kind.AUDIO: _("Voice or audio message"),
        Message.Kind.VIDEO: _("Video"),
        Message.Kind.DOCUMENT: _("Document"),
        Message.Kind.LOCATION: _("Location"),
        Message.Kind.CONTACTS: _("Contact card"),
        Message.Kind.REACTION: _("Reaction"),
        Message.Kind.ORDER: _("Order"),
        Message.Kind.REVOKE: _("Message deleted"),
    }
    if kind in labels:
        return str(labels[kind])
    return str(Message.Kind(kind).label) if kind in Message.Kind.values else ""


def preview(body: str, kind: str) -> str:
    """The list's one line: the text, shortened, else what kind of message it is."""
    text = " ".join((body or "").split())
    if not text:
        return _kind_preview(kind)
    if len(text) > PREVIEW_LENGTH:
        text = text[: PREVIEW_LENGTH - 1] + "…"
    return text


# --- leads -----------------------------------------------------------------------------


def lead_of(*, conversation: Conversation) -> Lead | None:
    """The conversation's lead: the open one if any, else the latest."""
    from telcodesk.pipelines.models import Lead

    leads = (
        Lead.objects.filter(conversation=conversation, organization_id=conversation.organization_id)
        .select_related("pipeline", "stage", "owner", "team", "loss_reason")
        .order_by("-created_at", "-id")
    )
    open_lead = leads.filter(won_at__isnull=True, lost_at__isnull=True).first()
    return open_lead or leads.first()


def panel_stamp(*, conversation: Conversation, lead: Lead | None) -> str:
    """What the side panel shows, in one string: assignment, status, customer and lead
    (stage, owner, last change). The thread's poll compares it with the stamp the panel
    was drawn with and redraws the panel when the lead moved or changed hands."""
    parts: list[object] = [
        conversation.status,
        conversation.assigned_user_id,
        conversation.assigned_team_id,
        conversation.customer_id,
    ]
    if lead is not None:
        parts += [lead.pk, lead.stage_id, lead.owner_id, lead.updated_at.timestamp()]
    return ":".join("" if part is None else str(part) for part in parts)


def leads_by_conversation(*, conversation_ids: list[int]) -> dict[int, Lead]:
    """conversation id → its lead (open first, then newest), for the list's stage chips."""
    from telcodesk.pipelines.models import Lead

    leads = (
        Lead.objects.filter(conversation_id__in=conversation_ids)
        .select_related("stage", "loss_reason")
        .order_by("-created_at", "-id")
    )
    found: dict[int, Lead] = {}
    for lead in leads:
        assert lead.conversation_id is not None
        current = found.get(lead.conversation_id)
        is_open = lead.won_at is None and lead.lost_at is None
        if current is None or (is_open and (current.won_at or current.lost_at)):
            found[lead.conversation_id] = lead
    return found


def tab_summary(lead: Lead) -> list[tuple[str, str]]:
    """(label, value) of the lead's filled tab fields, in the pipeline's order."""
    rows: list[tuple[str, str]] = []
    for key, spec in lead.pipeline.tab_fields().items():
        value = lead.data.get(key)
        if value in (None, "", [], False):
            continue
        if value is True:
            value = _("yes")
        rows.append((str(spec.get("label") or key), str(value)))
    return rows


# --- the composer ------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowState:
    open: bool
    closes_at: datetime | None
    remaining: timedelta | None
    # E-mail has no 24-hour window: the composer always writes a reply.
    is_email: bool = False

    @property
    def key(self) -> str:
        """What the composer offers: "email", "open" (free text) or "closed" (templates).

        The thread's poll sends the key its composer was drawn with; a different one
        means the window opened or closed meanwhile and the composer is redrawn.
        """
        if self.is_email:
            return "email"
        return "open" if self.open else "closed"

    @property
    def closing_soon(self) -> bool:
        """Less than an hour left: the composer warns that only templates follow."""
        return self.open and self.remaining is not None and self.remaining < CLOSING_SOON

    @property
    def label(self) -> str:
        if self.is_email:
            return _("e-mail: no 24-hour window, the reply goes out as a threaded e-mail")
        if not self.open or self.remaining is None:
            return _("closed: only approved templates can be sent")
        minutes = max(int(self.remaining.total_seconds() // 60), 0)
        if minutes == 0:
            return _("open, closes in less than a minute")
        return _("open, closes in %(hours)d h %(minutes)d min") % {
            "hours": minutes // 60,
            "minutes": minutes % 60,
        }


def window_state(*, conversation: Conversation, now: datetime | None = None) -> WindowState:
    """The 24-hour customer-service window: open until 24 h after the last inbound."""
    if conversation.channel.kind == Channel.Kind.EMAIL:
        return WindowState(open=True, closes_at=None, remaining=None, is_email=True)
    if conversation.channel.kind == Channel.Kind.SMS:  # SMS has no 24-hour window
        return WindowState(open=True, closes_at=None, remaining=None)
    now = now or timezone.now()
    last = conversation.last_inbound_at
    if last is None or last + SESSION_WINDOW <= now:
        return WindowState(open=False, closes_at=None, remaining=None)
    closes_at = last + SESSION_WINDOW
    return WindowState(open=True, closes_at=closes_at, remaining=closes_at - now)


@dataclass(frozen=True)
class TemplateChoice:
    template: Template
    params: list[str]
    preview: str
    missing: list[str]


def templates_for(*, conversation: Conversation, lead: Lead | None = None) -> list[TemplateChoice]:
    """The approved templates usable on the conversation's channel, with a preview."""
    templates = Template.objects.filter(
        organization_id=conversation.organization_id, status=Template.Status.APPROVED
    ).filter(Q(channel__isnull=True) | Q(channel_id=conversation.channel_id))
    choices = []
    for template in templates.order_by("name", "language"):
        params = _template_params(template=template, conversation=conversation, lead=lead)
        missing = [str(f) for f, v in zip(template.param_fields, params, strict=False) if not v]
        shown = [v or f"{{{{{i + 1}}}}}" for i, v in enumerate(params)]
        choices.append(
            TemplateChoice(
                template=template,
                params=params,
                preview=template_render(template.body, shown),
                missing=missing,
            )
        )
    return choices


def _template_params(
    *, template: Template, conversation: Conversation, lead: Lead | None
) -> list[str]:
    """The parameters the picker starts from: the ones a bot's template twin would send
    (a prospect without a customer record is greeted by the name they gave us), else as
    far as the customer's and the lead's fields go."""
    bots = _bots_module()
    if bots is not None:
        try:
            return [
                str(value)
                for value in bots.template_params(
                    template=template, lead=lead, conversation=conversation
                )
            ]
        except SendRefused:
            pass
    return template_params_guess(template=template, conversation=conversation, lead=lead)


def template_get(*, actor: Actor, conversation: Conversation, template_id: int) -> Template:
    template = (
        Template.objects.filter(pk=template_id, organization=actor.organization)
        .filter(Q(channel__isnull=True) | Q(channel_id=conversation.channel_id))
        .first()
    )
    if template is None:
        raise NotFound(_("This template does not exist for this channel."))
    return template


def template_by_name(
    *, actor: Actor, conversation: Conversation, name: str, language: str = ""
) -> Template:
    templates = Template.objects.filter(organization=actor.organization, name=name).filter(
        Q(channel__isnull=True) | Q(channel_id=conversation.channel_id)
    )
    if language:
        templates = templates.filter(language=language)
    template = templates.order_by("-channel_id", "language").first()
    if template is None:
        raise NotFound(_("This template does not exist for this channel."))
    return template


# --- quick replies and bots (pipelines.bots, when installed) --------------------------------


@dataclass(frozen=True)
class QuickReplyChoice:
    shortcut: str
    title: str
    text: str


@dataclass(frozen=True)
class BotChoice:
    name: str
    title: str
    description: str
    has_template: bool


def _bots_module() -> Any:
    try:
        from telcodesk.pipelines import bots
    except ImportError:
        return None
    return bots


def reply_language(*, conversation: Conversation) -> str:
    """The language quick replies are written in for this customer.

    The customer's preferred language, else the organization's first language.
    """
    customer = conversation.customer
    if customer is not None and customer.preferred_language:
        return customer.preferred_language
    languages = conversation.organization.languages or ["es"]
    return str(languages[0])


def quick_replies(
    *, actor: Actor, conversation: Conversation, language: str = ""
) -> list[QuickReplyChoice]:
    """The organization's quick replies, rendered for this conversation and agent.

    Read through ``pipelines.bots`` (``quick_replies_for`` / ``quick_reply_render``);
    ``language`` defaults to ``reply_language``.
    """
    bots = _bots_module()
    if bots is None:
        return []
    rows = bots.quick_replies_for(
        organization=actor.organization,
        language=language or reply_language(conversation=conversation),
    )
    return [
        QuickReplyChoice(
            shortcut=row.shortcut,
            title=row.title,
            text=bots.quick_reply_render(
                quick_reply=row, conversation=conversation, agent=actor.user
            ),
        )
        for row in rows
    ]


def bots_for(*, actor: Actor) -> list[BotChoice]:
    """The slash commands (bots) of the organization; [] until pipelines.bots exists."""
    bots = _bots_module()
    if bots is None:
        return []
    return [
        BotChoice(
            name=bot.name,
            title=str(getattr(bot, "title", "")),
            description=str(getattr(bot, "description", "")),
            has_template=bool(getattr(bot, "template_name", "")),
        )
        for bot in bots.bots_available(organization=actor.organization)
    ]

"""Conversations and messages over the JSON API: list, read, send text or template, assign.

Views check the shape of the input and call inbox.selectors / inbox.services /
messaging.sending with ``request.auth`` (the Actor); refusals are the services'
DomainErrors (SendRefused answers 409 with ``details.reason``), rendered by
telcodesk.api as ``{code, message, details}``. A conversation of another organization
answers 404 exactly like an id that does not exist.

Registered in telcodesk.api with ``api.add_router("/", router, tags=["conversations"])``.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from telcodesk.accounts.models import Team, User
from telcodesk.core.api_schemas import CONFLICT_ERRORS, ERRORS, InputSchema
from telcodesk.core.errors import ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.inbox import selectors, services
from telcodesk.messaging.interactive_lists import InteractiveList, ListRow, ListSection
from telcodesk.messaging.models import Conversation, Message, Template
from telcodesk.messaging.sending import (
    SendRefused,
    message_send_interactive,
    message_send_template,
)

router = Router()

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


SEND_ERRORS = CONFLICT_ERRORS


# --- input ----------------------------------------------------------------------------


class ConversationQuery(Schema):
    scope: str = Field(
        "",
        description="queue (mine and unassigned), mine, unassigned, team, all "
        "(supervisors and API keys); default: all for supervisors and keys, queue for agents",
    )
    channel: int | None = Field(None, ge=1, description="a channel id")
    status: str = Field("open", description="open, closed, or '' for both")
    q: str = Field("", max_length=100, description="name or phone (3+ digits)")
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class MessageQuery(Schema):
    after_id: int | None = Field(None, ge=0, description="only messages after this id")
    limit: int = Field(100, ge=1, le=500)


class TextIn(InputSchema):
    body: str = Field(..., min_length=1, max_length=4096)


class TemplateIn(InputSchema):
    template_id: int | None = Field(None, ge=1)
    name: str = Field("", max_length=512, description="instead of template_id")
    language: str = Field("", max_length=16, description="with name; default: any")
    params: list[str] | None = Field(
        None,
        max_length=20,
        description="{{1}}, {{2}}...; default: filled from the customer and conversation",
    )


class ChoiceIn(InputSchema):
    id: str = Field(..., min_length=1, max_length=256, description="echoed back when tapped")
    title: str = Field(..., min_length=1, max_length=24)


class ListRowIn(InputSchema):
    id: str = Field(
        ..., min_length=1, max_length=200, description="echoed back when chosen; unique"
    )
    title: str = Field(..., min_length=1, max_length=24)
    description: str = Field("", max_length=72)


class ListSectionIn(InputSchema):
    title: str = Field("", max_length=24, description="required with two or more sections")
    rows: list[ListRowIn] = Field(..., min_length=1, max_length=10)


class InteractiveIn(InputSchema):
    body: str = Field(..., min_length=1, max_length=1024)
    buttons: list[ChoiceIn] | None = Field(None, description="reply buttons, up to 3")
    rows: list[ListRowIn] | None = Field(
        None, description="a list of one section: up to 10 rows (or give sections)"
    )
    sections: list[ListSectionIn] | None = Field(
        None, max_length=10, description="a list in sections: up to 10 rows in all"
    )
    list_button: str = Field("", max_length=20, description="the text of the list's button")
    header: str = Field("", max_length=60, description="a list's header text")
    footer: str = Field("", max_length=60, description="a list's footer text")


def _list_spec(payload: InteractiveIn) -> InteractiveList:
    def rows(items: list[ListRowIn]) -> tuple[ListRow, ...]:
        return tuple(ListRow(id=r.id, title=r.title, description=r.description) for r in items)

    if payload.sections:
        sections = tuple(ListSection(title=s.title, rows=rows(s.rows)) for s in payload.sections)
    else:
        sections = (ListSection(title="", rows=rows(payload.rows or [])),)
    return InteractiveList(
        body=payload.body,
        button=payload.list_button,
        header=payload.header,
        footer=payload.footer,
        sections=sections,
    )


class AssignIn(InputSchema):
    user_id: int | None = Field(None, ge=1, description="a member of your organization")
    team_id: int | None = Field(None, ge=1, description="a team of your organization")


# --- output ---------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    name: str


class TeamOut(Schema):
    id: int
    name: str


class LeadRefOut(Schema):
    id: int
    pipeline_id: int
    stage_id: int
    stage: str


class ConversationOut(Schema):
    id: int
    channel_id: int
    external_address: str
    phone: str
    display_name: str
    customer_id: int | None
    status: str
    unread_count: int
    assigned_user: PersonOut | None
    assigned_team: TeamOut | None
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    window_open: bool = Field(description="the customer wrote in the last 24 hours")
    window_closes_at: datetime | None
    lead: LeadRefOut | None
    created_at: datetime


class ConversationPage(Schema):
    items: list[ConversationOut]
    count: int
    page: int
    pages: int
    unread_total: int


class MessageOut(Schema):
    id: int
    conversation_id: int
    direction: str = Field(description="in or out")
    kind: str
    body: str
    status: str = Field(description="queued, sending, sent, delivered, read, failed, received")
    error_code: int | None
    error_title: str
    media_id: str
    media_mime_type: str
    media_filename: str
    media_caption: str
    reply_payload: str
    template_id: int | None
    created_by: PersonOut | None
    provider_message_id: str
    created_at: datetime
    status_at: datetime | None


# --- helpers --------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


def _person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


def conversation_out(conversation: Conversation, lead: Any = None) -> dict[str, Any]:
    window = selectors.window_state(conversation=conversation)
    team = conversation.assigned_team
    return {
        "id": conversation.pk,
        "channel_id": conversation.channel_id,
        "external_address": conversation.external_address,
        "phone": conversation.phone_e164,
        "display_name": conversation.display_name,
        "customer_id": conversation.customer_id,
        "status": conversation.status,
        "unread_count": conversation.unread_count,
        "assigned_user": _person(conversation.assigned_user),
        "assigned_team": {"id": team.pk, "name": team.name} if team is not None else None,
        "last_inbound_at": conversation.last_inbound_at,
        "last_outbound_at": conversation.last_outbound_at,
        "window_open": window.open,
        "window_closes_at": window.closes_at,
        "lead": (
            {
                "id": lead.pk,
                "pipeline_id": lead.pipeline_id,
                "stage_id": lead.stage_id,
                "stage": lead.stage.name,
            }
            if lead is not None
            else None
        ),
        "created_at": conversation.created_at,
    }


def message_out(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "kind": message.kind,
        "body": message.body,
        "status": message.status,
        "error_code": message.error_code,
        "error_title": message.error_title,
        "media_id": message.media_id,
        "media_mime_type": message.media_mime_type,
        "media_filename": message.media_filename,
        "media_caption": message.media_caption,
        "reply_payload": message.reply_payload,
        "template_id": message.template_id,
        "created_by": _person(message.created_by),
        "provider_message_id": message.provider_message_id,
        "created_at": message.created_at,
        "status_at": message.status_at,
    }


def _conversation(actor: Actor, conversation_id: int) -> Conversation:
    return selectors.conversation_get(actor=actor, conversation_id=conversation_id)


def _fresh(actor: Actor, conversation_id: int) -> dict[str, Any]:
    conversation = _conversation(actor, conversation_id)
    return conversation_out(conversation, selectors.lead_of(conversation=conversation))


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={field: [message]})


# --- endpoints ------------------------------------------------------------------------


@router.get("/conversations", response={200: ConversationPage, **ERRORS}, summary="Conversations")
def conversations_list(request: HttpRequest, query: Query[ConversationQuery]) -> dict[str, Any]:
    """The organization's conversations, most recent activity first."""
    actor = _actor(request)
    if query.scope and query.scope not in selectors.Scope.CHOICES:
        raise _invalid(
            "scope",
            _("Unknown scope; use one of: %(scopes)s.")
            % {"scopes": ", ".join(selectors.Scope.CHOICES)},
        )
    if query.status not in ("", *Conversation.Status.values):
        raise _invalid("status", _("Unknown status; use open, closed or an empty value."))
    filters = selectors.ConversationFilters(
        scope=query.scope, channel_id=query.channel, status=query.status, query=query.q
    )
    conversations = selectors.conversations_filtered(actor=actor, filters=filters)
    count = conversations.count()
    start = (query.page - 1) * query.page_size
    page = list(conversations[start : start + query.page_size])
    leads = selectors.leads_by_conversation(conversation_ids=[c.pk for c in page])
    return {
        "items": [conversation_out(c, leads.get(c.pk)) for c in page],
        "count": count,
        "page": query.page,
        "pages": math.ceil(count / query.page_size) if count else 0,
        "unread_total": selectors.unread_total(actor=actor, scope=query.scope),
    }


@router.get(
    "/conversations/{conversation_id}",
    response={200: ConversationOut, **ERRORS},
    summary="A conversation",
)
def conversations_get(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    return _fresh(_actor(request), conversation_id)


@router.get(
    "/conversations/{conversation_id}/messages",
    response={200: list[MessageOut], **ERRORS},
    summary="Messages of a conversation",
)
def conversations_messages(
    request: HttpRequest, conversation_id: int, query: Query[MessageQuery]
) -> list[dict[str, Any]]:
    """The last ``limit`` messages, oldest first (``after_id`` to poll for new ones).

    Reading does not mark the conversation read: POST .../read does."""
    conversation = _conversation(_actor(request), conversation_id)
    messages = selectors.thread_messages(
        conversation=conversation, after_id=query.after_id, limit=query.limit
    )
    return [message_out(m) for m in messages]


@router.post(
    "/conversations/{conversation_id}/messages",
    response={201: MessageOut, **SEND_ERRORS},
    summary="Send a text",
)
def conversations_send_text(
    request: HttpRequest, conversation_id: int, payload: TextIn
) -> Status[dict[str, Any]]:
    """Queue a free-form text; 409 (``reason: needs_template``) outside the 24-hour window.
    A body starting with "/" fires the bot of that name (201 with its first message)."""
    actor = _actor(request)
    conversation = _conversation(actor, conversation_id)
    result = services.composer_send(actor=actor, conversation=conversation, body=payload.body)
    if not result.messages:
        message = _("The bot ran but sent no message.")
        raise ValidationFailed(message, details={"body": [message]})
    return Status(201, message_out(result.messages[0]))


@router.post(
    "/conversations/{conversation_id}/templates",
    response={201: MessageOut, **SEND_ERRORS},
    summary="Send a template",
)
def conversations_send_template(
    request: HttpRequest, conversation_id: int, payload: TemplateIn
) -> Status[dict[str, Any]]:
    """Queue an approved template (allowed outside the window), by id or by name."""
    actor = _actor(request)
    conversation = _conversation(actor, conversation_id)
    template: Template
    if payload.template_id is not None:
        template = selectors.template_get(
            actor=actor, conversation=conversation, template_id=payload.template_id
        )
    elif payload.name:
        template = selectors.template_by_name(
            actor=actor, conversation=conversation, name=payload.name, language=payload.language
        )
    else:
        raise _invalid("template_id", _("Give a template_id or a template name."))
    message = message_send_template(
        actor_or_none=actor, conversation=conversation, template=template, params=payload.params
    )
    return Status(201, message_out(message))


@router.post(
    "/conversations/{conversation_id}/interactive",
    response={201: MessageOut, **SEND_ERRORS},
    summary="Send reply buttons or a list",
)
def conversations_send_interactive(
    request: HttpRequest, conversation_id: int, payload: InteractiveIn
) -> Status[dict[str, Any]]:
    """Queue up to 3 reply buttons, or a list (inside the 24-hour window).

    A list: ``list_button`` and either ``rows`` (one section) or ``sections`` (each
    with a title when there are several), up to 10 rows in all; optional ``header``
    and ``footer``. Refusals name the field to fix (422 for Meta's limits, 409 with
    ``reason`` for the window or a wrong combination)."""
    actor = _actor(request)
    conversation = _conversation(actor, conversation_id)
    wants_list = bool(payload.rows or payload.sections)
    if payload.rows and payload.sections:
        raise _invalid("sections", _("Give either rows (one section) or sections, not both."))
    if payload.buttons or not wants_list:
        if wants_list or payload.header or payload.footer:
            raise SendRefused(
                _(
                    "Give either buttons or a list (rows or sections); reply buttons take "
                    "no header or footer here."
                ),
                reason="bad_interactive",
            )
        message = message_send_interactive(
            actor_or_none=actor,
            conversation=conversation,
            body=payload.body,
            buttons=[(b.id, b.title) for b in payload.buttons] if payload.buttons else None,
        )
    else:
        message = services.conversation_list_send(
            actor=actor, conversation=conversation, spec=_list_spec(payload)
        )
    return Status(201, message_out(message))


@router.post(
    "/conversations/{conversation_id}/media",
    response={201: MessageOut, **SEND_ERRORS},
    summary="Send a photo or document",
)
def conversations_send_media(
    request: HttpRequest,
    conversation_id: int,
    file: File[UploadedFile],
    caption: Form[str] = "",
) -> Status[dict[str, Any]]:
    """``multipart/form-data`` with ``file`` (and an optional ``caption``): the file is
    uploaded to the provider, then queued as an image or document message."""
    actor = _actor(request)
    conversation = _conversation(actor, conversation_id)
    if len(caption) > 1024:
        raise _invalid("caption", _("Write a caption of at most 1024 characters."))
    message = services.conversation_media_send(
        actor=actor,
        conversation=conversation,
        data=file.read(),
        mime_type=file.content_type or "application/octet-stream",
        filename=file.name or "",
        caption=caption,
    )
    return Status(201, message_out(message))


@router.post(
    "/conversations/{conversation_id}/assign",
    response={200: ConversationOut, **ERRORS},
    summary="Assign",
)
def conversations_assign(
    request: HttpRequest, conversation_id: int, payload: AssignIn
) -> dict[str, Any]:
    """Assign to an agent and/or a team of the organization (both empty: unassign)."""
    actor = _actor(request)
    conversation = _conversation(actor, conversation_id)
    user = User.objects.filter(pk=payload.user_id).first() if payload.user_id else None
    if payload.user_id and user is None:
        raise _invalid("user_id", _("No such agent. Choose a member of your organization."))
    team = None
    if payload.team_id:
        team = Team.objects.filter(pk=payload.team_id, organization=actor.organization).first()
        if team is None:
            raise _invalid("team_id", _("No such team. Choose a team of your organization."))
    services.conversation_assign(actor=actor, conversation=conversation, user=user, team=team)
    return _fresh(actor, conversation_id)


@router.post(
    "/conversations/{conversation_id}/read",
    response={200: ConversationOut, **ERRORS},
    summary="Mark read",
)
def conversations_read(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    actor = _actor(request)
    services.conversation_mark_read(actor=actor, conversation=_conversation(actor, conversation_id))
    return _fresh(actor, conversation_id)

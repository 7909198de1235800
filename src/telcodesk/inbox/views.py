"""The inbox pages: the conversation list, a thread with its composer and side panel.

Views only translate HTTP to inbox.selectors / inbox.services and back. The list and
the thread's messages are polled by htmx (partials); the composer is never part of a
poll, so what the agent is typing stays: the poll only tells the page (HX-Trigger) to
redraw it when the 24-hour window opened or closed. A send answers with a fresh composer and the
thread (out of band); a refusal answers 422 with the composer, the typed text and the
service's translated reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from telcodesk.accounts.models import Membership, Team, User
from telcodesk.core.errors import DomainError, NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.views import console_view
from telcodesk.inbox import selectors, services
from telcodesk.inbox.list_builder import list_builder_fields, list_from_form
from telcodesk.inbox.media import (
    DOWNLOAD_TYPE,
    content_disposition,
    download_filename,
    email_attachment_serve,
    media_fetch,
    served_content_type,
)
from telcodesk.messaging.interactive_lists import InteractiveList
from telcodesk.messaging.models import Conversation, Message
from telcodesk.messaging.sending import message_send_interactive, message_send_template

LIST_LIMIT = 100
# Sent by the thread's poll when the window it shows is not the composer's any more.
WINDOW_CHANGED_EVENT = "inbox-window-changed"


def _scope_label(scope: str) -> str:
    labels = {
        selectors.Scope.QUEUE: _("Mine and unassigned"),
        selectors.Scope.MINE: _("Mine"),
        selectors.Scope.UNASSIGNED: _("Unassigned"),
        selectors.Scope.TEAM: _("My team"),
        selectors.Scope.ALL: _("All"),
    }
    return labels.get(scope, scope)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


def _filters(request: HttpRequest, actor: Actor) -> selectors.ConversationFilters:
    scope = request.GET.get("scope", "")
    if scope not in selectors.scopes_for(actor):
        scope = selectors.default_scope(actor)
    status = request.GET.get("status", Conversation.Status.OPEN)
    if status not in ("", *Conversation.Status.values):
        status = Conversation.Status.OPEN
    return selectors.ConversationFilters(
        scope=scope,
        channel_id=_int(request.GET.get("channel")),
        status=status,
        query=request.GET.get("q", "")[:100],
    )


def _list_context(
    request: HttpRequest, actor: Actor, current_id: int | None = None
) -> dict[str, Any]:
    filters = _filters(request, actor)
    conversations = list(
        selectors.conversations_filtered(actor=actor, filters=filters)[:LIST_LIMIT]
    )
    leads = selectors.leads_by_conversation(conversation_ids=[c.pk for c in conversations])
    rows = [
        {
            "conversation": c,
            "preview": selectors.preview(c.last_body or "", c.last_kind or ""),  # type: ignore[attr-defined]
            "lead": leads.get(c.pk),
            "current": c.pk == current_id,
        }
        for c in conversations
    ]
    query = request.GET.urlencode()
    return {
        "rows": rows,
        "filters": filters,
        "scopes": [(s, _scope_label(s)) for s in selectors.scopes_for(actor)],
        "channels": selectors.channels_of(actor=actor),
        "statuses": [
            (Conversation.Status.OPEN, _("Open")),
            (Conversation.Status.CLOSED, _("Closed")),
            ("", _("Open and closed")),
        ],
        "unread_total": selectors.unread_total(actor=actor, scope=filters.scope),
        "list_query": query,
        "current_id": current_id,
    }


@require_GET
@console_view
def inbox_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    context = _list_context(request, actor)
    return render(request, "inbox/inbox.html", {"nav_active": "inbox", **context})


@require_GET
@console_view
def list_partial(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The conversation rows (polled every 5 seconds)."""
    context = _list_context(request, actor, current_id=_int(request.GET.get("current")))
    return render(request, "inbox/partials/list.html", {**context, "oob_total": True})


# --- the thread -----------------------------------------------------------------------------


def _cursor(messages: list[Message], *, drawn_at: datetime, after_id: int = 0) -> dict[str, Any]:
    """Where the browser's thread stands: its last message, and when (just before) its
    messages were read: a change written after that comes with the next poll."""
    return {
        "cursor_after": max([after_id, *(m.pk for m in messages)]),
        "cursor_at": drawn_at.isoformat(),
    }


def _thread_context(actor: Actor, conversation: Conversation) -> dict[str, Any]:
    drawn_at = timezone.now()
    messages = selectors.thread_messages(conversation=conversation)
    return {
        "conversation": conversation,
        "thread_messages": messages,
        "window": selectors.window_state(conversation=conversation),
        **_cursor(messages, drawn_at=drawn_at),
    }


def _poll_cursor(request: HttpRequest) -> tuple[int, datetime] | None:
    """The thread's cursor sent by the poll, or None (then the whole thread is sent)."""
    after = _int(request.GET.get("after"))
    since = parse_datetime(request.GET.get("since", "")[:40])
    if after is None or since is None or timezone.is_naive(since):
        return None
    return after, since


def _composer_context(
    actor: Actor,
    conversation: Conversation,
    *,
    body: str = "",
    error: str = "",
    notice: str = "",
    draft: bool = False,
    list_spec: InteractiveList | None = None,
) -> dict[str, Any]:
    lead = selectors.lead_of(conversation=conversation)
    window = selectors.window_state(conversation=conversation)
    bots = selectors.bots_for(actor=actor)
    return {
        "conversation": conversation,
        "window": window,
        "body": body,
        # The agent has typed text the browser keeps: the text box stays even when
        # the window closed and no bot may run, so the text is not thrown away.
        "draft": draft or bool(body),
        "error": error,
        "notice": notice,
        "list_form": list_builder_fields(list_spec),
        "list_open": list_spec is not None,
        "templates": selectors.templates_for(conversation=conversation, lead=lead),
        "quick_replies": selectors.quick_replies(actor=actor, conversation=conversation)
        if window.open
        else [],
        "bots": bots if window.open else [b for b in bots if b.has_template],
    }


def _panel_context(actor: Actor, conversation: Conversation) -> dict[str, Any]:
    from telcodesk.pipelines.services import WORK_PERMISSION

    lead = selectors.lead_of(conversation=conversation)
    customer = conversation.customer
    document = None
    if customer is not None:
        document = (
            customer.documents.order_by("-is_primary", "id").first()  # type: ignore[attr-defined]
        )
    supervisor = selectors.is_supervisor(actor)
    members = (
        Membership.objects.filter(organization=actor.organization)
        .select_related("user")
        .order_by("user__first_name", "user__username")
        if supervisor
        else []
    )
    return {
        "conversation": conversation,
        "customer": customer,
        "document": document,
        "lead": lead,
        "panel_stamp": selectors.panel_stamp(conversation=conversation, lead=lead),
        "tab_summary": selectors.tab_summary(lead) if lead is not None else [],
        "can_create_lead": actor.can(WORK_PERMISSION),
        "is_supervisor": supervisor,
        "members": [(m.user.pk, m.user.get_full_name() or m.user.get_username()) for m in members],
        "teams": list(Team.objects.filter(organization=actor.organization).order_by("name"))
        if supervisor
        else [],
        "can_take": actor.user is not None
        and conversation.assigned_user_id != actor.user.pk
        and (supervisor or conversation.assigned_user_id is None),
        "can_release": actor.user is not None and conversation.assigned_user_id == actor.user.pk,
    }


@require_GET
@console_view
def thread_view(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_get(actor=actor, conversation_id=conversation_id)
    services.conversation_mark_read(actor=actor, conversation=conversation)
    context = {
        "nav_active": "inbox",
        **_list_context(request, actor, current_id=conversation.pk),
        **_thread_context(actor, conversation),
        **_composer_context(actor, conversation),
        **_panel_context(actor, conversation),
    }
    return render(request, "inbox/thread.html", context)


@require_GET
@console_view
def messages_partial(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    """The thread's messages (polled); new inbound messages are read while it is open.

    With the thread's cursor (``after``: its last message id, ``since``: when it was
    drawn) only what is new or changed is sent: new messages are appended and changed
    ones replaced by id, so an audio or video the agent is playing is left alone.
    Without it, the whole thread.
    """
    conversation = selectors.conversation_get(actor=actor, conversation_id=conversation_id)
    if conversation.unread_count:
        services.conversation_mark_read(actor=actor, conversation=conversation)
    cursor = _poll_cursor(request)
    context: dict[str, Any]
    if cursor is None:
        context = {**_thread_context(actor, conversation), "oob_window": True, "oob_cursor": True}
        template = "inbox/partials/messages.html"
    else:
        after_id, since = cursor
        drawn_at = timezone.now()
        changes = selectors.thread_changes(
            conversation=conversation, after_id=after_id, since=since
        )
        context = {
            "conversation": conversation,
            "window": selectors.window_state(conversation=conversation),
            "new_messages": changes.new,
            "changed_messages": changes.changed,
            "first_messages": after_id == 0 and bool(changes.new),
            **_cursor(changes.new, drawn_at=drawn_at, after_id=after_id),
        }
        template = "inbox/partials/messages_delta.html"
    # The poll carries the stamp its side panel was drawn with: when a bot, an
    # automation or a colleague moved the lead or took the conversation, the panel
    # comes along out of band.
    shown_panel = request.GET.get("panel_stamp")
    if shown_panel is not None:
        lead = selectors.lead_of(conversation=conversation)
        if shown_panel != selectors.panel_stamp(conversation=conversation, lead=lead):
            context.update({**_panel_context(actor, conversation), "oob_panel": True})
    response = render(request, template, context)
    # It also carries the window its composer was drawn for; when the customer wrote
    # (window opened) or the 24 hours ran out (closed), the composer redraws itself.
    shown_window = request.GET.get("composer_window", "")
    if shown_window and shown_window != context["window"].key:
        response["HX-Trigger"] = WINDOW_CHANGED_EVENT
    return response


@require_GET
@console_view
def composer_partial(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    """The reply box alone, for the current window (after the window opened or closed).

    ``draft=1``: the agent has typed text, which the browser puts back in the new box.
    """
    conversation = selectors.conversation_get(actor=actor, conversation_id=conversation_id)
    context = _composer_context(actor, conversation, draft=request.GET.get("draft") == "1")
    return render(request, "inbox/partials/composer.html", context)


def _composer_answer(
    request: HttpRequest,
    actor: Actor,
    conversation: Conversation,
    *,
    error: DomainError | None = None,
    body: str = "",
    notice: str = "",
    list_spec: InteractiveList | None = None,
) -> HttpResponse:
    if not getattr(request, "htmx", False):
        if error is None:
            return redirect(reverse("inbox:thread", args=[conversation.pk]))
        context = {
            "nav_active": "inbox",
            **_list_context(request, actor, current_id=conversation.pk),
            **_thread_context(actor, conversation),
            **_composer_context(
                actor, conversation, body=body, error=error.message, list_spec=list_spec
            ),
            **_panel_context(actor, conversation),
        }
        return render(request, "inbox/thread.html", context, status=422)
    conversation.refresh_from_db()
    context = {
        **_thread_context(actor, conversation),
        **_composer_context(
            actor,
            conversation,
            body=body if error is not None else "",
            error=error.message if error is not None else "",
            notice=notice,
            list_spec=list_spec if error is not None else None,
        ),
        "oob_messages": error is None,
    }
    return render(
        request, "inbox/partials/composer.html", context, status=422 if error is not None else 200
    )


@require_POST
@console_view
def send_view(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    """The reply box: a text, or "/bot name" to fire a bot."""
    conversation = selectors.conversation_get(actor=actor, conversation_id=conversation_id)
    body = request.POST.get("body", "")[:5000]
    try:
        result = services.composer_send(actor=actor, conversation=conversation, body=body)
    except DomainError as exc:
        return _composer_answer(request, actor, conversation, error=exc, body=body)
    notice = ""
    if result.bot_name:
        notice = _("Bot %(name)s ran: %(count)d message(s) queued.") % {
            "name": result.bot_name,
            "count": len(result.messages),
        }
        skipped = getattr(result.bot_result, "skipped", "")
        if skipped:
            notice = f"{notice} {skipped}"
    return _composer_answer(request, actor, conversation, notice=notice)


@require_POST
@console_view
def template_send_view(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_get(actor=actor, conversation_id=conversation_id)
    try:
        template_id = _int(request.POST.get("template_id"))
        if template_id is None:
            raise ValidationFailed(_("Choose a template."))
        template = selectors.template_get(
            actor=actor, conversation=conversation, template_id=template_id
        )
        params = [p.strip()[:1000] for p in request.POST.getlist("params")][:20]
        message_send_template(
            actor_or_none=actor, conversation=conversation, template=template, params=params
        )
    except DomainError as exc:
        return _composer_answer(request, actor, conversation, error=exc)
    return _composer_answer(request, actor, conversation)


@require_POST
@console_view
def buttons_send_view(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    """A text with up to 3 reply buttons the customer taps (inside the 24-hour window)."""
    conversation = selectors.conversation_get(actor=actor, conversation_id=conversation_id)
    titles = [t.strip() for t in request.POST.getlist("button") if t.strip()]
    try:
        if not titles:
            raise ValidationFailed(_("Write at least one button."))
        message_send_interactive(
            actor_or_none=actor,
            conversation=conversation,
            body=request.POST.get("body", ""),
            buttons=[(f"agent:{index}", title) for index, title in enumerate(titles)],
        )
    except DomainError as exc:
        return _composer_answer(request, actor, conversation, error=exc)
    return _composer_answer(request, actor, conversation)


@require_POST
@console_view
def list_send_view(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    """A list message from the composer's list builder (inside the 24-hour window)."""
    conversation = selectors.conversation_get(actor=actor, conversation_id=conversation_id)
    spec = list_from_form(request.POST)
    try:
        services.conversation_list_send(actor=actor, conversation=conversation, spec=spec)
    except DomainError as exc:
        return _composer_answer(request, actor, conversation, error=exc, list_spec=spec)
    return _composer_answer(request, actor, conversation)


@require_POST
@console_view
def media_send_view(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_get(actor=actor, conversation_id=conversation_id)
    upload = request.FILES.get("file")
    caption = request.POST.get("caption", "")[:1100]
    try:
        if upload is None:
            raise ValidationFailed(_("Choose a file to send."))
        data = upload.read(services.MAX_UPLOAD_BYTES_DEFAULT + 1)
        services.conversation_media_send(
            actor=actor,
            conversation=conversation,
            data=data,
            mime_type=upload.content_type or "",
            filename=(upload.name or "")[:255],
            caption=caption,
        )
    except DomainError as exc:
        return _composer_answer(request, actor, conversation, error=exc)
    return _composer_answer(request, actor, conversation)


@require_GET
@console_view
def media_view(
    request: HttpRequest, actor: Actor, conversation_id: int, message_id: int
) -> HttpResponse:
    """A message's file through the provider (the media proxy)."""
    conversation = selectors.conversation_get(actor=actor, conversation_id=conversation_id)
    message = selectors.message_get(actor=actor, conversation=conversation, message_id=message_id)
    try:
        media = media_fetch(message=message)
    except NotFound:
        raise
    except DomainError as exc:
        return HttpResponse(exc.message, status=502, content_type="text/plain; charset=utf-8")
    # A type a browser could run as a page (HTML, SVG...) is only ever a download.
    content_type = served_content_type(media.content_type)
    inline = content_type != DOWNLOAD_TYPE
    response = HttpResponse(media.data, content_type=content_type)
    if media.filename or not inline:
        response["Content-Disposition"] = content_disposition(
            filename=download_filename(media.filename, content_type), inline=inline
        )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@console_view
def email_attachment_view(
    request: HttpRequest, actor: Actor, conversation_id: int, message_id: int, index: int
) -> HttpResponse:
    """File ``index`` of a received e-mail of the conversation, read back from the mail.

    Raster images (PNG, JPEG, GIF, WebP) are served inline for the thread's thumbnails;
    anything else is a download, and never as a type the browser would run.
    """
    conversation = selectors.conversation_get(actor=actor, conversation_id=conversation_id)
    message = selectors.message_get(actor=actor, conversation=conversation, message_id=message_id)
    served = email_attachment_serve(actor=actor, message=message, index=index)
    response = HttpResponse(served.data, content_type=served.content_type)
    response["Content-Disposition"] = served.disposition
    response["X-Content-Type-Options"] = "nosniff"
    # Even if opened as a page, the file runs no script and loads nothing but itself.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- the side panel: assignment, status, lead ----------------------------------------------


def _panel_answer(
    request: HttpRequest, actor: Actor, conversation: Conversation, error: str = ""
) -> HttpResponse:
    if not getattr(request, "htmx", False):
        return redirect(reverse("inbox:thread", args=[conversation.pk]))
    conversation = selectors.conversation_get(actor=actor, conversation_id=conversation.pk)
    context = {**_panel_context(actor, conversation), "panel_error": error}
    return render(request, "inbox/partials/panel.html", context, status=422 if error else 200)


@require_POST
@console_view
def assign_view(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_get(actor=actor, conversation_id=conversation_id)
    user_id = _int(request.POST.get("user"))
    team_id = _int(request.POST.get("team"))
    user = User.objects.filter(pk=user_id).first() if user_id else None
    team = Team.objects.filter(pk=team_id).first() if team_id else None
    try:
        if (user_id and user is None) or (team_id and team is None):
            raise ValidationFailed(_("Choose an agent or a team of your organization."))
        services.conversation_assign(actor=actor, conversation=conversation, user=user, team=team)
    except DomainError as exc:
        return _panel_answer(request, actor, conversation, exc.message)
    return _panel_answer(request, actor, conversation)


@require_POST
@console_view
def take_view(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_get(actor=actor, conversation_id=conversation_id)
    try:
        services.conversation_take(actor=actor, conversation=conversation)
    except DomainError as exc:
        return _panel_answer(request, actor, conversation, exc.message)
    return _panel_answer(request, actor, conversation)


@require_POST
@console_view
def status_view(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_get(actor=actor, conversation_id=conversation_id)
    try:
        services.conversation_status_set(
            actor=actor, conversation=conversation, status=request.POST.get("status", "")
        )
    except DomainError as exc:
        return _panel_answer(request, actor, conversation, exc.message)
    return _panel_answer(request, actor, conversation)


@require_POST
@console_view
def lead_create_view(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_get(actor=actor, conversation_id=conversation_id)
    try:
        services.conversation_lead_create(actor=actor, conversation=conversation)
    except DomainError as exc:
        return _panel_answer(request, actor, conversation, exc.message)
    return _panel_answer(request, actor, conversation)

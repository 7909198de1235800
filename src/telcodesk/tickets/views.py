"""Agent console pages for tickets: the queues, a new ticket, the ticket page and its
actions, attachments, and the customer page's ticket panel.

Views only translate HTTP to tickets.selectors / tickets.services calls and back. A
ticket (or customer) the actor may not see is a 404. Writes post with htmx; a success
reloads the ticket page, a refusal comes back as the form's section with the service's
translated reason inline and status 422 (base.html tells htmx to swap 422s).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from telcodesk.accounts.models import Team, User
from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import ContactPoint, Customer, Subscription
from telcodesk.customers.selectors import customer_get
from telcodesk.customers.views import console_view, money, phone_display
from telcodesk.inbox.media import (
    INLINE_IMAGE_TYPES,
    content_disposition,
    download_filename,
    served_content_type,
)
from telcodesk.tickets import selectors, services
from telcodesk.tickets.answers import TICKET_ANSWER_FIELDS
from telcodesk.tickets.forms import (
    AnswersForm,
    AttachmentForm,
    ChargeForm,
    NoteForm,
    QueueFilterForm,
    ReplyForm,
    StatusForm,
    TicketNewForm,
)
from telcodesk.tickets.models import (
    ChargeStatus,
    SendStatus,
    Ticket,
    TicketCharge,
    TicketComment,
    TicketSubcategory,
)
from telcodesk.tickets.permissions import (
    ASSIGN_PERMISSION,
    CHARGE_APPROVE_PERMISSION,
    WORK_PERMISSION,
)
from telcodesk.tickets.rules import allowed_next, status_label

QUEUE_PAGE_SIZE = 50


def _scope_label(scope: str) -> str:
    labels = {
        selectors.Scope.MINE: _("Mine"),
        selectors.Scope.TEAM: _("My team"),
        selectors.Scope.UNASSIGNED: _("Unassigned"),
        selectors.Scope.ALL: _("All"),
    }
    return labels.get(scope, scope)


def business_duration_text(value: timedelta) -> str:
    """Business time as the agent reads it: "3 h 05 min", "overdue by 1 h 10 min"."""
    seconds = int(value.total_seconds())
    minutes = abs(seconds) // 60
    text = _("%(hours)d h %(minutes)02d min") % {"hours": minutes // 60, "minutes": minutes % 60}
    if seconds < 0:
        return _("overdue by %(time)s") % {"time": text}
    return text


def _sla_row(ticket: Ticket, now: datetime) -> dict[str, Any]:
    """The queue row's SLA cell: the nearest due moment and how it stands."""
    if ticket.sla_breached_at is not None or (
        ticket.sla_due_at is not None and ticket.sla_due_at <= now
    ):
        state = "breached"
    elif ticket.sla_warn_at is not None and ticket.sla_warn_at <= now:
        state = "breaching_soon"
    elif ticket.sla_due_at is not None:
        state = "running"
    else:
        state = ""
    return {"due_at": ticket.sla_due_at, "state": state}


def _to(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _ticket_url(ticket_id: int) -> str:
    return reverse("tickets:detail", args=[ticket_id])


# --- the queues ----------------------------------------------------------------------------------


@require_GET
@console_view
def queue_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    scopes = selectors.scopes_for(actor)
    scope = request.GET.get("scope") or selectors.default_scope(actor)
    form = QueueFilterForm(request.GET)
    values = form.values()
    tickets = selectors.tickets_queue(
        actor=actor,
        filters=selectors.TicketFilters(
            scope=scope,
            status=values["status"],
            category=values["category"],
            priority=values["priority"],
            query=values["q"],
            sla=values["sla"],
        ),
    )
    page = Paginator(tickets, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    for ticket in page.object_list:
        ticket.sla_row = _sla_row(ticket, now)  # type: ignore[attr-defined]
    query = QueryDict(mutable=True)
    for key, value in values.items():
        if value:
            query[key] = value
    context = {
        "nav_active": "tickets",
        "scope": scope,
        "scopes": [(key, _scope_label(key)) for key in scopes],
        "filter_form": form,
        "filter_query": query.urlencode(),
        "page": page,
        "sla_events": selectors.sla_events_for_user(actor=actor, limit=10),
    }
    if getattr(request, "htmx", False) and request.htmx.target == "ticket-queue":  # type: ignore[attr-defined]
        return render(request, "tickets/partials/queue_rows.html", context)
    return render(request, "tickets/queue.html", context)


# --- a new ticket --------------------------------------------------------------------------------


def _customer_param(request: HttpRequest, actor: Actor) -> Customer:
    raw = request.GET.get("customer") or request.POST.get("customer") or ""
    if not raw.isdigit():
        raise NotFound(_("Open a ticket from the customer's page: no customer was given."))
    return customer_get(actor=actor, customer_id=int(raw))


def _new_form(
    actor: Actor, customer: Customer, data: Any = None
) -> tuple[TicketNewForm, list[Subscription], list[TicketSubcategory]]:
    subscriptions = list(
        Subscription.objects.filter(customer=customer).order_by("status", "-started_on", "id")
    )
    subcategories = selectors.subcategories_for(actor=actor)
    form = TicketNewForm(data, subscriptions=subscriptions, subcategories=subcategories)
    return form, subscriptions, subcategories


@require_http_methods(["GET", "POST"])
@console_view
def ticket_new_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    """/tickets/new/?customer=<id>: open a ticket for the customer."""
    actor.require(WORK_PERMISSION)
    customer = _customer_param(request, actor)
    form, subscriptions, subcategories = _new_form(
        actor, customer, request.POST if request.method == "POST" else None
    )
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.ticket_create(
                    actor=actor,
                    customer=customer,
                    subscription=next(
                        (s for s in subscriptions if s.pk == data["subscription"]), None
                    ),
                    category=data["category"],
                    subcategory=next(
                        (s for s in subcategories if s.pk == data["subcategory"]), None
                    ),
                    subject=data["subject"],
                    description=data["description"],
                    customer_words=data["customer_words"],
                    priority=data["priority"],
                    channel=data["channel"],
                    take=data["take"],
                )
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    _("Ticket %(number)s opened. Tell the customer its number.")
                    % {"number": ticket.display_number},
                )
                return _to(request, _ticket_url(ticket.pk))
    return render(
        request,
        "tickets/new.html",
        {"nav_active": "tickets", "customer": customer, "form": form},
        status=status,
    )


# --- the ticket page -----------------------------------------------------------------------------


def _answer_rows(ticket: Ticket) -> list[dict[str, Any]]:
    rows = []
    for key, field in TICKET_ANSWER_FIELDS.items():
        value = ticket.answers.get(key)
        if value is None:
            shown = ""
        elif field.type == "yes_no":
            shown = _("Yes") if value else _("No")
        elif field.type == "choice":
            shown = str(dict(field.choices).get(value, value))
        else:
            shown = str(value)
        rows.append({"key": key, "label": field.label, "value": shown})
    return rows


def _customer_panel(ticket: Ticket) -> dict[str, Any]:
    contacts = list(
        ContactPoint.objects.filter(customer=ticket.customer).order_by("kind", "-is_primary", "id")
    )
    phone = next((c for c in contacts if c.kind == ContactPoint.Kind.PHONE), None)
    email = next((c for c in contacts if c.kind == ContactPoint.Kind.EMAIL), None)
    return {
        "phone": phone_display(phone.value) if phone else "",
        "email": email.value if email else "",
    }


def _route_address(route: selectors.ReplyRoute | None) -> str:
    if route is None:
        return ""
    return phone_display(route.address) if route.kind in ("whatsapp", "sms") else route.address


def _templates(route: selectors.ReplyRoute | None) -> list[tuple[int, str]]:
    if route is None or route.kind != "whatsapp" or route.conversation is None:
        return []
    from telcodesk.inbox.selectors import templates_for

    return [
        (choice.template.pk, f"{choice.template.name} [{choice.template.language}]")
        for choice in templates_for(conversation=route.conversation)
    ]


def _ticket_context(
    actor: Actor,
    ticket_id: int,
    *,
    error: str = "",
    status_form: StatusForm | None = None,
    reply_form: ReplyForm | None = None,
    note_form: NoteForm | None = None,
    answers_form: AnswersForm | None = None,
    charge_form: ChargeForm | None = None,
    attachment_form: AttachmentForm | None = None,
) -> dict[str, Any]:
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    route = selectors.reply_route(ticket=ticket)
    templates = _templates(route)
    country = ticket.organization.country
    charges = list(selectors.ticket_charges(ticket=ticket))
    can_work = actor.can(WORK_PERMISSION)
    can_assign = actor.can(ASSIGN_PERMISSION)
    clocks = [
        {
            "view": view,
            "remaining_text": (
                business_duration_text(view.remaining) if view.remaining is not None else ""
            ),
        }
        for view in selectors.ticket_sla_clocks(ticket=ticket)
    ]
    return {
        "nav_active": "tickets",
        "ticket": ticket,
        "customer": ticket.customer,
        "panel": _customer_panel(ticket),
        "route": route,
        "route_address": _route_address(route),
        "comments": list(selectors.ticket_comments(ticket=ticket)),
        "history": list(selectors.ticket_history(ticket=ticket)),
        "charges": [{"charge": c, "amount": money(c.amount, c.currency, country)} for c in charges],
        "attachments": list(selectors.ticket_attachments(ticket=ticket)),
        "answer_rows": _answer_rows(ticket),
        "next_statuses": [(s, status_label(s)) for s in allowed_next(ticket.status)],
        "error": error,
        "can_work": can_work and not ticket.is_closed,
        "can_assign": can_assign and not ticket.is_closed,
        "can_decide": actor.can(CHARGE_APPROVE_PERMISSION),
        "agents": selectors.agents_of(actor=actor) if can_assign else [],
        "teams": selectors.teams_of(actor=actor) if can_assign else [],
        "status_form": status_form or StatusForm(),
        "reply_form": reply_form or ReplyForm(templates=templates),
        "note_form": note_form or NoteForm(),
        "answers_form": answers_form
        or AnswersForm(initial=AnswersForm.initial_for(ticket.answers)),
        "charge_form": charge_form or ChargeForm(),
        "attachment_form": attachment_form or AttachmentForm(),
        "proposed": ChargeStatus.PROPOSED,
        "refused": SendStatus.REFUSED,
        "sla_clocks": clocks,
        "sla_events": list(selectors.ticket_sla_events(ticket=ticket)),
        "outages": selectors.ticket_outage_banner(ticket=ticket),
        "diagnostic_rows": _diagnostic_rows(ticket),
    }


def _diagnostic_rows(ticket: Ticket) -> list[dict[str, Any]]:
    """The ticket's diagnostic runs, as the network pages show them."""
    from telcodesk.network.views import STATUS_BADGES, VERDICT_BADGES, run_summary

    return [
        {
            "run": run,
            "summary": run_summary(run),
            "status_badge": STATUS_BADGES.get(run.status, "badge-disconnected"),
            "verdict_badge": VERDICT_BADGES.get(run.verdict, "badge-plain"),
        }
        for run in selectors.ticket_diagnostic_runs(ticket=ticket)
    ]


@require_GET
@console_view
def ticket_detail_view(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    return render(request, "tickets/ticket.html", _ticket_context(actor, ticket_id))


def _refused(
    request: HttpRequest, actor: Actor, ticket_id: int, section: str, **forms: Any
) -> HttpResponse:
    """The ticket page's ``section`` with the refusal inline (htmx), or the page, as 422."""
    context = _ticket_context(actor, ticket_id, **forms)
    template = (
        f"tickets/partials/ticket_{section}.html"
        if getattr(request, "htmx", False)
        else "tickets/ticket.html"
    )
    return render(request, template, context, status=422)


@require_POST
@console_view
def ticket_status_view(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_status_set(
                actor=actor,
                ticket=ticket,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("Ticket %(number)s is now “%(status)s”.")
                % {
                    "number": ticket.display_number,
                    "status": status_label(form.cleaned_data["status"]),
                },
            )
            return _to(request, _ticket_url(ticket_id))
    return _refused(request, actor, ticket_id, "actions", status_form=form)


@require_POST
@console_view
def ticket_take_view(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    try:
        services.ticket_take(actor=actor, ticket=ticket)
    except (ValidationFailed, PermissionDenied) as exc:
        return _refused(request, actor, ticket_id, "actions", error=exc.message)
    messages.success(request, _("You work this ticket now."))
    return _to(request, _ticket_url(ticket_id))


def _chosen(model: type[User] | type[Team], raw: str, actor: Actor) -> Any:
    if not raw:
        return None
    if not raw.isdigit():
        return False
    if model is Team:
        return Team.objects.filter(pk=int(raw), organization=actor.organization).first() or False
    return (
        User.objects.filter(pk=int(raw), memberships__organization=actor.organization).first()
        or False
    )


@require_POST
@console_view
def ticket_assign_view(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    """A supervisor gives the ticket to a person and/or a team (or to nobody)."""
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    user = _chosen(User, request.POST.get("user", "").strip(), actor)
    team = _chosen(Team, request.POST.get("team", "").strip(), actor)
    if user is False or team is False:
        error = _("Choose one of the people and teams of your organization.")
        return _refused(request, actor, ticket_id, "actions", error=error)
    try:
        services.ticket_assign(actor=actor, ticket=ticket, user=user, team=team)
    except (ValidationFailed, PermissionDenied) as exc:
        return _refused(request, actor, ticket_id, "actions", error=exc.message)
    messages.success(request, _("The ticket's assignee was changed."))
    return _to(request, _ticket_url(ticket_id))


def _reply_outcome(request: HttpRequest, comment: TicketComment) -> None:
    if comment.send_status == SendStatus.REFUSED:
        messages.error(
            request,
            _("The reply was kept but not sent: %(reason)s") % {"reason": comment.refusal_message},
        )
    else:
        messages.success(request, _("Reply sent to the customer."))


@require_POST
@console_view
def ticket_reply_view(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    route = selectors.reply_route(ticket=ticket)
    form = ReplyForm(request.POST, templates=_templates(route))
    if form.is_valid():
        template_id = form.cleaned_data["template"]
        try:
            template = (
                selectors.reply_template_get(actor=actor, template_id=template_id)
                if template_id
                else None
            )
            comment = services.ticket_reply(
                actor=actor, ticket=ticket, body=form.cleaned_data["body"], template=template
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            _reply_outcome(request, comment)
            return _to(request, _ticket_url(ticket_id))
    return _refused(request, actor, ticket_id, "conversation", reply_form=form)


@require_POST
@console_view
def ticket_reply_resend_view(
    request: HttpRequest, actor: Actor, ticket_id: int, comment_id: int
) -> HttpResponse:
    """Send again a reply that was not sent (with a template when one is chosen)."""
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    comment = TicketComment.objects.filter(pk=comment_id, ticket=ticket).first()
    if comment is None:
        raise NotFound(_("No such reply on this ticket."))
    raw = request.POST.get("template", "")
    try:
        template = (
            selectors.reply_template_get(actor=actor, template_id=int(raw))
            if raw.isdigit()
            else None
        )
        comment = services.ticket_reply_resend(actor=actor, comment=comment, template=template)
    except ValidationFailed as exc:
        return _refused(request, actor, ticket_id, "conversation", error=exc.message)
    _reply_outcome(request, comment)
    return _to(request, _ticket_url(ticket_id))


@require_POST
@console_view
def ticket_note_view(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_note(actor=actor, ticket=ticket, body=form.cleaned_data["body"])
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Note added."))
            return _to(request, _ticket_url(ticket_id))
    return _refused(request, actor, ticket_id, "conversation", note_form=form)


@require_POST
@console_view
def ticket_answers_view(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    form = AnswersForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_answers_set(actor=actor, ticket=ticket, answers=form.answers())
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The answers were saved."))
            return _to(request, _ticket_url(ticket_id))
    return _refused(request, actor, ticket_id, "answers", answers_form=form)


@require_POST
@console_view
def ticket_charge_add_view(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    form = ChargeForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_charge_add(
                actor=actor,
                ticket=ticket,
                kind=form.cleaned_data["kind"],
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Charge proposed; a supervisor approves it."))
            return _to(request, _ticket_url(ticket_id))
    return _refused(request, actor, ticket_id, "charges", charge_form=form)


@require_POST
@console_view
def ticket_charge_decide_view(
    request: HttpRequest, actor: Actor, ticket_id: int, charge_id: int, decision: str
) -> HttpResponse:
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    charge = TicketCharge.objects.filter(pk=charge_id, ticket=ticket).first()
    if charge is None or decision not in ("approve", "reject"):
        raise NotFound(_("No such charge on this ticket."))
    decide = (
        services.ticket_charge_approve if decision == "approve" else services.ticket_charge_reject
    )
    try:
        decide(actor=actor, charge=charge, note=request.POST.get("note", "")[:2000])
    except (ValidationFailed, PermissionDenied) as exc:
        return _refused(request, actor, ticket_id, "charges", error=exc.message)
    messages.success(
        request, _("Charge approved.") if decision == "approve" else _("Charge rejected.")
    )
    return _to(request, _ticket_url(ticket_id))


@require_POST
@console_view
def ticket_attachment_add_view(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            services.ticket_attachment_add(
                actor=actor, ticket=ticket, filename=upload.name or "", data=upload.read()
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("File attached."))
            return _to(request, _ticket_url(ticket_id))
    return _refused(request, actor, ticket_id, "attachments", attachment_form=form)


@require_GET
@console_view
def attachment_download_view(
    request: HttpRequest, actor: Actor, ticket_id: int, attachment_id: int
) -> HttpResponse:
    """An attachment, for the organization's people only: inline only for a raster
    image, anything else as a download, never as a type a browser could run."""
    attachment = selectors.attachment_get(
        actor=actor, ticket_id=ticket_id, attachment_id=attachment_id
    )
    served = served_content_type(attachment.content_type)
    with attachment.file.open("rb") as stored:  # at most the attachment size limit
        response = HttpResponse(stored.read(), content_type=served)
    response["Content-Disposition"] = content_disposition(
        filename=download_filename(attachment.filename, served),
        inline=served in INLINE_IMAGE_TYPES,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- the customer page's panel -------------------------------------------------------------------


@require_GET
@console_view
def sla_policies_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The organization's SLA policies, read-only (the pack manages them)."""
    return render(
        request,
        "tickets/sla_policies.html",
        {"nav_active": "tickets", "policies": selectors.sla_policies_list(actor=actor)},
    )


@require_GET
@console_view
def customer_tickets_view(request: HttpRequest, actor: Actor, customer_id: int) -> HttpResponse:
    """The customer's tickets (open first), for the customer page to hx-get."""
    tickets = selectors.customer_tickets(actor=actor, customer_id=customer_id)
    return render(
        request,
        "tickets/partials/customer_tickets.html",
        {
            "customer_id": customer_id,
            "tickets": tickets,
            "can_create": actor.can(WORK_PERMISSION),
        },
    )

"""Agent console pages for visits: the ticket's visit box (an htmx fragment the ticket
page embeds), the technicians' day board, and the printable work order.

Views only translate HTTP to visits.selectors / visits.services calls and back. A
ticket or visit the actor may not see is a 404. The visit box's forms post with htmx and
get the box back: refreshed after a success, with the service's translated reason
inline and status 422 after a refusal.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import ContactPoint
from telcodesk.customers.views import console_view, money, phone_display
from telcodesk.network.models import DiagnosticRun
from telcodesk.tickets.answers import TICKET_ANSWER_FIELDS
from telcodesk.tickets.models import Ticket
from telcodesk.tickets.permissions import ASSIGN_PERMISSION, WORK_PERMISSION
from telcodesk.tickets.selectors import ticket_get
from telcodesk.visits import selectors, services
from telcodesk.visits.models import PartOfDay, Visit, VisitStatus
from telcodesk.visits.notify import visit_time_window, visit_when
from telcodesk.visits.rules import Availability


def _ticket_param(actor: Actor, raw: str | None) -> Ticket:
    if not raw or not raw.isdigit():
        raise NotFound(_("No such ticket. It may belong to another organization."))
    return ticket_get(actor=actor, ticket_id=int(raw))


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _availability(params: QueryDict) -> Availability:
    part = params.get("part_of_day") or PartOfDay.ANY
    return Availability(
        part_of_day=part if part in PartOfDay.values else PartOfDay.ANY,
        date_from=_date(params.get("date_from")),
        date_to=_date(params.get("date_to")),
    )


def _slot_rows(slots: list[selectors.Slot], time_zone: str) -> list[dict[str, Any]]:
    zone = ZoneInfo(time_zone)
    rows = []
    for slot in slots:
        local = slot.starts_at.astimezone(zone)
        rows.append(
            {
                "day": local.date(),
                "window": visit_time_window(slot.starts_at, slot.ends_at, time_zone=time_zone),
                "technicians": [
                    {
                        "value": f"{slot.starts_at.isoformat()}|{t.technician_id}",
                        "name": t.name,
                        "used": t.used,
                        "capacity": t.capacity,
                    }
                    for t in slot.technicians
                ],
            }
        )
    return rows


def _box_context(
    actor: Actor, ticket: Ticket, params: QueryDict, error: str = ""
) -> dict[str, Any]:
    policy = selectors.visit_policy(ticket.organization)
    active = selectors.ticket_active_visit(ticket)
    availability = _availability(params)
    slots: list[selectors.Slot] = []
    slots_problem = ""
    can_work = actor.can(WORK_PERMISSION)
    if can_work and ticket.is_open:
        try:
            slots = selectors.visit_slots(
                actor=actor,
                ticket=ticket,
                availability=availability,
                exclude_visit=active.pk if active else None,
            )
        except ValidationFailed as refusal:
            slots_problem = refusal.message
    language = get_language() or "es"
    return {
        "ticket": ticket,
        "active": active,
        "active_when": visit_when(
            active.starts_at, active.ends_at, time_zone=policy.time_zone, language=language
        )
        if active
        else "",
        "history": selectors.ticket_visits(actor=actor, ticket=ticket),
        "slot_rows": _slot_rows(slots, policy.time_zone),
        "slots_problem": slots_problem,
        "availability": availability,
        "part_of_day_choices": PartOfDay.choices,
        "adult_required": policy.adult_required,
        "can_work": can_work,
        "error": error,
        "time_zone": policy.time_zone,
        "box_url": reverse("visits:ticket_visit") + f"?ticket={ticket.pk}",
    }


def _box(
    request: HttpRequest, actor: Actor, ticket: Ticket, *, error: str = "", status: int = 200
) -> HttpResponse:
    ticket = ticket_get(actor=actor, ticket_id=ticket.pk)  # fresh status after a write
    context = _box_context(actor, ticket, request.GET, error)
    return render(request, "visits/ticket_visit.html", context, status=status)


@require_GET
@console_view
def ticket_visit_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The ticket page's visit box (``hx-get`` with ``?ticket=<id>``)."""
    ticket = _ticket_param(actor, request.GET.get("ticket"))
    return _box(request, actor, ticket)


def _slot_choice(raw: str) -> tuple[datetime, int]:
    starts, _sep, technician = (raw or "").partition("|")
    try:
        starts_at = datetime.fromisoformat(starts)
    except ValueError:
        starts_at = None
    if starts_at is None or timezone.is_naive(starts_at) or not technician.isdigit():
        message = _("Choose one of the listed slots.")
        raise ValidationFailed(message, details={"slot": [message]})
    return starts_at, int(technician)


@require_POST
@console_view
def visit_book_view(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    ticket = ticket_get(actor=actor, ticket_id=ticket_id)
    try:
        starts_at, technician_id = _slot_choice(request.POST.get("slot", ""))
        services.visit_book(
            actor=actor,
            ticket=ticket,
            starts_at=starts_at,
            technician_id=technician_id,
            part_of_day=request.POST.get("part_of_day") or PartOfDay.ANY,
            availability_note=request.POST.get("availability_note", ""),
            adult_present=request.POST.get("adult_present") == "on",
            extra_cost=request.POST.get("extra_cost", "").strip() or None,
            extra_cost_kind=request.POST.get("extra_cost_kind") or "internal_damage",
            extra_cost_reason=request.POST.get("extra_cost_reason", ""),
        )
    except ValidationFailed as refusal:
        return _box(request, actor, ticket, error=refusal.message, status=422)
    return _box(request, actor, ticket)


def _visit(actor: Actor, visit_id: int) -> Visit:
    return selectors.visit_get(actor=actor, visit_id=visit_id)


@require_POST
@console_view
def visit_reschedule_view(request: HttpRequest, actor: Actor, visit_id: int) -> HttpResponse:
    visit = _visit(actor, visit_id)
    try:
        starts_at, technician_id = _slot_choice(request.POST.get("slot", ""))
        services.visit_reschedule(
            actor=actor,
            visit=visit,
            starts_at=starts_at,
            technician_id=technician_id,
            reason=request.POST.get("reason", ""),
        )
    except ValidationFailed as refusal:
        return _box(request, actor, visit.ticket, error=refusal.message, status=422)
    return _box(request, actor, visit.ticket)


@require_POST
@console_view
def visit_cancel_view(request: HttpRequest, actor: Actor, visit_id: int) -> HttpResponse:
    visit = _visit(actor, visit_id)
    try:
        services.visit_cancel(actor=actor, visit=visit, reason=request.POST.get("reason", ""))
    except ValidationFailed as refusal:
        return _box(request, actor, visit.ticket, error=refusal.message, status=422)
    return _box(request, actor, visit.ticket)


@require_POST
@console_view
def visit_complete_view(request: HttpRequest, actor: Actor, visit_id: int) -> HttpResponse:
    visit = _visit(actor, visit_id)
    try:
        services.visit_complete(
            actor=actor,
            visit=visit,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationFailed as refusal:
        return _box(request, actor, visit.ticket, error=refusal.message, status=422)
    return _box(request, actor, visit.ticket)


# --- the board ----------------------------------------------------------------------------------


@require_GET
@console_view
def board_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The technicians by day, with their visits and the capacity used."""
    actor.require(ASSIGN_PERMISSION)
    policy = selectors.visit_policy(actor.organization)
    today = timezone.now().astimezone(ZoneInfo(policy.time_zone)).date()
    start = _date(request.GET.get("start")) or today
    rows = selectors.technician_board(actor=actor, start=start, days=5)
    zone = ZoneInfo(policy.time_zone)
    return render(
        request,
        "visits/board.html",
        {
            "rows": rows,
            "days": [start + timedelta(days=offset) for offset in range(5)],
            "start": start,
            "previous": start - timedelta(days=5),
            "next": start + timedelta(days=5),
            "time_zone": policy.time_zone,
            "zone": zone,
            "nav_active": "visits",
        },
    )


# --- the work order -----------------------------------------------------------------------------


def _answers(ticket: Ticket) -> list[dict[str, str]]:
    rows = []
    for key, field in TICKET_ANSWER_FIELDS.items():
        value = ticket.answers.get(key)
        if value is None or value == "":
            continue
        if field.type == "yes_no":
            shown = _("Yes") if value else _("No")
        elif field.type == "choice":
            shown = str(dict(field.choices).get(value, value))
        else:
            shown = str(value)
        rows.append({"label": str(field.label), "value": shown})
    return rows


@require_GET
@console_view
def work_order_view(request: HttpRequest, actor: Actor, visit_id: int) -> HttpResponse:
    """The technician's printable work order (no external assets; print CSS inline)."""
    visit = _visit(actor, visit_id)
    ticket = visit.ticket
    policy = selectors.visit_policy(ticket.organization)
    phones = [
        phone_display(value)
        for value in ContactPoint.objects.filter(
            customer=visit.customer, kind=ContactPoint.Kind.PHONE
        )
        .order_by("-is_primary", "id")
        .values_list("value", flat=True)
    ]
    diagnostics = list(DiagnosticRun.objects.filter(ticket=ticket).order_by("started_at", "id"))
    charge = visit.charge
    subscription = visit.subscription
    return render(
        request,
        "visits/work_order.html",
        {
            "visit": visit,
            "ticket": ticket,
            "customer": visit.customer,
            "phones": phones,
            "subscription": subscription,
            "plan": (subscription.plan.name if subscription and subscription.plan else "")
            or (subscription.plan_name if subscription else ""),
            "answers": _answers(ticket),
            "diagnostics": diagnostics,
            "charge_amount": money(charge.amount, charge.currency, ticket.organization.country)
            if charge
            else "",
            "when": visit_when(
                visit.starts_at,
                visit.ends_at,
                time_zone=policy.time_zone,
                language=get_language() or "es",
            ),
            "is_active": visit.status in (VisitStatus.BOOKED, VisitStatus.RESCHEDULED),
            "time_zone": policy.time_zone,
        },
    )

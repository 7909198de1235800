"""Agent console pages for leads: pipeline picker, board, list, lead page, my queue.

Views only translate HTTP to pipelines.selectors / pipelines.services calls and back.
A pipeline or lead the actor may not see is a 404. Writes post with htmx and get back
the part of the page they change; a refusal comes back as that same part with the
service's translated reason inline and status 422 (base.html tells htmx to swap 422s).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from telcodesk.accounts.models import User
from telcodesk.core.errors import PermissionDenied, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.views import console_view, money, phone_display
from telcodesk.pipelines import selectors, services
from telcodesk.pipelines.assignment import ASSIGN_PERMISSION, lead_assign, lead_take
from telcodesk.pipelines.forms import (
    LeadDataForm,
    LeadFilterForm,
    LeadLoseForm,
    LeadMoveForm,
    LeadNewForm,
)
from telcodesk.pipelines.models import (
    Lead,
    LeadSource,
    LeadStageChange,
    Pipeline,
    Stage,
)
from telcodesk.pipelines.notifications import notifications_mark_read

LIST_PAGE_SIZE = 50
RULE_LABELS = {
    "riser": gettext_lazy("Riser (acometida)"),
    "debt": gettext_lazy("Debt"),
    "carrier_offer": gettext_lazy("Offer by carrier"),
    "permanence": gettext_lazy("Time with the current carrier"),
}
QUEUE_LABELS = {
    1: gettext_lazy("Replied to an offer"),
    2: gettext_lazy("Call now"),
    3: gettext_lazy("Follow-up due"),
}


# --- reads the console needs beyond pipelines.selectors (candidates for selectors) --------


def _stage_for_move(actor: Actor, stage_id: int) -> Stage:
    stage = Stage.objects.filter(pk=stage_id, organization=actor.organization).first()
    if stage is None:
        message = _("Choose one of the stages of the lead's pipeline.")
        raise ValidationFailed(message, details={"stage": [message]})
    return stage


# --- presentation -----------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    lead: Lead
    phone: str
    owner: str
    undefined_reason: bool
    error: str = ""


def card_for(lead: Lead, error: str = "") -> Card:
    owner = lead.owner
    return Card(
        lead=lead,
        phone=phone_display(lead.phone),
        owner=(owner.get_full_name() or owner.get_username()) if owner else "",
        undefined_reason=lead.loss_reason is not None and lead.loss_reason.is_system,
        error=error,
    )


def _filter_form(request: HttpRequest, actor: Actor) -> LeadFilterForm:
    return LeadFilterForm(
        request.GET, owners=selectors.agents_of(actor=actor), teams=selectors.teams_of(actor=actor)
    )


def _filter_query(request: HttpRequest) -> str:
    query = QueryDict(mutable=True)
    for key in ("owner", "team", "source", "age", "undefined"):
        if request.GET.get(key):
            query[key] = request.GET[key]
    return query.urlencode()


def _board_context(
    request: HttpRequest,
    actor: Actor,
    pipeline: Pipeline,
    *,
    errors: dict[int, str] | None = None,
    moved: int | None = None,
    new_form: LeadNewForm | None = None,
    duplicate: Card | None = None,
) -> dict[str, Any]:
    form = _filter_form(request, actor)
    columns = selectors.leads_by_stage(
        actor=actor, pipeline=pipeline, filters=form.lead_filters(timezone.now())
    )
    country = actor.organization.country
    errors = errors or {}
    shown = {lead.pk for column in columns for lead in column.leads}
    return {
        "nav_active": "leads",
        "pipeline": pipeline,
        "columns": [
            {
                "stage": column.stage,
                "count": column.count,
                "value": money(column.value, pipeline.organization.currency, country),
                "cards": [card_for(lead, errors.get(lead.pk, "")) for lead in column.leads],
                "more": column.count - len(column.leads),
            }
            for column in columns
        ],
        "filter_form": form,
        "filter_query": _filter_query(request),
        "move_stages": selectors.stages_to_move_to(pipeline=pipeline),
        # A refusal for a lead the filters hide is shown above the board.
        "hidden_errors": [message for pk, message in errors.items() if pk not in shown],
        "moved": moved,
        "can_edit": actor.can(services.WORK_PERMISSION),
        "new_form": new_form or LeadNewForm(prefix="new"),
        "duplicate": duplicate,
    }


# --- pages ------------------------------------------------------------------------------


@require_GET
@console_view
def pipeline_picker_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    pipelines = list(selectors.pipelines_visible(actor=actor).order_by("position", "id"))
    undefined = selectors.undefined_reason_counts_by_pipeline(actor=actor)
    for pipeline in pipelines:
        # Shown beside each pipeline, linking to its list of those leads.
        pipeline.undefined_count = undefined.get(pipeline.pk, 0)  # type: ignore[attr-defined]
    return render(
        request,
        "pipelines/picker.html",
        {
            "nav_active": "leads",
            "pipelines": pipelines,
            "undefined_count": selectors.leads_with_undefined_reason_count(actor=actor),
            "queue_count": len(selectors.my_queue(actor=actor)),
        },
    )


@require_GET
@console_view
def board_view(request: HttpRequest, actor: Actor, pipeline_id: int) -> HttpResponse:
    pipeline = selectors.pipeline_get(actor=actor, pipeline_id=pipeline_id)
    context = _board_context(request, actor, pipeline)
    if getattr(request, "htmx", False) and request.htmx.target == "board":  # type: ignore[attr-defined]
        return render(request, "pipelines/partials/board.html", context)
    return render(request, "pipelines/board.html", context)


@require_GET
@console_view
def lead_list_view(request: HttpRequest, actor: Actor, pipeline_id: int) -> HttpResponse:
    pipeline = selectors.pipeline_get(actor=actor, pipeline_id=pipeline_id)
    form = _filter_form(request, actor)
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position", "id"))
    stage_param = request.GET.get("stage", "")
    stage_id = int(stage_param) if stage_param.isdigit() else None
    paginator = Paginator(
        selectors.leads_filtered(
            actor=actor,
            pipeline=pipeline,
            filters=form.lead_filters(timezone.now()),
            stage_id=stage_id,
        ),
        LIST_PAGE_SIZE,
    )
    page = paginator.get_page(request.GET.get("page"))
    query = _filter_query(request)
    if stage_id is not None:
        query = "&".join(part for part in (query, f"stage={stage_id}") if part)
    return render(
        request,
        "pipelines/list.html",
        {
            "nav_active": "leads",
            "pipeline": pipeline,
            "filter_form": form,
            "filter_query": query,
            "stages": stages,
            "stage_id": stage_id,
            "page": page,
            "cards": [card_for(lead) for lead in page.object_list],
        },
    )


def _lead_context(
    actor: Actor,
    lead_id: int,
    *,
    data_form: LeadDataForm | None = None,
    lose_form: LeadLoseForm | None = None,
    move_form: LeadMoveForm | None = None,
    action_error: str = "",
) -> dict[str, Any]:
    lead = selectors.lead_get(actor=actor, lead_id=lead_id)
    pipeline = lead.pipeline
    reasons = selectors.loss_reasons_for(actor=actor, pipeline=pipeline)
    history = (
        LeadStageChange.objects.filter(lead=lead)
        .select_related("from_stage", "to_stage", "actor", "loss_reason")
        .order_by("-at", "-id")
    )
    decisions = selectors.lead_rule_decisions(actor=actor, lead=lead)
    return {
        "nav_active": "leads",
        "lead": lead,
        "card": card_for(lead),
        "pipeline": pipeline,
        "value": money(lead.value, lead.currency, lead.organization.country),
        "data_form": data_form
        or LeadDataForm(pipeline=pipeline, initial=LeadDataForm.initial_for(lead.data)),
        "lose_form": lose_form or LeadLoseForm(reasons=reasons),
        "move_form": move_form
        or LeadMoveForm(stages=selectors.stages_to_move_to(pipeline=pipeline), prefix="move"),
        "reasons": reasons,
        "history": list(history),
        "timeline": selectors.lead_timeline(actor=actor, lead=lead),
        "notifications": list(selectors.notifications_unread(actor=actor, lead=lead)),
        "proposal_open": lead.proposed_loss_reason_id is not None and lead.is_open,
        "decisions": [
            {"key": key, "label": RULE_LABELS.get(key, key), "decision": decision}
            for key, decision in decisions.items()
        ],
        "action_error": action_error,
        "can_edit": actor.can(services.WORK_PERMISSION),
        "recent_messages": selectors.lead_recent_messages(actor=actor, lead=lead),
        "tasks": selectors.lead_tasks_open(actor=actor, lead=lead),
        "same_phone": [
            card_for(other) for other in selectors.leads_same_phone(actor=actor, lead=lead)
        ],
        "can_assign": actor.can(ASSIGN_PERMISSION),
        "agents": selectors.agents_of(actor=actor) if actor.can(ASSIGN_PERMISSION) else [],
        "checks_coverage": "coverage_result" in pipeline.tab_fields(),
    }


@require_GET
@console_view
def lead_detail_view(request: HttpRequest, actor: Actor, lead_id: int) -> HttpResponse:
    return render(request, "pipelines/lead.html", _lead_context(actor, lead_id))


def _to(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _lead_refused(
    request: HttpRequest, actor: Actor, lead_id: int, section: str, **forms: Any
) -> HttpResponse:
    """The lead page's ``section`` with the refusal inline (htmx), or the page, as 422."""
    context = _lead_context(actor, lead_id, **forms)
    template = (
        f"pipelines/partials/lead_{section}.html"
        if getattr(request, "htmx", False)
        else "pipelines/lead.html"
    )
    return render(request, template, context, status=422)


@require_POST
@console_view
def lead_move_view(request: HttpRequest, actor: Actor, lead_id: int) -> HttpResponse:
    """From the board (``?`` carries its filters) or from the lead page (``from=lead``)."""
    lead = selectors.lead_get(actor=actor, lead_id=lead_id)
    from_lead_page = request.POST.get("from") == "lead"
    form = LeadMoveForm(
        request.POST,
        stages=selectors.stages_to_move_to(pipeline=lead.pipeline),
        prefix="move" if from_lead_page else None,
    )
    error = ""
    if form.is_valid():
        try:
            services.lead_move(
                actor=actor,
                lead=lead,
                to_stage=_stage_for_move(actor, form.cleaned_data["stage"]),
                reason=form.cleaned_data["reason"],
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc)
            error = exc.message
    else:
        error = " ".join(str(message) for errors in form.errors.values() for message in errors)
    if from_lead_page:
        if error:
            return _lead_refused(
                request, actor, lead_id, "actions", move_form=form, action_error=error
            )
        messages.success(request, _("Lead moved."))
        return _to(request, reverse("pipelines:lead", args=[lead_id]))
    pipeline = lead.pipeline
    if not getattr(request, "htmx", False):
        if error:
            context = _board_context(request, actor, pipeline, errors={lead_id: error})
            return render(request, "pipelines/board.html", context, status=422)
        url = reverse("pipelines:board", args=[pipeline.pk])
        query = _filter_query(request)
        return redirect(f"{url}?{query}" if query else url)
    context = _board_context(
        request, actor, pipeline, errors={lead_id: error} if error else {}, moved=lead_id
    )
    return render(request, "pipelines/partials/board.html", context, status=422 if error else 200)


@require_POST
@console_view
def lead_data_view(request: HttpRequest, actor: Actor, lead_id: int) -> HttpResponse:
    lead = selectors.lead_get(actor=actor, lead_id=lead_id)
    form = LeadDataForm(
        request.POST, pipeline=lead.pipeline, initial=LeadDataForm.initial_for(lead.data)
    )
    if form.is_valid():
        try:
            services.lead_update_data(actor=actor, lead=lead, data=form.changes())
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The lead's data was saved."))
            return _to(request, reverse("pipelines:lead", args=[lead_id]))
    return _lead_refused(request, actor, lead_id, "data", data_form=form)


@require_POST
@console_view
def lead_lose_view(request: HttpRequest, actor: Actor, lead_id: int) -> HttpResponse:
    lead = selectors.lead_get(actor=actor, lead_id=lead_id)
    form = LeadLoseForm(
        request.POST, reasons=selectors.loss_reasons_for(actor=actor, pipeline=lead.pipeline)
    )
    if form.is_valid():
        try:
            services.lead_lose(
                actor=actor, lead=lead, reason=form.reason(), note=form.cleaned_data["note"]
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The lead was closed as lost."))
            return _to(request, reverse("pipelines:lead", args=[lead_id]))
    return _lead_refused(request, actor, lead_id, "actions", lose_form=form)


@require_POST
@console_view
def lead_win_view(request: HttpRequest, actor: Actor, lead_id: int) -> HttpResponse:
    lead = selectors.lead_get(actor=actor, lead_id=lead_id)
    try:
        services.lead_win(actor=actor, lead=lead)
    except ValidationFailed as exc:
        return _lead_refused(request, actor, lead_id, "actions", action_error=exc.message)
    messages.success(request, _("The lead was won."))
    return _to(request, reverse("pipelines:lead", args=[lead_id]))


@require_POST
@console_view
def lead_take_view(request: HttpRequest, actor: Actor, lead_id: int) -> HttpResponse:
    """ "Take this lead": the agent accepts an unowned lead."""
    lead = selectors.lead_get(actor=actor, lead_id=lead_id)
    try:
        lead_take(actor=actor, lead=lead)
    except (ValidationFailed, PermissionDenied) as exc:
        return _lead_refused(request, actor, lead_id, "actions", action_error=exc.message)
    messages.success(request, _("You work this lead now."))
    return _to(request, reverse("pipelines:lead", args=[lead_id]))


@require_POST
@console_view
def lead_assign_view(request: HttpRequest, actor: Actor, lead_id: int) -> HttpResponse:
    """A supervisor gives the lead to an agent of the organization (or to nobody)."""
    lead = selectors.lead_get(actor=actor, lead_id=lead_id)
    raw = request.POST.get("owner", "").strip()
    owner = None
    if raw:
        owner = User.objects.filter(
            pk=int(raw) if raw.isdigit() else 0, memberships__organization=actor.organization
        ).first()
        if owner is None:
            error = _("Choose one of the agents of your organization.")
            return _lead_refused(request, actor, lead_id, "actions", action_error=error)
    try:
        lead_assign(actor=actor, lead=lead, owner=owner)
    except (ValidationFailed, PermissionDenied) as exc:
        return _lead_refused(request, actor, lead_id, "actions", action_error=exc.message)
    messages.success(request, _("The lead's owner was changed."))
    return _to(request, reverse("pipelines:lead", args=[lead_id]))


@require_POST
@console_view
def lead_new_view(request: HttpRequest, actor: Actor, pipeline_id: int) -> HttpResponse:
    """An agent types a lead in (source "manual"), owned by them; the board's form.

    A phone that already has a lead in the pipeline is not given another: the board
    comes back (409) naming the existing lead and the agent who works it.
    """
    pipeline = selectors.pipeline_get(actor=actor, pipeline_id=pipeline_id)
    form = LeadNewForm(request.POST, prefix="new")
    status = 422
    duplicate: Card | None = None
    if form.is_valid():
        try:
            result = services.lead_create(
                actor=actor,
                pipeline=pipeline,
                name=form.cleaned_data["name"],
                phone=form.cleaned_data["phone"],
                document=form.cleaned_data["document"],
                email=form.cleaned_data["email"],
                source=LeadSource.MANUAL,
                owner=actor.user,
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            if result.created:
                messages.success(request, _("Lead created."))
                return _to(request, reverse("pipelines:lead", args=[result.lead.pk]))
            duplicate = card_for(result.lead, result.duplicate_message)
            status = 409
    context = _board_context(request, actor, pipeline, new_form=form, duplicate=duplicate)
    return render(request, "pipelines/board.html", context, status=status)


@require_POST
@console_view
def lead_task_done_view(request: HttpRequest, actor: Actor, task_id: int) -> HttpResponse:
    """Mark a task done; back to the lead page, or to the queue (``from=queue``).

    Another agent's task is the console's 403 page (lead_task_complete says why).
    """
    task = services.lead_task_complete(actor=actor, task_id=task_id)
    messages.success(request, _("Task done."))
    if request.POST.get("from") == "queue":
        return _to(request, reverse("pipelines:queue"))
    return _to(request, reverse("pipelines:lead", args=[task.lead_id]))


@require_GET
@console_view
def queue_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    items = selectors.my_queue(actor=actor)
    prefetch_related_objects([item.lead for item in items], "owner", "loss_reason")
    return render(
        request,
        "pipelines/queue.html",
        {
            "nav_active": "queue",
            "rows": [
                {
                    "item": item,
                    "card": card_for(item.lead),
                    "label": QUEUE_LABELS.get(item.priority, ""),
                }
                for item in items
            ],
            "undefined_count": selectors.leads_with_undefined_reason_count(actor=actor),
            "notifications": list(selectors.notifications_unread(actor=actor)[:50]),
            "can_edit": actor.can(services.WORK_PERMISSION),
        },
    )


@require_POST
@console_view
def notifications_read_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Mark the actor's notifications read (of one lead with ``lead``), back to the page."""
    lead = None
    lead_id = request.POST.get("lead", "")
    if lead_id.isdigit():
        lead = selectors.lead_get(actor=actor, lead_id=int(lead_id))
    notifications_mark_read(actor=actor, lead=lead)
    if lead is not None:
        return _to(request, reverse("pipelines:lead", args=[lead.pk]))
    return _to(request, reverse("pipelines:queue"))

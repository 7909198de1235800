"""Console pages for playbook runs: the side panel, the run page, starting, adherence.

Views only translate HTTP to playbooks.selectors / services calls and back. The side
panel (``playbooks/partials/panel.html``) is what the customer and ticket pages
embed: ``hx-get`` the ``playbooks:side_panel`` URL with ``customer``, ``target_type``
and ``target_id``; it answers the running run's panel, or the list of playbooks to
start. Every write posts with htmx and gets the panel back; a refusal comes back as
the panel with the service's translated reason inline and status 422. Without htmx
a write redirects to the run page (or renders it with the refusal, 422).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from telcodesk.core.errors import DomainError, NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer
from telcodesk.customers.selectors import customers_visible
from telcodesk.customers.views import MATCH_LABELS, console_view
from telcodesk.playbooks import adherence, selectors, services
from telcodesk.playbooks.models import PlaybookRun
from telcodesk.playbooks.permissions import SUPERVISE_PERMISSION, VIEW_PERMISSION, WORK_PERMISSION
from telcodesk.playbooks.selectors import CustomerCandidate, RunState

SKIP_PREFIX = "skip__"
ADHERENCE_DEFAULT_DAYS = 30


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _candidate_rows(actor: Actor, state: RunState) -> dict[str, list[CustomerCandidate]]:
    """The customers each action of the current step offers, what matched translated."""
    return {
        key: [
            replace(row, matched_on=str(MATCH_LABELS.get(row.matched_on, row.matched_on)))
            for row in rows
        ]
        for key, rows in selectors.run_candidates(actor=actor, state=state).items()
    }


def _panel_context(
    actor: Actor,
    run: PlaybookRun,
    *,
    error: str = "",
    errors: dict[str, list[str]] | None = None,
    typed: dict[str, str] | None = None,
    reasons: dict[str, str] | None = None,
    notice: str = "",
) -> dict[str, Any]:
    state = selectors.run_state(actor=actor, run=run)
    return {
        "state": state,
        "run": state.run,
        "current": state.current,
        "adherence": adherence.run_adherence(actor=actor, run=state.run),
        "error": error,
        "errors": {key: " ".join(values) for key, values in (errors or {}).items()},
        # What the agent typed, shown again after a refusal: answers by question key,
        # skip reasons by item key (plus step_reason / abandon_reason).
        "typed": typed or {},
        "reasons": reasons or {},
        "skips_open": reasons is not None and not set(reasons) & {"step_reason", "abandon_reason"},
        "more_open": bool(reasons and set(reasons) & {"step_reason", "abandon_reason"}),
        "notice": notice,
        "can_work": actor.can(WORK_PERMISSION),
        "skip_prefix": SKIP_PREFIX,
        # Customers to pick among, by action key (identify_customer found several).
        "candidates": _candidate_rows(actor, state),
    }


def _panel(
    request: HttpRequest, actor: Actor, run: PlaybookRun, status: int = 200, **extra: Any
) -> HttpResponse:
    context = _panel_context(actor, run, **extra)
    if _is_htmx(request):
        return render(request, "playbooks/partials/panel.html", context, status=status)
    context["nav_active"] = "customers"
    return render(request, "playbooks/run.html", context, status=status)


def _after_write(
    request: HttpRequest, actor: Actor, run: PlaybookRun, notice: str = ""
) -> HttpResponse:
    if _is_htmx(request):
        return _panel(request, actor, run, notice=notice)
    if notice:
        messages.success(request, notice)
    return redirect(reverse("playbooks:run", args=[run.pk]))


def _refused(
    request: HttpRequest, actor: Actor, run: PlaybookRun, error: DomainError, **extra: Any
) -> HttpResponse:
    return _panel(
        request,
        actor,
        run,
        # htmx swaps only 2xx and 422 answers (base.html): a conflict shows inline too.
        status=422 if _is_htmx(request) else error.status,
        error=error.message,
        errors=error.details if isinstance(error, ValidationFailed) else None,
        **extra,
    )


def _skip_reasons(request: HttpRequest) -> dict[str, str]:
    reasons = {}
    for key in request.POST:
        value = request.POST.get(key, "")
        if key.startswith(SKIP_PREFIX) and value.strip():
            reasons[key.removeprefix(SKIP_PREFIX)] = value
    return reasons


# --- the run ----------------------------------------------------------------------------


@require_GET
@console_view
def run_view(request: HttpRequest, actor: Actor, run_id: int) -> HttpResponse:
    run = selectors.run_get(actor=actor, run_id=run_id)
    return _panel(request, actor, run)


@require_GET
@console_view
def panel_view(request: HttpRequest, actor: Actor, run_id: int) -> HttpResponse:
    run = selectors.run_get(actor=actor, run_id=run_id)
    context = _panel_context(actor, run)
    return render(request, "playbooks/partials/panel.html", context)


@require_POST
@console_view
def answer_view(request: HttpRequest, actor: Actor, run_id: int) -> HttpResponse:
    run = selectors.run_get(actor=actor, run_id=run_id)
    key = request.POST.get("question", "")
    raw = request.POST.get("value", "")
    try:
        services.run_answer(actor=actor, run=run, question_key=key, raw_value=raw)
    except DomainError as error:
        return _refused(request, actor, run, error, typed={key: raw})
    return _after_write(request, actor, run)


@require_POST
@console_view
def check_view(request: HttpRequest, actor: Actor, run_id: int) -> HttpResponse:
    run = selectors.run_get(actor=actor, run_id=run_id)
    checked = request.POST.get("checked", "") in {"1", "on", "true"}
    try:
        services.run_item_check(
            actor=actor, run=run, item_key=request.POST.get("item", ""), checked=checked
        )
    except DomainError as error:
        return _refused(request, actor, run, error)
    return _after_write(request, actor, run)


@require_POST
@console_view
def action_view(request: HttpRequest, actor: Actor, run_id: int) -> HttpResponse:
    run = selectors.run_get(actor=actor, run_id=run_id)
    try:
        record = services.run_action(
            actor=actor, run=run, action_key=request.POST.get("action", "")
        )
    except DomainError as error:
        return _refused(request, actor, run, error)
    if record.status == "failed":
        return _panel(request, actor, run, status=422, error=record.message)
    return _after_write(request, actor, run, notice=record.message)


@require_POST
@console_view
def pick_view(request: HttpRequest, actor: Actor, run_id: int) -> HttpResponse:
    """A candidate's button: answer the action's question "#<id>" and run it again."""
    run = selectors.run_get(actor=actor, run_id=run_id)
    action_key = request.POST.get("action", "")
    raw_id = request.POST.get("customer", "")
    try:
        record = services.run_candidate_pick(
            actor=actor, run=run, action_key=action_key, customer_id=_int(raw_id)
        )
    except DomainError as error:
        return _refused(request, actor, run, error)
    if record.status == "failed":
        return _panel(request, actor, run, status=422, error=record.message)
    return _after_write(request, actor, run, notice=record.message)


@require_POST
@console_view
def complete_view(request: HttpRequest, actor: Actor, run_id: int) -> HttpResponse:
    run = selectors.run_get(actor=actor, run_id=run_id)
    reasons = _skip_reasons(request)
    try:
        services.run_step_complete(actor=actor, run=run, skip_reasons=reasons)
    except DomainError as error:
        return _refused(request, actor, run, error, reasons=reasons)
    return _after_write(request, actor, run)


@require_POST
@console_view
def finish_view(request: HttpRequest, actor: Actor, run_id: int) -> HttpResponse:
    run = selectors.run_get(actor=actor, run_id=run_id)
    reasons = _skip_reasons(request)
    try:
        services.run_finish(actor=actor, run=run, skip_reasons=reasons)
    except DomainError as error:
        return _refused(request, actor, run, error, reasons=reasons)
    return _after_write(request, actor, run, notice=_("Playbook finished."))


@require_POST
@console_view
def skip_view(request: HttpRequest, actor: Actor, run_id: int) -> HttpResponse:
    run = selectors.run_get(actor=actor, run_id=run_id)
    reason = request.POST.get("reason", "")
    try:
        services.run_step_skip(actor=actor, run=run, reason=reason)
    except DomainError as error:
        return _refused(request, actor, run, error, reasons={"step_reason": reason})
    return _after_write(request, actor, run)


@require_POST
@console_view
def abandon_view(request: HttpRequest, actor: Actor, run_id: int) -> HttpResponse:
    run = selectors.run_get(actor=actor, run_id=run_id)
    reason = request.POST.get("reason", "")
    try:
        services.run_abandon(actor=actor, run=run, reason=reason)
    except DomainError as error:
        return _refused(request, actor, run, error, reasons={"abandon_reason": reason})
    return _after_write(request, actor, run, notice=_("Playbook abandoned."))


# --- starting ---------------------------------------------------------------------------


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) < 19 else None


def _customer(actor: Actor, raw: str | None) -> Customer | None:
    customer_id = _int(raw)
    if raw and customer_id is None:
        raise NotFound(_("No such customer. Search again by name, phone or service ID."))
    if customer_id is None:
        return None
    customer = customers_visible(actor=actor).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("No such customer. Search again by name, phone or service ID."))
    return customer


def _start_context(
    actor: Actor, params: Any, *, error: str = "", running: PlaybookRun | None = None
) -> dict[str, Any]:
    return {
        "playbooks": list(selectors.playbooks_available(actor=actor)),
        "customer_id": params.get("customer", ""),
        "target_type": params.get("target_type", ""),
        "target_id": params.get("target_id", ""),
        "error": error,
        "running": running,
        "can_work": actor.can(WORK_PERMISSION),
    }


@require_GET
@console_view
def side_panel_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The embeddable panel: the running run of the target/customer, else "start one"."""
    actor.require(VIEW_PERMISSION)
    customer = _customer(actor, request.GET.get("customer"))
    run = selectors.run_running_for(
        actor=actor,
        customer=customer,
        target_type=request.GET.get("target_type", ""),
        target_id=_int(request.GET.get("target_id")),
    )
    if run is not None:
        return render(request, "playbooks/partials/panel.html", _panel_context(actor, run))
    return render(request, "playbooks/partials/start.html", _start_context(actor, request.GET))


@require_http_methods(["GET", "POST"])
@console_view
def start_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    """GET: the page to start a playbook for a new call (the customer is identified in
    the run); POST: start one (for a customer or target when the form names them)."""
    if request.method == "GET":
        actor.require(VIEW_PERMISSION)
        context = _start_context(actor, request.GET)
        context["nav_active"] = "playbooks"
        return render(request, "playbooks/start.html", context)
    customer = _customer(actor, request.POST.get("customer"))
    target_type = request.POST.get("target_type", "").strip()
    target_id = _int(request.POST.get("target_id"))
    target = services.RunTarget(target_type, target_id) if target_type and target_id else None
    try:
        playbook = selectors.playbook_get(
            actor=actor, playbook_id=_int(request.POST.get("playbook")) or 0
        )
        run = services.playbook_run_start(
            actor=actor, playbook=playbook, customer=customer, target=target
        )
    except NotFound:
        raise  # another organization's playbook, customer or target: a plain 404
    except DomainError as error:
        running_id = error.details.get("run_id") if isinstance(error.details, dict) else None
        running = (
            selectors.run_get(actor=actor, run_id=running_id)
            if isinstance(running_id, int)
            else None
        )
        context = _start_context(actor, request.POST, error=error.message, running=running)
        template = "playbooks/partials/start.html" if _is_htmx(request) else "playbooks/start.html"
        return render(request, template, context, status=422 if _is_htmx(request) else error.status)
    return _after_write(request, actor, run)


# --- supervisors ------------------------------------------------------------------------


def _day(raw: str | None, default: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        raise ValidationFailed(_("Write the dates as YYYY-MM-DD, e.g. 2025-07-01.")) from None


@require_GET
@console_view
def adherence_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Adherence per agent and per step, and the skipped items with their reasons."""
    actor.require(SUPERVISE_PERMISSION)
    zone = ZoneInfo(actor.organization.time_zone or "UTC")
    today = timezone.now().astimezone(zone).date()
    error = ""
    try:
        first = _day(request.GET.get("start"), today - timedelta(days=ADHERENCE_DEFAULT_DAYS - 1))
        last = _day(request.GET.get("end"), today)
        if last < first:
            raise ValidationFailed(_("The end date must not be before the start date."))
    except ValidationFailed as exc:
        error = exc.message
        first, last = today - timedelta(days=ADHERENCE_DEFAULT_DAYS - 1), today
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    playbook_key = request.GET.get("playbook", "")
    keys = sorted({p.key: p.name for p in selectors.playbooks_available(actor=actor)}.items())
    if playbook_key not in dict(keys):
        playbook_key = ""
    return render(
        request,
        "playbooks/adherence.html",
        {
            "nav_active": "",
            "start": first,
            "end": last,
            "playbook_key": playbook_key,
            "playbook_choices": keys,
            "error": error,
            "agents": adherence.agents_adherence(
                actor=actor, start=start, end=end, playbook_key=playbook_key
            ),
            "steps": adherence.steps_adherence(
                actor=actor, start=start, end=end, playbook_key=playbook_key
            ),
            "skipped": adherence.skipped_items(
                actor=actor, start=start, end=end, playbook_key=playbook_key
            ),
        },
        status=422 if error else 200,
    )

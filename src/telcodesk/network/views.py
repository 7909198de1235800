"""Console pages: devices, a subscription's diagnostics, outages.

The pages read through network.selectors and write through network.diagnostics and
network.outages; this module only turns requests into calls and results into HTML.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from telcodesk.core.errors import DomainError, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.views import console_view
from telcodesk.network import selectors
from telcodesk.network.diagnostics import RUN_PERMISSION, diagnostics_run
from telcodesk.network.forms import DiagnosticsForm, OutageForm
from telcodesk.network.models import DiagnosticKind, DiagnosticRun
from telcodesk.network.outages import outage_close, outage_declare

STATUS_BADGES = {"ok": "badge-active", "unreachable": "badge-blocked", "error": "badge-blocked"}
VERDICT_BADGES = {
    "stable": "badge-active",
    "online": "badge-active",
    "good": "badge-active",
    "normal": "badge-active",
    "measured": "badge-info",
    "intermittent": "badge-partially_blocked",
    "marginal": "badge-partially_blocked",
    "saturated": "badge-partially_blocked",
    "no_connectivity": "badge-blocked",
    "offline": "badge-blocked",
    "fault": "badge-blocked",
    "idle": "badge-disconnected",
}


def run_summary(run: DiagnosticRun) -> str:
    """The figures that matter, in one translated line."""
    raw = run.raw or {}
    if run.status != "ok" and run.kind != DiagnosticKind.PING:
        return ""
    if run.kind == DiagnosticKind.PING and "sent" in raw:
        return _(
            "%(received)s of %(sent)s replies, %(loss)s %% lost, "
            "round trip min/avg/max %(min)s/%(avg)s/%(max)s ms, jitter %(jitter)s ms"
        ) % {
            "received": raw["received"],
            "sent": raw["sent"],
            "loss": raw["loss_percent"],
            "min": raw["min_ms"],
            "avg": raw["avg_ms"],
            "max": raw["max_ms"],
            "jitter": raw["jitter_ms"],
        }
    if run.kind == DiagnosticKind.OPTICAL_POWER:
        if raw.get("onu_rx_dbm") is None:
            return _("No optical reading: the OLT reports no light at the ONU.")
        return _("ONU receives %(rx)s dBm (range %(low)s to %(high)s dBm)") % {
            "rx": raw["onu_rx_dbm"],
            "low": raw["window_dbm"][0],
            "high": raw["window_dbm"][1],
        }
    if run.kind == DiagnosticKind.ONU_STATUS:
        if raw.get("online"):
            return _("Online")
        return _("Offline (%(detail)s)") % {"detail": raw.get("detail", "")}
    if run.kind == DiagnosticKind.TRAFFIC and "download_mbps" in raw:
        plan = raw.get("plan_download_mbps")
        figures = {
            "down": raw["download_mbps"],
            "up": raw["upload_mbps"],
            "plan": plan,
            "seconds": raw["elapsed_s"],
        }
        if plan:
            return (
                _("Download %(down)s Mbps of %(plan)s, upload %(up)s Mbps (over %(seconds)s s)")
                % figures
            )
        return _("Download %(down)s Mbps, upload %(up)s Mbps (over %(seconds)s s)") % figures
    return ""


def _rows(runs: list[DiagnosticRun]) -> list[dict[str, Any]]:
    return [
        {
            "run": run,
            "summary": run_summary(run),
            "status_badge": STATUS_BADGES.get(run.status, "badge-disconnected"),
            "verdict_badge": VERDICT_BADGES.get(run.verdict, "badge-plain"),
        }
        for run in runs
    ]


@require_GET
@console_view
def olt_list_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(
        request,
        "network/olt_list.html",
        {
            "nav_active": "network",
            "olts": list(selectors.olts_visible(actor=actor)),
            "open_outages": list(selectors.outages_visible(actor=actor, open_only=True)),
        },
    )


@require_GET
@console_view
def olt_detail_view(request: HttpRequest, actor: Actor, olt_id: int) -> HttpResponse:
    olt = selectors.olt_get(actor=actor, olt_id=olt_id)
    return render(
        request,
        "network/olt_detail.html",
        {
            "nav_active": "network",
            "olt": olt,
            "ports": selectors.olt_ports(olt=olt),
            "onus": selectors.olt_onus(olt=olt),
        },
    )


@require_http_methods(["GET", "POST"])
@console_view
def diagnostics_view(request: HttpRequest, actor: Actor, subscription_id: int) -> HttpResponse:
    """The subscription's results; POST runs the chosen checks now (htmx: the results)."""
    subscription, runs = selectors.diagnostic_runs_of(actor=actor, subscription_id=subscription_id)
    form = DiagnosticsForm(initial={"kinds": list(DiagnosticKind.values)})
    status = 200
    fresh: list[DiagnosticRun] = []
    if request.method == "POST":
        actor.require(RUN_PERMISSION)
        form = DiagnosticsForm(request.POST)
        if form.is_valid():
            fresh = diagnostics_run(
                actor=actor, subscription=subscription, kinds=form.cleaned_data["kinds"]
            )
            subscription, runs = selectors.diagnostic_runs_of(
                actor=actor, subscription_id=subscription_id
            )
        else:
            status = 422
    context = {
        "nav_active": "customers",
        "subscription": subscription,
        "form": form,
        "rows": _rows(runs),
        "fresh_ids": {run.pk for run in fresh},
        "can_run": actor.can(RUN_PERMISSION),
        "outages": selectors.outages_affecting(subscription),
    }
    if getattr(request, "htmx", False) and request.method == "POST":
        return render(request, "network/partials/diagnostic_results.html", context, status=status)
    return render(request, "network/diagnostics.html", context, status=status)


def _outages_context(actor: Actor, form: OutageForm) -> dict[str, Any]:
    outages = list(selectors.outages_visible(actor=actor)[:100])
    return {
        "nav_active": "network",
        "open_outages": [outage for outage in outages if outage.is_open],
        "closed_outages": [outage for outage in outages if not outage.is_open][:30],
        "form": form,
        "can_manage": actor.can(selectors.MANAGE_PERMISSION) and not actor.is_reseller,
    }


@require_http_methods(["GET", "POST"])
@console_view
def outages_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Open and recent outages; POST declares one."""
    selectors.outages_visible(actor=actor)  # the read permission, before anything else
    form = OutageForm(organization=actor.organization)
    if request.method == "GET":
        return render(request, "network/outages.html", _outages_context(actor, form))
    form = OutageForm(request.POST, organization=actor.organization)
    if form.is_valid():
        data = form.cleaned_data
        try:
            change = outage_declare(
                actor=actor,
                scope=data["scope"],
                description=data["description"],
                olt_id=data["olt"].pk if data["olt"] else None,
                pon_port_id=data["pon_port"].pk if data["pon_port"] else None,
                zone=data["zone"],
                city=data["city"],
                estimated_end_at=data["estimated_end_at"],
            )
        except ValidationFailed as error:
            for field, problems in error.details.items():
                target = {"olt_id": "olt", "pon_port_id": "pon_port"}.get(field, field)
                for problem in problems:
                    form.add_error(target if target in form.fields else None, problem)
        else:
            messages.success(
                request,
                _("Outage declared: %(count)s services affected.")
                % {"count": len(change.affected)},
            )
            return redirect("network:outages")
    return render(request, "network/outages.html", _outages_context(actor, form), status=422)


@require_POST
@console_view
def outage_close_view(request: HttpRequest, actor: Actor, outage_id: int) -> HttpResponse:
    try:
        change = outage_close(actor=actor, outage_id=outage_id)
    except DomainError as error:
        if error.status != 409:
            raise
        messages.error(request, error.message)
        return redirect("network:outages")
    messages.success(
        request,
        _("Outage closed: %(count)s services to tell.") % {"count": len(change.affected)},
    )
    return redirect("network:outages")


@require_GET
@console_view
def customer_outages_view(request: HttpRequest, actor: Actor, customer_id: int) -> HttpResponse:
    """The banner of outages on a customer's services (for the customer page; empty
    when there is none or the actor may not see the network)."""
    pairs = (
        selectors.outages_of_customer(actor=actor, customer_id=customer_id)
        if actor.can(selectors.VIEW_PERMISSION)
        else []
    )
    return render(request, "network/partials/customer_outages.html", {"pairs": pairs})

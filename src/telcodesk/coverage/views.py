"""Console pages for coverage: the areas with their counts, "check an address", and the
lead's coverage check (htmx, from the lead page)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from telcodesk.core.errors import ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.coverage import services
from telcodesk.coverage.forms import CoverageCheckForm
from telcodesk.coverage.selectors import VIEW_PERMISSION, coverage_areas_visible
from telcodesk.customers.views import console_view
from telcodesk.pipelines import selectors as lead_selectors


@require_GET
@console_view
def coverage_index_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(
        request,
        "coverage/index.html",
        {
            "nav_active": "coverage",
            "areas": list(coverage_areas_visible(actor=actor)),
            "form": CoverageCheckForm(),
        },
    )


@require_POST
@console_view
def coverage_check_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The decision for the form's address (a partial for htmx, else the whole page)."""
    actor.require(VIEW_PERMISSION)
    form = CoverageCheckForm(request.POST)
    decision = None
    status = 200
    if form.is_valid():
        decision = services.coverage_check(
            organization=actor.organization,
            address=form.cleaned_data["address"],
            point=form.cleaned_data["point"],
            city=form.cleaned_data["city"],
        )
    else:
        status = 422
    context: dict[str, Any] = {"form": form, "decision": decision}
    if getattr(request, "htmx", False):
        return render(request, "coverage/partials/check.html", context, status=status)
    context.update({"nav_active": "coverage", "areas": list(coverage_areas_visible(actor=actor))})
    return render(request, "coverage/index.html", context, status=status)


@require_POST
@console_view
def lead_coverage_check_view(request: HttpRequest, actor: Actor, lead_id: int) -> HttpResponse:
    """Check the lead's coverage and qualify it; a small partial with the decision.

    When the lead moved or was lost, htmx reloads the lead page (HX-Redirect).
    """
    lead = lead_selectors.lead_get(actor=actor, lead_id=lead_id)
    try:
        decision = services.lead_coverage_apply(actor=actor, lead=lead)
    except ValidationFailed as error:
        return render(
            request,
            "coverage/partials/lead_decision.html",
            {"lead": lead, "error": error.message},
            status=422,
        )
    response = render(
        request, "coverage/partials/lead_decision.html", {"lead": lead, "decision": decision}
    )
    if decision.moved_to or decision.lost_with:
        response["HX-Redirect"] = reverse("pipelines:lead", args=[lead_id])
    return response

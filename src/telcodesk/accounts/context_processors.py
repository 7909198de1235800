from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from telcodesk.accounts.middleware import request_actor


def console(request: HttpRequest) -> dict[str, Any]:
    """What every console page needs: the acting organization, its branding, languages."""
    context: dict[str, Any] = {"LANGUAGE_CHOICES": settings.LANGUAGES}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    actor = request_actor(request)
    if actor is None:
        return context
    context["actor"] = actor
    context["organization"] = actor.organization
    context["brand_color"] = actor.organization.brand_color
    context["memberships"] = user.memberships.select_related("organization").all()
    # Navigation entries only some roles may open (the pages check again).
    context["nav_can_see_visits_board"] = actor.can("ticket.assign")
    return context

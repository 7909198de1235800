from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from telcodesk.accounts.services import actor_for_user
from telcodesk.core.errors import NotFound


def console(request: HttpRequest) -> dict[str, Any]:
    """What every console page needs: the acting organization, its branding, languages."""
    context: dict[str, Any] = {"LANGUAGE_CHOICES": settings.LANGUAGES}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    actor = getattr(request, "actor", None)
    if actor is None:
        try:
            actor = actor_for_user(user)
        except NotFound:
            return context
        request.actor = actor  # type: ignore[attr-defined]
    context["actor"] = actor
    context["organization"] = actor.organization
    context["brand_color"] = actor.organization.brand_color
    context["memberships"] = user.memberships.select_related("organization").all()
    return context

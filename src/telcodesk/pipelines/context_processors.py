"""The console's lead badge: the signed-in agent's unread lead notifications."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest

from telcodesk.accounts.middleware import request_actor


def leads(request: HttpRequest) -> dict[str, Any]:
    """``leads_unread``: notifications such as "15 minutes without a reply: call now"."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    actor = request_actor(request)
    if actor is None or not actor.can("lead.view"):
        return {}
    from telcodesk.pipelines.selectors import notifications_unread

    # Counted only when a template shows it, once per request.
    return {"leads_unread": cache(lambda: notifications_unread(actor=actor).count())}

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest

from telcodesk.accounts.middleware import request_actor


def inbox(request: HttpRequest) -> dict[str, Any]:
    """``inbox_unread``: unread messages in the signed-in agent's inbox (the nav badge)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    actor = request_actor(request)
    if actor is None or not actor.can("conversation.view"):
        return {}
    from telcodesk.inbox.selectors import unread_total

    # Counted only when a template shows it, once per request.
    return {"inbox_unread": cache(lambda: unread_total(actor=actor))}

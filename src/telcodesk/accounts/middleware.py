from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from telcodesk.accounts.services import actor_for_user
from telcodesk.core.errors import NotFound
from telcodesk.core.tenancy import Actor


def request_actor(request: HttpRequest) -> Actor | None:
    """The signed-in user's Actor, resolved once per request (None without membership)."""
    if hasattr(request, "actor"):
        return request.actor  # type: ignore[no-any-return]
    actor = None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        try:
            actor = actor_for_user(user)
        except NotFound:
            actor = None
    request.actor = actor  # type: ignore[attr-defined]
    return actor


class UserPreferencesMiddleware:
    """Activate the signed-in user's language and time zone (before LocaleMiddleware).

    Language order: the user's own choice, then the session/cookie switch handled by
    LocaleMiddleware, then the browser. Time zone: the user's, else their organization's.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        tz_name = ""
        if user is not None and user.is_authenticated:
            if user.language and not request.COOKIES.get("django_language"):
                request.META["HTTP_ACCEPT_LANGUAGE"] = user.language
            tz_name = user.time_zone
            if not tz_name:
                actor = request_actor(request)
                if actor is not None:
                    tz_name = actor.organization.time_zone
        if tz_name:
            timezone.activate(zoneinfo.ZoneInfo(tz_name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
            translation.deactivate()

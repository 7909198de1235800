"""Sign in (throttled), sign out, password change, personal preferences, language switch."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from telcodesk.accounts import services
from telcodesk.accounts.models import Membership, User
from telcodesk.core.errors import ValidationFailed


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    error = ""
    status = 200
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        password = request.POST.get("password", "")
        if services.login_is_locked(username=username):
            error = _(
                "Too many failed attempts for this user. Wait %(minutes)d minutes or ask "
                "an administrator to reset your password."
            ) % {"minutes": max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)}
            status = 429
        else:
            user = authenticate(request, username=username, password=password)
            if user is None:
                services.login_failure_record(username=username, ip_address=_client_ip(request))
                error = _("Wrong user name or password. Check both and try again.")
                status = 401
            else:
                services.login_success_record(username=username)
                login(request, user)
                response = HttpResponseRedirect(_safe_next(request, "/"))
                if user.language:  # type: ignore[union-attr]
                    response.set_cookie(
                        settings.LANGUAGE_COOKIE_NAME,
                        user.language,  # type: ignore[union-attr]
                        samesite="Lax",
                    )
                return response
    return render(
        request,
        "accounts/login.html",
        {"error": error, "username": username, "next": request.GET.get("next", "")},
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@login_required
@require_http_methods(["GET", "POST"])
def password_change_view(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)  # type: ignore[arg-type]
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password was changed."))
        return redirect("accounts:preferences")
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def preferences_view(request: HttpRequest) -> HttpResponse:
    import zoneinfo

    user = cast(User, request.user)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.user_preferences_update(
                user=user,
                language=request.POST.get("language", ""),
                time_zone=request.POST.get("time_zone", ""),
            )
            org_id = request.POST.get("organization")
            if org_id and org_id.isdigit():
                membership = Membership.objects.filter(user=user, organization_id=org_id).first()
                if membership is not None:
                    user.active_organization_id = membership.organization_id
                    user.save(update_fields=["active_organization"])
        except ValidationFailed as exc:
            errors = exc.details
        else:
            messages.success(request, _("Your preferences were saved."))
            response = redirect("accounts:preferences")
            if user.language:
                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
            return response
    return render(
        request,
        "accounts/preferences.html",
        {
            "errors": errors,
            "time_zones": [
                *sorted(tz for tz in zoneinfo.available_timezones() if tz.startswith("America/")),
                "UTC",
            ],
        },
        status=422 if errors else 200,
    )


@require_POST
def language_switch_view(request: HttpRequest) -> HttpResponse:
    """Switch the console language; remembered on the user and in the cookie."""
    language = request.POST.get("language", "")
    if language not in {code for code, _label in settings.LANGUAGES}:
        language = settings.LANGUAGE_CODE
    if request.user.is_authenticated:
        user = cast(User, request.user)
        user.language = language
        user.save(update_fields=["language"])
    response = HttpResponseRedirect(_safe_next(request, "/"))
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
    return response

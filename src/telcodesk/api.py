"""The JSON API under /api/v1: routers from each app, one error format.

Authentication, in this order:

1. an API key of an organization, ``Authorization: Bearer tdk_...`` or ``X-API-Key``;
2. the Django session of the console (UI), with the CSRF token required on writes.

Either one yields an ``Actor`` in ``request.auth``; views pass it to selectors and
services, which scope every read and write to the actor's organization.

Every error answer has one shape, ``{"code", "message", "details"}``, with ``message``
translated to the request's language (Accept-Language, the user's preference).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver, re_path
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, APIKeyHeader, HttpBearer
from ninja.throttling import SimpleRateThrottle
from ninja.utils import check_csrf

from telcodesk.core.errors import DomainError, ErrorCode
from telcodesk.core.logging import request_id_var
from telcodesk.core.tenancy import Actor
from telcodesk.core.validation import pydantic_error_message

logger = logging.getLogger(__name__)

# --- authentication -------------------------------------------------------------------


def _actor_for_api_key(secret: str | None) -> Actor | None:
    from telcodesk.accounts.services import api_key_authenticate

    if not secret:
        return None
    return api_key_authenticate(secret=secret.strip())


class ApiKeyBearer(HttpBearer):
    """``Authorization: Bearer tdk_...``: an organization's API key."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        return _actor_for_api_key(token)


class ApiKeyHeader(APIKeyHeader):
    """``X-API-Key: tdk_...``: the same key, for clients that cannot set Authorization."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        return _actor_for_api_key(key)


class CsrfFailed(HttpError):
    def __init__(self) -> None:
        super().__init__(status_code=403, message="CSRF check failed")


class ConsoleSession(APIKeyCookie):
    """The console's Django session (the UI calling its own API).

    Unlike ninja's SessionAuth, CSRF is checked only once a signed-in user is found, so
    a request without any credentials gets a plain 401 rather than a CSRF refusal.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        from telcodesk.accounts.services import actor_for_user

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        exempt = getattr(request, "_ninja_csrf_exempt", False)
        if self.csrf and not exempt and check_csrf(request) is not None:
            raise CsrfFailed()
        try:
            return actor_for_user(user)
        except DomainError:
            return None  # signed in but member of no organization: not an API caller


class ActorRateThrottle(SimpleRateThrottle):
    """Requests per organization and caller (API key or user); on when a rate is set."""

    scope = "actor"

    def get_cache_key(self, request: HttpRequest) -> str | None:
        actor = getattr(request, "auth", None)
        if not isinstance(actor, Actor):
            return None
        who = f"u{actor.user.pk}" if actor.user is not None else actor.label
        ident = f"{actor.organization.pk}:{who}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


# --- the error format -----------------------------------------------------------------


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": str(code), "message": str(message), "details": details or {}}


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "payload", "phones", 0, "raw")`` → ``"body.phones.0.raw"``.

    ninja puts the view's parameter name after the source; clients never see that name.
    """
    parts = [str(part) for part in loc]
    if len(parts) >= 2 and parts[0] == "body" and parts[1] == "payload":
        del parts[1]
    return ".".join(parts)


def validation_details(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    details: dict[str, list[str]] = {}
    for error in errors:
        details.setdefault(_field_name(error.get("loc", ())), []).append(
            pydantic_error_message(error)
        )
    return details


class TelcodeskAPI(NinjaAPI):
    """NinjaAPI whose 405s and unknown paths answer in the error format too."""

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = _json_not_allowed(pattern.callback)
        urls.append(re_path(r"^.*$", _unknown_path, name="api-unknown"))
        return urls


def _json_not_allowed(view: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = ", ".join(sorted(m.strip() for m in response["Allow"].split(",")))
            answer = api.create_response(
                request,
                error_body(
                    ErrorCode.METHOD_NOT_ALLOWED,
                    _("This address does not accept %(method)s. Use: %(allowed)s.")
                    % {"method": request.method, "allowed": allowed},
                    {"allowed": allowed.split(", ")},
                ),
                status=405,
            )
            answer["Allow"] = allowed
            return answer
        return response

    wrapped.csrf_exempt = getattr(view, "csrf_exempt", False)  # type: ignore[attr-defined]
    return wrapped


def _unknown_path(request: HttpRequest) -> HttpResponse:
    return api.create_response(
        request,
        error_body(ErrorCode.NOT_FOUND, _("There is no API endpoint at this address.")),
        status=404,
    )


_rate = getattr(settings, "API_RATE_LIMIT", "")

api = TelcodeskAPI(
    title="telcodesk API",
    version="1",
    urls_namespace="api",
    description=(
        "Customers, subscriptions and search for telecom operators and resellers. "
        "Authenticate with an organization's API key (`Authorization: Bearer tdk_...` "
        "or `X-API-Key`) or, from the console, with the session cookie and CSRF token. "
        "Errors always answer `{code, message, details}`."
    ),
    auth=[ApiKeyBearer(), ApiKeyHeader(), ConsoleSession()],
    throttle=[ActorRateThrottle(_rate)] if _rate else [],
)


# --- exception handlers ---------------------------------------------------------------


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    details = validation_details(exc.errors)
    message = _("The request has invalid fields: %(fields)s.") % {
        "fields": ", ".join(details) or "-"
    }
    return api.create_response(request, error_body(ErrorCode.INVALID, message, details), status=422)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = _(
        "Authentication required: send an API key as 'Authorization: Bearer tdk_...' "
        "or 'X-API-Key', or sign in to the console."
    )
    response = api.create_response(
        request, error_body(ErrorCode.UNAUTHENTICATED, message), status=401
    )
    response["WWW-Authenticate"] = 'Bearer realm="telcodesk"'
    return response


@api.exception_handler(CsrfFailed)
def _csrf_failed(request: HttpRequest, exc: CsrfFailed) -> HttpResponse:
    message = _("The security token (CSRF) is missing or expired: reload the page and try again.")
    return api.create_response(request, error_body(ErrorCode.FORBIDDEN, message), status=403)


@api.exception_handler(AuthorizationError)
@api.exception_handler(DjangoPermissionDenied)
def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    message = _("Your role does not allow this action. Ask a supervisor or an administrator.")
    return api.create_response(request, error_body(ErrorCode.FORBIDDEN, message), status=403)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    message = _("Not found. Check the address and the id.")
    return api.create_response(request, error_body(ErrorCode.NOT_FOUND, message), status=404)


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    wait = int(exc.wait) + 1 if exc.wait else None
    message = _("Too many requests: wait a moment and try again.")
    response = api.create_response(
        request,
        error_body(ErrorCode.THROTTLED, message, {"retry_after": wait} if wait else {}),
        status=429,
    )
    if wait:
        response["Retry-After"] = str(wait)
    return response


@api.exception_handler(RequestDataTooBig)
@api.exception_handler(TooManyFieldsSent)
def _too_large(request: HttpRequest, exc: Exception) -> HttpResponse:
    message = _("The request is too large: send at most %(size)s bytes.") % {
        "size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    }
    return api.create_response(request, error_body(ErrorCode.TOO_LARGE, message), status=413)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja's own HttpErrors (e.g. a body that is not JSON): keep the status.
    code: str
    if exc.status_code == 400:
        code, message = ErrorCode.INVALID, _("The request could not be read: send valid JSON.")
    elif exc.status_code == 403:
        code = ErrorCode.FORBIDDEN
        message = _("Your role does not allow this action. Ask a supervisor or an administrator.")
    else:
        code, message = "error", _("The request could not be processed.")
    return api.create_response(request, error_body(code, message), status=exc.status_code)


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    message = _("Something went wrong on our side. Try again; if it persists, report the id.")
    request_id = request_id_var.get()
    details = {"request_id": request_id} if request_id != "-" else {}
    return api.create_response(
        request, error_body(ErrorCode.SERVER_ERROR, message, details), status=500
    )


# --- routers --------------------------------------------------------------------------


def _register_routers() -> None:
    from telcodesk.customers.api import router as customers_router

    api.add_router("", customers_router)
    from telcodesk.pipelines.api import router as pipelines_router

    api.add_router("/", pipelines_router, tags=["leads"])
    from telcodesk.inbox.api import router as inbox_router

    api.add_router("/", inbox_router, tags=["conversations"])
    from telcodesk.coverage.api import router as coverage_router

    api.add_router("/", coverage_router, tags=["coverage"])
    from telcodesk.pipelines.store_api import router as store_router

    api.add_router("/", store_router, tags=["store"])
    from telcodesk.tickets.api import router as tickets_router

    api.add_router("/", tickets_router, tags=["tickets"])
    from telcodesk.network.api import router as network_router

    api.add_router("/", network_router, tags=["network"])
    from telcodesk.playbooks.api import router as playbooks_router

    api.add_router("/", playbooks_router, tags=["playbooks"])
    from telcodesk.visits.api import router as visits_router

    api.add_router("/", visits_router, tags=["visits"])
    from telcodesk.nps.api import router as nps_router

    api.add_router("/", nps_router, tags=["nps"])


_register_routers()

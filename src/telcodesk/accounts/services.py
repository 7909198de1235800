"""Writes for organizations, people, API keys, login throttling and the audit log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.accounts.models import ApiKey, AuditLog, LoginAttempt, Membership, Organization, User
from telcodesk.core.errors import DomainError, ErrorCode, NotFound
from telcodesk.core.logging import request_id_var
from telcodesk.core.tenancy import Actor


class LoginThrottled(DomainError):
    code = ErrorCode.THROTTLED
    status = 429


def login_is_locked(*, username: str) -> bool:
    """True while ``username`` has too many recent failures (DB-backed: holds across processes)."""
    since = timezone.now() - timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    failures = LoginAttempt.objects.filter(username=username.lower(), at__gte=since).count()
    return failures >= settings.LOGIN_MAX_FAILURES


def login_failure_record(*, username: str, ip_address: str | None) -> None:
    LoginAttempt.objects.create(username=username.lower(), ip_address=ip_address)


def login_success_record(*, username: str) -> None:
    LoginAttempt.objects.filter(username=username.lower()).delete()


def actor_for_user(user: User, organization: Organization | None = None) -> Actor:
    """The actor for ``user`` in ``organization`` (or their active / first membership)."""
    memberships = Membership.objects.select_related("organization").filter(user=user)
    if organization is not None:
        membership = memberships.filter(organization=organization).first()
    else:
        membership = None
        if user.active_organization_id:
            membership = memberships.filter(organization_id=user.active_organization_id).first()
        if membership is None:
            membership = memberships.order_by("id").first()
    if membership is None:
        raise NotFound(_("You are not a member of any organization. Ask an administrator."))
    return Actor(organization=membership.organization, role=membership.role, user=user)


def api_key_create(*, actor: Actor, name: str, role: str) -> tuple[ApiKey, str]:
    """Create an API key; returns the row and the secret, which is shown only once."""
    actor.require("org.manage")
    secret = ApiKey.generate_secret()
    key = ApiKey.objects.create(
        organization=actor.organization,
        name=name,
        role=role,
        prefix=secret[4 : 4 + ApiKey.PREFIX_LEN],
        key_hash=ApiKey.hash_secret(secret),
        created_by=actor.user,
    )
    return key, secret


def api_key_revoke(*, prefix: str, organization: Organization | None = None) -> ApiKey:
    """Revoke the active key with ``prefix`` (optionally only within ``organization``)."""
    prefix = prefix.removeprefix("tdk_")[: ApiKey.PREFIX_LEN]
    keys = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True)
    if organization is not None:
        keys = keys.filter(organization=organization)
    key = keys.first()
    if key is None or keys.filter(pk=key.pk).update(revoked_at=timezone.now()) != 1:
        raise NotFound(_("No active API key with this prefix. List the keys to find it."))
    key.refresh_from_db()
    return key


def api_key_authenticate(*, secret: str) -> Actor | None:
    """The actor an API key secret stands for, or None (constant-time hash compare)."""
    import hmac

    if not secret.startswith("tdk_") or len(secret) < 4 + ApiKey.PREFIX_LEN:
        return None
    prefix = secret[4 : 4 + ApiKey.PREFIX_LEN]
    key = (
        ApiKey.objects.select_related("organization")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.key_hash, ApiKey.hash_secret(secret)):
        return None
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return Actor(organization=key.organization, role=key.role, label=f"api-key:{key.name}")


def audit_record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any,
    changes: dict[str, Any] | None = None,
    organization: Organization | None = None,
) -> None:
    """Append to the personal-data audit log (inside the caller's transaction)."""
    AuditLog.objects.create(
        organization=organization or actor.organization,
        actor=actor.user,
        actor_label=actor.display,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        changes=changes or {},
        request_id=request_id_var.get() if request_id_var.get() != "-" else "",
    )


@transaction.atomic
def user_preferences_update(*, user: User, language: str, time_zone: str) -> User:
    from django.core.exceptions import ValidationError

    from telcodesk.accounts.models import validate_time_zone
    from telcodesk.core.errors import ValidationFailed

    errors: dict[str, list[str]] = {}
    if language and language not in {code for code, _label in settings.LANGUAGES}:
        errors["language"] = [_("Choose Spanish, Brazilian Portuguese or English.")]
    if time_zone:
        try:
            validate_time_zone(time_zone)
        except ValidationError:
            errors["time_zone"] = [_("Choose a time zone from the list, e.g. America/La_Paz.")]
    if errors:
        raise ValidationFailed(_("Your preferences were not saved."), details=errors)
    user.language = language
    user.time_zone = time_zone
    user.save(update_fields=["language", "time_zone"])
    return user


@transaction.atomic
def member_add(
    *,
    organization: Organization,
    username: str,
    role: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    team_name: str = "",
    language: str = "",
) -> tuple[Membership, str | None]:
    """Give ``username`` a membership with ``role`` in ``organization``.

    Creates the user when needed (with ``password``, or a generated one that is
    returned so it can be handed over once). An existing membership gets the new role.
    """
    import secrets

    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from telcodesk.accounts.models import Team
    from telcodesk.accounts.roles import PERSON_ROLES
    from telcodesk.core.errors import ValidationFailed

    errors: dict[str, list[str]] = {}
    username = username.strip()
    if not username or len(username) > 150:
        errors["username"] = [_("Write a user name of 1 to 150 characters.")]
    if role not in PERSON_ROLES:
        errors["role"] = [_("Choose agent, supervisor, back_office or admin.")]
    if language and language not in {code for code, _label in settings.LANGUAGES}:
        errors["language"] = [_("Choose Spanish, Brazilian Portuguese or English.")]
    user = User.objects.filter(username=username).first()
    generated = None
    if user is None and password is None:
        generated = password = secrets.token_urlsafe(12)
    if password is not None:
        try:
            validate_password(password, user=user)
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        raise ValidationFailed(
            _("The member was not saved: fix the marked fields."), details=errors
        )
    if user is None:
        user = User.objects.create_user(
            username=username,
            password=password,
            first_name=first_name,
            last_name=last_name,
            email=email,
            language=language or organization.default_language,
            active_organization=organization,
        )
    elif password is not None:
        user.set_password(password)
        user.save(update_fields=["password"])
    team = None
    if team_name:
        team, _created = Team.objects.get_or_create(organization=organization, name=team_name)
    membership, _created = Membership.objects.update_or_create(
        user=user, organization=organization, defaults={"role": role, "team": team}
    )
    return membership, generated

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from telcodesk.accounts.models import ApiKey, AuditLog, LoginAttempt
from telcodesk.accounts.roles import Role
from telcodesk.accounts.services import (
    actor_for_user,
    api_key_authenticate,
    api_key_create,
    user_preferences_update,
)
from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from tests.conftest import PASSWORD, World


def _login(client: Client, username: str, password: str) -> int:
    response = client.post(reverse("accounts:login"), {"username": username, "password": password})
    return response.status_code


def test_it_logs_in_and_out(world: World, client: Client) -> None:
    assert _login(client, "agent", PASSWORD) == 302
    assert client.get(reverse("customers:home")).status_code == 200
    assert client.post(reverse("accounts:logout")).status_code == 302
    response = client.get(reverse("customers:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_wrong_password_is_refused_with_a_clear_message(world: World, client: Client) -> None:
    response = client.post(reverse("accounts:login"), {"username": "agent", "password": "nope"})
    assert response.status_code == 401
    assert "Wrong user name or password" in response.content.decode()
    assert LoginAttempt.objects.filter(username="agent").count() == 1


@override_settings(LOGIN_MAX_FAILURES=3, LOGIN_LOCKOUT_SECONDS=600)
def test_brute_force_locks_the_user_even_with_the_right_password(
    world: World, client: Client
) -> None:
    for _attempt in range(3):
        assert _login(client, "agent", "guess") == 401
    assert _login(client, "agent", PASSWORD) == 429
    # A lock on one user does not lock another one.
    assert _login(Client(), "supervisor", PASSWORD) == 302


def test_a_success_clears_earlier_failures(world: World, client: Client) -> None:
    _login(client, "agent", "guess")
    assert _login(client, "agent", PASSWORD) == 302
    assert LoginAttempt.objects.filter(username="agent").count() == 0


def test_login_does_not_redirect_to_another_site(world: World, client: Client) -> None:
    response = client.post(
        reverse("accounts:login") + "?next=https://evil.example/",
        {"username": "agent", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_password_change_requires_the_old_password(world: World, client: Client) -> None:
    client.force_login(world.agent)
    url = reverse("accounts:password_change")
    bad = client.post(
        url,
        {"old_password": "wrong", "new_password1": "Another-pass-91", "new_password2": "x"},
    )
    assert bad.status_code == 200
    world.agent.refresh_from_db()
    assert world.agent.check_password(PASSWORD)
    good = client.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password1": "Another-pass-91",
            "new_password2": "Another-pass-91",
        },
    )
    assert good.status_code == 302
    world.agent.refresh_from_db()
    assert world.agent.check_password("Another-pass-91")


def test_preferences_refuse_an_unknown_time_zone_and_change_nothing(world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        user_preferences_update(user=world.agent, language="pt-br", time_zone="Mars/Olympus")
    assert list(caught.value.details) == ["time_zone"]
    world.agent.refresh_from_db()
    assert (world.agent.language, world.agent.time_zone) == ("", "")
    user_preferences_update(user=world.agent, language="pt-br", time_zone="America/Sao_Paulo")
    world.agent.refresh_from_db()
    assert (world.agent.language, world.agent.time_zone) == ("pt-br", "America/Sao_Paulo")


def test_the_actor_comes_from_the_membership(world: World) -> None:
    actor = actor_for_user(world.supervisor)
    assert actor.organization == world.operator
    assert actor.role == Role.SUPERVISOR
    assert actor.can("audit.view")
    assert not actor.can("org.manage")


def test_a_user_without_membership_has_no_actor(world: World) -> None:
    from telcodesk.accounts.models import User

    loner = User.objects.create_user(username="loner", password=PASSWORD)
    with pytest.raises(NotFound):
        actor_for_user(loner)


def test_api_keys_are_stored_hashed_and_scoped(world: World) -> None:
    key, secret = api_key_create(actor=world.actor(world.admin), name="billing", role="agent")
    assert secret.startswith("tdk_")
    stored = ApiKey.objects.get(pk=key.pk)
    assert secret not in (stored.key_hash, stored.prefix)
    assert stored.key_hash == ApiKey.hash_secret(secret)
    actor = api_key_authenticate(secret=secret)
    assert actor is not None
    assert actor.organization == world.operator
    assert actor.role == "agent"
    assert api_key_authenticate(secret=secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert api_key_authenticate(secret="not-a-key") is None


def test_only_an_admin_creates_api_keys(world: World) -> None:
    with pytest.raises(PermissionDenied):
        api_key_create(actor=world.actor(world.supervisor), name="x", role="agent")
    assert ApiKey.objects.count() == 0


@pytest.mark.django_db
def test_audit_log_rows_are_created_by_the_service(world: World) -> None:
    from telcodesk.accounts.services import audit_record

    audit_record(actor=world.actor(world.agent), action="view", object_type="customer", object_id=7)
    row = AuditLog.objects.get()
    assert (row.organization, row.actor, row.object_id, row.action) == (
        world.operator,
        world.agent,
        "7",
        "view",
    )
    assert row.actor_label == "Ana Quispe"


def test_pages_use_the_organization_time_zone_unless_the_user_chose_one(
    world: World, client: Client
) -> None:
    from django.utils import timezone

    seen: list[str] = []

    def spy(request: object) -> None:
        seen.append(str(timezone.get_current_timezone()))

    from telcodesk.accounts.middleware import UserPreferencesMiddleware

    middleware = UserPreferencesMiddleware(spy)  # type: ignore[arg-type]
    request = client.get("/healthz").wsgi_request
    request.user = world.agent
    middleware(request)
    world.agent.time_zone = "America/Sao_Paulo"
    middleware(request)
    assert seen == ["America/La_Paz", "America/Sao_Paulo"]

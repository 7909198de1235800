from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from telcodesk.accounts.models import Membership, User
from telcodesk.accounts.services import member_add
from telcodesk.core.errors import ValidationFailed
from tests.conftest import World


def test_it_creates_a_user_with_a_generated_password(world: World) -> None:
    membership, generated = member_add(
        organization=world.operator, username="maria", role="supervisor", team_name="Ventas"
    )
    assert generated is not None
    assert membership.user.check_password(generated)
    assert (membership.role, membership.team.name if membership.team else "") == (
        "supervisor",
        "Ventas",
    )
    assert membership.user.language == world.operator.default_language


def test_an_existing_member_gets_the_new_role(world: World) -> None:
    membership, generated = member_add(
        organization=world.operator, username="agent", role="back_office"
    )
    assert generated is None
    assert Membership.objects.filter(user=world.agent).count() == 1
    assert membership.role == "back_office"


def test_a_user_can_belong_to_two_organizations(world: World) -> None:
    member_add(organization=world.reseller, username="agent", role="agent")
    assert set(
        Membership.objects.filter(user=world.agent).values_list("organization__slug", flat=True)
    ) == {"comteco-test", "bluecom-test"}


def test_bad_input_is_refused_and_changes_nothing(world: World) -> None:
    users = User.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        member_add(organization=world.operator, username="x", role="boss", password="123")
    assert set(caught.value.details) == {"role", "password"}
    assert User.objects.count() == users


def test_the_command_adds_and_lists_members(world: World) -> None:
    out = StringIO()
    call_command(
        "member",
        "add",
        "--org",
        "comteco-test",
        "--username",
        "lucia",
        "--role",
        "agent",
        stdout=out,
    )
    assert out.getvalue().startswith("lucia is agent in comteco-test.\nPassword (shown once): ")
    out = StringIO()
    call_command("member", "list", "--org", "comteco-test", stdout=out)
    assert "lucia" in out.getvalue()
    with pytest.raises(CommandError, match="No organization 'nope'"):
        call_command("member", "list", "--org", "nope")

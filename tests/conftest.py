"""Shared fixtures: two operators, a reseller working for the first, and people in each.

Following the house habit, every permission test has an outsider (a user of another
organization) who must see and change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from telcodesk.accounts.models import Membership, Organization, Team, User
from telcodesk.accounts.roles import Role
from telcodesk.core.tenancy import Actor

PASSWORD = "correct-horse-battery-42"


@dataclass
class World:
    operator: Organization
    other_operator: Organization
    reseller: Organization
    agent: User
    supervisor: User
    back_office: User
    admin: User
    outsider: User
    reseller_agent: User

    def actor(self, user: User, organization: Organization | None = None) -> Actor:
        membership = Membership.objects.select_related("organization").get(
            user=user, **({"organization": organization} if organization else {})
        )
        return Actor(organization=membership.organization, role=membership.role, user=user)


def make_organization(slug: str, **fields: object) -> Organization:
    defaults: dict[str, object] = {
        "name": slug.replace("-", " ").title(),
        "kind": Organization.Kind.OPERATOR,
        "country": "BO",
        "currency": "BOB",
        "time_zone": "America/La_Paz",
        "languages": ["es", "en"],
    }
    defaults.update(fields)
    return Organization.objects.create(slug=slug, **defaults)


def make_user(username: str, organization: Organization, role: str, **fields: Any) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, **fields)
    team, _created = Team.objects.get_or_create(organization=organization, name="Front line")
    Membership.objects.create(user=user, organization=organization, role=role, team=team)
    return user


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # PBKDF2 at production strength makes every user creation cost ~0.3 s.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_by_default(settings: Any) -> Iterator[None]:
    """Tests read English unless they choose a language (the product default is es)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def world(db: None) -> World:
    operator = make_organization("comteco-test", name="COMTECO Test")
    other = make_organization(
        "claro-br-test",
        name="Claro BR Test",
        country="BR",
        currency="BRL",
        time_zone="America/Sao_Paulo",
    )
    reseller = make_organization("bluecom-test", name="Bluecom Test", kind="reseller")
    reseller.operators.add(operator)
    return World(
        operator=operator,
        other_operator=other,
        reseller=reseller,
        agent=make_user("agent", operator, Role.AGENT, first_name="Ana", last_name="Quispe"),
        supervisor=make_user("supervisor", operator, Role.SUPERVISOR),
        back_office=make_user("backoffice", operator, Role.BACK_OFFICE),
        admin=make_user("admin", operator, Role.ADMIN),
        outsider=make_user("outsider", other, Role.ADMIN),
        reseller_agent=make_user("reseller-agent", reseller, Role.AGENT),
    )

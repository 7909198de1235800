"""``telcodesk demo``: organizations from the packs, customers, users per role, logins."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from telcodesk.accounts.models import Membership, Organization, User
from telcodesk.accounts.roles import PERSON_ROLES
from telcodesk.core.management.commands.demo import DEMO_PASSWORD
from telcodesk.customers.models import Customer, CustomerAssignment

OPERATORS = {"claro-ar", "claro-br", "cnt-ec", "comteco", "wisp-mx"}
RESELLERS = {"bluecom", "claro-ar-reseller"}


@pytest.fixture
def fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run_demo(customers: int) -> str:
    out = StringIO()
    call_command("demo", customers=customers, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_it_sets_up_organizations_customers_and_logins(fast_hashing: None) -> None:
    output = run_demo(50)

    slugs = set(Organization.objects.values_list("slug", flat=True))
    assert slugs >= OPERATORS | RESELLERS
    assert Customer.objects.count() == 50
    for slug in OPERATORS:
        assert Customer.objects.filter(organization__slug=slug).count() == 10
    assert CustomerAssignment.objects.filter(reseller__slug="claro-ar-reseller").exists()
    for organization in Organization.objects.all():
        for role in PERSON_ROLES:
            username = f"{organization.slug}-{role.replace('_', '-')}"
            user = User.objects.get(username=username)
            assert user.check_password(DEMO_PASSWORD)
            assert user.language == organization.default_language
            assert user.time_zone == organization.time_zone
            assert Membership.objects.get(user=user, organization=organization).role == role
            assert username in output
    assert DEMO_PASSWORD in output
    assert "http://127.0.0.1:8000/" in output


@pytest.mark.django_db(transaction=True)
def test_running_it_twice_duplicates_nothing(fast_hashing: None) -> None:
    run_demo(50)
    counts = (
        Organization.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        Customer.objects.count(),
        CustomerAssignment.objects.count(),
    )

    output = run_demo(50)

    assert (
        Organization.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        Customer.objects.count(),
        CustomerAssignment.objects.count(),
    ) == counts
    assert "already" in output

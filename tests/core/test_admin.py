import pytest
from django.test import Client

from telcodesk.accounts.models import User
from tests.conftest import World


@pytest.mark.django_db
def test_staff_can_open_the_admin_and_agents_cannot(world: World, client: Client) -> None:
    client.force_login(world.agent)
    assert client.get("/admin/").status_code == 302
    staff = User.objects.create_superuser("root", "root@example.com", "x-very-long-pass-1")
    client.force_login(staff)
    for url in (
        "/admin/",
        "/admin/accounts/organization/",
        "/admin/accounts/user/",
        "/admin/accounts/auditlog/",
        "/admin/customers/customer/",
        "/admin/customers/plan/",
        "/admin/packs/loadedpack/",
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_customers_are_read_only_in_the_admin(world: World, client: Client) -> None:
    staff = User.objects.create_superuser("root", "root@example.com", "x-very-long-pass-1")
    client.force_login(staff)
    assert client.get("/admin/customers/customer/add/").status_code == 403

"""The agent console's customer pages, through Django's test client.

Every write goes through the same services the API uses; these tests check what the
console adds: scoping answers 404, errors come back inline with 422, the language
switch is remembered, and sign-in is throttled.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from telcodesk.accounts.models import AuditLog, LoginAttempt, User
from telcodesk.accounts.roles import Role
from telcodesk.customers import selectors, services
from telcodesk.customers.models import ContactPoint, Customer, TimelineEvent
from tests.conftest import PASSWORD, World, make_user

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def customer(world: World) -> Customer:
    return services.customer_create(
        actor=world.actor(world.agent),
        first_name="Juan Carlos",
        last_name="Mamani Quispe",
        phones=[{"raw": "71234567", "is_whatsapp": True}],
    )


def snapshot(customer: Customer) -> tuple[object, ...]:
    customer.refresh_from_db()
    return (
        customer.first_name,
        customer.last_name,
        customer.updated_at,
        sorted(customer.contacts.values_list("value", "verified_on")),
        customer.addresses.count(),
        customer.documents.count(),
        TimelineEvent.objects.filter(customer=customer).count(),
    )


class TestPagesRender:
    def test_home_lists_the_customers_the_agent_opened(
        self, world: World, customer: Customer
    ) -> None:
        client = client_for(world.agent)
        assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 200

        response = client.get(reverse("customers:home"))

        assert response.status_code == 200
        assert response.context["recent_rows"][0].customer == customer
        assert response.context["stats"]["customers"] == 1

    def test_every_tab_of_the_customer_page_renders(self, world: World, customer: Customer) -> None:
        client = client_for(world.agent)
        for tab in ("services", "billing", "timeline"):
            response = client.get(reverse("customers:detail_tab", args=[customer.pk, tab]))
            assert response.status_code == 200, tab
        response = client.get(reverse("customers:detail", args=[customer.pk]))
        assert response.status_code == 200
        assert "Juan Carlos Mamani Quispe" in response.text
        assert "+591 71234567" in response.text

    def test_search_finds_a_phone_typed_with_spaces(self, world: World, customer: Customer) -> None:
        response = client_for(world.agent).get(reverse("customers:list"), {"q": "7123 4567"})

        assert response.status_code == 200
        assert [row.customer for row in response.context["rows"]] == [customer]

    def test_live_search_answers_with_the_popover_fragment(
        self, world: World, customer: Customer
    ) -> None:
        response = client_for(world.agent).get(
            reverse("customers:list"),
            {"q": "mamani"},
            headers={"HX-Request": "true", "HX-Target": "search-popover"},
        )

        assert response.status_code == 200
        assert "<html" not in response.text
        assert reverse("customers:detail", args=[customer.pk]) in response.text

    def test_a_signed_out_visitor_is_sent_to_sign_in(self, customer: Customer) -> None:
        response = Client().get(reverse("customers:detail", args=[customer.pk]))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))

    def test_account_pages_render(self, world: World) -> None:
        client = client_for(world.agent)
        for name in ("accounts:preferences", "accounts:password_change", "customers:create"):
            assert client.get(reverse(name)).status_code == 200, name

    def test_a_customer_registered_from_the_console_gets_its_phone(self, world: World) -> None:
        response = client_for(world.agent).post(
            reverse("customers:create"),
            {
                "kind": "person",
                "segment": "residential",
                "first_name": "Rosa",
                "last_name": "Flores",
                "phone-raw": "7 765 4321",
                "phone-label": "mobile",
            },
        )

        customer = Customer.objects.get(last_name="Flores")
        assert response.status_code == 302
        assert response["Location"] == reverse("customers:detail", args=[customer.pk])
        assert list(customer.contacts.values_list("value", flat=True)) == ["+59177654321"]

    def test_a_reseller_cannot_register_a_customer(self, world: World) -> None:
        response = client_for(world.reseller_agent).post(
            reverse("customers:create"),
            {"kind": "person", "segment": "residential", "last_name": "Flores"},
        )

        assert response.status_code == 422
        assert not Customer.objects.exists()


class TestScoping:
    def test_an_outsider_gets_404_and_changes_nothing(
        self, world: World, customer: Customer
    ) -> None:
        before = snapshot(customer)
        contact = customer.contacts.get()
        client = client_for(world.outsider)

        pages = [
            reverse("customers:detail", args=[customer.pk]),
            reverse("customers:detail_tab", args=[customer.pk, "billing"]),
            reverse("customers:edit", args=[customer.pk]),
        ]
        for url in pages:
            assert client.get(url).status_code == 404, url
        writes = {
            reverse("customers:edit", args=[customer.pk]): {
                "kind": "person",
                "segment": "residential",
                "first_name": "Hacked",
            },
            reverse("customers:phone_add", args=[customer.pk]): {
                "phone-raw": "76543210",
                "phone-label": "mobile",
            },
            reverse("customers:contact_confirm", args=[customer.pk, contact.pk]): {},
            reverse("customers:contact_delete", args=[customer.pk, contact.pk]): {},
            reverse("customers:address_add", args=[customer.pk]): {
                "address-purpose": "home",
                "address-street": "Av. Ayacucho",
                "address-number": "123",
                "address-city": "Cochabamba",
            },
        }
        for url, data in writes.items():
            assert client.post(url, data).status_code == 404, url

        assert snapshot(customer) == before
        assert not AuditLog.objects.filter(actor=world.outsider).exists()

    def test_an_outsider_does_not_find_the_customer_by_search(
        self, world: World, customer: Customer
    ) -> None:
        response = client_for(world.outsider).get(reverse("customers:list"), {"q": "71234567"})

        assert response.status_code == 200
        assert response.context["rows"] == []

    def test_a_reseller_agent_gets_404_for_an_unassigned_customer(
        self, world: World, customer: Customer
    ) -> None:
        client = client_for(world.reseller_agent)

        assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 404

        services.customer_assign(
            actor=world.actor(world.supervisor), customer=customer, reseller=world.reseller
        )
        assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 200


class TestInlineEdits:
    def test_an_invalid_phone_comes_back_inline_with_422_and_nothing_is_saved(
        self, world: World, customer: Customer
    ) -> None:
        before = snapshot(customer)

        response = client_for(world.agent).post(
            reverse("customers:phone_add", args=[customer.pk]),
            {"phone-raw": "12", "phone-label": "mobile"},
            headers={"HX-Request": "true", "HX-Target": "contacts-section"},
        )

        assert response.status_code == 422
        assert 'id="contacts-section"' in response.text
        assert "<html" not in response.text
        form = response.context["phone_form"]
        assert form.errors["raw"]
        for message in form.errors["raw"]:
            assert str(message).replace("'", "&#x27;").replace('"', "&quot;") in response.text
        assert 'aria-invalid="true"' in response.text
        assert snapshot(customer) == before

    def test_a_valid_phone_typed_with_spaces_is_saved_in_e164(
        self, world: World, customer: Customer
    ) -> None:
        response = client_for(world.agent).post(
            reverse("customers:phone_add", args=[customer.pk]),
            {"phone-raw": "7654 3210", "phone-label": "work"},
            headers={"HX-Request": "true", "HX-Target": "contacts-section"},
        )

        assert response.status_code == 200
        assert customer.contacts.filter(value="+59176543210", label="work").exists()
        assert "+591 76543210" in response.text

    def test_a_plain_form_post_redirects_to_the_customer_page(
        self, world: World, customer: Customer
    ) -> None:
        response = client_for(world.agent).post(
            reverse("customers:email_add", args=[customer.pk]),
            {"email-raw": " Juan@Example.COM ", "email-label": "home"},
        )

        assert response.status_code == 302
        assert response["Location"] == reverse("customers:detail", args=[customer.pk])
        assert customer.contacts.filter(kind="email", value="juan@example.com").exists()

    def test_confirming_a_contact_sets_verified_on(self, world: World, customer: Customer) -> None:
        contact = customer.contacts.get()

        response = client_for(world.agent).post(
            reverse("customers:contact_confirm", args=[customer.pk, contact.pk]),
            headers={"HX-Request": "true"},
        )

        assert response.status_code == 200
        contact.refresh_from_db()
        assert contact.verified_on is not None
        assert contact.verified_by == world.agent

    def test_a_contact_of_another_customer_cannot_be_confirmed_through_this_one(
        self, world: World, customer: Customer
    ) -> None:
        other = services.customer_create(
            actor=world.actor(world.agent), first_name="Rosa", last_name="Flores"
        )

        response = client_for(world.agent).post(
            reverse("customers:contact_confirm", args=[other.pk, customer.contacts.get().pk])
        )

        assert response.status_code == 404
        assert ContactPoint.objects.filter(verified_on__isnull=False).count() == 0

    def test_a_profile_without_any_name_is_refused_inline(
        self, world: World, customer: Customer
    ) -> None:
        before = snapshot(customer)

        response = client_for(world.agent).post(
            reverse("customers:edit", args=[customer.pk]),
            {"kind": "person", "segment": "residential", "first_name": "", "last_name": ""},
            headers={"HX-Request": "true"},
        )

        assert response.status_code == 422
        assert response.context["form"].errors["last_name"]
        assert snapshot(customer) == before

    def test_a_profile_edit_is_saved(self, world: World, customer: Customer) -> None:
        response = client_for(world.agent).post(
            reverse("customers:edit", args=[customer.pk]),
            {
                "kind": "person",
                "segment": "small_business",
                "first_name": "Juan Carlos",
                "last_name": "Mamani",
                "consent_whatsapp": "on",
            },
        )

        assert response.status_code == 302
        customer.refresh_from_db()
        assert (customer.last_name, customer.segment, customer.consent_whatsapp) == (
            "Mamani",
            "small_business",
            True,
        )


ROLE_REFUSED = "Your role does not allow this action. Ask a supervisor or an administrator."


def audit_url(customer: Customer) -> str:
    return reverse("customers:detail_tab", args=[customer.pk, "audit"])


class TestAuditLogTab:
    def test_an_agent_has_no_audit_tab_and_is_refused_with_the_reason(
        self, world: World, customer: Customer
    ) -> None:
        client = client_for(world.agent)
        page = client.get(reverse("customers:detail", args=[customer.pk]))
        assert page.status_code == 200
        assert audit_url(customer) not in page.text
        logged = AuditLog.objects.count()

        response = client.get(audit_url(customer))

        assert response.status_code == 403
        assert response.context["message"] == ROLE_REFUSED
        assert ROLE_REFUSED in response.text
        assert "audit_rows" not in response.context
        assert AuditLog.objects.count() == logged  # a refused request records no view

    def test_a_supervisor_sees_who_viewed_and_changed_the_customer(
        self, world: World, customer: Customer
    ) -> None:
        agent = client_for(world.agent)
        agent.get(reverse("customers:detail", args=[customer.pk]))
        agent.post(
            reverse("customers:edit", args=[customer.pk]),
            {
                "kind": "person",
                "segment": "residential",
                "first_name": "Juan Carlos",
                "last_name": "Mamani",
                "consent_calls": "on",
            },
        )
        agent.post(
            reverse("customers:phone_add", args=[customer.pk]),
            {"phone-raw": "76543210", "phone-label": "work"},
        )
        other = services.customer_create(
            actor=world.actor(world.agent), first_name="Rosa", last_name="Flores"
        )
        agent.get(reverse("customers:detail", args=[other.pk]))
        supervisor = client_for(world.supervisor)
        page = supervisor.get(reverse("customers:detail", args=[customer.pk]))
        response = supervisor.get(audit_url(customer))

        assert audit_url(customer) in page.text
        assert response.status_code == 200
        rows = [(row.who, row.entry.action, row.what) for row in response.context["audit_rows"]]
        assert rows == [
            ("supervisor", "view", "Profile"),
            ("Ana Quispe", "create", "Contact"),
            ("Ana Quispe", "update", "Profile"),
            ("Ana Quispe", "view", "Profile"),
            ("Ana Quispe", "create", "Profile"),
            ("Ana Quispe", "create", "Contact"),
        ]
        update = response.context["audit_rows"][2]
        assert [(c.field, c.old, c.new) for c in update.changes] == [
            ("Last names", "Mamani Quispe", "Mamani")
        ]
        assert "<del>Mamani Quispe</del>" in response.text
        assert "+591 76543210" in response.text
        assert response.context["audit_has_older"] is False
        # Opening the tab recorded one view, not two.
        assert (
            AuditLog.objects.filter(
                actor=world.supervisor, action="view", object_id=str(customer.pk)
            ).count()
            == 2
        )

    def test_changes_only_leaves_out_the_views_and_older_entries_are_paged(
        self, world: World, customer: Customer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from telcodesk.customers import views

        monkeypatch.setattr(views, "AUDIT_LIMIT", 2)
        for _visit in range(3):
            client_for(world.agent).get(reverse("customers:detail", args=[customer.pk]))
        supervisor = client_for(world.supervisor)

        changes = supervisor.get(audit_url(customer), {"show": "changes"})
        first = supervisor.get(audit_url(customer))
        third = supervisor.get(audit_url(customer), {"page": "3"})

        assert [r.entry.action for r in changes.context["audit_rows"]] == ["create", "create"]
        assert changes.context["audit_has_older"] is False
        assert [r.entry.action for r in first.context["audit_rows"]] == ["view", "view"]
        assert first.context["audit_has_older"] is True
        assert "?page=2" in first.text
        # Page 3 skips the supervisor's two earlier views and two of the agent's three.
        assert [(r.who, r.entry.action) for r in third.context["audit_rows"]] == [
            ("Ana Quispe", "view"),
            ("Ana Quispe", "create"),
        ]

    def test_an_outsider_gets_404_and_leaves_no_trace(
        self, world: World, customer: Customer
    ) -> None:
        response = client_for(world.outsider).get(audit_url(customer))

        assert response.status_code == 404
        assert not AuditLog.objects.filter(actor=world.outsider).exists()

    def test_a_reseller_supervisor_sees_only_what_its_own_people_did(
        self, world: World, customer: Customer
    ) -> None:
        services.customer_assign(
            actor=world.actor(world.supervisor), customer=customer, reseller=world.reseller
        )
        reseller_supervisor = make_user("reseller-supervisor", world.reseller, Role.SUPERVISOR)
        client_for(world.reseller_agent).get(reverse("customers:detail", args=[customer.pk]))
        client_for(world.agent).get(reverse("customers:detail", args=[customer.pk]))

        response = client_for(reseller_supervisor).get(audit_url(customer))

        assert response.status_code == 200
        assert [(row.who, row.entry.action) for row in response.context["audit_rows"]] == [
            ("reseller-agent", "view")
        ]

    def test_the_log_is_read_in_two_queries_however_long_it_is(
        self, world: World, customer: Customer, django_assert_num_queries: Any
    ) -> None:
        actor = world.actor(world.supervisor)
        for _view in range(5):
            selectors.customer_profile(actor=world.actor(world.agent), customer_id=customer.pk)

        with django_assert_num_queries(2):
            entries = selectors.customer_audit_log(actor=actor, customer_id=customer.pk)

        assert [entry.actor for entry in entries] == [world.agent] * 7
        assert len(selectors.customer_audit_log(actor=actor, customer_id=customer.pk, limit=3)) == 3


class TestSignIn:
    def test_after_too_many_failures_even_the_right_password_is_refused(self, world: World) -> None:
        client = Client()
        url = reverse("accounts:login")
        for _attempt in range(settings.LOGIN_MAX_FAILURES):
            response = client.post(url, {"username": "agent", "password": "wrong"})
            assert response.status_code == 401

        response = client.post(url, {"username": "agent", "password": PASSWORD})

        assert response.status_code == 429
        assert "_auth_user_id" not in client.session
        assert LoginAttempt.objects.filter(username="agent").count() == (
            settings.LOGIN_MAX_FAILURES
        )

    def test_the_right_password_signs_in_and_goes_home(self, world: World) -> None:
        client = Client()

        response = client.post(
            reverse("accounts:login"), {"username": "agent", "password": PASSWORD}
        )

        assert response.status_code == 302
        assert client.get(response["Location"]).status_code == 200


class TestLanguageSwitch:
    def test_it_sets_the_cookie_and_the_users_language(self, world: World) -> None:
        client = client_for(world.agent)

        response = client.post(
            reverse("accounts:language"),
            {"language": "pt-br", "next": reverse("customers:list")},
        )

        assert response.status_code == 302
        assert response["Location"] == reverse("customers:list")
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "pt-br"
        world.agent.refresh_from_db()
        assert world.agent.language == "pt-br"
        page = client.get(reverse("customers:list"))
        assert '<html lang="pt-br">' in page.text

    def test_an_unknown_language_falls_back_to_the_default(self, world: World) -> None:
        client = client_for(world.agent)

        response = client.post(reverse("accounts:language"), {"language": "xx"})

        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == settings.LANGUAGE_CODE

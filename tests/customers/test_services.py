"""Customer services: validation, scoping, audit, timeline, ledger."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from telcodesk.accounts.models import AuditLog
from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from telcodesk.customers import selectors, services
from telcodesk.customers.models import (
    ContactPoint,
    Customer,
    CustomerNameKey,
    IdentityDocument,
    Invoice,
    Subscription,
    SubscriptionStatusChange,
    TimelineEvent,
)
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _customer(world: World, **extra: object) -> Customer:
    fields: dict[str, object] = {
        "first_name": "Juana",
        "last_name": "Mamani Quispe",
        "birth_date": date(1980, 5, 17),
        "documents": [{"kind": "bo_ci", "number": "4567891 LP"}],
        "phones": [{"raw": "77712345", "is_whatsapp": True}],
        "emails": [{"raw": "Juana.Mamani@Example.com"}],
    }
    fields.update(extra)
    return services.customer_create(actor=world.actor(world.agent), **fields)  # type: ignore[arg-type]


def _counts() -> tuple[int, int, int, int]:
    return (
        Customer.objects.count(),
        IdentityDocument.objects.count(),
        ContactPoint.objects.count(),
        AuditLog.objects.count(),
    )


def test_it_registers_a_customer_with_normalized_documents_and_contacts(world: World) -> None:
    customer = _customer(world)
    assert customer.organization == world.operator
    assert customer.search_name == "juana mamani quispe"
    document = customer.documents.get()
    assert (document.kind, document.number, document.issued_in) == ("bo_ci", "4567891", "LP")
    phone = customer.contacts.get(kind="phone")
    assert (phone.value, phone.is_whatsapp, phone.is_primary) == ("+59177712345", True, True)
    assert customer.contacts.get(kind="email").value == "juana.mamani@example.com"
    assert list(customer.timeline.values_list("kind", flat=True)).count("change") >= 1


def test_an_invalid_document_refuses_the_whole_customer(world: World) -> None:
    before = _counts()
    with pytest.raises(ValidationFailed) as caught:
        _customer(world, documents=[{"kind": "ar_cuit", "number": "20-12345678-0"}])
    assert "CUIT" in caught.value.message
    assert _counts() == before


def test_an_invalid_phone_refuses_the_whole_customer(world: World) -> None:
    before = _counts()
    with pytest.raises(ValidationFailed) as caught:
        _customer(world, phones=[{"raw": "12"}])
    assert caught.value.code == "invalid_phone"
    assert _counts() == before


def test_a_person_needs_a_name_and_a_company_its_legal_name(world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.customer_create(actor=world.actor(world.agent), first_name="", last_name="")
    assert list(caught.value.details) == ["last_name"]
    with pytest.raises(ValidationFailed) as caught:
        services.customer_create(actor=world.actor(world.agent), kind="company")
    assert list(caught.value.details) == ["company_name"]
    assert Customer.objects.count() == 0


def test_unknown_profile_fields_and_enum_values_are_refused(world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.customer_create(actor=world.actor(world.agent), last_name="X", shoe_size=42)
    assert list(caught.value.details) == ["shoe_size"]
    with pytest.raises(ValidationFailed) as caught:
        services.customer_create(actor=world.actor(world.agent), last_name="X", segment="vip")
    assert list(caught.value.details) == ["segment"]
    assert Customer.objects.count() == 0


def test_updating_a_name_rewrites_the_search_name_and_its_keys(world: World) -> None:
    customer = _customer(world)
    services.customer_update(actor=world.actor(world.agent), customer=customer, last_name="Condori")
    customer.refresh_from_db()
    assert customer.search_name == "juana condori"
    keys = set(CustomerNameKey.objects.filter(customer=customer).values_list("key", flat=True))
    if connection.vendor == "postgresql":
        assert keys == set()
    else:
        assert {"juana", "condori", "cndori"} <= keys
        assert "mamani" not in keys
    change = AuditLog.objects.filter(action="update").get()
    assert change.changes == {"last_name": ["Mamani Quispe", "Condori"]}


def test_an_outsider_cannot_see_or_change_the_customer(world: World) -> None:
    customer = _customer(world)
    outsider = world.actor(world.outsider)
    before = _counts()
    with pytest.raises(NotFound):
        selectors.customer_get(actor=outsider, customer_id=customer.pk)
    with pytest.raises(NotFound):
        services.customer_update(actor=outsider, customer=customer, last_name="Hacked")
    with pytest.raises(NotFound):
        services.phone_add(actor=outsider, customer=customer, raw="+59177799999")
    assert _counts() == before
    customer.refresh_from_db()
    assert customer.last_name == "Mamani Quispe"


def test_a_reseller_sees_only_the_customers_assigned_to_it(world: World) -> None:
    assigned = _customer(world)
    other = _customer(world, first_name="Pedro", documents=[], phones=[], emails=[])
    reseller = world.actor(world.reseller_agent)
    with pytest.raises(NotFound):
        selectors.customer_get(actor=reseller, customer_id=assigned.pk)
    services.customer_assign(
        actor=world.actor(world.supervisor), customer=assigned, reseller=world.reseller
    )
    assert selectors.customer_get(actor=reseller, customer_id=assigned.pk) == assigned
    assert list(selectors.customers_visible(actor=reseller)) == [assigned]
    with pytest.raises(NotFound):
        selectors.customer_get(actor=reseller, customer_id=other.pk)


def test_a_reseller_cannot_register_customers(world: World) -> None:
    with pytest.raises(ValidationFailed):
        services.customer_create(actor=world.actor(world.reseller_agent), last_name="X")
    assert Customer.objects.count() == 0


def test_assigning_to_an_organization_that_does_not_resell_is_refused(world: World) -> None:
    customer = _customer(world)
    with pytest.raises(ValidationFailed):
        services.customer_assign(
            actor=world.actor(world.supervisor),
            customer=customer,
            reseller=world.other_operator,
        )


def test_viewing_the_profile_is_audited(world: World) -> None:
    customer = _customer(world)
    selectors.customer_profile(actor=world.actor(world.agent), customer_id=customer.pk)
    view = AuditLog.objects.get(action="view")
    assert (view.actor, view.object_type, view.object_id) == (
        world.agent,
        "customer",
        str(customer.pk),
    )


def test_confirming_a_contact_records_the_date_and_the_agent(world: World) -> None:
    customer = _customer(world)
    phone = customer.contacts.get(kind="phone")
    services.contact_confirm(actor=world.actor(world.agent), contact_id=phone.pk)
    phone.refresh_from_db()
    assert phone.verified_on == timezone.localdate()
    assert phone.verified_by == world.agent
    assert customer.timeline.filter(kind=TimelineEvent.Kind.CONTACT_VERIFIED).count() == 1


def test_a_duplicate_phone_is_refused(world: World) -> None:
    customer = _customer(world)
    with pytest.raises(ValidationFailed) as caught:
        services.phone_add(actor=world.actor(world.agent), customer=customer, raw="777-12345")
    assert caught.value.status == 409
    assert customer.contacts.filter(kind="phone").count() == 1


def test_a_bolivian_address_is_stored_in_the_protocol_form(world: World) -> None:
    customer = _customer(world)
    address = services.address_add(
        actor=world.actor(world.agent),
        customer=customer,
        purpose="installation",
        street="La Paz",
        number="2040",
        between_street_a="Lanza",
        between_street_b="Antezana",
        building_type="building",
        building_name="Elias",
        floor="5",
        apartment="B",
        city="Cochabamba",
    )
    assert address.one_line == "LA PAZ - 2040 ENTRE LANZA Y ANTEZANA EDIFICIO ELIAS PISO 5 DEPTO B"


def test_an_address_breaking_the_protocol_is_refused(world: World) -> None:
    customer = _customer(world)
    with pytest.raises(ValidationFailed) as caught:
        services.address_add(
            actor=world.actor(world.agent), customer=customer, street="", number=""
        )
    assert caught.value.code == "invalid_address"
    assert customer.addresses.count() == 0


def _subscription(world: World, customer: Customer) -> Subscription:
    return services.subscription_create(
        actor=world.actor(world.back_office),
        customer=customer,
        service_id="s-1001",
        contract_number="c-77",
        service_type="fiber_ftth",
        technology="fiber",
        started_on=date(2024, 3, 1),
        permanence_until=date(2025, 9, 1),
    )


def test_subscription_status_changes_keep_their_history(world: World) -> None:
    customer = _customer(world)
    subscription = _subscription(world, customer)
    assert subscription.service_id == "S-1001"
    services.subscription_status_change(
        actor=world.actor(world.back_office),
        subscription_id=subscription.pk,
        to_status="blocked",
        reason="Overdue 45 days",
    )
    history = list(
        SubscriptionStatusChange.objects.filter(subscription=subscription)
        .order_by("id")
        .values_list("from_status", "to_status")
    )
    assert history == [("", "active"), ("active", "blocked")]


def test_a_cancelled_service_cannot_come_back_and_nothing_changes(world: World) -> None:
    customer = _customer(world)
    subscription = _subscription(world, customer)
    actor = world.actor(world.back_office)
    services.subscription_status_change(
        actor=actor, subscription_id=subscription.pk, to_status="cancelled", reason="Moved"
    )
    with pytest.raises(ValidationFailed) as caught:
        services.subscription_status_change(
            actor=actor, subscription_id=subscription.pk, to_status="active", reason="Back"
        )
    assert caught.value.status == 409
    subscription.refresh_from_db()
    assert subscription.status == "cancelled"
    assert subscription.status_history.count() == 2


def test_an_agent_cannot_change_a_service_status(world: World) -> None:
    customer = _customer(world)
    subscription = _subscription(world, customer)
    with pytest.raises(PermissionDenied):
        services.subscription_status_change(
            actor=world.actor(world.agent),
            subscription_id=subscription.pk,
            to_status="blocked",
            reason="x",
        )


def test_balance_and_days_overdue_are_computed_from_invoices_and_payments(
    world: World,
) -> None:
    customer = _customer(world)
    actor = world.actor(world.back_office)
    today = timezone.localdate()
    old = services.invoice_register(
        actor=actor,
        customer=customer,
        number="F-1",
        period_start=today - timedelta(days=70),
        period_end=today - timedelta(days=41),
        amount="150.00",
        issued_on=today - timedelta(days=40),
        due_on=today - timedelta(days=30),
    )
    services.invoice_register(
        actor=actor,
        customer=customer,
        number="F-2",
        period_start=today - timedelta(days=40),
        period_end=today - timedelta(days=11),
        amount="150.00",
        issued_on=today - timedelta(days=10),
        due_on=today + timedelta(days=5),
    )
    balance = selectors.customer_balance(actor=actor, customer=customer, today=today)
    assert (balance.outstanding, balance.overdue, balance.days_overdue) == (
        Decimal("300.00"),
        Decimal("150.00"),
        30,
    )
    services.payment_register(
        actor=actor, customer=customer, method="lottery_agent", paid_on=today, amount="200"
    )
    old.refresh_from_db()
    assert old.status_on(today) == Invoice.Status.PAID
    balance = selectors.customer_balance(actor=actor, customer=customer, today=today)
    assert (balance.outstanding, balance.overdue, balance.days_overdue) == (
        Decimal("100.00"),
        Decimal("0"),
        0,
    )


def test_a_payment_with_a_bad_amount_changes_nothing(world: World) -> None:
    customer = _customer(world)
    actor = world.actor(world.back_office)
    with pytest.raises(ValidationFailed):
        services.payment_register(
            actor=actor, customer=customer, method="card", paid_on=date.today(), amount="-5"
        )
    with pytest.raises(ValidationFailed):
        services.payment_register(
            actor=actor, customer=customer, method="barter", paid_on=date.today(), amount="5"
        )
    assert customer.payments.count() == 0


def test_the_profile_is_read_in_a_bounded_number_of_queries(
    world: World, django_assert_max_num_queries: object
) -> None:
    customer = _customer(world)
    _subscription(world, customer)
    actor = world.actor(world.agent)
    with django_assert_max_num_queries(16):  # type: ignore[operator]
        profile = selectors.customer_profile(actor=actor, customer_id=customer.pk)
        assert len(profile.subscriptions) == 1
        assert [s.status for s in profile.subscriptions] == ["active"]

"""Demo data: valid documents, phones and addresses per country, deterministic, fast paths."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import phonenumbers
import pytest
from django.db import connection

from telcodesk.accounts.models import Organization
from telcodesk.customers import demo_data
from telcodesk.customers.addresses import parse_bolivian_line
from telcodesk.customers.demo_data import BULK_TABLES, assign_to_reseller, generate_customers
from telcodesk.customers.documents import normalize_document
from telcodesk.customers.models import (
    Address,
    ContactPoint,
    Customer,
    CustomerAssignment,
    CustomerNameKey,
    IdentityDocument,
    Invoice,
    Plan,
    Subscription,
    SubscriptionStatusChange,
)
from telcodesk.customers.names import name_keys
from telcodesk.customers.search_index import search_name_for

TODAY = date(2026, 3, 18)
COUNT = 200
COUNTRIES = {
    "AR": ("ARS", "America/Argentina/Buenos_Aires", "es"),
    "BO": ("BOB", "America/La_Paz", "es"),
    "BR": ("BRL", "America/Sao_Paulo", "pt-br"),
    "EC": ("USD", "America/Guayaquil", "es"),
    "MX": ("MXN", "America/Mexico_City", "es"),
}
PLANS = (
    ("fibra-300", "fiber_ftth", "fiber", "300", "25000.00"),
    ("linea-fija", "fixed_line", "copper", None, "90.00"),
    ("movil-20", "mobile_postpaid", "mobile", None, "120.00"),
    ("tv-cable", "hfc_tv", "coax", None, "200.00"),
)


def make_operator(country: str) -> Organization:
    currency, time_zone, language = COUNTRIES[country]
    organization = Organization.objects.create(
        slug=f"demo-{country.lower()}",
        name=f"Demo {country}",
        country=country,
        currency=currency,
        time_zone=time_zone,
        languages=[language],
        default_language=language,
    )
    for code, service_type, technology, speed, price in PLANS:
        Plan.objects.create(
            organization=organization,
            code=code,
            name=code.replace("-", " ").title(),
            service_type=service_type,
            technology=technology,
            download_mbps=Decimal(speed) if speed else None,
            monthly_price=Decimal(price),
            currency=currency,
        )
    return organization


@pytest.fixture
def operators(db: None) -> dict[str, Organization]:
    return {country: make_operator(country) for country in COUNTRIES}


def generate(organization: Organization, **options: object) -> int:
    options = {"batch_size": 64, **options}
    return generate_customers(
        organization=organization,
        count=COUNT,
        seed=7,
        today=TODAY,
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("country", sorted(COUNTRIES))
def test_it_generates_exact_counts_of_valid_records(
    operators: dict[str, Organization], country: str
) -> None:
    organization = operators[country]
    seen: list[int] = []

    assert generate(organization, progress=seen.append) == COUNT

    assert seen[-1] == COUNT
    customers = Customer.objects.filter(organization=organization)
    assert customers.count() == COUNT
    assert Address.objects.filter(organization=organization).count() == COUNT
    assert IdentityDocument.objects.filter(organization=organization, is_primary=True).count() == (
        COUNT
    )
    subscriptions = Subscription.objects.filter(organization=organization).count()
    assert COUNT <= subscriptions <= 2 * COUNT
    for customer in customers:
        assert customer.search_name == search_name_for(customer)
    for document in IdentityDocument.objects.filter(organization=organization):
        normalized = normalize_document(
            document.kind,
            document.number,
            issued_in=document.issued_in,
            complement=document.complement,
        )
        assert (normalized.kind, normalized.number) == (document.kind, document.number)
        assert document.kind.startswith(country.lower())
    phones = ContactPoint.objects.filter(organization=organization, kind="phone")
    assert phones.filter(is_primary=True).count() == COUNT
    for phone in phones:
        number = phonenumbers.parse(phone.value)
        assert phonenumbers.is_valid_number(number), phone.value
        assert phonenumbers.region_code_for_number(number) == country
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == (
            phone.value
        )


def test_bolivian_addresses_follow_the_protocol(operators: dict[str, Organization]) -> None:
    generate(operators["BO"])

    addresses = Address.objects.filter(organization=operators["BO"])
    assert addresses.count() == COUNT
    for address in addresses:
        parsed = parse_bolivian_line(address.one_line)
        assert parsed.problems == [], (address.one_line, parsed.problems)
        assert parsed.fields.street == address.street
        assert parsed.fields.number == address.number
        assert len(address.number) == 4


def test_brazilian_addresses_have_a_cep(operators: dict[str, Organization]) -> None:
    generate(operators["BR"])

    for address in Address.objects.filter(organization=operators["BR"]):
        assert len(address.postal_code) == 9 and address.postal_code[5] == "-"
        assert f"CEP {address.postal_code}" in address.one_line


def test_some_invoices_are_overdue_and_services_blocked(
    operators: dict[str, Organization],
) -> None:
    organization = operators["AR"]
    generate(organization)

    invoices = list(Invoice.objects.filter(organization=organization))
    statuses = [invoice.status_on(TODAY) for invoice in invoices]
    assert statuses.count(Invoice.Status.OVERDUE) > 0
    assert statuses.count(Invoice.Status.PAID) > statuses.count(Invoice.Status.OVERDUE)
    not_active = Subscription.objects.filter(organization=organization).exclude(status="active")
    assert not_active.exists()
    assert SubscriptionStatusChange.objects.filter(
        subscription__organization=organization
    ).count() == (not_active.count())
    fiber = Subscription.objects.filter(organization=organization, service_type="fiber_ftth")
    assert fiber.exists()
    assert not fiber.filter(olt_name="").exists()
    assert not fiber.filter(cpe_ip=None).exists()


def snapshot(organization: Organization) -> list[tuple[object, ...]]:
    return [
        (c.first_name, c.last_name, c.company_name, c.birth_date, c.segment, c.search_name)
        for c in Customer.objects.filter(organization=organization).order_by("id")
    ] + [
        (d.kind, d.number, d.issued_in)
        for d in IdentityDocument.objects.filter(organization=organization).order_by("id")
    ]


def test_the_same_seed_gives_the_same_data(operators: dict[str, Organization]) -> None:
    first, second = operators["MX"], make_operator_copy(operators["MX"])
    generate(first)
    generate(second)

    assert snapshot(first) == snapshot(second)


def make_operator_copy(organization: Organization) -> Organization:
    copy = Organization.objects.create(
        slug=f"{organization.slug}-copy",
        name=f"{organization.name} copy",
        country=organization.country,
        currency=organization.currency,
        time_zone=organization.time_zone,
        languages=organization.languages,
        default_language=organization.default_language,
    )
    for plan in Plan.objects.filter(organization=organization).order_by("code"):
        plan.pk = None
        plan.organization = copy
        plan.save()
    return copy


def test_the_data_do_not_depend_on_the_batch_size(operators: dict[str, Organization]) -> None:
    first, second = operators["BO"], make_operator_copy(operators["BO"])
    generate(first)
    generate(second, batch_size=37)

    assert snapshot(first) == snapshot(second)


def test_a_later_start_index_adds_customers_without_clashes(
    operators: dict[str, Organization],
) -> None:
    organization = operators["MX"]
    generate(organization)
    generate_customers(organization=organization, count=50, seed=8, start_index=COUNT, today=TODAY)

    assert Customer.objects.filter(organization=organization).count() == COUNT + 50


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite name index only")
def test_sqlite_gets_the_name_keys_search_needs(operators: dict[str, Organization]) -> None:
    organization = operators["BO"]
    generate(organization)

    for customer in Customer.objects.filter(organization=organization)[:50]:
        stored = set(
            CustomerNameKey.objects.filter(customer=customer).values_list("key", "token_len")
        )
        assert stored == name_keys(customer.search_name)


def test_the_orm_writer_writes_the_same_rows(operators: dict[str, Organization]) -> None:
    first, second = operators["EC"], make_operator_copy(operators["EC"])
    generate(first)
    generate(second, writer="orm")

    assert snapshot(first) == snapshot(second)


def test_resellers_get_the_requested_fixed_line_only_share(
    operators: dict[str, Organization],
) -> None:
    operator = operators["BO"]
    generate(operator)
    reseller = Organization.objects.create(
        slug="bluecom-demo",
        name="Bluecom demo",
        kind=Organization.Kind.RESELLER,
        country="BO",
        currency="BOB",
        time_zone="America/La_Paz",
    )
    reseller.operators.add(operator)

    created = assign_to_reseller(
        operator=operator,
        reseller=reseller,
        fraction=1.0,
        seed=1,
        only_service_type="fixed_line",
    )

    fixed_only = (
        Customer.objects.filter(organization=operator, subscriptions__service_type="fixed_line")
        .exclude(subscriptions__service_type__in=["fiber_ftth", "mobile_postpaid", "hfc_tv"])
        .distinct()
        .count()
    )
    assert created == fixed_only > 0
    assert CustomerAssignment.objects.filter(reseller=reseller).count() == fixed_only
    again = assign_to_reseller(
        operator=operator,
        reseller=reseller,
        fraction=1.0,
        seed=1,
        only_service_type="fixed_line",
    )
    assert again == 0


def bulk_catalog() -> dict[str, set[tuple[object, ...]]]:
    """Index and foreign-key definitions of the tables a bulk load touches."""
    tables = [model._meta.db_table for model in BULK_TABLES]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)",
            [tables],
        )
        indexes = set(cursor.fetchall())
        cursor.execute(
            "SELECT t.relname, c.conname, c.contype, pg_get_constraintdef(c.oid), "
            "c.convalidated, c.condeferrable, c.condeferred FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname = ANY(%s)",
            [tables],
        )
        constraints = set(cursor.fetchall())
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger "
            "WHERE tgrelid = 'customers_customer'::regclass AND NOT tgisinternal"
        )
        triggers = set(cursor.fetchall())
    return {"indexes": indexes, "constraints": constraints, "triggers": triggers}


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL bulk load only"
)


@postgresql_only
def test_the_bulk_path_leaves_the_same_indexes_and_foreign_keys(
    operators: dict[str, Organization],
) -> None:
    organization = operators["BO"]
    before = bulk_catalog()
    assert any(name == "customer_search_name_trgm" for _t, name, _d in before["indexes"])

    generate(organization, bulk_threshold=1)

    assert bulk_catalog() == before
    assert Customer.objects.filter(organization=organization).count() == COUNT
    assert Invoice.objects.filter(organization=organization).exists()
    # The word table the disabled trigger would have kept is filled at the end.
    customer = Customer.objects.filter(organization=organization, kind="person").first()
    assert customer is not None
    word = customer.search_name.split(" ")[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers_search_word_key WHERE word = %s", [word])
        assert cursor.fetchone()[0] > 0


@postgresql_only
def test_a_failing_bulk_load_still_rebuilds_indexes_and_foreign_keys(
    operators: dict[str, Organization], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = bulk_catalog()
    writes = 0
    copy_write = demo_data._copy_write

    def failing_write(batch: demo_data.Batch) -> None:
        nonlocal writes
        writes += 1
        if writes == 2:
            raise RuntimeError("disk full")
        copy_write(batch)

    monkeypatch.setattr(demo_data, "_copy_write", failing_write)

    with pytest.raises(RuntimeError, match="disk full"):
        generate(operators["AR"], bulk_threshold=1)

    assert bulk_catalog() == before
    assert Customer.objects.filter(organization=operators["AR"]).count() == 64

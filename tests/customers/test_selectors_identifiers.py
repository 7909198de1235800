"""customer_find_by_identifiers: the system's match by phone or document (no actor).

Scoped like customers_visible: an operator finds its own customers, a reseller only
those assigned to it, another organization nobody.
"""

from __future__ import annotations

import pytest
from pytest_django import DjangoAssertNumQueries

from telcodesk.accounts.roles import Role
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer
from telcodesk.customers.selectors import customer_find_by_identifiers
from telcodesk.customers.services import customer_assign, customer_create
from tests.conftest import World, make_organization


@pytest.fixture
def operator(world: World) -> Actor:
    return world.actor(world.admin)


def person(
    actor: Actor, first: str, *, phone: str = "", ci: str = "", complement: str = ""
) -> Customer:
    """A customer; a Bolivian CI is unique per organization with its complement."""
    document = {"kind": "bo_ci", "number": ci, "issued_in": "CB", "complement": complement}
    return customer_create(
        actor=actor,
        first_name=first,
        last_name="Mamani",
        phones=[{"raw": phone}] if phone else [],
        documents=[document] if ci else [],
    )


def names(customers: list[Customer]) -> list[str]:
    return [customer.first_name for customer in customers]


def test_a_phone_is_found_as_typed_in_the_organizations_country(
    world: World, operator: Actor
) -> None:
    juana = person(operator, "Juana", phone="71234567")
    person(operator, "Rosa", phone="72223333")

    for typed in ("71234567", "+591 712 34567", "00591 71234567"):
        found = customer_find_by_identifiers(organization=world.operator, phone=typed)
        assert found == [juana], typed
    assert found[0].organization == world.operator  # loaded with the customer


def test_a_document_is_found_with_or_without_separators_and_complement(
    world: World, operator: Actor
) -> None:
    juana = person(operator, "Juana", ci="4567891")

    for typed in ("4567891", "4.567.891", "4567891-1A CB"):
        assert customer_find_by_identifiers(organization=world.operator, document=typed) == [
            juana
        ], typed


def test_phone_matches_come_first_then_document_only_matches_each_once(
    world: World, operator: Actor
) -> None:
    rosa = person(operator, "Rosa", ci="4567891")  # lower id, document only
    juana = person(operator, "Juana", phone="71234567", ci="4567891", complement="1A")
    luis = person(operator, "Luis", phone="71234567")

    both = customer_find_by_identifiers(
        organization=world.operator, phone="71234567", document="4567891"
    )

    assert both == [juana, luis, rosa]
    assert names(customer_find_by_identifiers(organization=world.operator, phone="71234567")) == [
        "Juana",
        "Luis",
    ]
    assert customer_find_by_identifiers(organization=world.operator, document="4567891") == [
        rosa,
        juana,
    ]


@pytest.mark.parametrize(
    ("phone", "document"),
    [("", ""), ("   ", ""), ("Juana", ""), ("12345", ""), ("", "12"), ("", "ABCDEF")],
)
def test_nothing_readable_as_a_phone_or_a_document_finds_nobody(
    world: World, operator: Actor, phone: str, document: str
) -> None:
    person(operator, "Juana", phone="71234567", ci="4567891")

    assert (
        customer_find_by_identifiers(organization=world.operator, phone=phone, document=document)
        == []
    )


def test_an_unknown_phone_or_document_finds_nobody(world: World, operator: Actor) -> None:
    person(operator, "Juana", phone="71234567", ci="4567891")

    assert (
        customer_find_by_identifiers(
            organization=world.operator, phone="79998888", document="9999999"
        )
        == []
    )


def test_a_reseller_finds_only_the_customers_assigned_to_it(world: World, operator: Actor) -> None:
    assigned = person(operator, "Juana", phone="71234567", ci="4567891")
    # The operator's own, not assigned: the same CI with another complement.
    person(operator, "Luis", phone="71234567", ci="4567891", complement="1A")
    customer_assign(actor=operator, customer=assigned, reseller=world.reseller)

    assert customer_find_by_identifiers(organization=world.reseller, phone="71234567") == [assigned]
    assert customer_find_by_identifiers(organization=world.reseller, document="4567891") == [
        assigned
    ]
    assert names(customer_find_by_identifiers(organization=world.operator, phone="71234567")) == [
        "Juana",
        "Luis",
    ]


def test_another_organization_finds_nobody(world: World, operator: Actor) -> None:
    person(operator, "Juana", phone="+591 71234567", ci="4567891")

    found = customer_find_by_identifiers(
        organization=world.other_operator, phone="+591 71234567", document="4567891"
    )

    assert found == []


def test_an_argentine_mobile_matches_with_or_without_the_9(db: None) -> None:
    claro = make_organization("claro-ar-test", country="AR", currency="ARS")
    admin = Actor(organization=claro, role=Role.ADMIN, label="test")
    martina = customer_create(
        actor=admin, first_name="Martina", last_name="López", phones=[{"raw": "+54 9 11 3456-7890"}]
    )

    for typed in ("+541134567890", "+5491134567890", "11 3456-7890"):
        assert customer_find_by_identifiers(organization=claro, phone=typed) == [martina], typed


def test_it_takes_three_queries_whatever_the_matches(
    world: World, operator: Actor, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    for index in range(4):
        person(operator, f"Cliente {index}", phone="71234567")
    person(operator, "Rosa", ci="4567891")

    with django_assert_num_queries(3):  # phone, document, the customers
        found = customer_find_by_identifiers(
            organization=world.operator, phone="71234567", document="4567891"
        )

    assert names(found) == ["Cliente 0", "Cliente 1", "Cliente 2", "Cliente 3", "Rosa"]

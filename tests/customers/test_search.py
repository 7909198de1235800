"""Customer search: names (accents, case, partial, typos), identifiers, ranking, scope.

Runs on SQLite (CustomerNameKey) and PostgreSQL (pg_trgm) alike.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pytest_django import DjangoAssertNumQueries

from telcodesk.accounts.roles import Role
from telcodesk.core.errors import PermissionDenied
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer
from telcodesk.customers.search import (
    IDENTIFIER_SCORE,
    SearchHit,
    customer_search,
    name_score,
    search_explain,
    within_one_edit,
)
from telcodesk.customers.services import customer_assign, customer_create, subscription_create
from tests.conftest import World, make_organization, make_user


def person(actor: Actor, first: str, last: str, **extra: Any) -> Customer:
    return customer_create(actor=actor, first_name=first, last_name=last, **extra)


def ids(hits: list[SearchHit]) -> list[int]:
    return [hit.customer.pk for hit in hits]


@pytest.fixture
def agent(world: World) -> Actor:
    return world.actor(world.agent)


@pytest.fixture
def back_office(world: World) -> Actor:
    return world.actor(world.back_office)


@pytest.fixture
def people(agent: Actor, back_office: Actor) -> dict[str, Customer]:
    jose = person(
        agent,
        "José",
        "Pérez Mamani",
        documents=[{"kind": "bo_ci", "number": "4567891-1A", "issued_in": "LP"}],
        phones=[{"raw": "71234567"}],
        emails=[{"raw": "Jose.Perez@Example.com"}],
    )
    maria = person(agent, "María", "Quispe Choque", phones=[{"raw": "(4) 422-1234"}])
    rosa = person(agent, "Rosa", "González")
    juan = person(agent, "Juan", "Quisbert")
    company = customer_create(actor=agent, kind="company", company_name="Ferretería Los Andes")
    subscription_create(
        actor=back_office,
        customer=maria,
        service_id="ftth-000123",
        contract_number="ct-2024-0099",
        service_type="fiber_ftth",
        started_on=date(2024, 3, 1),
    )
    return {"jose": jose, "maria": maria, "rosa": rosa, "juan": juan, "company": company}


# --- names --------------------------------------------------------------------------


@pytest.mark.django_db
class TestNameSearch:
    def test_it_ignores_accents_and_case(self, agent: Actor, people: dict[str, Customer]) -> None:
        hits = customer_search(actor=agent, query="jose perez")
        assert ids(hits) == [people["jose"].pk]
        assert hits[0].matched_on == "name"
        assert 0 < hits[0].score <= 1

    def test_it_finds_accented_query_in_upper_case(
        self, agent: Actor, people: dict[str, Customer]
    ) -> None:
        assert ids(customer_search(actor=agent, query="GONZÁLEZ")) == [people["rosa"].pk]

    def test_it_finds_a_partial_last_word(self, agent: Actor, people: dict[str, Customer]) -> None:
        hits = customer_search(actor=agent, query="Quis")
        assert set(ids(hits)) == {people["maria"].pk, people["juan"].pk}
        assert {hit.matched_on for hit in hits} == {"name"}

    def test_it_ranks_a_whole_word_above_a_prefix(
        self, agent: Actor, people: dict[str, Customer]
    ) -> None:
        hits = customer_search(actor=agent, query="quispe")
        assert ids(hits) == [people["maria"].pk]

    def test_it_tolerates_a_swapped_pair_of_letters(
        self, agent: Actor, people: dict[str, Customer]
    ) -> None:
        assert ids(customer_search(actor=agent, query="Qiuspe")) == [people["maria"].pk]

    def test_it_tolerates_a_wrong_letter(self, agent: Actor, people: dict[str, Customer]) -> None:
        assert ids(customer_search(actor=agent, query="Gonzales")) == [people["rosa"].pk]

    def test_it_tolerates_a_typo_in_a_full_name(
        self, agent: Actor, people: dict[str, Customer]
    ) -> None:
        assert ids(customer_search(actor=agent, query="maria qiuspe")) == [people["maria"].pk]

    def test_every_word_must_match(self, agent: Actor, people: dict[str, Customer]) -> None:
        assert customer_search(actor=agent, query="rosa quispe") == []

    def test_it_finds_a_company_by_a_word_of_its_name(
        self, agent: Actor, people: dict[str, Customer]
    ) -> None:
        assert ids(customer_search(actor=agent, query="ferreteria andes")) == [people["company"].pk]

    def test_one_letter_words_are_matched_too(
        self, agent: Actor, people: dict[str, Customer]
    ) -> None:
        clinic = customer_create(actor=agent, kind="company", company_name="Clínica Sucre S.A.")
        customer_create(actor=agent, kind="company", company_name="Clínica Sucre Norte")
        assert ids(customer_search(actor=agent, query="clinica sucre s.a.")) == [clinic.pk]

    def test_a_very_short_query_is_a_prefix(
        self, agent: Actor, people: dict[str, Customer]
    ) -> None:
        assert ids(customer_search(actor=agent, query="Ro")) == [people["rosa"].pk]

    def test_an_unrelated_name_finds_nothing(
        self, agent: Actor, people: dict[str, Customer]
    ) -> None:
        assert customer_search(actor=agent, query="Vargas") == []
        assert customer_search(actor=agent, query="   ") == []


# --- identifiers --------------------------------------------------------------------


@pytest.mark.django_db
class TestIdentifierSearch:
    @pytest.mark.parametrize("typed", ["71234567", "712 345 67", "712-34567", "+591 7123-4567"])
    def test_it_finds_a_mobile_typed_any_way(
        self, agent: Actor, people: dict[str, Customer], typed: str
    ) -> None:
        hits = customer_search(actor=agent, query=typed)
        assert [(hit.customer.pk, hit.matched_on, hit.score) for hit in hits] == [
            (people["jose"].pk, "phone", IDENTIFIER_SCORE)
        ]

    @pytest.mark.parametrize("typed", ["(4) 422-1234", "4 4221234", "+591 4 422 1234"])
    def test_it_finds_a_landline_with_area_code_in_parentheses(
        self, agent: Actor, people: dict[str, Customer], typed: str
    ) -> None:
        hits = customer_search(actor=agent, query=typed)
        assert [(hit.customer.pk, hit.matched_on) for hit in hits] == [
            (people["maria"].pk, "phone")
        ]

    @pytest.mark.parametrize("typed", ["4567891", "4.567.891", "4567891-1A LP", "4.567.891-1A"])
    def test_it_finds_a_document_with_or_without_separators(
        self, agent: Actor, people: dict[str, Customer], typed: str
    ) -> None:
        hits = customer_search(actor=agent, query=typed)
        assert [(hit.customer.pk, hit.matched_on) for hit in hits] == [
            (people["jose"].pk, "document")
        ]

    @pytest.mark.parametrize("typed", ["FTTH-000123", "ftth-000123", " ftth-000123 "])
    def test_it_finds_a_service_id(
        self, agent: Actor, people: dict[str, Customer], typed: str
    ) -> None:
        hits = customer_search(actor=agent, query=typed)
        assert [(hit.customer.pk, hit.matched_on) for hit in hits] == [
            (people["maria"].pk, "service_id")
        ]

    def test_it_finds_a_contract_number(self, agent: Actor, people: dict[str, Customer]) -> None:
        hits = customer_search(actor=agent, query="CT-2024-0099")
        assert [(hit.customer.pk, hit.matched_on) for hit in hits] == [
            (people["maria"].pk, "contract")
        ]

    def test_it_finds_an_email_whatever_its_case(
        self, agent: Actor, people: dict[str, Customer]
    ) -> None:
        hits = customer_search(actor=agent, query="JOSE.perez@example.COM")
        assert [(hit.customer.pk, hit.matched_on) for hit in hits] == [(people["jose"].pk, "email")]

    def test_a_part_of_an_identifier_is_no_match(
        self, agent: Actor, people: dict[str, Customer]
    ) -> None:
        assert customer_search(actor=agent, query="FTTH-0001") == []
        assert customer_search(actor=agent, query="7123456") == []

    def test_an_exact_identifier_ranks_before_a_matching_name(
        self, agent: Actor, back_office: Actor, people: dict[str, Customer]
    ) -> None:
        # Service ID "QUISPE" belongs to Rosa González; María Quispe matches by name.
        subscription_create(
            actor=back_office,
            customer=people["rosa"],
            service_id="quispe",
            contract_number="CT-1",
            service_type="fiber_ftth",
            started_on=date(2024, 1, 1),
        )
        hits = customer_search(actor=agent, query="Quispe")
        assert [(hit.customer.pk, hit.matched_on) for hit in hits] == [
            (people["rosa"].pk, "service_id"),
            (people["maria"].pk, "name"),
        ]
        assert hits[0].score > 1 >= hits[1].score

    def test_it_finds_argentine_phones_and_documents_typed_the_local_way(
        self, world: World
    ) -> None:
        operator = make_organization(
            "telecom-ar-test", country="AR", currency="ARS", time_zone="America/Buenos_Aires"
        )
        user = make_user("ar-agent", operator, Role.AGENT)
        actor = world.actor(user)
        customer = person(
            actor,
            "Lucía",
            "Fernández",
            documents=[{"kind": "ar_dni", "number": "12.345.678"}],
            phones=[{"raw": "011 15-2345-6789"}],
        )
        for typed, kind in [
            ("(011) 15 2345-6789", "phone"),
            ("11 2345 6789", "phone"),
            ("12.345.678", "document"),
            ("12345678", "document"),
            ("20-12345678-6", "document"),
        ]:
            hits = customer_search(actor=actor, query=typed)
            assert [(hit.customer.pk, hit.matched_on) for hit in hits] == [(customer.pk, kind)], (
                typed
            )


# --- scope --------------------------------------------------------------------------


@pytest.mark.django_db
class TestSearchScope:
    def test_an_outsider_finds_nothing(self, world: World, people: dict[str, Customer]) -> None:
        outsider = world.actor(world.outsider)
        for query in ["jose perez", "Quis", "71234567", "4567891", "FTTH-000123", "ct-2024-0099"]:
            assert customer_search(actor=outsider, query=query) == [], query
        assert customer_search(actor=outsider, query="jose.perez@example.com") == []

    def test_a_reseller_sees_only_assigned_customers(
        self, world: World, people: dict[str, Customer]
    ) -> None:
        supervisor = world.actor(world.supervisor)
        customer_assign(actor=supervisor, customer=people["maria"], reseller=world.reseller)
        reseller = world.actor(world.reseller_agent)
        assert ids(customer_search(actor=reseller, query="Quis")) == [people["maria"].pk]
        assert ids(customer_search(actor=reseller, query="qiuspe")) == [people["maria"].pk]
        assert ids(customer_search(actor=reseller, query="FTTH-000123")) == [people["maria"].pk]
        assert ids(customer_search(actor=reseller, query="(4) 422-1234")) == [people["maria"].pk]
        assert customer_search(actor=reseller, query="jose perez") == []
        assert customer_search(actor=reseller, query="71234567") == []
        assert customer_search(actor=reseller, query="4567891") == []

    def test_an_operator_does_not_find_another_operators_customer(
        self, world: World, people: dict[str, Customer]
    ) -> None:
        other = world.actor(world.outsider)
        stranger = person(other, "José", "Pérez")
        hits = customer_search(actor=world.actor(world.agent), query="jose perez")
        assert stranger.pk not in ids(hits)
        assert ids(hits) == [people["jose"].pk]
        assert ids(customer_search(actor=other, query="jose perez")) == [stranger.pk]

    def test_a_role_without_customer_view_is_refused(self, world: World) -> None:
        actor = Actor(organization=world.operator, role="nobody")
        with pytest.raises(PermissionDenied):
            customer_search(actor=actor, query="quispe")


# --- cost and explanation ---------------------------------------------------------


@pytest.mark.django_db
class TestSearchCost:
    @pytest.mark.parametrize(
        "query", ["quispe", "Qiuspe", "jose perez", "71234567", "4.567.891", "Ro", "x@y.com"]
    )
    def test_the_number_of_queries_is_bounded(
        self,
        agent: Actor,
        people: dict[str, Customer],
        django_assert_max_num_queries: DjangoAssertNumQueries,
        query: str,
    ) -> None:
        # identifiers (1) + words as typed (1) + typo stage (1, 2 on PostgreSQL: the
        # word dictionary, then the names) + customers (1), whatever the number of hits.
        for index in range(25):
            person(agent, f"Nombre{index}", "Quispe")
        with django_assert_max_num_queries(5):
            customer_search(actor=agent, query=query)

    def test_many_hits_are_fetched_with_their_organization_in_one_query(
        self,
        agent: Actor,
        people: dict[str, Customer],
        django_assert_max_num_queries: DjangoAssertNumQueries,
    ) -> None:
        for index in range(25):
            person(agent, f"Nombre{index}", "Quispe")
        with django_assert_max_num_queries(3):
            hits = customer_search(actor=agent, query="quispe", limit=20)
            names = [hit.customer.organization.name for hit in hits]
        assert len(hits) == 20
        assert set(names) == {world_name(agent)}

    def test_explain_lists_the_kinds_tried(self, agent: Actor) -> None:
        assert search_explain(actor=agent, query="71234567")["kinds"] == [
            "service_id",
            "contract",
            "document",
            "phone",
        ]
        assert search_explain(actor=agent, query="a@b.co")["kinds"] == ["email"]
        explained = search_explain(actor=agent, query="José  Pérez")
        assert explained["kinds"] == ["name"]
        assert explained["name_tokens"] == ["jose", "perez"]
        assert explained["name_stages"] == ["precise", "typo"]
        company = search_explain(actor=agent, query="Clínica Sucre S.A.")
        assert company["name_tokens"] == ["clinica", "sucre", "s", "a"]
        assert company["name_sql_tokens"] == ["clinica", "sucre"]
        assert search_explain(actor=agent, query="Ro")["name_stages"] == ["prefix"]
        assert search_explain(actor=agent, query="Ana Paz")["name_stages"] == ["precise"]


def world_name(actor: Actor) -> str:
    return actor.organization.name


# --- scoring (pure) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("quispe", "quispe", True),
        ("qiuspe", "quispe", True),  # adjacent swap
        ("gonzales", "gonzalez", True),  # substitution
        ("quipe", "quispe", True),  # deletion
        ("quisspe", "quispe", True),  # insertion
        ("qiusep", "quispe", False),
        ("quispe", "quis", False),
    ],
)
def test_within_one_edit(a: str, b: str, expected: bool) -> None:
    assert within_one_edit(a, b) is expected
    assert within_one_edit(b, a) is expected


def test_name_score_prefers_whole_words_then_prefixes_then_typos() -> None:
    exact = name_score(["quispe"], "maria quispe")
    prefix = name_score(["quis"], "maria quispe")
    typo = name_score(["qiuspe"], "maria quispe")
    assert 1 >= exact > prefix > typo > 0
    assert name_score(["rosa", "quispe"], "maria quispe") == 0
    assert name_score(["maria", "quispe"], "maria quispe") > name_score(
        ["maria", "quispe"], "maria quispe choque"
    )

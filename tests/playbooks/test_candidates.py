"""The panel's candidate buttons: identify_customer finds several customers, the agent
clicks the one who is calling (``playbooks:pick``), the run is about them.

The action is the real one (TicketsConfig.ready registers it): no fakes here.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from telcodesk.accounts.models import User
from telcodesk.customers.models import Customer, Subscription
from telcodesk.customers.services import address_add, customer_create
from telcodesk.playbooks.models import ActionStatus, PlaybookRun, RunAction, RunAnswer
from telcodesk.playbooks.services import playbook_run_start, run_action, run_answer
from tests.conftest import World
from tests.playbooks.conftest import install

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
BUTTON = re.compile(
    r'<button class="btn btn-sm playbook-candidate" type="submit" name="customer" '
    r'value="(\d+)" data-customer="\1"( disabled)?>(.*?)</button>',
    re.S,
)
REFUSED = (
    "That customer is not among the ones found for this call. Search again by name, "
    "phone or service ID."
)

IDENTIFY: dict[str, Any] = {
    "key": "identify",
    "name": "Who is calling",
    "version": "1.0.0",
    "steps": [
        {
            "key": "identify",
            "title": "Identification",
            "questions": [{"key": "caller", "text": "Name, phone or service ID?", "type": "text"}],
            "actions": [
                {"action": "identify_customer", "required": True, "params": {"question": "caller"}}
            ],
        },
        {
            "key": "thanks",
            "title": "Thanks",
            "script": "Thank you, {customer_name}.",
            "checklist": [{"key": "thank", "text": "Thank the customer"}],
            "end": True,
        },
    ],
}


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def juana(world: World, phone: str) -> Customer:
    return customer_create(
        actor=world.actor(world.agent),
        first_name="Juana",
        last_name="Mamani",
        phones=[{"raw": phone}],
    )


def service(customer: Customer, service_id: str) -> Subscription:
    return Subscription.objects.create(
        organization=customer.organization,
        customer=customer,
        contract_number=f"C-{service_id}",
        service_id=service_id,
        service_type="fiber_ftth",
        currency=customer.organization.currency,
        started_on=date(2024, 3, 1),
    )


@pytest.fixture
def first(world: World) -> Customer:
    """Juana Mamani with a service and an installation address in Cochabamba."""
    customer = juana(world, "71234567")
    address_add(
        actor=world.actor(world.agent),
        customer=customer,
        purpose="home",
        street="Calle Sucre",
        number="5",
        corner_street="Bolívar",
        city="Sacaba",
    )
    address = address_add(
        actor=world.actor(world.agent),
        customer=customer,
        purpose="installation",
        street="Av. Ayacucho",
        number="120",
        between_street_a="Lanza",
        between_street_b="Antezana",
        city="Cochabamba",
    )
    subscription = service(customer, "FTTH-1001")
    subscription.installation_address = address
    subscription.save(update_fields=["installation_address"])
    service(customer, "FTTH-1002")
    return customer


@pytest.fixture
def second(world: World) -> Customer:
    """Another Juana Mamani, with no service and no address."""
    return juana(world, "72345678")


@pytest.fixture
def outsider_customer(world: World) -> Customer:
    return customer_create(
        actor=world.actor(world.outsider), first_name="Juana", last_name="Mamani"
    )


def searched(world: World, query: str = "Juana Mamani") -> PlaybookRun:
    """A run whose identify_customer ran on ``query`` (the panel's own endpoints)."""
    agent = world.actor(world.agent)
    run = playbook_run_start(actor=agent, playbook=install(world.operator, IDENTIFY))
    run_answer(actor=agent, run=run, question_key="caller", raw_value=query)
    run_action(actor=agent, run=run, action_key="identify_customer")
    return run


def pick(client: Client, run: PlaybookRun, customer_id: object, **headers: Any) -> Any:
    return client.post(
        reverse("playbooks:pick", args=[run.pk]),
        {"action": "identify_customer", "customer": customer_id},
        **headers,
    )


def buttons(body: str) -> list[tuple[str, str, str]]:
    """(customer id, " disabled" or "", the button's text without tags) per button."""
    return [
        (pk, disabled, " ".join(re.sub(r"<[^>]+>", "", text).split()))
        for pk, disabled, text in BUTTON.findall(body)
    ]


def test_several_customers_with_the_same_name_are_offered_as_buttons(
    world: World, first: Customer, second: Customer
) -> None:
    run = playbook_run_start(
        actor=world.actor(world.agent), playbook=install(world.operator, IDENTIFY)
    )
    client = client_for(world.agent)
    answered = client.post(
        reverse("playbooks:answer", args=[run.pk]),
        {"question": "caller", "value": "Juana Mamani"},
        **HTMX,
    )
    assert answered.status_code == 200

    response = client.post(
        reverse("playbooks:action", args=[run.pk]), {"action": "identify_customer"}, **HTMX
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert buttons(body) == [
        (str(first.pk), "", "Juana Mamani matched name · FTTH-1001 · COCHABAMBA"),
        (str(second.pk), "", "Juana Mamani matched name"),
    ]
    # The sentence stays (API clients and the run history read it).
    assert (
        f"2 customers match “Juana Mamani”: Juana Mamani (#{first.pk}); Juana Mamani "
        f"(#{second.pk})."
    ) in body
    assert f'hx-post="{reverse("playbooks:pick", args=[run.pk])}"' in body
    assert '<input type="hidden" name="action" value="identify_customer">' in body
    assert body.count('name="csrfmiddlewaretoken"') == body.count("<form ")
    # The panel fetched again shows them too.
    again = client.get(reverse("playbooks:panel", args=[run.pk])).content.decode()
    assert [pk for pk, _disabled, _text in buttons(again)] == [str(first.pk), str(second.pk)]


def test_customers_found_by_phone_say_so(world: World, first: Customer, second: Customer) -> None:
    from telcodesk.customers.services import phone_add

    phone_add(actor=world.actor(world.agent), customer=second, raw="71234567")
    run = searched(world, "71234567")

    body = client_for(world.agent).get(reverse("playbooks:panel", args=[run.pk])).content.decode()

    assert [text for _pk, _disabled, text in buttons(body)] == [
        "Juana Mamani matched phone · FTTH-1001 · COCHABAMBA",
        "Juana Mamani matched phone",
    ]


def test_picking_a_candidate_identifies_the_customer_in_one_request(
    world: World, first: Customer, second: Customer
) -> None:
    run = searched(world)

    response = pick(client_for(world.agent), run, second.pk, **HTMX)

    assert response.status_code == 200
    run.refresh_from_db()
    assert run.customer_id == second.pk
    assert run.variables["customer_name"] == "Juana Mamani"
    assert run.facts == {"customer_found": True}
    assert RunAnswer.objects.get(run=run, question_key="caller").value == f"#{second.pk}"
    last = RunAction.objects.filter(run=run).latest("id")
    assert (last.status, last.message, last.data) == (
        ActionStatus.OK,
        "Customer found: Juana Mamani.",
        {"customer_id": second.pk, "matched_on": "candidate"},
    )
    body = response.content.decode()
    assert '<p class="alert alert-info" role="status">Customer found: Juana Mamani.</p>' in body
    assert f"Answered: #{second.pk}" in body
    assert buttons(body) == []
    assert 'class="playbook-candidates"' not in body


def test_without_htmx_a_pick_redirects_to_the_run_page(
    world: World, first: Customer, second: Customer
) -> None:
    run = searched(world)

    response = pick(client_for(world.agent), run, first.pk)

    assert response.status_code == 302
    assert response["Location"] == reverse("playbooks:run", args=[run.pk])
    run.refresh_from_db()
    assert run.customer_id == first.pk


@pytest.mark.parametrize("whom", ["outsider", "not_offered", "garbage", "blank"])
def test_a_customer_the_panel_did_not_offer_is_refused_and_nothing_changes(
    world: World,
    first: Customer,
    second: Customer,
    outsider_customer: Customer,
    whom: str,
) -> None:
    run = searched(world)
    pedro = customer_create(actor=world.actor(world.agent), first_name="Pedro", last_name="Rojas")
    customer_id = {
        "outsider": outsider_customer.pk,  # another organization's Juana Mamani
        "not_offered": pedro.pk,  # visible, but not among the candidates
        "garbage": "12; DROP",
        "blank": "",
    }[whom]
    actions_before = RunAction.objects.filter(run=run).count()

    response = pick(client_for(world.agent), run, customer_id, **HTMX)

    assert response.status_code == 422
    body = response.content.decode()
    assert f'<p class="alert alert-error" role="alert" id="playbook-error-{run.pk}">' in body
    assert body.count(REFUSED) == 2  # on top and under the action
    run.refresh_from_db()
    assert (run.customer_id, run.facts) == (None, {})
    assert RunAnswer.objects.get(run=run, question_key="caller").value == "Juana Mamani"
    assert RunAction.objects.filter(run=run).count() == actions_before
    # The candidates are still offered.
    assert [pk for pk, _disabled, _text in buttons(body)] == [str(first.pk), str(second.pk)]


def test_a_candidate_no_longer_visible_is_neither_offered_nor_accepted(
    world: World, first: Customer, second: Customer
) -> None:
    run = searched(world)
    # The customer moves to another organization during the call.
    Customer.objects.filter(pk=second.pk).update(organization=world.other_operator)
    client = client_for(world.agent)

    body = client.get(reverse("playbooks:panel", args=[run.pk])).content.decode()
    refused = pick(client, run, second.pk, **HTMX)

    assert [pk for pk, _disabled, _text in buttons(body)] == [str(first.pk)]
    assert refused.status_code == 422
    assert REFUSED in refused.content.decode()
    run.refresh_from_db()
    assert run.customer_id is None
    assert RunAnswer.objects.get(run=run, question_key="caller").value == "Juana Mamani"


def test_a_pick_on_a_finished_step_is_refused_with_the_runs_reason(
    world: World, first: Customer, second: Customer
) -> None:
    run = searched(world)
    PlaybookRun.objects.filter(pk=run.pk).update(status="abandoned", abandon_reason="dropped")

    response = pick(client_for(world.agent), run, first.pk, **HTMX)

    assert response.status_code == 422
    assert "This run was abandoned; start a new one to go on." in response.content.decode()
    run.refresh_from_db()
    assert run.customer_id is None


def test_the_candidates_cost_one_query_however_many_they_are(
    world: World, first: Customer, second: Customer
) -> None:
    client = client_for(world.agent)
    two = searched(world)
    url = reverse("playbooks:panel", args=[two.pk])
    client.get(url)  # the session and the caches warm
    with CaptureQueriesContext(connection) as with_two:
        assert len(buttons(client.get(url).content.decode())) == 2
    PlaybookRun.objects.filter(pk=two.pk).update(status="abandoned", abandon_reason="test")
    for phone in ("73456789", "74567890"):
        juana(world, phone)
    four = searched(world)
    url = reverse("playbooks:panel", args=[four.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as with_four:
        assert len(buttons(client.get(url).content.decode())) == 4

    assert len(with_four.captured_queries) == len(with_two.captured_queries)

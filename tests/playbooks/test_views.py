"""The console: the side panel (start, work a step, refusals inline), the run page, adherence."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from telcodesk.accounts.models import User
from telcodesk.playbooks.models import ItemStatus, PlaybookRun, RunAnswer, RunItem, RunStatus
from telcodesk.playbooks.services import (
    RunTarget,
    playbook_run_start,
    run_answer,
    run_finish,
    run_item_check,
    run_step_complete,
)
from tests.playbooks.conftest import Desk

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def started(desk: Desk) -> PlaybookRun:
    return playbook_run_start(
        actor=desk.agent,
        playbook=desk.playbook,
        customer=desk.customer,
        target=RunTarget("conversation", 5),
    )


def post(client: Client, name: str, run: PlaybookRun, data: dict[str, Any], **headers: Any) -> Any:
    return client.post(reverse(f"playbooks:{name}", args=[run.pk]), data, **headers)


def test_the_side_panel_offers_the_playbooks_when_none_is_running(desk: Desk) -> None:
    response = client_for(desk.world.agent).get(
        reverse("playbooks:side_panel"),
        {"customer": desk.customer.pk, "target_type": "conversation", "target_id": 5},
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "Start “Support call”" in body
    assert f'name="customer" value="{desk.customer.pk}"' in body


def test_starting_from_the_side_panel_answers_the_first_step(desk: Desk) -> None:
    response = client_for(desk.world.agent).post(
        reverse("playbooks:start"),
        {
            "playbook": desk.playbook.pk,
            "customer": desk.customer.pk,
            "target_type": "conversation",
            "target_id": "5",
        },
        **HTMX,
    )

    assert response.status_code == 200
    run = PlaybookRun.objects.get()
    assert (run.customer, run.target_type, run.target_id) == (desk.customer, "conversation", 5)
    body = response.content.decode()
    assert f'id="playbook-panel-{run.pk}"' in body
    assert 'data-step="greeting"' in body
    assert "Good morning, this is COMTECO Test, Ana speaking." in body
    again = client_for(desk.world.agent).get(
        reverse("playbooks:side_panel"),
        {"customer": desk.customer.pk, "target_type": "conversation", "target_id": 5},
    )
    assert f'id="playbook-panel-{run.pk}"' in again.content.decode()


def test_a_wrong_answer_comes_back_inline_and_nothing_is_stored(desk: Desk) -> None:
    run = started(desk)

    response = post(
        client_for(desk.world.agent),
        "answer",
        run,
        {"question": "problem_kind", "value": "fibra"},
        **HTMX,
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert "“fibra” is not one of the choices. Choose one of: Technical, Administrative." in body
    assert not RunAnswer.objects.filter(run=run).exists()


def test_completing_with_an_open_required_item_is_refused_then_accepted_with_a_reason(
    desk: Desk,
) -> None:
    run = started(desk)
    client = client_for(desk.world.agent)
    assert (
        post(client, "check", run, {"item": "confirm_holder", "checked": "1"}, **HTMX).status_code
        == 200
    )
    assert RunItem.objects.get(run=run, key="confirm_holder").status == ItemStatus.DONE

    refused = post(client, "complete", run, {}, **HTMX)

    assert refused.status_code == 422
    assert (
        escape(
            'Before leaving "Greeting", do these or give a reason for skipping each: '
            "Technical or administrative?"
        )
        in refused.content.decode()
    )
    assert 'name="skip__problem_kind"' in refused.content.decode()

    accepted = post(
        client, "complete", run, {"skip__problem_kind": "The customer did not say"}, **HTMX
    )

    assert accepted.status_code == 200
    assert 'data-step="investigate"' in accepted.content.decode()
    item = RunItem.objects.get(run=run, key="problem_kind")
    assert (item.status, item.skip_reason) == (ItemStatus.SKIPPED, "The customer did not say")


def test_without_htmx_a_write_redirects_to_the_run_page(desk: Desk) -> None:
    run = started(desk)
    client = client_for(desk.world.agent)

    response = post(client, "check", run, {"item": "confirm_holder", "checked": "1"})

    assert response.status_code == 302
    assert response["Location"] == reverse("playbooks:run", args=[run.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Support call" in page.content.decode()


def test_the_finish_button_appears_on_the_last_step_and_finishes(desk: Desk) -> None:
    run = started(desk)
    run_item_check(actor=desk.agent, run=run, item_key="confirm_holder")
    run_answer(actor=desk.agent, run=run, question_key="problem_kind", raw_value="administrative")
    client = client_for(desk.world.agent)
    post(client, "complete", run, {}, **HTMX)
    panel = client.get(reverse("playbooks:panel", args=[run.pk])).content.decode()
    assert "Finish the playbook" in panel

    response = post(client, "finish", run, {"skip__transfer": "Billing is closed"}, **HTMX)

    assert response.status_code == 200
    run.refresh_from_db()
    assert run.status == RunStatus.FINISHED
    body = response.content.decode()
    assert 'data-status="finished"' in body
    assert "Administrative route · Transfer to billing: <em>Billing is closed</em>" in body


def test_another_organizations_user_gets_404_and_changes_nothing(desk: Desk) -> None:
    run = started(desk)
    client = client_for(desk.world.outsider)

    assert client.get(reverse("playbooks:run", args=[run.pk])).status_code == 404
    assert client.get(reverse("playbooks:panel", args=[run.pk])).status_code == 404
    for name, data in (
        ("answer", {"question": "problem_kind", "value": "technical"}),
        ("check", {"item": "confirm_holder", "checked": "1"}),
        ("complete", {"skip__confirm_holder": "x", "skip__problem_kind": "x"}),
        ("abandon", {"reason": "mine"}),
    ):
        assert post(client, name, run, data, **HTMX).status_code == 404, name
    start = client.post(
        reverse("playbooks:start"),
        {"playbook": desk.playbook.pk, "customer": desk.customer.pk},
        **HTMX,
    )
    assert start.status_code == 404

    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert not RunAnswer.objects.filter(run=run).exists()
    assert RunItem.objects.filter(run=run, status=ItemStatus.OPEN).count() == 2
    assert PlaybookRun.objects.count() == 1


def test_the_adherence_page_is_for_supervisors(desk: Desk) -> None:
    run = started(desk)
    run_item_check(actor=desk.agent, run=run, item_key="confirm_holder")
    run_answer(actor=desk.agent, run=run, question_key="problem_kind", raw_value="administrative")
    run_step_complete(actor=desk.agent, run=run)
    run_finish(actor=desk.agent, run=run, skip_reasons={"transfer": "Billing is closed"})

    assert client_for(desk.world.agent).get(reverse("playbooks:adherence")).status_code == 403
    response = client_for(desk.world.supervisor).get(reverse("playbooks:adherence"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Ana Quispe" in body
    assert "66.7 %" in body
    assert "Billing is closed" in body
    outsider = client_for(desk.world.outsider).get(reverse("playbooks:adherence")).content.decode()
    assert "Billing is closed" not in outsider
    assert "Ana Quispe" not in outsider


def test_bad_dates_on_the_adherence_page_say_how_to_write_them(desk: Desk) -> None:
    response = client_for(desk.world.supervisor).get(
        reverse("playbooks:adherence"), {"start": "01/07/2025"}
    )

    assert response.status_code == 422
    assert "Write the dates as YYYY-MM-DD, e.g. 2025-07-01." in response.content.decode()


def test_starting_a_second_run_for_the_conversation_shows_the_running_one(desk: Desk) -> None:
    run = started(desk)

    response = client_for(desk.world.agent).post(
        reverse("playbooks:start"),
        {"playbook": desk.playbook.pk, "target_type": "conversation", "target_id": "5"},
        **HTMX,
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert (
        "A playbook is already running for this conversation: continue it, or abandon it first."
        in body
    )
    assert reverse("playbooks:run", args=[run.pk]) in body
    assert PlaybookRun.objects.count() == 1


def test_working_an_abandoned_run_says_so_in_the_panel(desk: Desk) -> None:
    run = started(desk)
    client = client_for(desk.world.agent)
    post(client, "abandon", run, {"reason": "The call dropped"}, **HTMX)

    response = post(client, "check", run, {"item": "confirm_holder", "checked": "1"}, **HTMX)

    assert response.status_code == 422
    assert "This run was abandoned; start a new one to go on." in response.content.decode()
    assert RunItem.objects.get(run=run, key="confirm_holder").status == ItemStatus.OPEN


def test_the_guided_call_page_offers_the_playbooks_for_a_call_without_a_customer(
    desk: Desk,
) -> None:
    response = client_for(desk.world.agent).get(reverse("playbooks:start"))

    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-playbook="{desk.playbook.key}"' in body
    assert 'name="customer" value=""' in body
    assert not PlaybookRun.objects.exists()

"""The runner: a call walked through the example playbook, its branches and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from telcodesk.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.playbooks.models import (
    ItemStatus,
    PlaybookRun,
    RunAction,
    RunAnswer,
    RunItem,
    RunStatus,
    RunStep,
)
from telcodesk.playbooks.selectors import run_get, run_state
from telcodesk.playbooks.services import (
    RunClosed,
    RunTarget,
    playbook_run_start,
    run_abandon,
    run_action,
    run_answer,
    run_finish,
    run_item_check,
    run_step_complete,
    run_step_skip,
)
from tests.playbooks.conftest import Desk, install, support_call

pytestmark = pytest.mark.django_db


def start(desk: Desk, **kwargs: Any) -> PlaybookRun:
    kwargs.setdefault("target", RunTarget("conversation", 5))
    return playbook_run_start(
        actor=desk.agent, playbook=desk.playbook, customer=desk.customer, **kwargs
    )


def current(run: PlaybookRun) -> str:
    run.refresh_from_db()
    assert run.current_step is not None
    return run.current_step.step_key


def visited(run: PlaybookRun) -> list[tuple[str, str]]:
    return list(
        RunStep.objects.filter(run=run).order_by("position").values_list("step_key", "status")
    )


def through_greeting(desk: Desk, run: PlaybookRun, kind: str = "technical") -> None:
    run_item_check(actor=desk.agent, run=run, item_key="confirm_holder")
    run_answer(actor=desk.agent, run=run, question_key="problem_kind", raw_value=kind)
    run_step_complete(actor=desk.agent, run=run)


def through_investigation(desk: Desk, run: PlaybookRun) -> None:
    run_answer(actor=desk.agent, run=run, question_key="since_when", raw_value="desde ayer")
    run_answer(actor=desk.agent, run=run, question_key="devices", raw_value="3")
    run_step_complete(actor=desk.agent, run=run)


def snapshot(run: PlaybookRun) -> tuple[Any, ...]:
    run.refresh_from_db()
    return (
        run.status,
        run.current_step_id,
        run.updated_at,
        list(RunItem.objects.filter(run=run).order_by("id").values_list("status", "skip_reason")),
        list(RunAnswer.objects.filter(run=run).order_by("id").values_list("question_key", "value")),
        RunStep.objects.filter(run=run).count(),
    )


class TestStart:
    def test_a_run_starts_on_the_first_step_with_the_automatic_variables(self, desk: Desk) -> None:
        run = start(desk)

        assert run.status == RunStatus.RUNNING
        assert (run.target_type, run.target_id) == ("conversation", 5)
        assert current(run) == "greeting"
        assert run.variables == {
            "plan_name": "your plan",
            "provider": "COMTECO Test",
            "agent_name": "Ana",
            "customer_name": "Lucía Fernández",
        }
        state = run_state(actor=desk.agent, run=run)
        assert state.current is not None
        assert state.current.script == "Good morning, this is COMTECO Test, Ana speaking."
        assert [(row.key, row.status) for row in state.current.checklist] == [
            ("confirm_holder", "open")
        ]
        assert state.current.open_required == [
            ("confirm_holder", "Confirm the holder's name"),
            ("problem_kind", "Technical or administrative?"),
        ]

    def test_given_variables_override_the_defaults_and_unknown_ones_are_refused(
        self, desk: Desk
    ) -> None:
        run = start(desk, variables={"plan_name": "Fibra 100"})
        assert run.variables["plan_name"] == "Fibra 100"

        with pytest.raises(ValidationFailed) as caught:
            start(desk, target=RunTarget("conversation", 6), variables={"plan": "x"})

        assert caught.value.message == (
            '"plan" is not a variable of this playbook; its variables are: provider, '
            "agent_name, customer_name, ticket_number, eta, plan_name."
        )
        assert PlaybookRun.objects.count() == 1

    def test_a_second_run_for_the_same_target_is_refused_naming_the_first(self, desk: Desk) -> None:
        first = start(desk)

        with pytest.raises(DomainError) as caught:
            start(desk)

        assert caught.value.status == 409
        assert caught.value.details == {"run_id": first.pk}
        assert caught.value.message == (
            "A playbook is already running for this conversation: continue it, or abandon it first."
        )

    def test_an_unregistered_target_type_is_refused(self, desk: Desk) -> None:
        with pytest.raises(ValidationFailed) as caught:
            start(desk, target=RunTarget("lead", 3))

        assert caught.value.message == "A playbook run cannot be attached to a lead."
        assert PlaybookRun.objects.count() == 0


class TestTheTechnicalRoute:
    def test_a_call_with_a_fault_goes_from_greeting_to_closing(self, desk: Desk) -> None:
        run = start(desk)
        through_greeting(desk, run)
        assert current(run) == "investigate"

        run_answer(actor=desk.agent, run=run, question_key="since_when", raw_value="desde ayer")
        run_answer(actor=desk.agent, run=run, question_key="devices", raw_value="3")
        assert desk.fakes.writes == [
            {"changed": "since_when", "since_when": "desde ayer"},
            {"changed": "devices", "since_when": "desde ayer", "devices": 3},
        ]
        run_step_complete(actor=desk.agent, run=run)

        run.refresh_from_db()
        assert current(run) == "diagnose"
        assert run.variables["ticket_number"] == "T-000042"
        assert (run.target_type, run.target_id) == ("ticket", 42)
        assert sorted(run.links.values_list("target_type", "target_id")) == [
            ("conversation", 5),
            ("ticket", 42),
        ]
        created = RunAction.objects.get(run=run, action="create_ticket")
        assert (created.trigger, created.status, created.message) == (
            "completed",
            "ok",
            "Ticket T-000042 created.",
        )
        ticket_context = desk.fakes.contexts[0]
        assert ticket_context.field_values("ticket") == {"since_when": "desde ayer", "devices": 3}
        assert ticket_context.link("conversation") == 5

        run_action(actor=desk.agent, run=run, action_key="run_checks")
        assert desk.fakes.contexts[1].params == {"kinds": ["ping", "optical_power"]}
        run_step_complete(actor=desk.agent, run=run)

        assert current(run) == "closing"
        state = run_state(actor=desk.agent, run=run)
        assert state.current is not None
        assert state.current.script == "Your ticket number is T-000042. Thank you, Lucía Fernández."
        assert state.current.ends_here is True

    def test_intermittent_without_a_fault_goes_to_the_advice_step(self, desk: Desk) -> None:
        desk.fakes.facts = {"fault_found": False, "intermittent": True}
        run = start(desk)
        through_greeting(desk, run)
        through_investigation(desk, run)
        run_action(actor=desk.agent, run=run, action_key="run_checks")

        run_step_complete(actor=desk.agent, run=run)

        assert current(run) == "advice"
        run.refresh_from_db()
        assert run.facts == {"fault_found": False, "intermittent": True}
        state = run_state(actor=desk.agent, run=run)
        assert state.current is not None
        assert state.current.script == "Over Wi-Fi you do not get all of your plan."

    def test_a_required_action_that_was_not_run_blocks_the_step(self, desk: Desk) -> None:
        run = start(desk)
        through_greeting(desk, run)
        through_investigation(desk, run)
        before = snapshot(run)

        with pytest.raises(ValidationFailed) as caught:
            run_step_complete(actor=desk.agent, run=run)

        assert caught.value.message == (
            'Before leaving "Validations", do these or give a reason for skipping each: '
            "Run the checks"
        )
        assert caught.value.details == {"run_checks": ["Do it, or write why it was skipped."]}
        assert snapshot(run) == before


class TestTheAdministrativeRoute:
    def test_an_administrative_call_branches_and_ends_on_its_route(self, desk: Desk) -> None:
        run = start(desk)
        through_greeting(desk, run, kind="Administrative")
        assert current(run) == "administrative"
        run_item_check(actor=desk.agent, run=run, item_key="transfer")

        run_step_complete(actor=desk.agent, run=run)

        run.refresh_from_db()
        assert run.status == RunStatus.FINISHED
        assert run.finished_at is not None
        assert visited(run) == [("greeting", "done"), ("administrative", "done")]


class TestFinishing:
    def at_closing(self, desk: Desk) -> PlaybookRun:
        run = start(desk)
        through_greeting(desk, run)
        through_investigation(desk, run)
        run_action(actor=desk.agent, run=run, action_key="run_checks")
        run_step_complete(actor=desk.agent, run=run)
        assert current(run) == "closing"
        return run

    def test_finishing_with_an_open_required_item_and_no_reason_is_refused(
        self, desk: Desk
    ) -> None:
        run = self.at_closing(desk)
        before = snapshot(run)

        with pytest.raises(ValidationFailed) as caught:
            run_finish(actor=desk.agent, run=run)

        assert caught.value.message == (
            'Before leaving "Closing", do these or give a reason for skipping each: '
            "Give the ticket number"
        )
        assert caught.value.details == {"give_number": ["Do it, or write why it was skipped."]}
        assert snapshot(run) == before

    def test_a_blank_reason_is_no_reason(self, desk: Desk) -> None:
        run = self.at_closing(desk)

        with pytest.raises(ValidationFailed):
            run_finish(actor=desk.agent, run=run, skip_reasons={"give_number": "   "})

        assert run_get(actor=desk.agent, run_id=run.pk).status == RunStatus.RUNNING

    def test_finishing_with_a_skip_reason_stores_it_for_the_supervisor(self, desk: Desk) -> None:
        run = self.at_closing(desk)

        run_finish(
            actor=desk.agent, run=run, skip_reasons={"give_number": " The customer hung up "}
        )

        run.refresh_from_db()
        assert run.status == RunStatus.FINISHED
        item = RunItem.objects.get(run=run, key="give_number")
        assert (item.status, item.skip_reason, item.done_by) == (
            ItemStatus.SKIPPED,
            "The customer hung up",
            desk.world.agent,
        )
        # The optional NPS question stays unanswered, not skipped.
        assert RunItem.objects.get(run=run, key="nps").status == ItemStatus.OPEN

    def test_a_reason_for_a_key_that_is_not_in_the_step_is_refused(self, desk: Desk) -> None:
        run = self.at_closing(desk)

        with pytest.raises(ValidationFailed) as caught:
            run_finish(actor=desk.agent, run=run, skip_reasons={"give_numbr": "hung up"})

        assert caught.value.details == {
            "give_numbr": ['"give_numbr" is not an item of the step "Closing".']
        }

    def test_finishing_before_the_last_step_is_refused(self, desk: Desk) -> None:
        run = start(desk)
        run_item_check(actor=desk.agent, run=run, item_key="confirm_holder")
        run_answer(actor=desk.agent, run=run, question_key="problem_kind", raw_value="technical")
        before = snapshot(run)

        with pytest.raises(ValidationFailed) as caught:
            run_finish(actor=desk.agent, run=run)

        assert caught.value.message == (
            'The run does not end after "Greeting": complete it to go on to "Key questions", '
            "or abandon the run with a reason."
        )
        assert snapshot(run) == before


class TestAnswers:
    def test_a_bad_number_is_refused_and_nothing_is_stored(self, desk: Desk) -> None:
        run = start(desk)
        through_greeting(desk, run)
        before = snapshot(run)

        with pytest.raises(ValidationFailed) as caught:
            run_answer(actor=desk.agent, run=run, question_key="devices", raw_value="diez")

        assert caught.value.message == (
            "“diez” is not a number. Type a whole number from 0 to 50, with digits only (e.g. 50)."
        )
        assert snapshot(run) == before
        assert desk.fakes.writes == []

    def test_answering_again_replaces_the_answer(self, desk: Desk) -> None:
        run = start(desk)
        through_greeting(desk, run)
        run_answer(actor=desk.agent, run=run, question_key="devices", raw_value="3")

        run_answer(actor=desk.agent, run=run, question_key="devices", raw_value="4")

        assert list(RunAnswer.objects.filter(run=run).values_list("question_key", "value")) == [
            ("problem_kind", "technical"),
            ("devices", 4),
        ]

    def test_a_blank_answer_clears_an_optional_question_and_is_refused_for_a_required_one(
        self, desk: Desk
    ) -> None:
        run = start(desk)
        through_greeting(desk, run)
        run_answer(actor=desk.agent, run=run, question_key="wifi", raw_value="sí")
        assert RunItem.objects.get(run=run, key="wifi").status == ItemStatus.DONE

        assert run_answer(actor=desk.agent, run=run, question_key="wifi", raw_value="") is None

        assert not RunAnswer.objects.filter(run=run, question_key="wifi").exists()
        assert RunItem.objects.get(run=run, key="wifi").status == ItemStatus.OPEN
        with pytest.raises(ValidationFailed) as caught:
            run_answer(actor=desk.agent, run=run, question_key="devices", raw_value=" ")
        assert caught.value.message == (
            "This question is required: write an answer, or skip it with a reason when you "
            "complete the step."
        )

    def test_a_question_of_another_step_is_refused(self, desk: Desk) -> None:
        run = start(desk)

        with pytest.raises(ValidationFailed) as caught:
            run_answer(actor=desk.agent, run=run, question_key="devices", raw_value="3")

        assert caught.value.message == '"devices" is not a question of the step "Greeting".'

    def test_a_failing_field_writer_is_recorded_and_the_answer_kept(self, desk: Desk) -> None:
        desk.fakes.writer_fails = True
        run = start(desk)
        through_greeting(desk, run)

        run_answer(actor=desk.agent, run=run, question_key="devices", raw_value="3")

        assert RunAnswer.objects.get(run=run, question_key="devices").value == 3
        failure = RunAction.objects.get(run=run)
        assert (failure.action, failure.trigger, failure.status, failure.message) == (
            "fields:ticket",
            "answer",
            "failed",
            "The answer was kept here but could not be copied to the ticket; copy it by hand "
            "and tell a supervisor.",
        )


class TestActionsAndSkips:
    def test_a_failing_action_is_recorded_on_the_run_and_the_run_goes_on(self, desk: Desk) -> None:
        data = support_call(key="exploding", name="Exploding")
        data["steps"][0]["actions"] = [{"action": "explode", "required": True}]
        playbook = install(desk.world.operator, data)
        run = playbook_run_start(actor=desk.agent, playbook=playbook, customer=desk.customer)

        record = run_action(actor=desk.agent, run=run, action_key="explode")

        assert (record.status, record.message) == (
            "failed",
            "The action Explode failed because of an error on our side; do it by hand and "
            "tell a supervisor.",
        )
        assert record.data == {"error": "RuntimeError: the OLT caught fire"}
        assert RunItem.objects.get(run=run, key="explode").status == ItemStatus.OPEN
        through_greeting_with_reason = {"explode": "The tool is down"}
        run_item_check(actor=desk.agent, run=run, item_key="confirm_holder")
        run_answer(actor=desk.agent, run=run, question_key="problem_kind", raw_value="technical")
        run_step_complete(actor=desk.agent, run=run, skip_reasons=through_greeting_with_reason)
        assert current(run) == "investigate"
        assert RunItem.objects.get(run=run, key="explode").skip_reason == "The tool is down"

    def test_skipping_a_step_gives_its_reason_to_every_open_item(self, desk: Desk) -> None:
        run = start(desk)
        run_item_check(actor=desk.agent, run=run, item_key="confirm_holder")

        run_step_skip(actor=desk.agent, run=run, reason="Known customer, calls daily")

        assert current(run) == "investigate"
        assert list(
            RunItem.objects.filter(run=run, run_step__step_key="greeting")
            .order_by("id")
            .values_list("key", "status", "skip_reason")
        ) == [
            ("confirm_holder", "done", ""),
            ("problem_kind", "skipped", "Known customer, calls daily"),
        ]
        assert visited(run) == [("greeting", "skipped"), ("investigate", "pending")]

    def test_skipping_a_step_needs_a_reason(self, desk: Desk) -> None:
        run = start(desk)

        with pytest.raises(ValidationFailed) as caught:
            run_step_skip(actor=desk.agent, run=run, reason=" ")

        assert caught.value.message == "Write the reason: the supervisor reads it."
        assert current(run) == "greeting"

    def test_a_loop_back_visits_the_step_again_and_keeps_the_answers(self, desk: Desk) -> None:
        data = support_call(key="looping", name="Looping")
        data["steps"][3]["next"] = [{"when": {"fault_found": False}, "goto": "diagnose"}]
        playbook = install(desk.world.operator, data)
        desk.fakes.facts = {"fault_found": False, "intermittent": True}
        run = playbook_run_start(actor=desk.agent, playbook=playbook, customer=desk.customer)
        through_greeting(desk, run)
        through_investigation(desk, run)
        run_action(actor=desk.agent, run=run, action_key="run_checks")
        run_step_complete(actor=desk.agent, run=run)
        run_item_check(actor=desk.agent, run=run, item_key="explain_wifi")

        run_step_complete(actor=desk.agent, run=run)

        assert current(run) == "diagnose"
        assert [key for key, _status in visited(run)] == [
            "greeting",
            "investigate",
            "diagnose",
            "advice",
            "diagnose",
        ]
        assert RunItem.objects.get(run=run, run_step__position=5, key="run_checks").status == (
            ItemStatus.OPEN
        )


class TestAbandon:
    def test_an_abandoned_run_keeps_its_reason_and_takes_no_more_answers(self, desk: Desk) -> None:
        run = start(desk)

        run_abandon(actor=desk.agent, run=run, reason="The call dropped")

        run.refresh_from_db()
        assert (run.status, run.abandon_reason) == (RunStatus.ABANDONED, "The call dropped")
        with pytest.raises(RunClosed) as caught:
            run_answer(
                actor=desk.agent, run=run, question_key="problem_kind", raw_value="technical"
            )
        assert caught.value.message == "This run was abandoned; start a new one to go on."
        assert caught.value.status == 409


class TestTenancy:
    def test_another_organizations_run_is_not_found_and_not_changed(self, desk: Desk) -> None:
        run = start(desk)
        before = snapshot(run)

        with pytest.raises(NotFound):
            run_get(actor=desk.outsider, run_id=run.pk)
        for attempt in (
            lambda: run_answer(
                actor=desk.outsider, run=run, question_key="problem_kind", raw_value="technical"
            ),
            lambda: run_item_check(actor=desk.outsider, run=run, item_key="confirm_holder"),
            lambda: run_step_skip(actor=desk.outsider, run=run, reason="mine now"),
            lambda: run_finish(actor=desk.outsider, run=run, skip_reasons={"x": "y"}),
            lambda: run_abandon(actor=desk.outsider, run=run, reason="mine now"),
        ):
            with pytest.raises(NotFound):
                attempt()

        assert snapshot(run) == before

    def test_another_organizations_playbook_customer_or_ticket_cannot_start_a_run(
        self, desk: Desk
    ) -> None:
        with pytest.raises(NotFound):
            playbook_run_start(actor=desk.agent, playbook=desk.other_playbook)
        with pytest.raises(NotFound):
            playbook_run_start(
                actor=desk.agent, playbook=desk.playbook, customer=desk.other_customer
            )
        desk.fakes.tickets[desk.world.other_operator.pk] = {77}
        with pytest.raises(NotFound):
            playbook_run_start(
                actor=desk.agent, playbook=desk.playbook, target=RunTarget("ticket", 77)
            )

        assert PlaybookRun.objects.count() == 0

    def test_a_role_without_customer_edit_cannot_work_runs(self, desk: Desk) -> None:
        integration = Actor(organization=desk.world.operator, role="integration", label="store")

        with pytest.raises(PermissionDenied):
            playbook_run_start(actor=integration, playbook=desk.playbook)

        assert PlaybookRun.objects.count() == 0

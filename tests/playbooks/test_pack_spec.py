"""The playbook pack section: what loads, and every mistake refused with its exact path."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from telcodesk.core.validation import pydantic_error_message
from telcodesk.playbooks import actions, fields
from telcodesk.playbooks.pack_spec import PlaybookSpec, playbook_spec_load
from tests.playbooks.conftest import Fakes, support_call


def problem(data: dict[str, Any]) -> tuple[str, str]:
    """(path, message) of the first error, as the pack loader reports it."""
    with pytest.raises(ValidationError) as caught:
        PlaybookSpec.model_validate(data)
    error = caught.value.errors(include_url=False)[0]
    path = ""
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    at = (error.get("ctx") or {}).get("at", "")
    if at:
        path = path + at if not path or at.startswith("[") else f"{path}.{at}"
    return path, pydantic_error_message(error, keep_unknown=True)


def step(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in data["steps"] if s["key"] == key)


def test_the_example_playbook_loads_with_its_defaults(fakes: Fakes) -> None:
    spec = PlaybookSpec.model_validate(support_call())

    assert spec.step_keys() == [
        "greeting",
        "investigate",
        "diagnose",
        "advice",
        "closing",
        "administrative",
    ]
    greeting = spec.step("greeting")
    assert greeting.checklist[0].required is True
    assert greeting.questions[0].required is True
    diagnose = spec.step("diagnose")
    assert diagnose.actions[0].key == "run_checks"
    assert diagnose.actions[0].when == "manual"
    assert diagnose.actions[0].params == {"kinds": ["ping", "optical_power"]}
    assert spec.variable_names() == [
        "provider",
        "agent_name",
        "customer_name",
        "ticket_number",
        "eta",
        "plan_name",
    ]
    assert spec.field_values("ticket", {"since_when": "ayer", "devices": 3, "nps": 9}) == {
        "since_when": "ayer",
        "devices": 3,
    }


def test_an_action_may_be_written_as_its_bare_name(fakes: Fakes) -> None:
    data = support_call()
    step(data, "advice")["actions"] = ["create_ticket"]

    spec = PlaybookSpec.model_validate(data)

    assert spec.step("advice").actions[0].action == "create_ticket"
    assert spec.step("advice").actions[0].key == "create_ticket"


def test_a_question_naming_an_unknown_field_is_refused_with_its_path(fakes: Fakes) -> None:
    data = support_call()
    step(data, "investigate")["questions"][1]["field"] = "ticket.device_count"

    assert problem(data) == (
        "steps[1].questions[1].field",
        '"device_count" is not a field of ticket; the fields are: devices, since_when, wifi.',
    )


def test_a_question_naming_an_unknown_namespace_is_refused_with_its_path(fakes: Fakes) -> None:
    data = support_call()
    step(data, "investigate")["questions"][0]["field"] = "lead.since_when"

    assert problem(data) == (
        "steps[1].questions[0].field",
        '"lead" has no fields a question can fill; use one of: ticket.',
    )


def test_an_unknown_action_is_refused_with_its_path(fakes: Fakes) -> None:
    data = support_call()
    step(data, "diagnose")["actions"][0]["action"] = "run_diagnostic"

    assert problem(data) == (
        "steps[2].actions[0].action",
        '"run_diagnostic" is not a playbook action; the actions are: '
        "create_ticket, explode, run_checks.",
    )


def test_bad_action_params_are_refused_with_the_path_of_the_param(fakes: Fakes) -> None:
    data = support_call()
    step(data, "diagnose")["actions"][0]["params"] = {"kinds": "ping"}

    assert problem(data) == (
        "steps[2].actions[0].params.kinds",
        "Send a list with the allowed number of items.",
    )


def test_params_for_an_action_that_takes_none_are_refused(fakes: Fakes) -> None:
    data = support_call()
    step(data, "investigate")["actions"][0]["params"] = {"category": "technical"}

    assert problem(data) == (
        "steps[1].actions[0].params",
        "The action create_ticket takes no params; remove them.",
    )


def test_an_unknown_variable_in_a_script_is_refused_with_its_path(fakes: Fakes) -> None:
    data = support_call()
    step(data, "closing")["script"] = "Your ticket is {ticket_numer}."

    assert problem(data) == (
        "steps[4].script",
        'Unknown variable "ticket_numer"; use one of provider, agent_name, customer_name, '
        "ticket_number, eta, plan_name, or declare it under variables.",
    )


def test_an_unknown_variable_in_a_checklist_item_is_refused(fakes: Fakes) -> None:
    data = support_call()
    step(data, "advice")["checklist"][0]["text"] = "Explain {speed}"

    assert problem(data)[0] == "steps[3].checklist[0].text"


def test_a_goto_to_an_unknown_step_is_refused_with_its_path(fakes: Fakes) -> None:
    data = support_call()
    step(data, "diagnose")["next"][1]["goto"] = "closure"

    assert problem(data) == (
        "steps[2].next[1].goto",
        '"closure" is not a step of this playbook; the steps are: greeting, investigate, '
        "diagnose, advice, closing, administrative.",
    )


def test_a_duplicate_step_key_is_refused(fakes: Fakes) -> None:
    data = support_call()
    step(data, "advice")["key"] = "diagnose"

    assert problem(data) == (
        "steps[3].key",
        'Step key "diagnose" is used twice in this playbook.',
    )


def test_a_question_key_used_in_two_steps_is_refused(fakes: Fakes) -> None:
    data = support_call()
    step(data, "closing")["questions"][0]["key"] = "devices"

    assert problem(data) == (
        "steps[4].questions[0].key",
        'Question key "devices" is already used in step "investigate"; question keys are '
        "unique in a playbook (next rules read them).",
    )


def test_an_item_and_a_question_of_one_step_cannot_share_a_key(fakes: Fakes) -> None:
    data = support_call()
    step(data, "greeting")["questions"][0]["key"] = "confirm_holder"

    path, message = problem(data)

    assert path == "steps[0].questions[0].key"
    assert message.startswith('Key "confirm_holder" is used twice in this step')


def test_a_step_no_path_reaches_is_refused(fakes: Fakes) -> None:
    data = support_call()
    step(data, "diagnose")["next"] = [{"goto": "closing"}]

    assert problem(data) == (
        "steps[3].key",
        'No path from the first step reaches "advice": point a next rule at it or remove it.',
    )


def test_a_loop_without_a_way_out_is_refused(fakes: Fakes) -> None:
    data = support_call()
    step(data, "greeting")["next"].append(
        {"when": {"problem_kind": "technical"}, "goto": "closing"}
    )
    step(data, "advice")["next"] = [{"goto": "diagnose"}]
    step(data, "diagnose")["next"] = [
        {"when": {"fault_found": False}, "goto": "advice"},
        {"goto": "advice"},
    ]

    assert problem(data) == (
        "steps[2].next",
        "From these steps the run can never end, their next rules loop back for ever: "
        "investigate, diagnose, advice. Add a rule or a step that leads to an end.",
    )


def test_a_loop_with_a_way_out_is_allowed(fakes: Fakes) -> None:
    data = support_call()
    step(data, "advice")["next"] = [{"when": {"fault_found": True}, "goto": "diagnose"}]

    spec = PlaybookSpec.model_validate(data)

    assert spec.step("advice").next[0].goto == "diagnose"


def test_a_condition_on_an_unknown_key_is_refused(fakes: Fakes) -> None:
    data = support_call()
    step(data, "greeting")["next"][0]["when"] = {"problem_type": "administrative"}

    assert problem(data) == (
        "steps[0].next[0].when.problem_type",
        '"problem_type" is neither a question of this playbook nor a fact its actions report.',
    )


def test_a_condition_with_a_value_that_is_not_a_choice_is_refused(fakes: Fakes) -> None:
    data = support_call()
    step(data, "greeting")["next"][0]["when"] = {"problem_kind": "billing"}

    assert problem(data) == (
        "steps[0].next[0].when.problem_kind",
        '"problem_kind" is a choice question: compare it with one of technical, administrative.',
    )


def test_a_rule_after_one_that_always_applies_is_refused(fakes: Fakes) -> None:
    data = support_call()
    step(data, "diagnose")["next"].reverse()

    assert problem(data) == (
        "steps[2].next[1]",
        "This rule can never apply: the rule before it has no when and always applies. "
        "Move the rule without when to the end.",
    )


def test_a_rule_needs_goto_or_end(fakes: Fakes) -> None:
    data = support_call()
    step(data, "greeting")["next"][0].pop("goto")

    assert problem(data) == (
        "steps[0].next[0].goto",
        "A next rule says either goto: a step, or end: true; give one of them.",
    )


def test_min_and_max_belong_to_number_questions_only(fakes: Fakes) -> None:
    data = support_call()
    step(data, "investigate")["questions"][0]["max"] = 5

    assert problem(data) == (
        "steps[1].questions[0].max",
        "Only a question of type number has max; remove it.",
    )


def test_a_choice_question_needs_choices(fakes: Fakes) -> None:
    data = support_call()
    step(data, "greeting")["questions"][0].pop("choices")

    assert problem(data) == (
        "steps[0].questions[0].choices",
        "A choice question needs its list of choices.",
    )


def test_only_a_manual_action_can_be_required(fakes: Fakes) -> None:
    data = support_call()
    step(data, "investigate")["actions"][0]["required"] = True

    assert problem(data)[0] == "steps[1].actions[0].required"


def test_an_unknown_field_of_a_step_is_refused(fakes: Fakes) -> None:
    data = support_call()
    step(data, "greeting")["scrpit"] = "Hello"

    assert problem(data) == ("steps[0].scrpit", "This field does not exist.")


def test_a_stored_definition_reads_back_without_the_registries(fakes: Fakes) -> None:
    definition = PlaybookSpec.model_validate(support_call()).model_dump(mode="json")
    actions._ACTIONS.clear()
    fields._NAMESPACES.clear()

    spec = playbook_spec_load(definition)

    assert spec.step("diagnose").actions[0].action == "run_checks"
    assert spec.step("investigate").questions[0].field == "ticket.since_when"
    with pytest.raises(ValidationError):
        PlaybookSpec.model_validate(definition)

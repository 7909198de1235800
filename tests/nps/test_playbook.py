"""The ``send_nps`` playbook action: the survey of the run's ticket goes out and the
action is done (the answer comes after the call); a refusal says what to do and is
recorded on the survey; a second press does not send a second survey."""

from __future__ import annotations

import pytest

from telcodesk.messaging.models import Message
from telcodesk.nps.models import Survey, SurveyStatus
from telcodesk.playbooks.models import Playbook, PlaybookRun
from telcodesk.playbooks.pack_spec import PlaybookSpec
from telcodesk.playbooks.pack_sync import playbooks_sync
from telcodesk.playbooks.services.runs import RunTarget, playbook_run_start, run_action
from telcodesk.tickets.models import Ticket

from .conftest import SurveyDesk

pytestmark = pytest.mark.django_db


def _run(desk: SurveyDesk, ticket: Ticket | None) -> PlaybookRun:
    spec = PlaybookSpec.model_validate(
        {
            "key": "cierre",
            "name": "Cierre de llamada",
            "version": "1.0.0",
            "steps": [
                {
                    "key": "closing",
                    "title": "Cierre",
                    "script": "Antes de despedirnos le envío una encuesta.",
                    "actions": [{"action": "send_nps", "label": "Enviar encuesta NPS"}],
                    "end": True,
                }
            ],
        }
    )
    playbooks_sync(organization=desk.world.operator, pack_name="test-pack", specs=[spec])
    return playbook_run_start(
        actor=desk.world.actor(desk.world.agent),
        playbook=Playbook.objects.get(key="cierre"),
        customer=desk.customer,
        target=RunTarget("ticket", ticket.pk) if ticket is not None else None,
    )


def test_the_action_sends_the_tickets_survey_and_is_done_without_an_answer(
    survey_desk: SurveyDesk,
) -> None:
    survey_desk.conversation()
    ticket = survey_desk.ticket()
    run = _run(survey_desk, ticket)
    actor = survey_desk.world.actor(survey_desk.world.agent)

    record = run_action(actor=actor, run=run, action_key="send_nps")

    survey = Survey.objects.get()
    run.refresh_from_db()
    assert (record.status, record.data) == ("ok", {"survey_id": survey.pk})
    assert record.message.startswith("Survey sent. Go on with the call")
    assert (survey.ticket, survey.trigger, survey.status) == (ticket, "playbook", SurveyStatus.SENT)
    assert run.facts["nps_sent"] is True

    again = run_action(actor=actor, run=run, action_key="send_nps")

    assert (again.status, again.message) == (
        "ok",
        "The survey for this ticket was already sent. Go on with the call.",
    )
    assert (Survey.objects.count(), Message.objects.count()) == (1, 1)


def test_without_a_ticket_the_runs_customer_gets_the_survey(survey_desk: SurveyDesk) -> None:
    survey_desk.conversation()
    run = _run(survey_desk, None)

    run_action(
        actor=survey_desk.world.actor(survey_desk.world.agent), run=run, action_key="send_nps"
    )

    survey = Survey.objects.get()
    assert (survey.ticket, survey.customer, survey.status) == (
        None,
        survey_desk.customer,
        SurveyStatus.SENT,
    )


def test_a_refusal_fails_the_action_with_what_to_do_and_stays_on_the_survey(
    survey_desk: SurveyDesk,
) -> None:
    ticket = survey_desk.ticket()
    run = _run(survey_desk, ticket)

    record = run_action(
        actor=survey_desk.world.actor(survey_desk.world.agent), run=run, action_key="send_nps"
    )

    survey = Survey.objects.get()
    run.refresh_from_db()
    assert (record.status, record.message) == ("failed", survey.refusal_message)
    assert (survey.status, survey.refusal_reason) == (SurveyStatus.REFUSED, "no_channel")
    assert "nps_sent" not in run.facts

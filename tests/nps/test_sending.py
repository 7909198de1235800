"""Sending the survey: reply buttons inside the 24-hour window, the pack's template
outside it, plain text on SMS; refusals recorded on the survey with what to do; one
survey per ticket; the ticket-resolved trigger; attribution at send time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from telcodesk.accounts.models import Team
from telcodesk.accounts.roles import Role
from telcodesk.automation.models import Timer
from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.messaging.models import Channel, Message, MessageStatus, Template
from telcodesk.messaging.sending import SendRefused
from telcodesk.nps.models import NpsSettings, Survey, SurveyStage, SurveyStatus, SurveyVia
from telcodesk.nps.services import nps_survey_send, survey_send
from telcodesk.tickets.services import ticket_assign, ticket_status_set, ticket_take

from .conftest import SMS_ADDRESS, WA_ID, SurveyDesk, nps_settings

pytestmark = pytest.mark.django_db


def _buttons(survey: Survey) -> list[dict[str, object]]:
    return [
        {"type": "reply", "reply": {"id": f"nps:{survey.pk}:band:0-6", "title": "0–6"}},
        {"type": "reply", "reply": {"id": f"nps:{survey.pk}:band:7-8", "title": "7–8"}},
        {"type": "reply", "reply": {"id": f"nps:{survey.pk}:band:9-10", "title": "9–10"}},
    ]


class TestWhatsApp:
    def test_inside_the_window_the_survey_is_three_band_buttons_carrying_its_id(
        self, survey_desk: SurveyDesk
    ) -> None:
        conversation = survey_desk.conversation()
        ticket = survey_desk.ticket()

        survey = nps_survey_send(
            actor=survey_desk.world.actor(survey_desk.world.agent), ticket=ticket
        )

        message = Message.objects.get()
        assert (survey.status, survey.stage, survey.via, survey.message) == (
            SurveyStatus.SENT,
            SurveyStage.BAND,
            SurveyVia.BUTTONS,
            message,
        )
        assert (message.conversation, message.kind, message.status) == (
            conversation,
            Message.Kind.INTERACTIVE,
            MessageStatus.QUEUED,
        )
        assert message.payload["interactive"]["type"] == "button"
        assert message.payload["interactive"]["action"]["buttons"] == _buttons(survey)
        # In the customer's language (the organization's: es).
        assert message.body.startswith("Antes de despedirnos, por favor apóyenos calificando")

    def test_the_packs_question_is_asked_in_its_own_words(self, survey_desk: SurveyDesk) -> None:
        nps_settings(survey_desk.world.operator, question="Antes de despedirnos: ¿del 0 al 10?")
        survey_desk.conversation()

        nps_survey_send(
            actor=survey_desk.world.actor(survey_desk.world.agent), ticket=survey_desk.ticket()
        )

        assert Message.objects.get().body == "Antes de despedirnos: ¿del 0 al 10?"

    def test_outside_the_window_the_survey_is_the_packs_template_with_its_band_buttons(
        self, survey_desk: SurveyDesk
    ) -> None:
        survey_desk.conversation(window_open=False)

        survey = nps_survey_send(
            actor=survey_desk.world.actor(survey_desk.world.agent), ticket=survey_desk.ticket()
        )

        message = Message.objects.get()
        assert (survey.status, survey.via, message.kind, message.template.name) == (  # type: ignore[union-attr]
            SurveyStatus.SENT,
            SurveyVia.TEMPLATE,
            Message.Kind.TEMPLATE,
            "encuesta_nps",
        )
        assert (
            message.body == "Hola Juana, ¿qué tan probable es que nos recomiende? Elija una opción."
        )

    def test_outside_the_window_without_an_approved_template_the_refusal_is_recorded(
        self, survey_desk: SurveyDesk
    ) -> None:
        Template.objects.update(status=Template.Status.PAUSED)
        survey_desk.conversation(window_open=False)
        ticket = survey_desk.ticket()

        survey = nps_survey_send(
            actor=survey_desk.world.actor(survey_desk.world.agent), ticket=ticket
        )

        assert (survey.status, survey.refusal_reason, survey.message) == (
            SurveyStatus.REFUSED,
            "no_template",
            None,
        )
        assert survey.refusal_message == (
            "El cliente no ha escrito en las últimas 24 horas y no hay una plantilla de encuesta "
            "NPS aprobada para enviar en su lugar. Pida al cliente que nos escriba por WhatsApp "
            "y envíe la encuesta de nuevo, o pida a un administrador que consiga la aprobación "
            "de la plantilla de encuesta del paquete."
        )
        assert Message.objects.count() == 0
        assert Timer.objects.count() == 0

    def test_a_template_without_the_three_band_buttons_is_refused(
        self, survey_desk: SurveyDesk
    ) -> None:
        Template.objects.update(buttons=[{"type": "QUICK_REPLY", "text": "Responder"}])
        survey_desk.conversation(window_open=False)

        survey = nps_survey_send(
            actor=survey_desk.world.actor(survey_desk.world.agent), ticket=survey_desk.ticket()
        )

        assert (survey.status, survey.refusal_reason) == (
            SurveyStatus.REFUSED,
            "template_without_bands",
        )
        assert Message.objects.count() == 0

    def test_a_switched_off_channel_is_no_way_to_send_and_the_survey_says_so(
        self, survey_desk: SurveyDesk
    ) -> None:
        survey_desk.conversation()
        Channel.objects.update(is_active=False)

        survey = nps_survey_send(
            actor=survey_desk.world.actor(survey_desk.world.agent), ticket=survey_desk.ticket()
        )

        assert (survey.status, survey.refusal_reason) == (SurveyStatus.REFUSED, "no_channel")


class TestSms:
    def test_an_sms_conversation_gets_the_question_as_text_in_the_outbox(
        self, survey_desk: SurveyDesk
    ) -> None:
        sms = Channel.objects.create(
            organization=survey_desk.world.operator, name="SMS", kind=Channel.Kind.SMS
        )
        conversation = survey_desk.conversation(channel=sms, address=SMS_ADDRESS)
        nps_settings(survey_desk.world.operator, question="¿Nos recomendaría?")

        survey = nps_survey_send(
            actor=survey_desk.world.actor(survey_desk.world.agent), conversation=conversation
        )

        message = Message.objects.get()
        assert (survey.status, survey.via, survey.customer) == (
            SurveyStatus.SENT,
            SurveyVia.TEXT,
            survey_desk.customer,
        )
        assert (message.conversation, message.kind, message.status, message.body) == (
            conversation,
            Message.Kind.TEXT,
            MessageStatus.QUEUED,
            "¿Nos recomendaría? Responda con un número del 0 al 10.",
        )


class TestRefusals:
    def test_a_customer_without_whatsapp_or_sms_gets_a_survey_refused_with_no_channel(
        self, survey_desk: SurveyDesk
    ) -> None:
        survey = nps_survey_send(
            actor=survey_desk.world.actor(survey_desk.world.agent), ticket=survey_desk.ticket()
        )

        assert (survey.status, survey.stage, survey.refusal_reason, survey.conversation) == (
            SurveyStatus.REFUSED,
            SurveyStage.DONE,
            "no_channel",
            None,
        )
        assert survey.refusal_message.startswith("The survey goes by WhatsApp or SMS")
        assert Survey.objects.count() == 1

    def test_a_ticket_gets_one_survey(self, survey_desk: SurveyDesk) -> None:
        survey_desk.conversation()
        ticket = survey_desk.ticket()
        actor = survey_desk.world.actor(survey_desk.world.agent)
        nps_survey_send(actor=actor, ticket=ticket)

        with pytest.raises(SendRefused) as refused:
            nps_survey_send(actor=actor, ticket=ticket)

        assert refused.value.reason == "already_sent"
        assert (Survey.objects.count(), Message.objects.count()) == (1, 1)

    def test_a_survey_that_could_not_go_does_not_stop_the_next_try(
        self, survey_desk: SurveyDesk
    ) -> None:
        ticket = survey_desk.ticket()
        actor = survey_desk.world.actor(survey_desk.world.agent)
        first = nps_survey_send(actor=actor, ticket=ticket)
        survey_desk.conversation()

        second = nps_survey_send(actor=actor, ticket=ticket)

        assert (first.status, second.status) == (SurveyStatus.REFUSED, SurveyStatus.SENT)

    def test_nothing_to_send_to_is_refused_with_the_field(self, survey_desk: SurveyDesk) -> None:
        with pytest.raises(ValidationFailed) as refused:
            nps_survey_send(actor=survey_desk.world.actor(survey_desk.world.agent))

        assert list(refused.value.details) == ["ticket_id"]
        assert Survey.objects.count() == 0

    def test_an_outsider_cannot_survey_our_ticket_or_customer_and_nothing_changes(
        self, survey_desk: SurveyDesk
    ) -> None:
        conversation = survey_desk.conversation()
        ticket = survey_desk.ticket()
        outsider = survey_desk.world.actor(survey_desk.world.outsider)

        for target in (
            {"ticket": ticket},
            {"customer": survey_desk.customer},
            {"conversation": conversation},
        ):
            with pytest.raises(NotFound):
                nps_survey_send(actor=outsider, **target)  # type: ignore[arg-type]

        assert (Survey.objects.count(), Message.objects.count()) == (0, 0)

    def test_an_integration_key_may_not_send_a_survey(self, survey_desk: SurveyDesk) -> None:
        survey_desk.conversation()
        integration = Actor(organization=survey_desk.world.operator, role=Role.INTEGRATION)

        with pytest.raises(PermissionDenied):
            nps_survey_send(actor=integration, customer=survey_desk.customer)

        assert Survey.objects.count() == 0


class TestResolvedTrigger:
    def test_resolving_a_ticket_sends_its_survey_once_even_when_resolved_again(
        self, survey_desk: SurveyDesk
    ) -> None:
        survey_desk.conversation()
        actor = survey_desk.world.actor(survey_desk.world.agent)
        ticket = survey_desk.ticket()

        ticket_status_set(actor=actor, ticket=ticket, status="resolved")
        ticket_status_set(actor=actor, ticket=ticket, status="in_progress", note="Volvió a fallar")
        ticket_status_set(actor=actor, ticket=ticket, status="resolved")

        survey = Survey.objects.get()
        assert (survey.ticket, survey.trigger, survey.status, survey.sent_by) == (
            ticket,
            "resolved",
            SurveyStatus.SENT,
            survey_desk.world.agent,
        )
        assert Message.objects.filter(kind=Message.Kind.INTERACTIVE).count() == 1

    def test_the_expiry_timer_is_scheduled_at_the_packs_hours(
        self, survey_desk: SurveyDesk
    ) -> None:
        nps_settings(survey_desk.world.operator, expires_after_hours=48)
        survey_desk.conversation()
        ticket = survey_desk.ticket()

        ticket_status_set(
            actor=survey_desk.world.actor(survey_desk.world.agent), ticket=ticket, status="resolved"
        )

        survey = Survey.objects.get()
        timer = Timer.objects.get(kind="nps.survey_expire")
        assert (timer.target_id, timer.due_at, survey.expires_at - survey.sent_at) == (
            survey.pk,
            survey.expires_at,
            timedelta(hours=48),
        )

    def test_without_the_packs_nps_section_or_with_send_on_resolved_off_nothing_is_sent(
        self, survey_desk: SurveyDesk
    ) -> None:
        survey_desk.conversation()
        actor = survey_desk.world.actor(survey_desk.world.agent)
        nps_settings(survey_desk.world.operator, send_on_resolved=False)
        ticket_status_set(actor=actor, ticket=survey_desk.ticket(), status="resolved")
        NpsSettings.objects.all().delete()
        ticket_status_set(actor=actor, ticket=survey_desk.ticket(), status="resolved")

        assert (Survey.objects.count(), Message.objects.count()) == (0, 0)

    def test_a_survey_that_cannot_go_does_not_block_resolving_and_is_recorded(
        self, survey_desk: SurveyDesk
    ) -> None:
        ticket = survey_desk.ticket()

        resolved = ticket_status_set(
            actor=survey_desk.world.actor(survey_desk.world.agent), ticket=ticket, status="resolved"
        )

        assert resolved.status == "resolved"
        assert Survey.objects.get().refusal_reason == "no_channel"


class TestAttribution:
    def test_the_agent_team_and_category_are_kept_as_they_were_when_sent(
        self, survey_desk: SurveyDesk
    ) -> None:
        survey_desk.conversation()
        world = survey_desk.world
        night = Team.objects.create(organization=world.operator, name="Noche")
        ticket = survey_desk.ticket(category="billing")
        ticket = ticket_assign(
            actor=world.actor(world.supervisor), ticket=ticket, user=world.agent, team=night
        )

        survey = nps_survey_send(actor=world.actor(world.supervisor), ticket=ticket)
        ticket_assign(actor=world.actor(world.supervisor), ticket=ticket, user=None, team=None)

        survey.refresh_from_db()
        assert (survey.agent, survey.sent_by, survey.team, survey.category) == (
            world.supervisor,
            world.supervisor,
            night,
            "billing",
        )

    def test_a_survey_the_system_sends_is_the_ticket_assignees(
        self, survey_desk: SurveyDesk
    ) -> None:
        survey_desk.conversation()
        world = survey_desk.world
        ticket = survey_desk.ticket()
        ticket = ticket_take(actor=world.actor(world.agent), ticket=ticket)

        survey = survey_send(
            organization=world.operator,
            actor=None,
            trigger="resolved",
            ticket=ticket,
            now=timezone.now(),
        )

        assert (survey.agent, survey.sent_by, Message.objects.get().created_by) == (
            world.agent,
            None,
            None,
        )


def test_the_whatsapp_id_in_the_payload_is_the_customers(survey_desk: SurveyDesk) -> None:
    survey_desk.conversation()

    nps_survey_send(
        actor=survey_desk.world.actor(survey_desk.world.agent), customer=survey_desk.customer
    )

    assert Message.objects.get().payload["to"] == WA_ID

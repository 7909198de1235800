"""The customer's replies: band buttons then the exact score, a typed score at any step,
the template's quick replies, bad replies asked again at most twice, the comment, the
expiry; never a wrong score, and never a reply to something else taken for a score."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from telcodesk.automation.models import Timer
from telcodesk.automation.tick import timer_claim, timer_fire
from telcodesk.messaging.models import Channel, Conversation, Message
from telcodesk.nps.models import Survey, SurveyStage, SurveyStatus
from telcodesk.nps.services import nps_survey_send, survey_expire

from .conftest import SMS_ADDRESS, SurveyDesk, inbound, nps_settings

pytestmark = pytest.mark.django_db


def _sent(survey_desk: SurveyDesk, *, window_open: bool = True) -> tuple[Survey, Conversation]:
    conversation = survey_desk.conversation(window_open=window_open)
    survey = nps_survey_send(
        actor=survey_desk.world.actor(survey_desk.world.agent), ticket=survey_desk.ticket()
    )
    return survey, conversation


def _outbound(conversation: Conversation) -> list[Message]:
    return list(
        Message.objects.filter(
            conversation=conversation, direction=Message.Direction.OUTBOUND
        ).order_by("id")
    )


class TestButtons:
    def test_the_band_then_the_score_from_the_list_stores_the_score(
        self, survey_desk: SurveyDesk
    ) -> None:
        survey, conversation = _sent(survey_desk)

        inbound(conversation, "0–6", kind="interactive", reply_payload=f"nps:{survey.pk}:band:0-6")
        survey.refresh_from_db()
        step_two = _outbound(conversation)[-1]
        assert (survey.stage, survey.band, survey.score) == (SurveyStage.SCORE, "0-6", None)
        assert step_two.payload["interactive"]["type"] == "list"
        rows = step_two.payload["interactive"]["action"]["sections"][0]["rows"]
        assert [(row["id"], row["title"]) for row in rows] == [
            (f"nps:{survey.pk}:score:{n}", str(n)) for n in range(7)
        ]

        inbound(conversation, "5", kind="interactive", reply_payload=f"nps:{survey.pk}:score:5")
        survey.refresh_from_db()
        assert (survey.status, survey.stage, survey.score) == (
            SurveyStatus.ANSWERED,
            SurveyStage.COMMENT,
            5,
        )
        assert survey.kind == "detractor"

    def test_the_promoter_band_asks_with_two_buttons(self, survey_desk: SurveyDesk) -> None:
        survey, conversation = _sent(survey_desk)

        inbound(
            conversation, "9–10", kind="interactive", reply_payload=f"nps:{survey.pk}:band:9-10"
        )

        buttons = _outbound(conversation)[-1].payload["interactive"]["action"]["buttons"]
        assert [b["reply"]["id"] for b in buttons] == [
            f"nps:{survey.pk}:score:9",
            f"nps:{survey.pk}:score:10",
        ]

    def test_a_typed_score_is_taken_at_the_second_step_too(self, survey_desk: SurveyDesk) -> None:
        survey, conversation = _sent(survey_desk)
        inbound(conversation, "7–8", kind="interactive", reply_payload=f"nps:{survey.pk}:band:7-8")

        inbound(conversation, "ocho")

        survey.refresh_from_db()
        assert (survey.status, survey.score, survey.band) == (SurveyStatus.ANSWERED, 8, "7-8")

    def test_the_templates_quick_reply_is_the_band(self, survey_desk: SurveyDesk) -> None:
        survey, conversation = _sent(survey_desk, window_open=False)

        inbound(conversation, "7–8", kind="button", reply_payload="7–8")

        survey.refresh_from_db()
        assert (survey.stage, survey.band) == (SurveyStage.SCORE, "7-8")
        buttons = _outbound(conversation)[-1].payload["interactive"]["action"]["buttons"]
        assert [b["reply"]["title"] for b in buttons] == ["7", "8"]

    def test_a_button_id_of_another_organizations_survey_changes_nothing(
        self, survey_desk: SurveyDesk
    ) -> None:
        survey, conversation = _sent(survey_desk)

        inbound(
            conversation, "10", kind="interactive", reply_payload=f"nps:{survey.pk + 999}:score:10"
        )

        survey.refresh_from_db()
        assert (survey.status, survey.score, survey.stage) == (SurveyStatus.SENT, None, "band")

    def test_the_answer_to_another_list_is_not_taken_for_the_survey(
        self, survey_desk: SurveyDesk
    ) -> None:
        survey, conversation = _sent(survey_desk)
        before = len(_outbound(conversation))

        inbound(conversation, "Plan 300 Mbps", kind="interactive", reply_payload="plan:300")

        survey.refresh_from_db()
        assert (survey.status, survey.bad_replies, len(_outbound(conversation))) == (
            SurveyStatus.SENT,
            0,
            before,
        )

    def test_a_quick_reply_of_another_template_is_not_taken_for_the_survey(
        self, survey_desk: SurveyDesk
    ) -> None:
        survey, conversation = _sent(survey_desk, window_open=False)

        inbound(conversation, "Me interesa", kind="button", reply_payload="Me interesa")

        survey.refresh_from_db()
        assert (survey.status, survey.stage, survey.bad_replies) == (SurveyStatus.SENT, "band", 0)
        assert len(_outbound(conversation)) == 1


class TestTypedReplies:
    @pytest.mark.parametrize(
        ("text", "score"), [("10!!", 10), ("Diez.", 10), ("9/10", 9), ("un 8", 8)]
    )
    def test_a_typed_score_is_stored_at_once(
        self, survey_desk: SurveyDesk, text: str, score: int
    ) -> None:
        survey, conversation = _sent(survey_desk)

        inbound(conversation, text)

        survey.refresh_from_db()
        assert (survey.status, survey.score) == (SurveyStatus.ANSWERED, score)
        assert _outbound(conversation)[-1].body == (
            "¡Gracias por su respuesta! Si lo desea, cuéntenos en un mensaje por qué dio esa "
            "calificación."
        )

    def test_bad_replies_are_asked_again_twice_then_the_survey_stays_unanswered(
        self, survey_desk: SurveyDesk
    ) -> None:
        survey, conversation = _sent(survey_desk)

        for text in ("11", "8 o 9"):
            inbound(conversation, text)
            survey.refresh_from_db()
            assert (survey.status, survey.score) == (SurveyStatus.SENT, None)
        asked_again = _outbound(conversation)[1:]
        assert [m.body for m in asked_again] == [
            "Lo sentimos, no pudimos leer una calificación en su respuesta. Por favor responda "
            "con un solo número del 0 al 10."
        ] * 2
        assert asked_again[0].payload["interactive"]["action"]["buttons"][0]["reply"]["id"] == (
            f"nps:{survey.pk}:band:0-6"
        )

        inbound(conversation, "-1")

        survey.refresh_from_db()
        assert (survey.status, survey.stage, survey.score, survey.bad_replies) == (
            SurveyStatus.UNANSWERED,
            SurveyStage.DONE,
            None,
            2,
        )
        assert len(_outbound(conversation)) == 3
        assert Timer.objects.get(kind="nps.survey_expire").state == Timer.State.CANCELLED

        inbound(conversation, "10")
        survey.refresh_from_db()
        assert (survey.status, survey.score) == (SurveyStatus.UNANSWERED, None)

    def test_an_emoji_or_a_photo_is_not_a_score(self, survey_desk: SurveyDesk) -> None:
        survey, conversation = _sent(survey_desk)

        inbound(conversation, "👍")
        inbound(conversation, "", kind="image")

        survey.refresh_from_db()
        assert (survey.status, survey.score, survey.bad_replies) == (SurveyStatus.SENT, None, 2)

    def test_an_sms_reply_is_read_like_a_whatsapp_text(self, survey_desk: SurveyDesk) -> None:
        sms = Channel.objects.create(
            organization=survey_desk.world.operator, name="SMS", kind=Channel.Kind.SMS
        )
        conversation = survey_desk.conversation(channel=sms, address=SMS_ADDRESS)
        survey = nps_survey_send(
            actor=survey_desk.world.actor(survey_desk.world.agent), conversation=conversation
        )

        inbound(conversation, "diez")

        survey.refresh_from_db()
        assert (survey.status, survey.score) == (SurveyStatus.ANSWERED, 10)


class TestComment:
    def test_the_text_after_the_score_is_the_comment(self, survey_desk: SurveyDesk) -> None:
        survey, conversation = _sent(survey_desk)
        inbound(conversation, "9")

        inbound(conversation, "El técnico llegó a tiempo y fue muy amable.")
        inbound(conversation, "Gracias")

        survey.refresh_from_db()
        assert (survey.score, survey.comment, survey.stage) == (
            9,
            "El técnico llegó a tiempo y fue muy amable.",
            SurveyStage.DONE,
        )

    def test_a_text_after_the_comment_minutes_is_not_the_comment(
        self, survey_desk: SurveyDesk
    ) -> None:
        survey, conversation = _sent(survey_desk)
        inbound(conversation, "9")
        Survey.objects.filter(pk=survey.pk).update(
            answered_at=timezone.now() - timedelta(minutes=31)
        )

        inbound(conversation, "Otra consulta: ¿cuánto debo?")

        survey.refresh_from_db()
        assert (survey.score, survey.comment) == (9, "")

    def test_without_comment_minutes_the_survey_ends_with_the_score(
        self, survey_desk: SurveyDesk
    ) -> None:
        nps_settings(survey_desk.world.operator, comment_minutes=0)
        survey, conversation = _sent(survey_desk)

        inbound(conversation, "7")

        survey.refresh_from_db()
        assert (survey.score, survey.stage, len(_outbound(conversation))) == (
            7,
            SurveyStage.DONE,
            1,
        )


class TestExpiry:
    def test_a_survey_not_answered_in_time_stays_unanswered_and_later_replies_change_nothing(
        self, survey_desk: SurveyDesk
    ) -> None:
        survey, conversation = _sent(survey_desk)
        timer = Timer.objects.get(kind="nps.survey_expire", target_id=survey.pk)

        later = survey.expires_at + timedelta(seconds=1)
        assert timer_claim(timer_id=timer.pk, now=later)
        timer_fire(timer.pk, now=later)
        inbound(conversation, "10")

        survey.refresh_from_db()
        assert (survey.status, survey.closed_reason, survey.score) == (
            SurveyStatus.UNANSWERED,
            "expired",
            None,
        )

    def test_an_answered_survey_is_not_expired(self, survey_desk: SurveyDesk) -> None:
        survey, conversation = _sent(survey_desk)
        inbound(conversation, "10")

        expired = survey_expire(survey_id=survey.pk, now=survey.expires_at + timedelta(hours=1))

        survey.refresh_from_db()
        assert (expired, survey.status, survey.score) == (False, SurveyStatus.ANSWERED, 10)


def test_a_message_without_an_open_survey_is_left_alone(survey_desk: SurveyDesk) -> None:
    conversation = survey_desk.conversation()

    inbound(conversation, "10")

    assert Survey.objects.count() == 0
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 0


def test_the_newest_open_survey_of_the_conversation_takes_a_typed_score(
    survey_desk: SurveyDesk,
) -> None:
    conversation = survey_desk.conversation()
    actor = survey_desk.world.actor(survey_desk.world.agent)
    older = nps_survey_send(actor=actor, ticket=survey_desk.ticket())
    newer = nps_survey_send(actor=actor, ticket=survey_desk.ticket(subject="Otra falla"))

    inbound(conversation, "6")

    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.score, newer.score) == (None, 6)

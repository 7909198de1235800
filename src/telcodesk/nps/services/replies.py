"""The customer's replies to an open survey, and its expiry.

``survey_reply_apply`` is registered as a messaging inbound handler (``NpsConfig.ready``):
it runs inside the transaction that stores the inbound message and never raises (a
failure here must not lose the customer's message). A button or list row of ours names
its survey (``nps:<id>:band:0-6``, ``nps:<id>:score:7``); a template quick reply names a
band; a typed reply is read by ``nps.parsing.score_parse``: a score is stored only when
it was read without doubt, and anything else is asked again at most ``reasks`` times.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from telcodesk.automation.services import timer_cancel
from telcodesk.core.errors import DomainError
from telcodesk.customers.models import TimelineEvent
from telcodesk.customers.services import timeline_add
from telcodesk.messaging.interactive_lists import InteractiveList, ListRow, ListSection
from telcodesk.messaging.models import Channel, Conversation, Message
from telcodesk.messaging.sending import (
    message_send_interactive,
    message_send_text,
)
from telcodesk.messaging.services import conversation_reply_await
from telcodesk.nps.models import (
    NpsSettings,
    Survey,
    SurveyStage,
    SurveyStatus,
)
from telcodesk.nps.parsing import (
    BANDS,
    band_parse,
    reply_id,
    reply_id_parse,
    score_parse,
)
from telcodesk.nps.selectors import (
    nps_settings_or_default,
    survey_open_for,
)
from telcodesk.nps.services.sending import (
    EXPIRE_TIMER_KIND,
    SURVEY_CHANNEL_KINDS,
    TIMER_TARGET,
    band_buttons,
    customer_language,
    reask_text,
)

logger = logging.getLogger("telcodesk.nps")
MAX_COMMENT_LENGTH = 2000


# --- replies ----------------------------------------------------------------------------------


def _send_quietly(survey: Survey, send: Callable[[], Message]) -> Message | None:
    """Queue a follow-up (next step, ask again, comment prompt); a refusal is logged.

    The customer just wrote, so the window is open; a channel switched off meanwhile
    is the only likely refusal, and it must not lose the customer's reply.
    """
    try:
        with transaction.atomic():
            message = send()
    except DomainError as refusal:
        logger.warning("nps survey %s: follow-up not sent: %s", survey.pk, refusal.message)
        return None
    return message


def _ask_score(survey: Survey, conversation: Conversation, *, body: str = "") -> Message | None:
    """The second step: the exact scores of the chosen band."""
    low, high = BANDS[survey.band]
    scores = list(range(low, high + 1))
    body = body or _("Thank you. Which score exactly?")
    if len(scores) > 3:
        spec = InteractiveList(
            body=body,
            button=_("Choose the score"),
            sections=(
                ListSection(
                    title="",
                    rows=tuple(
                        ListRow(id=reply_id(survey.pk, "score", n), title=str(n)) for n in scores
                    ),
                ),
            ),
        )
        return _send_quietly(
            survey,
            lambda: message_send_interactive(
                actor_or_none=None, conversation=conversation, list_spec=spec
            ),
        )
    buttons = [(reply_id(survey.pk, "score", n), str(n)) for n in scores]
    return _send_quietly(
        survey,
        lambda: message_send_interactive(
            actor_or_none=None, conversation=conversation, body=body, buttons=buttons
        ),
    )


def _ask_again(survey: Survey, conversation: Conversation) -> Message | None:
    if conversation.channel.kind == Channel.Kind.SMS:
        return _send_quietly(
            survey,
            lambda: message_send_text(
                actor_or_none=None, conversation=conversation, body=reask_text()
            ),
        )
    if survey.stage == SurveyStage.SCORE and survey.band in BANDS:
        return _ask_score(survey, conversation, body=reask_text())
    return _send_quietly(
        survey,
        lambda: message_send_interactive(
            actor_or_none=None,
            conversation=conversation,
            body=reask_text(),
            buttons=band_buttons(survey),
        ),
    )


def _score_store(
    survey: Survey, conversation: Conversation, score: int, settings: NpsSettings, now: datetime
) -> None:
    survey.score = score
    survey.status = SurveyStatus.ANSWERED
    survey.answered_at = now
    survey.stage = SurveyStage.COMMENT if settings.comment_minutes else SurveyStage.DONE
    survey.save(update_fields=["score", "status", "answered_at", "stage", "updated_at"])
    timer_cancel(
        organization=survey.organization,
        kind=EXPIRE_TIMER_KIND,
        target_type=TIMER_TARGET,
        target_id=survey.pk,
    )
    if survey.stage == SurveyStage.COMMENT:
        conversation_reply_await(
            conversation=conversation, until=now + timedelta(minutes=settings.comment_minutes)
        )
        _send_quietly(
            survey,
            lambda: message_send_text(
                actor_or_none=None,
                conversation=conversation,
                body=_(
                    "Thank you for your answer! If you like, tell us in one message why you "
                    "gave that score."
                ),
            ),
        )
    customer = survey.customer
    if customer is not None:
        timeline_add(
            actor=None,
            customer=customer,
            kind=TimelineEvent.Kind.MESSAGE,
            message=gettext_noop("NPS survey answered: %(score)s of 10."),
            params={"score": score},
            data={"survey_id": survey.pk, "ticket_id": survey.ticket_id},
            at=now,
        )


def _bad_reply(
    survey: Survey, conversation: Conversation, settings: NpsSettings, now: datetime
) -> None:
    if survey.bad_replies < settings.reasks:
        survey.bad_replies += 1
        survey.save(update_fields=["bad_replies", "updated_at"])
        _ask_again(survey, conversation)
        return
    survey.status = SurveyStatus.UNANSWERED
    survey.stage = SurveyStage.DONE
    survey.closed_reason = "unreadable"
    survey.save(update_fields=["status", "stage", "closed_reason", "updated_at"])
    timer_cancel(
        organization=survey.organization,
        kind=EXPIRE_TIMER_KIND,
        target_type=TIMER_TARGET,
        target_id=survey.pk,
    )


def _band_choose(survey: Survey, conversation: Conversation, band: str) -> None:
    survey.band = band
    survey.stage = SurveyStage.SCORE
    survey.save(update_fields=["band", "stage", "updated_at"])
    _ask_score(survey, conversation)


def survey_reply_apply(message: Message, conversation: Conversation) -> Survey | None:
    """Apply a new inbound message to the conversation's open survey; the survey, or None
    when the message answers no survey. Registered as a messaging inbound handler."""
    if conversation.channel.kind not in SURVEY_CHANNEL_KINDS:
        return None
    if message.direction != Message.Direction.INBOUND:
        return None
    # Nothing awaited here (the usual case): no query at all on the ingest path.
    awaited = conversation.reply_awaited_until
    if awaited is None or awaited <= timezone.now():
        return None
    try:
        with transaction.atomic():
            return _reply_apply(message, conversation)
    except Exception:  # the customer's message must be stored whatever happens here
        logger.exception("nps reply %s could not be applied", message.pk)
        return None


def _reply_apply(message: Message, conversation: Conversation) -> Survey | None:
    now = timezone.now()
    ours = reply_id_parse(message.reply_payload) if message.reply_payload else None
    if ours is None and message.kind == Message.Kind.INTERACTIVE:
        return None  # the answer to another list or buttons (a bot's), not to the survey
    survey = survey_open_for(
        conversation=conversation, now=now, survey_id=ours[0] if ours else None
    )
    if survey is None:
        return None
    # Messaging bumped the window with an UPDATE; the follow-ups must see it open.
    conversation.refresh_from_db(fields=["last_inbound_at"])
    settings = nps_settings_or_default(organization=conversation.organization)
    language = customer_language(customer=survey.customer, organization=conversation.organization)
    with translation.override(language):
        _reply_dispatch(survey, message, conversation, ours, settings, now)
    return survey


def _reply_dispatch(
    survey: Survey,
    message: Message,
    conversation: Conversation,
    ours: tuple[int, str, str] | None,
    settings: NpsSettings,
    now: datetime,
) -> None:
    if survey.status == SurveyStatus.ANSWERED:
        # Waiting for the comment: the next text is it; anything else leaves it waiting.
        text = message.body.strip() if message.kind == Message.Kind.TEXT else ""
        if ours is None and text:
            survey.comment = text[:MAX_COMMENT_LENGTH]
            survey.commented_at = now
            survey.stage = SurveyStage.DONE
            survey.save(update_fields=["comment", "commented_at", "stage", "updated_at"])
        return
    if ours is not None:
        _survey_id, kind, value = ours
        if kind == "band":
            _band_choose(survey, conversation, value)
        else:
            _score_store(survey, conversation, int(value), settings, now)
        return
    if message.kind == Message.Kind.BUTTON:
        # A quick reply of the survey's template: its payload (or text) is the band. A
        # quick reply naming no band or score answers another template: not ours.
        band = band_parse(message.reply_payload) or band_parse(message.body)
        if band is not None:
            _band_choose(survey, conversation, band)
            return
        score = score_parse(message.body)
        if score is not None:
            _score_store(survey, conversation, score, settings, now)
        return
    score = score_parse(message.body) if message.kind == Message.Kind.TEXT else None
    if score is not None:
        _score_store(survey, conversation, score, settings, now)
        return
    _bad_reply(survey, conversation, settings, now)


# --- expiry -------------------------------------------------------------------------------


def survey_expire(*, survey_id: int, now: datetime | None = None) -> bool:
    """A survey still waiting for its score at its expiry stays unanswered; True if so.

    Called by the expiry timer; idempotent (an answered survey is left alone).
    """
    now = now or timezone.now()
    return bool(
        Survey.objects.filter(pk=survey_id, status=SurveyStatus.SENT, expires_at__lte=now).update(
            status=SurveyStatus.UNANSWERED,
            stage=SurveyStage.DONE,
            closed_reason="expired",
            updated_at=now,
        )
    )

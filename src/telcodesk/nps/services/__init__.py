"""Every write of the nps app: sending surveys (``sending``) and the customer's replies
(``replies``). Import from here."""

from telcodesk.nps.services.replies import survey_expire, survey_reply_apply
from telcodesk.nps.services.sending import (
    EXPIRE_TIMER_KIND,
    SURVEY_CHANNEL_KINDS,
    TIMER_TARGET,
    customer_language,
    nps_on_ticket_status,
    nps_survey_send,
    survey_conversation_for,
    survey_question,
    survey_send,
    survey_template_for,
    template_bands,
)

__all__ = [
    "EXPIRE_TIMER_KIND",
    "SURVEY_CHANNEL_KINDS",
    "TIMER_TARGET",
    "customer_language",
    "nps_on_ticket_status",
    "nps_survey_send",
    "survey_conversation_for",
    "survey_expire",
    "survey_question",
    "survey_reply_apply",
    "survey_send",
    "survey_template_for",
    "template_bands",
]

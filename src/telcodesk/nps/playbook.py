"""The ``send_nps`` playbook action ("Antes de despedirnos le envío una encuesta").

Registered from ``NpsConfig.ready``. It sends the survey of the run's ticket (the
``ticket`` link, set by ``create_ticket``), else of the run's customer, to the
conversation the run is attached to or the customer's WhatsApp or SMS. Sending is the
agent's duty and the answer comes after the call, so a survey that went out is
``ok=True`` ("survey sent") with the fact ``nps_sent``; a refusal (no channel, no
template outside the 24-hour window) is ``ok=False`` with what to do, and is recorded
on the survey all the same.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telcodesk.messaging.models import Conversation
from telcodesk.messaging.sending import SendRefused
from telcodesk.nps.models import SurveyStatus, SurveyTrigger
from telcodesk.nps.services import nps_survey_send
from telcodesk.playbooks.actions import ActionContext, ActionResult, register_playbook_action
from telcodesk.tickets.selectors import ticket_get


def send_nps_action(context: ActionContext) -> ActionResult:
    actor = context.actor
    ticket_id = context.link("ticket")
    ticket = ticket_get(actor=actor, ticket_id=ticket_id) if ticket_id is not None else None
    customer = context.run.customer if ticket is None else None
    conversation_id = context.link("conversation")
    conversation = (
        Conversation.objects.filter(pk=conversation_id, organization=actor.organization).first()
        if conversation_id is not None
        else None
    )
    if conversation is not None and conversation.channel.kind not in ("whatsapp_cloud", "sms"):
        conversation = None  # an e-mail conversation: the survey finds the customer's WhatsApp
    if ticket is None and customer is None and conversation is None:
        return ActionResult(
            ok=False,
            message=_("Identify the customer first: the survey goes to their WhatsApp or SMS."),
        )
    try:
        survey = nps_survey_send(
            actor=actor,
            ticket=ticket,
            customer=customer,
            conversation=conversation,
            trigger=SurveyTrigger.PLAYBOOK,
        )
    except SendRefused as refusal:
        if refusal.reason != "already_sent":
            raise
        return ActionResult(
            ok=True,
            message=_("The survey for this ticket was already sent. Go on with the call."),
            facts={"nps_sent": True},
        )
    if survey.status == SurveyStatus.REFUSED:
        return ActionResult(ok=False, message=survey.refusal_message, data={"survey_id": survey.pk})
    return ActionResult(
        ok=True,
        message=_(
            "Survey sent. Go on with the call: the customer answers later, and a missing "
            "answer is not your fault."
        ),
        facts={"nps_sent": True},
        data={"survey_id": survey.pk},
    )


def playbook_register() -> None:
    register_playbook_action(
        "send_nps",
        send_nps_action,
        label=gettext_lazy("Send the NPS survey"),
        facts=("nps_sent",),
    )

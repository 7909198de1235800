"""Sending the NPS survey: the service, the ticket-resolved trigger, where it goes.

Sending (``nps_survey_send``, the ticket-resolved handler and the ``send_nps`` playbook
action) creates the ``Survey`` row and puts the question in the messaging outbox in the
caller's transaction:

* WhatsApp inside the 24-hour window: three reply buttons, "0–6", "7–8", "9–10", whose
  ids carry the survey (``nps:<id>:band:0-6``); the chosen band then gets its exact
  scores (a list of 0…6, or two buttons). A typed score is accepted at any step.
* WhatsApp outside the window: the pack's approved utility template, whose quick-reply
  buttons are the same three bands. Without one the send is refused.
* SMS: the question as text, "Reply with a number from 0 to 10".

A refusal (no WhatsApp or SMS conversation, no template, the channel switched off...)
is recorded on the survey (status ``refused``, with messaging's reason and translated
message) and does not raise: sending is the agent's duty, and the record shows they
tried. Only a second survey for the same ticket raises (``SendRefused``,
"already_sent"). The replies are ``nps.services.replies``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from telcodesk.accounts.models import Membership, Organization, Team, User
from telcodesk.automation.services import timer_schedule
from telcodesk.core.errors import DomainError, NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer, TimelineEvent
from telcodesk.customers.selectors import customers_visible
from telcodesk.customers.services import timeline_add
from telcodesk.messaging.models import Channel, Conversation, Message, Template
from telcodesk.messaging.sending import (
    SendRefused,
    message_send_interactive,
    message_send_template,
    message_send_text,
    session_window_open,
)
from telcodesk.messaging.services import conversation_reply_await
from telcodesk.nps.models import (
    NpsSettings,
    Survey,
    SurveyStage,
    SurveyStatus,
    SurveyTrigger,
    SurveyVia,
)
from telcodesk.nps.parsing import (
    BANDS,
    band_label,
    band_parse,
    reply_id,
)
from telcodesk.nps.selectors import (
    SEND_PERMISSION,
    nps_settings_of,
    nps_settings_or_default,
)
from telcodesk.tickets.hooks import TicketStatusEvent
from telcodesk.tickets.models import Ticket, TicketStatus
from telcodesk.tickets.selectors import ticket_get

logger = logging.getLogger("telcodesk.nps")

SURVEY_CHANNEL_KINDS = (Channel.Kind.WHATSAPP_CLOUD, Channel.Kind.SMS)
EXPIRE_TIMER_KIND = "nps.survey_expire"
TIMER_TARGET = "nps.survey"


# --- texts sent to the customer (in the customer's language) --------------------------------


def customer_language(*, customer: Customer | None, organization: Organization) -> str:
    if customer is not None and customer.preferred_language:
        return customer.preferred_language
    return organization.default_language or "es"


def survey_question(settings: NpsSettings) -> str:
    """The pack's question, or the product's (translated in the active language)."""
    return settings.question.strip() or _(
        "Before we say goodbye, please support us by rating our service: how likely are "
        "you to recommend us to a friend or colleague, from 0 (not at all) to 10 (very likely)?"
    )


def reask_text() -> str:
    return _(
        "Sorry, we could not read a score in your reply. Please answer with one number "
        "from 0 to 10."
    )


# --- where the survey goes -------------------------------------------------------------------


def survey_conversation_for(
    *, organization_id: int, ticket: Ticket | None, customer: Customer | None
) -> Conversation | None:
    """The customer's WhatsApp or SMS conversation the survey goes to, or None.

    The ticket's own conversation when it is one; else the customer's conversation on
    an active WhatsApp or SMS channel of the organization where they wrote last.
    """
    usable = Conversation.objects.filter(
        organization_id=organization_id,
        channel__is_active=True,
        channel__kind__in=SURVEY_CHANNEL_KINDS,
    ).select_related("channel", "customer", "organization")
    if ticket is not None and ticket.conversation_id is not None:
        own = usable.filter(pk=ticket.conversation_id).first()
        if own is not None:
            return own
    if customer is None:
        return None
    from django.db.models import F

    return (
        usable.filter(customer=customer)
        .order_by(F("last_inbound_at").desc(nulls_last=True), "-id")
        .first()
    )


def survey_template_for(
    *, conversation: Conversation, settings: NpsSettings, language: str
) -> Template | None:
    """The pack's approved survey template for the conversation's channel, in the
    customer's language when there is one (``es`` matches ``es_AR``), or None."""
    if not settings.template_name:
        return None
    templates = list(
        Template.objects.filter(
            Q(channel__isnull=True) | Q(channel_id=conversation.channel_id),
            organization_id=conversation.organization_id,
            name=settings.template_name,
            status=Template.Status.APPROVED,
        ).order_by("language", "id")
    )
    wanted = language.replace("-", "_").casefold()

    def rank(template: Template) -> int:
        have = template.language.replace("-", "_").casefold()
        if have == wanted:
            return 0
        return 1 if have.split("_")[0] == wanted.split("_")[0] else 2

    return min(templates, key=rank) if templates else None


def template_bands(template: Template) -> set[str]:
    """The bands the template's quick-reply buttons name ("0–6" → "0-6")."""
    found: set[str] = set()
    for button in template.buttons or []:
        if isinstance(button, dict) and str(button.get("type", "")).upper() == "QUICK_REPLY":
            band = band_parse(str(button.get("text", "")))
            if band is not None:
                found.add(band)
    return found


# --- sending -------------------------------------------------------------------------------


def band_buttons(survey: Survey) -> list[tuple[str, str]]:
    return [(reply_id(survey.pk, "band", key), band_label(key)) for key in BANDS]


def _ask_first(
    *, survey: Survey, conversation: Conversation, settings: NpsSettings, actor: Actor | None
) -> tuple[Message, str]:
    """Put the first question in the outbox; SendRefused says why it cannot go."""
    question = survey_question(settings)
    if conversation.channel.kind == Channel.Kind.SMS:
        body = _("%(question)s Reply with a number from 0 to 10.") % {"question": question}
        message = message_send_text(actor_or_none=actor, conversation=conversation, body=body)
        return message, SurveyVia.TEXT
    if session_window_open(conversation=conversation):
        message = message_send_interactive(
            actor_or_none=actor,
            conversation=conversation,
            body=question,
            buttons=band_buttons(survey),
        )
        return message, SurveyVia.BUTTONS
    language = translation.get_language() or "es"
    template = survey_template_for(conversation=conversation, settings=settings, language=language)
    if template is None:
        raise SendRefused(
            _(
                "The customer has not written in the last 24 hours, and there is no approved "
                "NPS survey template to send instead. Ask the customer to write to us on "
                "WhatsApp and send the survey again, or ask an administrator to get the "
                "pack's survey template approved."
            ),
            reason="no_template",
        )
    if template_bands(template) != set(BANDS):
        raise SendRefused(
            _(
                "The template “%(name)s” does not have the quick-reply buttons 0–6, 7–8 and "
                "9–10 the survey needs. Ask an administrator to fix the template, or send the "
                "survey once the customer writes to us."
            )
            % {"name": template.name},
            reason="template_without_bands",
        )
    params: list[str] | None = None
    if survey.ticket is not None:
        from telcodesk.tickets.services.delivery import template_params_for_ticket

        params = template_params_for_ticket(
            template=template, conversation=conversation, ticket=survey.ticket
        )
    message = message_send_template(
        actor_or_none=actor, conversation=conversation, template=template, params=params
    )
    return message, SurveyVia.TEMPLATE


def _no_channel() -> SendRefused:
    return SendRefused(
        _(
            "The survey goes by WhatsApp or SMS, and this customer has no conversation on "
            "either. Ask the customer to write to us on WhatsApp, then send the survey again."
        ),
        reason="no_channel",
    )


def _already_sent(survey: Survey) -> SendRefused:
    return SendRefused(
        _("The survey for this ticket was already sent on %(date)s; a ticket gets one survey.")
        % {"date": timezone.localtime(survey.sent_at).strftime("%Y-%m-%d %H:%M")},
        reason="already_sent",
    )


def _team_of(user: User | None, organization: Organization) -> Team | None:
    if user is None:
        return None
    membership = (
        Membership.objects.filter(user=user, organization=organization)
        .select_related("team")
        .first()
    )
    return membership.team if membership is not None else None


def survey_send(
    *,
    organization: Organization,
    actor: Actor | None,
    trigger: str,
    ticket: Ticket | None = None,
    customer: Customer | None = None,
    conversation: Conversation | None = None,
    now: datetime | None = None,
) -> Survey:
    """Create the survey and queue its question (or record why it could not go).

    For callers that have checked permission and scope (``nps_survey_send``) or act as
    the system (a ticket resolved by an automation: ``actor`` None). Raises SendRefused
    "already_sent" when the ticket has a survey that went out.
    """
    now = now or timezone.now()
    settings = nps_settings_or_default(organization=organization)
    if ticket is not None:
        customer = ticket.customer
        existing = Survey.objects.filter(ticket=ticket).exclude(status=SurveyStatus.REFUSED).first()
        if existing is not None:
            raise _already_sent(existing)
    if conversation is None:
        conversation = survey_conversation_for(
            organization_id=organization.pk, ticket=ticket, customer=customer
        )
    if customer is None and conversation is not None:
        customer = conversation.customer
    sender = actor.user if actor is not None else None
    agent = sender or (ticket.assigned_user if ticket is not None else None)
    team = ticket.assigned_team if ticket is not None and ticket.assigned_team_id else None
    survey = Survey(
        organization=organization,
        ticket=ticket,
        customer=customer,
        conversation=conversation,
        agent=agent,
        team=team or _team_of(agent, organization),
        category=ticket.category if ticket is not None else "",
        sent_by=sender,
        trigger=trigger,
        status=SurveyStatus.SENT,
        stage=SurveyStage.BAND,
        sent_at=now,
        expires_at=now + timedelta(hours=settings.expires_after_hours),
    )
    try:
        # A savepoint: a concurrent send for the same ticket meets the unique constraint.
        with transaction.atomic():
            survey.save(force_insert=True)
    except IntegrityError:
        winner = Survey.objects.filter(ticket=ticket).exclude(status=SurveyStatus.REFUSED).get()
        raise _already_sent(winner) from None
    language = customer_language(customer=customer, organization=organization)
    try:
        if conversation is None:
            raise _no_channel()
        with transaction.atomic(), translation.override(language):
            message, via = _ask_first(
                survey=survey, conversation=conversation, settings=settings, actor=actor
            )
    except (SendRefused, ValidationFailed, NotFound) as refusal:
        return _refused(survey, refusal)
    survey.message = message
    survey.via = via
    survey.save(update_fields=["message", "via", "updated_at"])
    conversation_reply_await(conversation=conversation, until=survey.expires_at)
    timer_schedule(
        organization=organization,
        kind=EXPIRE_TIMER_KIND,
        target_type=TIMER_TARGET,
        target_id=survey.pk,
        due_at=survey.expires_at,
        dedupe_key=f"nps:{survey.pk}:expire",
    )
    if customer is not None:
        timeline_add(
            actor=actor,
            customer=customer,
            kind=TimelineEvent.Kind.MESSAGE,
            message=gettext_noop("NPS survey sent (%(via_label)s)."),
            params={"via_label": SurveyVia(via).label},
            data={"survey_id": survey.pk, "ticket_id": survey.ticket_id},
            at=now,
        )
    return survey


def _refused(survey: Survey, refusal: DomainError) -> Survey:
    reasons = refusal.details.get("reason") if refusal.details else None
    survey.status = SurveyStatus.REFUSED
    survey.stage = SurveyStage.DONE
    survey.refusal_reason = str(reasons[0])[:40] if reasons else str(refusal.code)[:40]
    survey.refusal_message = refusal.message
    survey.save(
        update_fields=["status", "stage", "refusal_reason", "refusal_message", "updated_at"]
    )
    return survey


def nps_survey_send(
    *,
    actor: Actor,
    ticket: Ticket | None = None,
    customer: Customer | None = None,
    conversation: Conversation | None = None,
    trigger: str = SurveyTrigger.MANUAL,
) -> Survey:
    """Send the NPS survey for a ticket, a customer or a conversation (needs "ticket.work").

    Returns the survey: ``status`` is ``sent``, or ``refused`` with ``refusal_reason``
    and ``refusal_message`` (what the agent should do). A ticket, customer or
    conversation of another organization is NotFound; a ticket whose survey went out
    already is SendRefused "already_sent".
    """
    actor.require(SEND_PERMISSION)
    if ticket is not None:
        ticket = ticket_get(actor=actor, ticket_id=ticket.pk)
    if customer is not None:
        found = customers_visible(actor=actor).filter(pk=customer.pk).first()
        if found is None:
            raise NotFound(_("No such customer. Search again by name, phone or service ID."))
        customer = found
    if conversation is not None:
        if conversation.organization_id != actor.organization.pk:
            raise NotFound(_("This conversation does not exist or is not yours."))
        conversation = Conversation.objects.select_related(
            "channel", "customer", "organization"
        ).get(pk=conversation.pk)
        if conversation.channel.kind not in SURVEY_CHANNEL_KINDS:
            message = _("The survey goes by WhatsApp or SMS; this conversation is neither.")
            raise ValidationFailed(message, details={"conversation_id": [message]})
    if ticket is None and customer is None and conversation is None:
        message = _("Say whom the survey is for: a ticket, a customer or a conversation.")
        raise ValidationFailed(message, details={"ticket_id": [message]})
    if ticket is not None and customer is not None and ticket.customer_id != customer.pk:
        message = _("The ticket is not this customer's.")
        raise ValidationFailed(message, details={"customer_id": [message]})
    with transaction.atomic():
        return survey_send(
            organization=actor.organization,
            actor=actor,
            trigger=trigger,
            ticket=ticket,
            customer=customer,
            conversation=conversation,
        )


# --- the ticket-resolved trigger --------------------------------------------------------------


def nps_on_ticket_status(event: TicketStatusEvent) -> None:
    """A ticket resolved: send its survey if the organization's pack says so, once.

    Registered with tickets.hooks.register_ticket_status_handler; runs inside the
    status change's transaction. It never raises: a survey that cannot be sent must not
    stop the ticket from being resolved (the refusal is recorded on the survey).
    """
    if event.to_status != TicketStatus.RESOLVED:
        return
    ticket = event.ticket
    settings = nps_settings_of(organization_id=ticket.organization_id)
    if settings is None or not settings.send_on_resolved:
        return
    if Survey.objects.filter(ticket=ticket).exclude(status=SurveyStatus.REFUSED).exists():
        return
    try:
        with transaction.atomic():
            survey_send(
                organization=ticket.organization,
                actor=event.actor,
                trigger=SurveyTrigger.RESOLVED,
                ticket=ticket,
            )
    except SendRefused as refusal:  # sent meanwhile by someone else: nothing to do
        logger.info("nps survey of ticket %s not sent: %s", ticket.pk, refusal.reason)
    except Exception:
        logger.exception("nps survey of ticket %s failed", ticket.pk)

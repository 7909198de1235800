"""Telling the customer about their visit: a public reply on the ticket.

The reply goes where every ticket reply goes (``tickets.services.ticket_reply``: the
ticket's conversation, WhatsApp or e-mail), in the customer's language (else the
organization's), with the date and the time window in the calendar's time zone. On
WhatsApp outside the 24-hour window a free text is refused, so the organization's pack
may name an approved utility template per event (``visits.templates``); its parameters
may read ``visit.when``, ``visit.date``, ``visit.time_window``, ``visit.technician``,
``visit.address`` besides the ticket's and the customer's fields. Without a template the
reply is kept as "not sent" with messaging's reason, for the agent to see and resend.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, to_locale

from telcodesk.core.tenancy import Actor
from telcodesk.messaging.models import Conversation, Template
from telcodesk.messaging.sending import template_params_guess
from telcodesk.tickets.models import TicketComment
from telcodesk.tickets.selectors import reply_route
from telcodesk.tickets.services import ticket_reply
from telcodesk.tickets.services.delivery import TICKET_PARAM_FIELDS
from telcodesk.visits.models import Visit

EVENTS = ("booked", "rescheduled", "cancelled")

MESSAGES: dict[str, str] = {
    "booked": gettext_noop(
        "Hello %(name)s, the technical visit for your ticket %(number)s is booked for "
        "%(when)s at %(address)s. An adult (18 or older) must be at home to receive the "
        "technician."
    ),
    "rescheduled": gettext_noop(
        "Hello %(name)s, the technical visit for your ticket %(number)s was moved to "
        "%(when)s at %(address)s. An adult (18 or older) must be at home to receive the "
        "technician."
    ),
    "cancelled": gettext_noop(
        "Hello %(name)s, the technical visit for your ticket %(number)s on %(when)s was "
        "cancelled. Write to us if you still need it."
    ),
}


def customer_language(visit: Visit) -> str:
    return visit.customer.preferred_language or visit.ticket.organization.default_language or "es"


def visit_date_text(starts_at: datetime, *, time_zone: str, language: str) -> str:
    """ "jueves, 3 de diciembre de 2026" in ``language``, the local date of ``starts_at``."""
    local = starts_at.astimezone(ZoneInfo(time_zone))
    return format_date(local.date(), format="full", locale=to_locale(language))


def visit_time_window(starts_at: datetime, ends_at: datetime, *, time_zone: str) -> str:
    """ "09:00–11:00", local time."""
    zone = ZoneInfo(time_zone)
    return f"{starts_at.astimezone(zone):%H:%M}–{ends_at.astimezone(zone):%H:%M}"


def visit_when(starts_at: datetime, ends_at: datetime, *, time_zone: str, language: str) -> str:
    """ "jueves, 3 de diciembre de 2026, 09:00–11:00": what the customer is told."""
    return (
        f"{visit_date_text(starts_at, time_zone=time_zone, language=language)}, "
        f"{visit_time_window(starts_at, ends_at, time_zone=time_zone)}"
    )


def visit_fields(visit: Visit, *, time_zone: str, language: str) -> dict[str, str]:
    """The ``visit.*`` fields a template may read."""
    return {
        "visit.when": visit_when(
            visit.starts_at, visit.ends_at, time_zone=time_zone, language=language
        ),
        "visit.date": visit_date_text(visit.starts_at, time_zone=time_zone, language=language),
        "visit.time_window": visit_time_window(visit.starts_at, visit.ends_at, time_zone=time_zone),
        "visit.technician": visit.technician.name,
        "visit.address": visit.address_text,
    }


def _template(visit: Visit, name: str, language: str) -> Template | None:
    templates = Template.objects.filter(
        organization_id=visit.organization_id, name=name, status=Template.Status.APPROVED
    )
    return (
        templates.filter(language__iexact=language).first()
        or templates.filter(language__istartswith=language[:2]).first()
        or templates.order_by("id").first()
    )


def _template_params(
    template: Template, conversation: Conversation, visit: Visit, fields: dict[str, str]
) -> list[str]:
    guessed = template_params_guess(template=template, conversation=conversation)
    params = []
    for dotted, guess in zip(template.param_fields, guessed, strict=True):
        name = str(dotted)
        reader = TICKET_PARAM_FIELDS.get(name)
        if name in fields:
            params.append(fields[name])
        elif reader is not None:
            params.append(str(reader(visit.ticket)))
        else:
            params.append(guess)
    return params


def visit_notify(
    *, actor: Actor, visit: Visit, event: str, time_zone: str, templates: dict[str, str]
) -> TicketComment:
    """Tell the customer that ``visit`` was booked, moved or cancelled (``event``).

    Returns the ticket's public reply; check its ``send_status`` ("refused" keeps the
    reason, e.g. "needs_template" when the window is closed and the pack names no
    template for the event)."""
    language = customer_language(visit)
    ticket = visit.ticket
    with translation.override(language):
        fields = visit_fields(visit, time_zone=time_zone, language=language)
        body = _(MESSAGES[event]) % {
            "name": visit.customer.first_name or visit.customer.display_name,
            "number": ticket.display_number,
            "when": fields["visit.when"],
            "address": visit.address_text,
        }
    template: Template | None = None
    params: list[str] | None = None
    route = reply_route(ticket=ticket)
    name = templates.get(event, "")
    if route is not None and route.needs_template and name and route.conversation is not None:
        template = _template(visit, name, language)
        if template is not None:
            params = _template_params(template, route.conversation, visit, fields)
    return ticket_reply(actor=actor, ticket=ticket, body=body, template=template, params=params)

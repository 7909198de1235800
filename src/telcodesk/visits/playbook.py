"""The visits' part in playbooks: the ``schedule_visit`` action and the ``visit`` target,
registered from VisitsConfig.ready.

``schedule_visit`` books the first free slot of the run's ticket (``ctx.link("ticket")``,
set by ``create_ticket``) that the customer's availability allows, and reports the
``eta`` variable ("jueves, 3 de diciembre de 2026, 09:00–11:00") and the fact
``visit_booked``. Its params name the questions whose answers it reads:

    actions:
      - action: schedule_visit
        params: {availability_question: franja, adult_question: adulto_en_casa}

``availability_question``: a choice answered ``morning``, ``afternoon`` or ``any`` (any
other answer is kept as the availability note and narrows nothing);
``adult_question``: a yes/no question, "will an adult (18+) receive the technician?".
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BaseModel, ConfigDict

from telcodesk.core.tenancy import Actor
from telcodesk.playbooks.actions import ActionContext, ActionResult, register_playbook_action
from telcodesk.playbooks.targets import register_playbook_target
from telcodesk.tickets.selectors import ticket_get
from telcodesk.visits.models import PartOfDay
from telcodesk.visits.notify import customer_language, visit_when
from telcodesk.visits.rules import Availability
from telcodesk.visits.selectors import visit_policy, visit_slots, visits_visible
from telcodesk.visits.services import visit_book


class ScheduleVisitParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    availability_question: str | None = None
    adult_question: str | None = None


def _availability(answer: Any) -> tuple[str, str]:
    """(part of day, note) from the availability question's answer."""
    if answer is None or answer == "":
        return PartOfDay.ANY, ""
    text = str(answer).strip()
    if text in PartOfDay.values:
        return text, ""
    return PartOfDay.ANY, text[:500]


def schedule_visit_action(context: ActionContext) -> ActionResult:
    ticket_id = context.link("ticket")
    if ticket_id is None:
        return ActionResult(
            ok=False,
            message=_("There is no ticket yet: create the ticket first, then book the visit."),
        )
    ticket = ticket_get(actor=context.actor, ticket_id=ticket_id)
    params = ScheduleVisitParams.model_validate(dict(context.params))
    part_of_day, note = _availability(
        context.answers.get(params.availability_question) if params.availability_question else None
    )
    adult = True
    if params.adult_question:
        adult = context.answers.get(params.adult_question) is True
    policy = visit_policy(ticket.organization)
    if policy.adult_required and not adult:
        return ActionResult(
            ok=False,
            message=_(
                "Ask the customer whether an adult (18 or older) will be at home to receive "
                "the technician; a visit needs one."
            ),
        )
    slots = visit_slots(
        actor=context.actor, ticket=ticket, availability=Availability(part_of_day=part_of_day)
    )
    if not slots:
        return ActionResult(
            ok=False,
            message=_(
                "No technician of the customer's zone is free within the visit window at the "
                "times the customer can. Ask for another time of day, or tell a supervisor."
            ),
        )
    slot = slots[0]
    visit = visit_book(
        actor=context.actor,
        ticket=ticket,
        starts_at=slot.starts_at,
        technician_id=slot.technicians[0].technician_id,
        part_of_day=part_of_day,
        availability_note=note,
        adult_present=adult,
    )
    eta = visit_when(
        visit.starts_at,
        visit.ends_at,
        time_zone=policy.time_zone,
        language=customer_language(visit),
    )
    return ActionResult(
        message=_("Visit booked: %(eta)s with %(technician)s.")
        % {"eta": eta, "technician": visit.technician.name},
        variables={"eta": eta},
        facts={"visit_booked": True},
        links={"visit": visit.pk},
        data={"visit_id": visit.pk},
    )


def _visible(actor: Actor, pk: int) -> bool:
    return visits_visible(actor=actor).filter(pk=pk).exists()


def playbook_register() -> None:
    register_playbook_action(
        "schedule_visit",
        schedule_visit_action,
        label=gettext_lazy("Book the technical visit"),
        params=ScheduleVisitParams,
        facts=("visit_booked",),
    )
    register_playbook_target(
        "visit", visible=_visible, url=lambda pk: reverse("visits:work_order", args=[pk])
    )

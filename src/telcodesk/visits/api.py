"""The visits part of the JSON API (registered in telcodesk.api, tag "visits").

Views check the shape of the input and call visits.selectors / visits.services with
``request.auth`` (the Actor); refusals are the services' DomainErrors, rendered by
telcodesk.api as ``{code, message, details}``. A ticket, visit or technician of another
organization answers 404 exactly like an id that does not exist.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from telcodesk.core.api_schemas import CONFLICT_ERRORS, ERRORS, InputSchema
from telcodesk.core.tenancy import Actor
from telcodesk.tickets.selectors import ticket_get
from telcodesk.visits import selectors, services
from telcodesk.visits.models import Technician, Visit
from telcodesk.visits.rules import Availability

router = Router()

PartOfDayValue = Literal["any", "morning", "afternoon"]


class SlotTechnicianOut(Schema):
    id: int
    name: str
    used: int = Field(description="visits already booked that day")
    capacity: int


class SlotOut(Schema):
    starts_at: datetime
    ends_at: datetime
    technicians: list[SlotTechnicianOut] = Field(description="free at that time, least busy first")


class SlotsQuery(Schema):
    part_of_day: PartOfDayValue = "any"
    date_from: date | None = Field(None, description="the customer's first possible local date")
    date_to: date | None = Field(None, description="the customer's last possible local date")


class VisitEventOut(Schema):
    kind: str
    from_starts_at: datetime | None
    to_starts_at: datetime | None
    from_technician: str
    to_technician: str
    reason: str
    actor: str
    at: datetime


class VisitOut(Schema):
    id: int
    ticket_id: int
    ticket_number: str
    customer_id: int
    subscription_id: int | None
    status: str = Field(description="booked, rescheduled, cancelled, done or no_show")
    starts_at: datetime
    ends_at: datetime
    local_date: date
    technician_id: int
    technician: str
    zone: str
    address: str
    address_reference: str
    part_of_day: str
    availability_note: str
    adult_present: bool
    extra_cost_note: str
    charge_id: int | None
    booked_by: str
    outcome_note: str
    events: list[VisitEventOut]


class ExtraCostIn(InputSchema):
    kind: Literal["internal_damage", "manipulation"] = "internal_damage"
    amount: Decimal = Field(..., gt=0, max_digits=12, decimal_places=2)
    reason: str = Field("", max_length=2000)


class BookIn(InputSchema):
    starts_at: datetime = Field(..., description="a listed slot's start, with its time zone")
    technician_id: int | None = Field(None, ge=1, description="default: the least busy free one")
    part_of_day: PartOfDayValue = "any"
    availability_note: str = Field("", max_length=500)
    adult_present: bool = Field(False, description="an adult (18+) receives the technician")
    extra_cost: ExtraCostIn | None = None


class RescheduleIn(InputSchema):
    starts_at: datetime
    technician_id: int | None = Field(None, ge=1)
    reason: str = Field(..., min_length=1, max_length=1000)


class CancelIn(InputSchema):
    reason: str = Field(..., min_length=1, max_length=1000)


class CompleteIn(InputSchema):
    outcome: Literal["done", "no_show"]
    note: str = Field("", max_length=1000)


class TechnicianOut(Schema):
    id: int
    name: str
    phone: str
    daily_capacity: int
    zones: list[str]
    is_active: bool


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


def _name(user: Any, label: str = "") -> str:
    if user is None:
        return label
    return str(user.get_full_name() or user.get_username())


def visit_out(visit: Visit) -> dict[str, Any]:
    return {
        "id": visit.pk,
        "ticket_id": visit.ticket_id,
        "ticket_number": visit.ticket.display_number,
        "customer_id": visit.customer_id,
        "subscription_id": visit.subscription_id,
        "status": visit.status,
        "starts_at": visit.starts_at,
        "ends_at": visit.ends_at,
        "local_date": visit.local_date,
        "technician_id": visit.technician_id,
        "technician": visit.technician.name,
        "zone": visit.zone.name,
        "address": visit.address_text,
        "address_reference": visit.address_reference,
        "part_of_day": visit.part_of_day,
        "availability_note": visit.availability_note,
        "adult_present": visit.adult_present,
        "extra_cost_note": visit.extra_cost_note,
        "charge_id": visit.charge_id,
        "booked_by": _name(visit.booked_by, visit.booked_by_label),
        "outcome_note": visit.outcome_note,
        "events": [
            {
                "kind": event.kind,
                "from_starts_at": event.from_starts_at,
                "to_starts_at": event.to_starts_at,
                "from_technician": event.from_technician.name if event.from_technician else "",
                "to_technician": event.to_technician.name if event.to_technician else "",
                "reason": event.reason,
                "actor": _name(event.actor, event.actor_label),
                "at": event.at,
            }
            for event in visit.events.select_related(
                "from_technician", "to_technician", "actor"
            ).order_by("at", "id")
        ],
    }


def _fresh(actor: Actor, visit: Visit) -> dict[str, Any]:
    return visit_out(selectors.visit_get(actor=actor, visit_id=visit.pk))


@router.get(
    "/tickets/{ticket_id}/visit-slots",
    response={200: list[SlotOut], **ERRORS},
    summary="Free visit slots of a ticket",
)
def visit_slots_list(
    request: HttpRequest, ticket_id: int, query: Query[SlotsQuery]
) -> list[dict[str, Any]]:
    """The slots within the SLA window, in business hours, with a technician of the
    customer's zone free, narrowed by the customer's availability."""
    actor = _actor(request)
    ticket = ticket_get(actor=actor, ticket_id=ticket_id)
    slots = selectors.visit_slots(
        actor=actor,
        ticket=ticket,
        availability=Availability(
            part_of_day=query.part_of_day, date_from=query.date_from, date_to=query.date_to
        ),
    )
    return [
        {
            "starts_at": slot.starts_at,
            "ends_at": slot.ends_at,
            "technicians": [
                {"id": t.technician_id, "name": t.name, "used": t.used, "capacity": t.capacity}
                for t in slot.technicians
            ],
        }
        for slot in slots
    ]


@router.get(
    "/tickets/{ticket_id}/visits",
    response={200: list[VisitOut], **ERRORS},
    summary="Visits of a ticket",
)
def ticket_visits_list(request: HttpRequest, ticket_id: int) -> list[dict[str, Any]]:
    actor = _actor(request)
    ticket = ticket_get(actor=actor, ticket_id=ticket_id)
    return [visit_out(visit) for visit in selectors.ticket_visits(actor=actor, ticket=ticket)]


@router.post(
    "/tickets/{ticket_id}/visits",
    response={201: VisitOut, **CONFLICT_ERRORS},
    summary="Book a visit",
)
def visit_book(request: HttpRequest, ticket_id: int, body: BookIn) -> Status[dict[str, Any]]:
    """Book the slot starting at ``starts_at``; the ticket moves to "visit scheduled"
    and the customer is told on their channel. 422 says why a slot is refused (outside
    business hours or the window, the technician full or of another zone, the ticket
    closed or under an outage)."""
    actor = _actor(request)
    ticket = ticket_get(actor=actor, ticket_id=ticket_id)
    visit = services.visit_book(
        actor=actor,
        ticket=ticket,
        starts_at=body.starts_at,
        technician_id=body.technician_id,
        part_of_day=body.part_of_day,
        availability_note=body.availability_note,
        adult_present=body.adult_present,
        extra_cost=body.extra_cost.amount if body.extra_cost else None,
        extra_cost_kind=body.extra_cost.kind if body.extra_cost else "internal_damage",
        extra_cost_reason=body.extra_cost.reason if body.extra_cost else "",
    )
    return Status(201, _fresh(actor, visit))


@router.get("/visits/{visit_id}", response={200: VisitOut, **ERRORS}, summary="One visit")
def visit_detail(request: HttpRequest, visit_id: int) -> dict[str, Any]:
    actor = _actor(request)
    return visit_out(selectors.visit_get(actor=actor, visit_id=visit_id))


@router.post(
    "/visits/{visit_id}/reschedule",
    response={200: VisitOut, **CONFLICT_ERRORS},
    summary="Reschedule a visit",
)
def visit_reschedule(request: HttpRequest, visit_id: int, body: RescheduleIn) -> dict[str, Any]:
    actor = _actor(request)
    visit = selectors.visit_get(actor=actor, visit_id=visit_id)
    moved = services.visit_reschedule(
        actor=actor,
        visit=visit,
        starts_at=body.starts_at,
        technician_id=body.technician_id,
        reason=body.reason,
    )
    return _fresh(actor, moved)


@router.post(
    "/visits/{visit_id}/cancel",
    response={200: VisitOut, **CONFLICT_ERRORS},
    summary="Cancel a visit",
)
def visit_cancel(request: HttpRequest, visit_id: int, body: CancelIn) -> dict[str, Any]:
    actor = _actor(request)
    visit = selectors.visit_get(actor=actor, visit_id=visit_id)
    return _fresh(actor, services.visit_cancel(actor=actor, visit=visit, reason=body.reason))


@router.post(
    "/visits/{visit_id}/complete",
    response={200: VisitOut, **ERRORS},
    summary="Record how a visit went",
)
def visit_complete(request: HttpRequest, visit_id: int, body: CompleteIn) -> dict[str, Any]:
    actor = _actor(request)
    visit = selectors.visit_get(actor=actor, visit_id=visit_id)
    done = services.visit_complete(actor=actor, visit=visit, outcome=body.outcome, note=body.note)
    return _fresh(actor, done)


def technician_out(technician: Technician) -> dict[str, Any]:
    return {
        "id": technician.pk,
        "name": technician.name,
        "phone": technician.phone,
        "daily_capacity": technician.daily_capacity,
        "zones": [zone.key for zone in technician.zones.all()],
        "is_active": technician.is_active,
    }


@router.get("/technicians", response={200: list[TechnicianOut], **ERRORS}, summary="Technicians")
def technicians(request: HttpRequest) -> list[dict[str, Any]]:
    """The organization's active technicians with their zones and daily capacity
    (supervisors: "ticket.assign")."""
    actor = _actor(request)
    return [technician_out(t) for t in selectors.technicians_list(actor=actor)]

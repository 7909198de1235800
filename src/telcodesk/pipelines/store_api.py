"""POST /api/v1/store/clicks: the online store tells us a customer wants a payment link.

Authenticated with the organization's API key of the ``integration`` role (permission
"lead.intake", which administrators have too; agents and supervisors do not, so a
key of theirs gets 403). The key needs nothing else: the system writes the lead. 201 with
the new lead; 200 when the click was already registered (same ``order_ref``) or when
the phone's open lead was moved to the intake stage. ``other_leads`` lists open leads
of the same phone in other pipelines, with their owner, and ``warning`` says it in
words. Validation errors answer 422 ``{code, message, details}`` and write nothing.

Registered in telcodesk.api with ``api.add_router("/", router, tags=["store"])``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from telcodesk.core.api_schemas import ERRORS, InputSchema
from telcodesk.core.tenancy import Actor
from telcodesk.pipelines.api import LeadOut, OwnerOut, lead_out
from telcodesk.pipelines.store import StoreClick, StoreItem, store_click_register

router = Router()


class StoreCustomerIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    phone: str = Field(..., min_length=1, max_length=32, description="as typed; stored as E.164")
    email: str = Field("", max_length=254)
    document: str = Field("", max_length=32)


class StoreItemIn(InputSchema):
    sku: str = Field(..., min_length=1, max_length=64)
    name: str = Field(..., min_length=1, max_length=200)
    kind: Literal["device", "accessory"]
    brand: str = Field("", max_length=80)
    quantity: int = Field(..., ge=1, le=1000)
    unit_price: Decimal = Field(..., ge=0, max_digits=12, decimal_places=2)


class StoreClickIn(InputSchema):
    order_ref: str = Field(
        ..., min_length=1, max_length=100, description="the store's order id; idempotency key"
    )
    clicked_at: datetime = Field(..., description="when the customer clicked (with time zone)")
    payment_app: Literal["getnet", "open_pay", "viumi"]
    customer: StoreCustomerIn
    items: list[StoreItemIn] = Field(..., min_length=1, max_length=100)
    total: Decimal = Field(..., ge=0, max_digits=12, decimal_places=2)
    currency: str = Field(..., min_length=3, max_length=3, description="ISO 4217, e.g. ARS")


class OtherLeadOut(Schema):
    lead_id: int
    pipeline: str
    stage: str
    owner: OwnerOut | None


class StoreClickOut(Schema):
    outcome: str = Field(description="created, moved (the phone's open lead) or repeated")
    lead: LeadOut
    other_leads: list[OtherLeadOut] = Field(
        description="open leads of the same phone in other pipelines"
    )
    warning: str = Field(description="who else works this phone, or empty")


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


@router.post(
    "/store/clicks",
    response={200: StoreClickOut, 201: StoreClickOut, **ERRORS, 409: ERRORS[422]},
    summary="Register an online store click (payment link)",
)
def store_clicks(request: HttpRequest, payload: StoreClickIn) -> Status[dict[str, Any]]:
    actor = _actor(request)
    result = store_click_register(
        actor=actor,
        click=StoreClick(
            order_ref=payload.order_ref,
            clicked_at=payload.clicked_at,
            payment_app=payload.payment_app,
            name=payload.customer.name,
            phone=payload.customer.phone,
            email=payload.customer.email,
            document=payload.customer.document,
            items=[
                StoreItem(
                    sku=item.sku,
                    name=item.name,
                    kind=item.kind,
                    brand=item.brand,
                    quantity=item.quantity,
                    unit_price=item.unit_price,
                )
                for item in payload.items
            ],
            total=payload.total,
            currency=payload.currency,
        ),
    )
    body = {
        "outcome": result.outcome,
        # Not read through pipelines.selectors: the intake key may not read leads; this
        # is the lead its own click wrote.
        "lead": lead_out(result.lead),
        "other_leads": [
            {
                "lead_id": other.pk,
                "pipeline": other.pipeline.name,
                "stage": other.stage.name,
                "owner": (
                    {
                        "id": other.owner.pk,
                        "name": other.owner.get_full_name() or other.owner.get_username(),
                    }
                    if other.owner is not None
                    else None
                ),
            }
            for other in result.other_leads
        ],
        "warning": result.warning,
    }
    return Status(201 if result.created else 200, body)

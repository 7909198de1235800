"""Every write to a lead: what it does, what it refuses, and that a refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from telcodesk.accounts.models import Team
from telcodesk.automation.models import Timer
from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer, CustomerAssignment, TimelineEvent
from telcodesk.pipelines.automations import WAIT_REPLY_KIND
from telcodesk.pipelines.models import Lead, LeadStageChange
from telcodesk.pipelines.selectors import leads_with_undefined_reason_count
from telcodesk.pipelines.services import (
    lead_close_automatically,
    lead_create,
    lead_create_automatically,
    lead_greeting_record,
    lead_lose,
    lead_move,
    lead_move_automatically,
    lead_update_data,
    lead_win,
)
from tests.pipelines.conftest import Claro


def state(lead: Lead) -> tuple[Any, ...]:
    """Everything a refused write must leave as it was."""
    lead.refresh_from_db()
    return (
        lead.stage_id,
        lead.loss_reason_id,
        lead.lost_at,
        lead.won_at,
        lead.data,
        lead.updated_at,
        LeadStageChange.objects.filter(lead=lead).count(),
    )


def assigned_customer(claro: Claro) -> Customer:
    customer = Customer.objects.create(
        organization=claro.operator, first_name="Lucía", last_name="Fernández"
    )
    CustomerAssignment.objects.create(customer=customer, reseller=claro.reseller)
    return customer


# --- lead_create --------------------------------------------------------------------------


def test_a_lead_starts_in_the_first_open_stage_with_its_phone_in_e164(claro: Claro) -> None:
    result = lead_create(
        actor=claro.actor(claro.agent),
        pipeline=claro.pipeline("FIBRA"),
        name=" Lucía Fernández ",
        phone="011 15-2345-6789",
        document="30.111.222",
        source="channel",
        owner=claro.agent,
        source_ref="whatsapp:+5491100000000",
    )

    lead = result.lead
    assert (result.created, result.duplicate_of) == (True, None)
    assert (lead.name, lead.phone, lead.document) == (
        "Lucía Fernández",
        "+5491123456789",
        "30111222",
    )
    assert (lead.stage.name, lead.owner, lead.team) == (
        "Leads entrantes",
        claro.agent,
        Team.objects.get(organization=claro.reseller, name="Front line"),
    )
    assert (lead.currency, str(lead.value), lead.organization) == ("ARS", "0.00", claro.reseller)
    change = LeadStageChange.objects.get(lead=lead)
    assert (change.from_stage, change.to_stage.name, change.actor, change.automatic) == (
        None,
        "Leads entrantes",
        claro.agent,
        False,
    )


def test_a_phone_with_an_open_lead_returns_that_lead_and_its_owner(claro: Claro) -> None:
    first = claro.lead("FIBRA", "11 2345-6789", owner=claro.other_agent)

    result = lead_create(
        actor=claro.actor(claro.agent),
        pipeline=claro.pipeline("FIBRA"),
        name="Otra vez",
        phone="+54 9 11 2345-6789",
        source="channel",
        owner=claro.agent,
    )

    assert (result.created, result.lead, result.duplicate_of) == (False, first, first)
    assert result.duplicate_of is not None
    assert result.duplicate_of.owner == claro.other_agent
    assert result.duplicate_message == (
        'This phone already has a lead in FIBRA ("Leads entrantes") worked by Sofía Martínez; '
        "talk to them before taking the customer."
    )
    assert Lead.objects.count() == 1


def test_a_sale_in_process_counts_as_a_duplicate_but_an_old_one_does_not(claro: Claro) -> None:
    lead = claro.lead("TECHSTORE CHATS", "11 2345-6789")
    lead_win(actor=claro.actor(claro.agent), lead=lead, now=timezone.now() - timedelta(days=10))

    again = lead_create(
        actor=claro.actor(claro.agent),
        pipeline=claro.pipeline("TECHSTORE CHATS"),
        name="x",
        phone="11 2345-6789",
        source="manual",
    )
    Lead.objects.filter(pk=lead.pk).update(won_at=timezone.now() - timedelta(days=31))
    later = lead_create(
        actor=claro.actor(claro.agent),
        pipeline=claro.pipeline("TECHSTORE CHATS"),
        name="x",
        phone="11 2345-6789",
        source="manual",
    )

    assert (again.created, again.duplicate_of) == (False, lead)
    assert later.created is True


def test_the_same_phone_may_have_a_lead_in_another_pipeline_or_after_a_loss(claro: Claro) -> None:
    fibra = claro.lead("FIBRA", "11 2345-6789")
    porta = claro.lead("PORTA", "11 2345-6789")
    lead_lose(
        actor=claro.actor(claro.agent), lead=fibra, reason=claro.reason("FIBRA", "Abandono gestión")
    )

    again = claro.lead("FIBRA", "11 2345-6789")

    assert porta.pk != fibra.pk
    assert again.pk not in (fibra.pk, porta.pk)


@pytest.mark.parametrize("who", ["agent", "agent API key"])
def test_a_system_stage_is_refused_as_start_for_agents_and_their_keys(
    claro: Claro, who: str
) -> None:
    links = claro.stage("TECHSTORE CHATS", "Links de pago")
    actor = (
        claro.actor(claro.agent)
        if who == "agent"
        else Actor(organization=claro.reseller, role="agent", label="an agent's API key")
    )

    with pytest.raises(ValidationFailed, match='Only the system puts leads in "Links de pago"'):
        lead_create(
            actor=actor,
            pipeline=claro.pipeline("TECHSTORE CHATS"),
            name="x",
            phone="11 2345-6789",
            source="store_click",
            stage=links,
        )

    assert not Lead.objects.exists()


def test_the_system_may_start_a_lead_in_a_system_stage(claro: Claro) -> None:
    links = claro.stage("TECHSTORE CHATS", "Links de pago")

    result = lead_create_automatically(
        organization=claro.reseller,
        pipeline=claro.pipeline("TECHSTORE CHATS"),
        name="x",
        phone="11 2345-6789",
        source="store_click",
        stage=links,
    )

    assert result.lead.stage == links
    entry = LeadStageChange.objects.get(lead=result.lead)
    assert (entry.automatic, entry.actor, entry.to_stage) == (True, None, links)


@pytest.mark.parametrize("whose", ["operator, not assigned", "another organization"])
def test_the_system_cannot_link_a_customer_the_organization_does_not_see(
    claro: Claro, whose: str
) -> None:
    owner = claro.operator if whose.startswith("operator") else claro.outsider_org
    stranger = Customer.objects.create(organization=owner, first_name="Ana", last_name="Ruiz")

    with pytest.raises(NotFound):
        lead_create_automatically(
            organization=claro.reseller,
            pipeline=claro.pipeline("FIBRA"),
            name="Ana Ruiz",
            phone="11 2345-6789",
            source="channel",
            customer=stranger,
        )

    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"source": "fax"}, "Unknown lead source fax"),
        ({"phone": "123"}, "is not a valid phone number in Argentina"),
        ({"data": {"floors": "muchos"}}, "Pisos del edificio o pasillo: write a number."),
        ({"data": {"color": "rojo"}}, 'This pipeline has no field "color"'),
    ],
)
def test_a_lead_with_bad_input_is_refused_and_nothing_is_created(
    claro: Claro, fields: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"name": "x", "phone": "11 2345-6789", "source": "manual"}
    arguments.update(fields)

    with pytest.raises(ValidationFailed, match=message):
        lead_create(actor=claro.actor(claro.agent), pipeline=claro.pipeline("FIBRA"), **arguments)

    assert Lead.objects.count() == 0


def test_an_owner_of_another_organization_is_refused(claro: Claro) -> None:
    with pytest.raises(ValidationFailed, match="owner must be a member of your organization"):
        lead_create(
            actor=claro.actor(claro.agent),
            pipeline=claro.pipeline("FIBRA"),
            name="x",
            phone="11 2345-6789",
            source="manual",
            owner=claro.outsider,
        )
    assert Lead.objects.count() == 0


def test_an_outsider_cannot_create_a_lead_in_the_resellers_pipeline(claro: Claro) -> None:
    with pytest.raises(NotFound):
        lead_create(
            actor=claro.actor(claro.outsider),
            pipeline=claro.pipeline("FIBRA"),
            name="x",
            phone="11 2345-6789",
            source="manual",
        )
    assert Lead.objects.count() == 0


def test_a_role_without_customer_edit_cannot_create_a_lead(claro: Claro) -> None:
    with pytest.raises(PermissionDenied):
        lead_create(
            actor=claro.actor(claro.viewer_less),
            pipeline=claro.pipeline("FIBRA"),
            name="x",
            phone="11 2345-6789",
            source="manual",
        )
    assert Lead.objects.count() == 0


# --- lead_move ----------------------------------------------------------------------------


def test_moving_a_lead_records_who_when_why_and_the_customer_timeline(claro: Claro) -> None:
    customer = assigned_customer(claro)
    lead = claro.lead("FIBRA", customer=customer)

    moved = lead_move(
        actor=claro.actor(claro.agent),
        lead=lead,
        to_stage=claro.stage("FIBRA", "Aguardando datos"),
        reason="Pidió la fibra de 600",
    )

    assert moved.stage.name == "Aguardando datos"
    change = LeadStageChange.objects.filter(lead=lead).first()
    assert change is not None
    assert (change.from_stage.name if change.from_stage else None, change.to_stage.name) == (
        "Leads entrantes",
        "Aguardando datos",
    )
    assert (change.actor, change.reason, change.automatic) == (
        claro.agent,
        "Pidió la fibra de 600",
        False,
    )
    events = TimelineEvent.objects.filter(customer=customer).order_by("id")
    assert [(e.kind, e.summary, e.actor) for e in events] == [
        ("change", "Lead in FIBRA moved from Leads entrantes to Aguardando datos", claro.agent),
        # The pack's automation of the stage, by the system.
        (
            "change",
            "Automation aguardando-datos on the lead in FIBRA: start_timer "
            f"timer:{Timer.objects.get(target_id=lead.pk, kind=WAIT_REPLY_KIND).pk} +15 min",
            None,
        ),
    ]


@pytest.mark.parametrize(
    ("pipeline", "stage"), [("PORTA", "Aguardando datos"), ("TECHSTORE CHATS", "Asesoramiento")]
)
def test_moving_to_a_stage_of_another_pipeline_is_refused_and_changes_nothing(
    claro: Claro, pipeline: str, stage: str
) -> None:
    lead = claro.lead("FIBRA")
    before = state(lead)

    with pytest.raises(ValidationFailed) as caught:
        lead_move(actor=claro.actor(claro.agent), lead=lead, to_stage=claro.stage(pipeline, stage))

    assert caught.value.message == (
        f'The stage "{stage}" is not a stage of FIBRA; a lead only moves between the stages '
        "of its own pipeline. Create a lead in the other pipeline instead."
    )
    assert state(lead) == before


def test_moving_to_a_stage_of_another_organization_is_refused_and_changes_nothing(
    claro: Claro,
) -> None:
    lead = claro.lead("FIBRA")
    before = state(lead)
    foreign = claro.outsider_pipeline.stages.get(name="Nuevo")

    with pytest.raises(ValidationFailed, match='"Nuevo" is not a stage of FIBRA'):
        lead_move(actor=claro.actor(claro.agent), lead=lead, to_stage=foreign)

    assert state(lead) == before


def test_an_outsider_cannot_move_the_resellers_lead(claro: Claro) -> None:
    lead = claro.lead("FIBRA")
    before = state(lead)

    with pytest.raises(NotFound):
        lead_move(
            actor=claro.actor(claro.outsider),
            lead=lead,
            to_stage=claro.outsider_pipeline.stages.get(name="Nuevo"),
        )
    with pytest.raises(NotFound):
        lead_lose(
            actor=claro.actor(claro.outsider),
            lead=lead,
            reason=claro.outsider_pipeline.loss_reasons.get(),
        )
    with pytest.raises(NotFound):
        lead_update_data(actor=claro.actor(claro.outsider), lead=lead, data={"floors": 3})
    with pytest.raises(NotFound):
        lead_win(actor=claro.actor(claro.outsider), lead=lead)

    assert state(lead) == before


def test_moving_into_a_system_stage_by_hand_is_refused(claro: Claro) -> None:
    lead = claro.lead("TECHSTORE CHATS")
    before = state(lead)

    with pytest.raises(ValidationFailed) as caught:
        lead_move(
            actor=claro.actor(claro.agent),
            lead=lead,
            to_stage=claro.stage("TECHSTORE CHATS", "Links de pago"),
        )

    assert caught.value.message == (
        'Only the system puts leads in "Links de pago"; it cannot be chosen by hand.'
    )
    assert state(lead) == before


def test_moving_out_of_a_system_stage_by_hand_is_refused_but_the_system_may(
    claro: Claro,
) -> None:
    lead = claro.lead("TECHSTORE CHATS")
    lead_move_automatically(
        lead=lead, to_stage=claro.stage("TECHSTORE CHATS", "Links de pago"), note="store click"
    )
    before = state(lead)

    with pytest.raises(ValidationFailed, match='The lead is in "Links de pago", which only'):
        lead_move(
            actor=claro.actor(claro.agent),
            lead=lead,
            to_stage=claro.stage("TECHSTORE CHATS", "Asesoramiento"),
        )
    assert state(lead) == before

    lead_move_automatically(
        lead=lead, to_stage=claro.stage("TECHSTORE CHATS", "Listo para comprar"), note="paid"
    )
    lead.refresh_from_db()
    assert lead.stage.name == "Listo para comprar"
    assert list(
        LeadStageChange.objects.filter(lead=lead).order_by("pk").values_list("automatic", flat=True)
    ) == [False, True, True]


def test_an_offer_stage_needs_the_greeting_first(claro: Claro) -> None:
    lead = claro.lead("PORTA")
    offer = claro.stage("PORTA", "Oferta 40%")
    before = state(lead)

    with pytest.raises(ValidationFailed) as caught:
        lead_move(actor=claro.actor(claro.agent), lead=lead, to_stage=offer)

    assert caught.value.message == (
        'Send the greeting first: the message of "Oferta 40%" only reads right after it.'
    )
    assert caught.value.details == {"stage": [caught.value.message]}
    assert state(lead) == before
    lead_greeting_record(lead=lead)
    assert lead_move(actor=claro.actor(claro.agent), lead=lead, to_stage=offer).stage == offer


def test_won_and_lost_stages_are_refused_to_lead_move(claro: Claro) -> None:
    lead = claro.lead("FIBRA")
    before = state(lead)

    for name in ("Ganados", "Perdidos"):
        with pytest.raises(ValidationFailed, match='use "Win" or "Lose"'):
            lead_move(
                actor=claro.actor(claro.agent), lead=lead, to_stage=claro.stage("FIBRA", name)
            )

    assert state(lead) == before


def test_a_lost_lead_moved_to_an_open_stage_is_reopened(claro: Claro) -> None:
    lead = claro.lead("FIBRA")
    lead_lose(
        actor=claro.actor(claro.agent), lead=lead, reason=claro.reason("FIBRA", "Abandono gestión")
    )

    reopened = lead_move(
        actor=claro.actor(claro.agent), lead=lead, to_stage=claro.stage("FIBRA", "Seguimiento")
    )

    assert (reopened.stage.name, reopened.lost_at, reopened.loss_reason) == (
        "Seguimiento",
        None,
        None,
    )


def test_a_role_without_customer_edit_cannot_move(claro: Claro) -> None:
    lead = claro.lead("FIBRA")
    before = state(lead)

    with pytest.raises(PermissionDenied):
        lead_move(
            actor=claro.actor(claro.viewer_less),
            lead=lead,
            to_stage=claro.stage("FIBRA", "Seguimiento"),
        )

    assert state(lead) == before


# --- lead_lose and the undefined reason ---------------------------------------------------


def test_losing_without_a_reason_is_refused(claro: Claro) -> None:
    lead = claro.lead("FIBRA")
    before = state(lead)

    with pytest.raises(ValidationFailed) as caught:
        lead_lose(actor=claro.actor(claro.agent), lead=lead, reason=None)

    assert caught.value.message == (
        "Choose why the lead is lost; each reason shows how to counter it before you give up."
    )
    assert state(lead) == before


def test_the_system_reason_cannot_be_chosen_by_an_agent(claro: Claro) -> None:
    lead = claro.lead("FIBRA")
    before = state(lead)

    with pytest.raises(ValidationFailed) as caught:
        lead_lose(
            actor=claro.actor(claro.agent),
            lead=lead,
            reason=claro.reason("FIBRA", "Razón no definida"),
        )

    assert caught.value.message == (
        '"Razón no definida" is set only by the system when it closes a lead; choose the '
        "real reason."
    )
    assert state(lead) == before


def test_a_reason_of_another_pipeline_is_refused(claro: Claro) -> None:
    lead = claro.lead("PORTA")
    before = state(lead)

    with pytest.raises(ValidationFailed, match='"No realizó el pago" is not a reason of PORTA'):
        lead_lose(
            actor=claro.actor(claro.agent),
            lead=lead,
            reason=claro.reason("TECHSTORE CHATS", "No realizó el pago"),
        )
    with pytest.raises(ValidationFailed, match='"Precio" is not a reason of PORTA'):
        lead_lose(
            actor=claro.actor(claro.agent),
            lead=lead,
            reason=claro.outsider_pipeline.loss_reasons.get(),
        )

    assert state(lead) == before


def test_losing_puts_the_lead_in_the_lost_stage_with_its_reason(claro: Claro) -> None:
    lead = claro.lead("FIBRA")
    reason = claro.reason("FIBRA", "Fuera de cobertura")

    lost = lead_lose(actor=claro.actor(claro.agent), lead=lead, reason=reason, note="Zona sur")

    assert (lost.stage.name, lost.loss_reason, lost.lost_at is not None) == (
        "Perdidos",
        reason,
        True,
    )
    change = LeadStageChange.objects.filter(lead=lead).first()
    assert change is not None
    assert (change.loss_reason, change.reason, change.actor) == (reason, "Zona sur", claro.agent)


def test_a_lead_closed_by_the_system_is_flagged_until_an_agent_gives_the_real_reason(
    claro: Claro,
) -> None:
    lead = claro.lead("FIBRA")
    supervisor = claro.actor(claro.supervisor)

    closed = lead_close_automatically(lead=lead, note="Sin respuesta en 7 días")

    assert (closed.stage.name, closed.loss_reason.name if closed.loss_reason else None) == (
        "Perdidos",
        "Razón no definida",
    )
    change = LeadStageChange.objects.filter(lead=lead).first()
    assert change is not None
    assert (change.automatic, change.actor, change.reason) == (
        True,
        None,
        "Sin respuesta en 7 días",
    )
    assert leads_with_undefined_reason_count(actor=supervisor) == 1

    lead_lose(
        actor=claro.actor(claro.agent), lead=lead, reason=claro.reason("FIBRA", "Abandono gestión")
    )

    assert leads_with_undefined_reason_count(actor=supervisor) == 0
    lead.refresh_from_db()
    assert (lead.stage.name, lead.loss_reason.name if lead.loss_reason else None) == (
        "Perdidos",
        "Abandono gestión",
    )
    assert leads_with_undefined_reason_count(actor=claro.actor(claro.outsider)) == 0


def test_closing_automatically_a_closed_lead_changes_nothing(claro: Claro) -> None:
    lead = claro.lead("FIBRA")
    lead_lose(
        actor=claro.actor(claro.agent), lead=lead, reason=claro.reason("FIBRA", "Abandono gestión")
    )
    before = state(lead)

    lead_close_automatically(lead=lead, note="again")

    assert state(lead) == before


# --- lead_win and the tabs ----------------------------------------------------------------


def test_winning_needs_the_required_tab_fields(claro: Claro) -> None:
    lead = claro.lead("FIBRA")
    before = state(lead)

    with pytest.raises(ValidationFailed) as caught:
        lead_win(actor=claro.actor(claro.agent), lead=lead)

    assert caught.value.message == "Fill in Dirección de instalación before winning the lead."
    assert state(lead) == before

    lead_update_data(
        actor=claro.actor(claro.agent),
        lead=lead,
        data={"installation_address": "Av. Corrientes 1234"},
    )
    won = lead_win(actor=claro.actor(claro.agent), lead=lead)
    assert (won.stage.name, won.won_at is not None) == ("Ganados", True)


def test_a_won_lead_can_be_neither_lost_nor_moved(claro: Claro) -> None:
    lead = claro.lead("TECHSTORE CHATS")
    lead_win(actor=claro.actor(claro.agent), lead=lead)
    before = state(lead)

    with pytest.raises(ValidationFailed, match="was won and is closed"):
        lead_lose(
            actor=claro.actor(claro.agent),
            lead=lead,
            reason=claro.reason("TECHSTORE CHATS", "Abandono gestión"),
        )
    with pytest.raises(ValidationFailed, match="was won and is closed"):
        lead_move(
            actor=claro.actor(claro.agent),
            lead=lead,
            to_stage=claro.stage("TECHSTORE CHATS", "Asesoramiento"),
        )

    assert state(lead) == before


def test_tab_data_is_checked_normalized_and_merged(claro: Claro) -> None:
    lead = claro.lead("PORTA", data={"days_with_carrier": "45"})

    updated = lead_update_data(
        actor=claro.actor(claro.agent),
        lead=lead,
        data={"current_carrier": "Movistar", "line_type": "postpaid", "wants_new_line": "no"},
    )

    assert updated.data == {
        "days_with_carrier": 45,
        "current_carrier": "movistar",
        "line_type": "postpaid",
        "wants_new_line": False,
    }


def test_bad_tab_data_is_refused_field_by_field_and_changes_nothing(claro: Claro) -> None:
    lead = claro.lead("FIBRA", data={"installation_address": "Av. Corrientes 1234"})
    before = state(lead)

    with pytest.raises(ValidationFailed) as caught:
        lead_update_data(
            actor=claro.actor(claro.agent),
            lead=lead,
            data={
                "floors": True,
                "has_box": "tal vez",
                "coverage_result": "quizás",
                "installation_address": "",
                "color": "rojo",
            },
        )

    assert sorted(caught.value.details) == [
        "color",
        "coverage_result",
        "floors",
        "has_box",
        "installation_address",
    ]
    assert caught.value.details["coverage_result"] == [
        "Resultado de cobertura: choose one of Con cobertura, Fuera de cobertura, Sin verificar."
    ]
    assert caught.value.details["installation_address"] == [
        "Dirección de instalación is required and cannot be left empty."
    ]
    assert state(lead) == before

"""The Kommo document's automations: inbound WhatsApp -> lead, offer replies, 15 minutes.

The 15 minutes of "Aguardando datos" are the pack's declared automation (a
``start_timer`` cancelled by a reply, then a HIGH call task and a notification).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from telcodesk.automation.models import Timer
from telcodesk.automation.tick import tick
from telcodesk.messaging.models import Channel, Conversation, Message
from telcodesk.messaging.providers.whatsapp_cloud import InboundMessage
from telcodesk.messaging.services import inbound_message_record
from telcodesk.pipelines.automations import WAIT_REPLY_KIND
from telcodesk.pipelines.models import (
    AutomationRun,
    Lead,
    LeadNotification,
    LeadStageChange,
    LeadTask,
)
from telcodesk.pipelines.selectors import leads_visible
from telcodesk.pipelines.services import lead_move
from tests.messaging.helpers import make_channel
from tests.pipelines.conftest import Claro

WA_ID = "5491123456789"  # +54 9 11 2345-6789, as WhatsApp sends it
_ids = itertools.count(1)


def inbound(
    channel: Channel, text: str = "Hola", *, wa_id: str = WA_ID, at: datetime | None = None
) -> Message:
    event = InboundMessage(
        phone_number_id=channel.phone_number_id,
        waba_id=channel.waba_id,
        wa_id=wa_id,
        provider_message_id=f"wamid.TEST{next(_ids):06d}",
        kind="text",
        sent_at=at,
        raw={},
        profile_name="Lucía Fernández",
        body=text,
    )
    message, created = inbound_message_record(channel=channel, event=event)
    assert created
    return message


@pytest.fixture
def channel(claro: Claro) -> Channel:
    return make_channel(claro.reseller, display_phone="+54 11 5555-0000")


def test_an_inbound_from_a_new_number_creates_one_lead_in_leads_entrantes(
    claro: Claro, channel: Channel
) -> None:
    message = inbound(channel)

    lead = Lead.objects.get()
    # Not "Con Cobertura": that is an offer stage, and nobody checked the coverage yet.
    assert (lead.pipeline.name, lead.stage.name) == ("FIBRA", "Leads entrantes")
    assert Message.objects.filter(direction="out").count() == 0
    assert lead.organization_id == claro.reseller.pk
    assert lead.phone == "+5491123456789"
    assert lead.source == "channel"
    assert lead.owner is None
    assert lead.name == "Lucía Fernández"
    assert lead.last_inbound_at == message.sent_at
    conversation = Conversation.objects.get()
    assert lead.conversation_id == conversation.pk
    change = LeadStageChange.objects.get(lead=lead)
    assert (change.from_stage, change.automatic) == (None, True)


def test_a_second_message_creates_no_second_lead(claro: Claro, channel: Channel) -> None:
    inbound(channel, "Hola")
    inbound(channel, "¿Hay fibra en mi calle?")

    assert Lead.objects.count() == 1


def test_the_lead_goes_to_the_assigned_agent_of_the_conversation(
    claro: Claro, channel: Channel
) -> None:
    Conversation.objects.create(
        organization=claro.reseller,
        channel=channel,
        external_address=WA_ID,
        phone_e164="+5491123456789",
        assigned_user=claro.agent,
    )

    inbound(channel)

    assert Lead.objects.get().owner == claro.agent


def test_an_existing_open_lead_is_found_with_or_without_the_9(
    claro: Claro, channel: Channel
) -> None:
    lead = claro.lead("PORTA", phone="+541123456789", stage="Revisar intención")
    at = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)

    inbound(channel, at=at)

    assert Lead.objects.count() == 1
    lead.refresh_from_db()
    assert lead.last_inbound_at == at
    assert lead.stage.name == "Revisar intención"


def test_a_reply_on_an_offer_stage_moves_the_lead_to_respondio_oferta(
    claro: Claro, channel: Channel
) -> None:
    lead = claro.lead("FIBRA", stage="Con Cobertura")

    message = inbound(channel, "Me interesa")

    lead.refresh_from_db()
    assert lead.stage.name == "Respondió oferta"
    change = LeadStageChange.objects.filter(lead=lead).order_by("-at", "-id").first()
    assert change is not None
    assert (change.from_stage.name, change.to_stage.name) == ("Con Cobertura", "Respondió oferta")
    assert (change.automatic, change.actor, change.reason) == (
        True,
        None,
        "Automation respondio-oferta",
    )
    assert LeadStageChange.objects.filter(lead=lead, automatic=True).count() == 1
    runs = AutomationRun.objects.filter(lead=lead, trigger=f"message:{message.pk}")
    assert list(runs.order_by("action_index").values_list("action", "outcome")) == [
        ("move_to", "done"),
        ("notify_owner", "done"),
    ]
    notification = LeadNotification.objects.get(lead=lead)
    assert (notification.user, notification.text) == (
        claro.agent,
        "El cliente respondió la oferta: atendelo primero.",
    )


def test_a_reply_on_a_porta_offer_moves_it_to_porta_respondio_oferta(
    claro: Claro, channel: Channel
) -> None:
    lead = claro.lead("PORTA", stage="Revisar intención")
    Lead.objects.filter(pk=lead.pk).update(greeting_sent_at=lead.created_at)
    lead_move(
        actor=claro.actor(claro.agent), lead=lead, to_stage=claro.stage("PORTA", "Oferta 60%")
    )

    message = inbound(channel, "Dale")

    lead.refresh_from_db()
    assert (lead.pipeline.name, lead.stage.name) == ("PORTA", "Respondió oferta")
    assert lead.last_inbound_at == message.sent_at


def test_a_reply_on_a_stage_without_an_offer_does_not_move(claro: Claro, channel: Channel) -> None:
    lead = claro.lead("FIBRA", stage="Deuda")

    inbound(channel)

    lead.refresh_from_db()
    assert lead.stage.name == "Deuda"


def _awaiting(claro: Claro, at: datetime) -> Lead:
    lead = claro.lead("FIBRA", stage="Con Cobertura", now=at - timedelta(minutes=5))
    return lead_move(
        actor=claro.actor(claro.agent),
        lead=lead,
        to_stage=claro.stage("FIBRA", "Aguardando datos"),
        now=at,
    )


AT = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def test_entering_aguardando_datos_schedules_one_timer(claro: Claro, channel: Channel) -> None:
    lead = _awaiting(claro, AT)

    timer = Timer.objects.get(kind=WAIT_REPLY_KIND)
    assert (timer.target_id, timer.state) == (lead.pk, "pending")
    assert timer.due_at == AT + timedelta(minutes=15)
    assert timer.organization_id == claro.reseller.pk
    assert timer.payload["automation_key"] == "aguardando-datos"


def test_a_reply_cancels_the_timer(claro: Claro, channel: Channel) -> None:
    _awaiting(claro, AT)

    inbound(channel, "Te paso los datos", at=AT + timedelta(minutes=3))

    assert Timer.objects.get(kind=WAIT_REPLY_KIND).state == Timer.State.CANCELLED
    tick(now=AT + timedelta(minutes=16))
    assert LeadTask.objects.count() == 0
    assert LeadNotification.objects.count() == 0


def test_leaving_the_stage_cancels_the_timer(claro: Claro, channel: Channel) -> None:
    lead = _awaiting(claro, AT)

    lead_move(
        actor=claro.actor(claro.agent),
        lead=lead,
        to_stage=claro.stage("FIBRA", "Deuda"),
        now=AT + timedelta(minutes=1),
    )

    assert Timer.objects.get(kind=WAIT_REPLY_KIND).state == Timer.State.CANCELLED


def test_fifteen_minutes_without_a_reply_create_exactly_one_call_task(
    claro: Claro, channel: Channel
) -> None:
    lead = _awaiting(claro, AT)
    due = AT + timedelta(minutes=15)
    wait = Timer.objects.get(kind=WAIT_REPLY_KIND)

    tick(now=due - timedelta(seconds=1))
    assert LeadTask.objects.count() == 0
    tick(now=due + timedelta(seconds=1))
    tick(now=due + timedelta(minutes=5))

    task = LeadTask.objects.get()
    assert (task.lead, task.kind, task.priority) == (lead, "call_customer", "high")
    assert (task.assigned_to, task.due_at, task.done_at) == (claro.agent, due, None)
    assert task.title == "Llamar al cliente: 15 minutos sin respuesta después de pedirle los datos"
    assert task.organization_id == claro.reseller.pk
    notification = LeadNotification.objects.get()
    assert (notification.user, notification.lead, notification.read_at) == (
        claro.agent,
        lead,
        None,
    )
    wait.refresh_from_db()
    assert wait.state == Timer.State.FIRED
    runs = AutomationRun.objects.filter(lead=lead, trigger=f"timer:{wait.pk}")
    assert list(runs.order_by("action_index").values_list("action", "outcome")) == [
        ("create_task", "done"),
        ("notify_owner", "done"),
    ]


def test_the_wait_handler_is_idempotent(claro: Claro, channel: Channel) -> None:
    from telcodesk.pipelines.timers import automation_wait_reply_over

    _awaiting(claro, AT)
    timer = Timer.objects.get(kind=WAIT_REPLY_KIND)

    automation_wait_reply_over(timer)
    automation_wait_reply_over(timer)

    assert LeadTask.objects.count() == 1
    assert LeadNotification.objects.count() == 1


def test_a_wait_from_a_previous_stage_entry_does_nothing(claro: Claro, channel: Channel) -> None:
    from telcodesk.pipelines.timers import automation_wait_reply_over

    lead = _awaiting(claro, AT)
    first = Timer.objects.get(kind=WAIT_REPLY_KIND)
    actor = claro.actor(claro.agent)
    later = AT + timedelta(minutes=1)
    lead_move(actor=actor, lead=lead, to_stage=claro.stage("FIBRA", "Deuda"), now=later)
    lead_move(actor=actor, lead=lead, to_stage=claro.stage("FIBRA", "Aguardando datos"), now=later)

    # A worker that claimed the first wait before it was cancelled still runs it.
    automation_wait_reply_over(first)

    assert LeadTask.objects.count() == 0
    assert list(
        AutomationRun.objects.filter(trigger=f"timer:{first.pk}").values_list("outcome", "detail")
    ) == [
        ("skipped", "the lead left the stage the wait was started in"),
        ("skipped", "the lead left the stage the wait was started in"),
    ]


def test_an_organization_without_pipelines_gets_no_lead(claro: Claro) -> None:
    channel = make_channel(claro.operator, phone_number_id="998877665544")

    inbound(channel)

    assert Message.objects.count() == 1
    assert Lead.objects.count() == 0


def test_an_organization_without_an_entry_pipeline_gets_no_lead(claro: Claro) -> None:
    channel = make_channel(claro.outsider_org, phone_number_id="998877665545")

    inbound(channel)

    assert Lead.objects.count() == 0


def test_the_outsider_neither_sees_nor_touches_the_reseller_leads(
    claro: Claro, channel: Channel
) -> None:
    outsider_channel = make_channel(claro.outsider_org, phone_number_id="998877665546")
    inbound(channel)
    lead = Lead.objects.get()

    inbound(outsider_channel)

    assert not leads_visible(actor=claro.actor(claro.outsider)).filter(pk=lead.pk).exists()
    assert Lead.objects.filter(organization=claro.outsider_org).count() == 0
    lead.refresh_from_db()
    assert lead.stage.name == "Leads entrantes"

"""The pack's bots fired by its automations, by slash command, and their templates.

Messages are outbox rows (nothing leaves in a test transaction); the 24-hour window is
the conversation's ``last_inbound_at`` against the real clock, as messaging.sending
checks it.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from telcodesk.automation.models import Timer
from telcodesk.automation.tick import tick
from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from telcodesk.customers.models import Customer, TimelineEvent
from telcodesk.messaging.models import Channel, Conversation, Message, QuickReply, Template
from telcodesk.messaging.pack_sync import pack_templates_mark_approved_for_sandbox
from telcodesk.pipelines.automations import WAIT_REPLY_KIND, automations_after_change
from telcodesk.pipelines.bots import (
    bot_find,
    bot_fire,
    bots_available,
    quick_replies_for,
    quick_reply_render,
)
from telcodesk.pipelines.models import (
    AutomationRun,
    Bot,
    Lead,
    LeadStageChange,
    LeadTask,
)
from telcodesk.pipelines.services import lead_lose, lead_move, lead_win
from tests.messaging.helpers import make_channel
from tests.pipelines.conftest import Claro
from tests.pipelines.test_automations import inbound

EN_COBER = (
    "¡Buenas noticias Lucía! Tu dirección tiene cobertura de Claro Fibra. Estos son los "
    "planes: 300 Mb a $27.000 por mes, 600 Mb a $33.000, 1000 Mb a $41.000, o 300 Mb + TV "
    "a $39.000. ¿Cuál te interesa?"
)
_phones = itertools.count(1)


@pytest.fixture
def channel(claro: Claro) -> Channel:
    return make_channel(claro.reseller, display_phone="+54 11 5555-0000")


def chat_lead(claro: Claro, channel: Channel, *, wa_id: str = "5491123456789") -> Lead:
    """A lead created by an inbound WhatsApp message (window open), owned by the agent."""
    inbound(channel, "Hola, ¿hay fibra en Palermo?", wa_id=wa_id)
    lead = Lead.objects.get(phone=f"+{wa_id}")
    Lead.objects.filter(pk=lead.pk).update(owner=claro.agent)
    lead.refresh_from_db()
    return lead


def close_window(lead: Lead) -> None:
    Conversation.objects.filter(pk=lead.conversation_id).update(
        last_inbound_at=timezone.now() - timedelta(days=2)
    )


def outbound() -> list[Message]:
    return list(Message.objects.filter(direction="out").order_by("id"))


def test_entering_con_cobertura_queues_exactly_one_en_cober_with_its_plans(
    claro: Claro, channel: Channel
) -> None:
    lead = chat_lead(claro, channel)

    lead_move(
        actor=claro.actor(claro.agent), lead=lead, to_stage=claro.stage("FIBRA", "Con Cobertura")
    )

    [message] = outbound()
    assert (message.conversation_id, message.kind, message.status) == (
        lead.conversation_id,
        "interactive",
        "queued",
    )
    assert message.body == EN_COBER
    buttons = message.payload["interactive"]["action"]["buttons"]
    assert [b["reply"]["title"] for b in buttons] == ["300 Mb", "600 Mb", "1000 Mb"]
    run = AutomationRun.objects.get(lead=lead)
    assert (run.automation_key, run.action, run.subject, run.outcome, run.message) == (
        "con-cobertura",
        "send_bot",
        "/En cober",
        "done",
        message,
    )
    lead.refresh_from_db()
    assert lead.last_outbound_at == LeadStageChange.objects.filter(lead=lead).first().at  # type: ignore[union-attr]


def test_running_the_same_trigger_twice_sends_once(claro: Claro, channel: Channel) -> None:
    lead = chat_lead(claro, channel)
    lead = lead_move(
        actor=claro.actor(claro.agent), lead=lead, to_stage=claro.stage("FIBRA", "Con Cobertura")
    )
    change = LeadStageChange.objects.filter(lead=lead).order_by("-id").first()
    assert change is not None

    automations_after_change(lead=lead, change=change)

    assert len(outbound()) == 1
    assert AutomationRun.objects.filter(lead=lead).count() == 1


def test_winning_fibra_sends_ganado_fibra(claro: Claro, channel: Channel) -> None:
    lead = chat_lead(claro, channel)
    Lead.objects.filter(pk=lead.pk).update(data={"installation_address": "Av. Santa Fe 1234"})

    lead_win(actor=claro.actor(claro.agent), lead=lead)

    [message] = outbound()
    assert (message.kind, message.body) == (
        "text",
        "¡Listo Lucía! Tu solicitud de Claro Fibra quedó cargada. En los próximos días te "
        "contacta el equipo técnico para coordinar la instalación. ¡Gracias por elegirnos!",
    )


def test_losing_for_fuera_de_cobertura_offers_a_line_and_asks_for_referrals(
    claro: Claro, channel: Channel
) -> None:
    lead = chat_lead(claro, channel)

    lead_lose(
        actor=claro.actor(claro.agent),
        lead=lead,
        reason=claro.reason("FIBRA", "Fuera de cobertura"),
    )

    first, second = outbound()
    assert first.kind == "interactive"
    assert first.body.startswith("Gracias por esperar Lucía. Por ahora la fibra de Claro no llega")
    titles = [b["reply"]["title"] for b in first.payload["interactive"]["action"]["buttons"]]
    assert titles == ["Línea nueva", "Portabilidad", "No, gracias"]
    assert second.body == (
        "Y si tenés familiares o amigos que quieran fibra o una línea, mandame su nombre y "
        "teléfono y los contactamos con la mejor oferta."
    )


def test_porta_portada_ok_sends_ganado_porta(claro: Claro, channel: Channel) -> None:
    lead = claro.lead("PORTA", phone="+5491123456789", stage="Revisar intención")
    inbound(channel, "Hola")
    lead.refresh_from_db()

    lead_win(actor=claro.actor(claro.agent), lead=lead)

    [message] = outbound()
    assert message.body.startswith("¡Listo Lucía! Tu trámite quedó cargado.")


def test_porta_offer_stage_sends_its_offer_after_the_greeting(
    claro: Claro, channel: Channel
) -> None:
    lead = claro.lead("PORTA", phone="+5491123456789", stage="Revisar intención")
    conversation = inbound(channel, "Hola").conversation
    actor = claro.actor(claro.agent)

    greeting = bot_fire(actor=actor, conversation=conversation, name="/saludo")
    lead_move(actor=actor, lead=lead, to_stage=claro.stage("PORTA", "Oferta 40%"))

    assert greeting.messages[0].body.startswith("¡Hola Lucía! Soy Lucas, de Agente Claro")
    lead.refresh_from_db()
    assert lead.greeting_sent_at is not None
    offer = outbound()[-1]
    assert offer.body.startswith("Lucía, como venís de Personal, si te pasás a Claro")


def test_outside_the_window_the_template_twin_is_sent(claro: Claro, channel: Channel) -> None:
    lead = chat_lead(claro, channel)
    Lead.objects.filter(pk=lead.pk).update(data={"installation_address": "Av. Santa Fe 1234"})
    close_window(lead)
    pack_templates_mark_approved_for_sandbox(claro.reseller)

    lead_win(actor=claro.actor(claro.agent), lead=lead)

    [message] = outbound()
    assert (message.kind, message.template.name) == ("template", "ganado_fibra")  # type: ignore[union-attr]
    assert message.body == (
        "¡Listo Lucía! Tu solicitud de Claro Fibra quedó cargada. El equipo técnico te va a "
        "contactar para coordinar la instalación."
    )


def test_outside_the_window_a_bot_without_template_is_skipped_with_its_reason(
    claro: Claro, channel: Channel
) -> None:
    lead = chat_lead(claro, channel)
    Lead.objects.filter(pk=lead.pk).update(data={"installation_address": "Av. Santa Fe 1234"})
    close_window(lead)
    Bot.objects.filter(name="/Ganado Fibra").update(template_name="")

    lead_win(actor=claro.actor(claro.agent), lead=lead)

    assert outbound() == []
    run = AutomationRun.objects.get(lead=lead)
    assert (run.outcome, run.detail_text) == (
        "skipped",
        "24-hour window closed and the bot /Ganado Fibra has no template",
    )


def test_a_pending_template_is_not_sent_and_says_why(claro: Claro, channel: Channel) -> None:
    lead = chat_lead(claro, channel)
    Lead.objects.filter(pk=lead.pk).update(data={"installation_address": "Av. Santa Fe 1234"})
    close_window(lead)

    lead_win(actor=claro.actor(claro.agent), lead=lead)

    assert outbound() == []
    assert AutomationRun.objects.get(lead=lead).detail_text == (
        "the template ganado_fibra is not approved yet"
    )


def test_marketing_to_a_customer_without_consent_is_refused_and_logged(
    claro: Claro, channel: Channel
) -> None:
    customer = Customer.objects.create(
        organization=claro.reseller, first_name="Lucía", last_name="Fernández"
    )
    lead = chat_lead(claro, channel)
    Conversation.objects.filter(pk=lead.conversation_id).update(customer=customer)
    Lead.objects.filter(pk=lead.pk).update(customer=customer)
    close_window(lead)
    pack_templates_mark_approved_for_sandbox(claro.reseller)

    lead_move(
        actor=claro.actor(claro.agent), lead=lead, to_stage=claro.stage("FIBRA", "Con Cobertura")
    )

    assert outbound() == []
    run = AutomationRun.objects.get(lead=lead)
    assert (run.outcome, run.detail_text) == (
        "skipped",
        "customer opted out of marketing (or never consented): the marketing template was not sent",
    )
    summaries = [e.summary for e in TimelineEvent.objects.filter(customer=customer)]
    assert (
        "Automation con-cobertura on the lead in FIBRA skipped send_bot /En cober: customer "
        "opted out of marketing (or never consented): the marketing template was not sent"
    ) in summaries


def test_a_lead_without_a_conversation_is_skipped(claro: Claro) -> None:
    lead = claro.lead("FIBRA")

    lead_move(
        actor=claro.actor(claro.agent), lead=lead, to_stage=claro.stage("FIBRA", "Con Cobertura")
    )

    run = AutomationRun.objects.get(lead=lead)
    assert (run.outcome, run.detail_text) == (
        "skipped",
        "no WhatsApp conversation with the customer yet",
    )


def test_pedido_acometida_creates_the_acometida_task(claro: Claro) -> None:
    lead = claro.lead("FIBRA")

    lead_move(
        actor=claro.actor(claro.agent),
        lead=lead,
        to_stage=claro.stage("FIBRA", "Pedido Acometida"),
    )

    task = LeadTask.objects.get(lead=lead)
    assert (task.kind, task.priority, task.assigned_to, task.title) == (
        "send_message",
        "normal",
        claro.agent,
        "Mandar el pedido de acometida (respuesta rápida #acometida)",
    )


# --- No realizó el pago ---------------------------------------------------------------------


def _unpaid(claro: Claro, channel: Channel) -> Lead:
    lead = claro.lead("TECHSTORE CHATS", phone="+5491123456789", data={"email": "lu@example.com"})
    inbound(channel, "Hola")
    lead.refresh_from_db()
    return lead_lose(
        actor=claro.actor(claro.agent),
        lead=lead,
        reason=claro.reason("TECHSTORE CHATS", "No realizó el pago"),
    )


def test_no_realizo_el_pago_calls_now_and_tries_twice_more_by_chat_and_mail(
    claro: Claro, channel: Channel
) -> None:
    lead = _unpaid(claro, channel)
    lost_at = lead.lost_at
    assert lost_at is not None

    task = LeadTask.objects.get(lead=lead)
    assert (task.kind, task.priority, task.due_at) == ("call_customer", "high", lost_at)
    waits = list(Timer.objects.filter(kind=WAIT_REPLY_KIND).order_by("due_at"))
    assert [w.due_at for w in waits] == [
        lost_at + timedelta(hours=24),
        lost_at + timedelta(hours=48),
    ]

    tick(now=lost_at + timedelta(hours=24, seconds=1))
    reminder = (
        "Hola Lucía, vimos que el pago de tu pedido todavía no se acreditó. ¿Tuviste algún "
        "problema con el link? Si querés te mandamos uno nuevo."
    )
    assert [m.body for m in outbound()] == [reminder]
    tick(now=lost_at + timedelta(hours=48, seconds=1))
    assert [m.body for m in outbound()] == [reminder, reminder]

    email_runs = AutomationRun.objects.filter(lead=lead, action="send_email").order_by("at")
    # No e-mail channel in this organization (with or without messaging.email).
    assert {(r.outcome, r.detail_text) for r in email_runs} == {
        ("skipped", "the organization has no e-mail channel")
    }


def test_with_an_e_mail_channel_the_attempts_go_out_by_mail_too(
    claro: Claro, channel: Channel
) -> None:
    from tests.messaging.test_email_support import make_email_channel

    make_email_channel(claro.reseller)
    lead = _unpaid(claro, channel)
    assert lead.lost_at is not None

    tick(now=lead.lost_at + timedelta(hours=24, seconds=1))

    run = AutomationRun.objects.get(lead=lead, action="send_email")
    assert (run.outcome, run.subject) == ("done", "Tu pedido en la tienda de Agente Claro")
    mail = run.message
    assert mail is not None
    assert (mail.kind, mail.direction, mail.conversation.external_address) == (
        "email",
        "out",
        "lu@example.com",
    )
    assert mail.body.startswith("Hola Lucía: el pago de tu pedido todavía no se acreditó.")
    assert mail.body.endswith("Agente Claro")  # {organization}, from the pack's e-mail template


def test_the_pack_declares_the_payment_reminder_e_mail_template(claro: Claro) -> None:
    from telcodesk.messaging.models import EmailTemplate

    template = EmailTemplate.objects.get(organization=claro.reseller)
    assert (template.name, template.language, template.subject, template.pack_name) == (
        "pago-pendiente",
        "es",
        "Tu pedido en la tienda de Agente Claro",
        "claro-ar-reseller",
    )
    assert "{customer_name}" in template.body


def test_an_e_mail_template_that_is_gone_skips_the_attempt_with_its_reason(
    claro: Claro, channel: Channel
) -> None:
    from telcodesk.messaging.models import EmailTemplate
    from tests.messaging.test_email_support import make_email_channel

    make_email_channel(claro.reseller)
    EmailTemplate.objects.filter(organization=claro.reseller).update(is_active=False)
    lead = _unpaid(claro, channel)
    assert lead.lost_at is not None

    tick(now=lead.lost_at + timedelta(hours=24, seconds=1))

    run = AutomationRun.objects.get(lead=lead, action="send_email")
    assert (run.outcome, run.detail_text) == (
        "skipped",
        "the organization has no such e-mail template",
    )


def test_a_reply_cancels_the_payment_attempts(claro: Claro, channel: Channel) -> None:
    lead = _unpaid(claro, channel)

    inbound(channel, "Ya pagué, te mando el comprobante")
    assert lead.lost_at is not None
    tick(now=lead.lost_at + timedelta(hours=49))

    assert set(Timer.objects.filter(kind=WAIT_REPLY_KIND).values_list("state", flat=True)) == {
        "cancelled"
    }
    assert outbound() == []


def test_without_an_e_mail_address_the_attempt_is_skipped(claro: Claro, channel: Channel) -> None:
    lead = claro.lead("TECHSTORE CHATS", phone="+5491123456789")
    lead = lead_lose(
        actor=claro.actor(claro.agent),
        lead=lead,
        reason=claro.reason("TECHSTORE CHATS", "No realizó el pago"),
    )
    assert lead.lost_at is not None

    tick(now=lead.lost_at + timedelta(hours=24, seconds=1))

    run = AutomationRun.objects.get(lead=lead, action="send_email")
    assert (run.outcome, run.detail_text) == ("skipped", "the lead has no e-mail address")


# --- the slash-command interface ------------------------------------------------------------


def test_bot_find_ignores_case_accents_slash_and_spaces(claro: Claro) -> None:
    org = claro.reseller

    assert bot_find(organization=org, name="  en COBER ").name == "/En cober"  # type: ignore[union-attr]
    assert bot_find(organization=org, name="/fuera de cóber").name == "/fuera de cober"  # type: ignore[union-attr]
    assert bot_find(organization=org, name="/Trámite  Fibra").name == "/tramite fibra"  # type: ignore[union-attr]
    assert bot_find(organization=org, name="/línea nueva").name == "/linea nueva"  # type: ignore[union-attr]
    assert bot_find(organization=org, name="/no existe") is None
    assert bot_find(organization=org, name="/") is None
    assert bot_find(organization=claro.outsider_org, name="/En cober") is None
    assert [b.name for b in bots_available(organization=org)][:3] == [
        "/saludo",
        "/En cober",
        "/fuera de cober",
    ]
    assert len(bots_available(organization=org)) == 14


def test_tramite_fibra_asks_for_the_data_and_moves_to_aguardando_datos(
    claro: Claro, channel: Channel
) -> None:
    lead = chat_lead(claro, channel)

    result = bot_fire(
        actor=claro.actor(claro.agent),
        conversation=lead.conversation,
        name="tramite fibra",  # type: ignore[arg-type]
    )

    assert result.bot.name == "/tramite fibra"
    assert result.skipped == ""
    assert [m.body for m in result.messages] == [
        "¡Genial! Para cargar tu solicitud de fibra mandame, por favor: foto del DNI de frente "
        "y dorso, nombre y apellido completos, dirección de instalación (calle, número, piso, "
        "departamento y localidad), un correo electrónico y un teléfono alternativo."
    ]
    assert result.moved_to == claro.stage("FIBRA", "Aguardando datos")
    lead.refresh_from_db()
    assert lead.stage.name == "Aguardando datos"
    assert Timer.objects.filter(kind=WAIT_REPLY_KIND, target_id=lead.pk).count() == 1
    assert result.messages[0].created_by == claro.agent


def test_the_agent_who_fires_the_greeting_introduces_themselves(
    claro: Claro, channel: Channel
) -> None:
    # An unowned lead (nobody took it yet) greeted by another agent of the reseller.
    inbound(channel, "Hola", wa_id="5491133334444")
    lead = Lead.objects.get(phone="+5491133334444")
    assert lead.owner_id is None

    result = bot_fire(
        actor=claro.actor(claro.other_agent),
        conversation=lead.conversation,  # type: ignore[arg-type]
        name="/saludo",
    )

    assert result.messages[0].body.startswith("¡Hola Lucía! Soy Sofía, de Agente Claro")


def test_bot_fire_refuses_an_unknown_bot_and_sends_nothing(claro: Claro, channel: Channel) -> None:
    lead = chat_lead(claro, channel)

    with pytest.raises(ValidationFailed) as caught:
        bot_fire(actor=claro.actor(claro.agent), conversation=lead.conversation, name="/nada")  # type: ignore[arg-type]

    assert caught.value.message == (
        'There is no bot "/nada". Type "/" to see the bots of your organization.'
    )
    assert outbound() == []


def test_bot_fire_refuses_a_move_the_pipeline_does_not_have(claro: Claro, channel: Channel) -> None:
    lead = claro.lead("TECHSTORE CHATS", phone="+5491123456789")
    conversation = inbound(channel, "Hola").conversation

    with pytest.raises(ValidationFailed) as caught:
        bot_fire(
            actor=claro.actor(claro.agent),
            conversation=conversation,
            name="/tramite fibra",
            lead=lead,
        )

    assert caught.value.message == (
        'The bot /tramite fibra moves the lead to "Aguardando datos", which is not a stage of '
        "TECHSTORE CHATS. Send a bot meant for this pipeline."
    )
    assert outbound() == []


def test_bot_fire_refuses_an_offer_before_the_greeting(claro: Claro, channel: Channel) -> None:
    lead = claro.lead("TECHSTORE CHATS", phone="+5491123456789")
    conversation = inbound(channel, "Hola").conversation

    result = bot_fire(
        actor=claro.actor(claro.agent), conversation=conversation, name="/pedido manual", lead=lead
    )

    assert result.moved_to == claro.stage("TECHSTORE CHATS", "Listo para comprar")
    lead.refresh_from_db()
    assert lead.stage.name == "Listo para comprar"


def test_bot_fire_checks_permission_and_organization(claro: Claro, channel: Channel) -> None:
    lead = chat_lead(claro, channel)
    conversation = lead.conversation
    assert conversation is not None

    with pytest.raises(PermissionDenied):
        bot_fire(actor=claro.actor(claro.viewer_less), conversation=conversation, name="/saludo")
    with pytest.raises(NotFound):
        bot_fire(actor=claro.actor(claro.outsider), conversation=conversation, name="/saludo")
    assert outbound() == []


def test_quick_replies_are_synced_and_rendered(claro: Claro, channel: Channel) -> None:
    lead = chat_lead(claro, channel)
    replies = quick_replies_for(organization=claro.reseller, language="es")

    assert [r.shortcut for r in replies] == [
        "saludo",
        "acometida",
        "referidos",
        "deuda",
        "sin-permanencia",
        "medios-de-pago",
        "equipo",
    ]
    greeting = QuickReply.objects.get(organization=claro.reseller, shortcut="saludo")
    text = quick_reply_render(
        quick_reply=greeting, conversation=lead.conversation, agent=claro.agent
    )
    assert text.startswith(
        "¡Hola Lucía! Soy Lucas, de Agente Claro, agente oficial de Claro. Para ayudarte "
        "mejor contame: 1) ¿Con qué empresa tenés hoy tu línea?"
    )
    assert quick_replies_for(organization=claro.reseller, language="en") == []


def test_pack_templates_are_pending_until_the_sandbox_approves_them(claro: Claro) -> None:
    templates = Template.objects.filter(organization=claro.reseller, channel__isnull=True)
    assert templates.count() == 10
    assert set(templates.values_list("status", flat=True)) == {"pending"}
    fibra = templates.get(name="oferta_fibra")
    assert (fibra.category, fibra.param_fields, fibra.buttons) == (
        "marketing",
        ["customer.first_name"],
        [
            {"type": "QUICK_REPLY", "text": "Sí, pasame"},
            {"type": "QUICK_REPLY", "text": "Ahora no"},
        ],
    )

    assert pack_templates_mark_approved_for_sandbox(claro.reseller) == 10
    assert set(templates.values_list("status", flat=True)) == {"approved"}

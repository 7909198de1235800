"""The inbox pages: scoping, filters, unread counts, assignment, the composer's states."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from telcodesk.accounts.models import AuditLog, Team
from telcodesk.messaging.models import Conversation, Message, MessageStatus, Template
from tests.conftest import World
from tests.messaging.helpers import make_channel, message_body, post_signed
from tests.messaging.outbox_helpers import make_template

from .conftest import (
    conversation_for,
    htmx,
    inbound,
    outbound,
    recent,
    second_channel,
    signed_in,
)

pytestmark = pytest.mark.django_db

LIST = reverse("inbox:list")


def rows(html: str) -> list[int]:
    """Conversation ids of the list rows, in order."""
    return [int(n) for n in re.findall(r'data-conversation="(\d+)"', html)]


def thread_url(conversation: Conversation, name: str = "inbox:thread") -> str:
    return reverse(name, args=[conversation.pk])


# --- list and scoping ------------------------------------------------------------------------


def test_the_list_shows_only_the_organizations_conversations_newest_activity_first(
    world: World,
) -> None:
    channel = make_channel(world.operator)
    older = conversation_for(channel, wa_id="59170000001", name="Older")
    inbound(older, "hola", at=timezone.now() - timedelta(hours=2))
    newer = conversation_for(channel, wa_id="59170000002", name="Newer")
    inbound(newer, "quiero fibra", at=timezone.now() - timedelta(minutes=1))
    foreign = conversation_for(
        make_channel(world.other_operator, phone_number_id="5550001"), wa_id="5511999990000"
    )
    inbound(foreign, "olá")

    response = signed_in(world.supervisor).get(LIST)
    assert response.status_code == 200
    assert rows(response.content.decode()) == [newer.pk, older.pk]
    assert "quiero fibra" in response.content.decode()

    # The reseller working for the operator sees none of the operator's conversations.
    assert rows(signed_in(world.reseller_agent).get(LIST).content.decode()) == []
    # Nor may it open one: 404 like an id that does not exist.
    assert signed_in(world.reseller_agent).get(thread_url(newer)).status_code == 404
    assert signed_in(world.outsider).get(thread_url(newer)).status_code == 404


def test_an_inbound_webhook_shows_as_unread_and_opening_the_thread_reads_it(
    world: World, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    channel = make_channel(world.operator)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            post_signed(client, channel, message_body(text="Hola, ¿hay fibra?")).status_code == 200
        )
    conversation = Conversation.objects.get(channel=channel)
    assert conversation.unread_count == 1

    agent = signed_in(world.agent)
    page = agent.get(LIST).content.decode()
    assert re.search(r'class="unread-badge"[^>]*>1<', page)
    assert re.search(r'id="nav-inbox-unread"[^>]*>1<', page)
    assert re.search(r'id="inbox-unread-total"[^>]*>1<', page)

    response = agent.get(thread_url(conversation))
    assert response.status_code == 200
    assert "Hola, ¿hay fibra?" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.unread_count == 0
    assert 'id="nav-inbox-unread"' not in agent.get(LIST).content.decode()


def test_the_polled_list_partial_carries_the_total_out_of_band(world: World) -> None:
    channel = make_channel(world.operator)
    conversation_for(channel, wa_id="59170000001", unread=2, last_inbound_at=recent())
    conversation_for(channel, wa_id="59170000002", unread=3, last_inbound_at=recent())
    html = signed_in(world.agent).get(reverse("inbox:list_partial"), headers=htmx(None)).content
    page = html.decode()
    assert len(rows(page)) == 2
    assert re.search(r'id="inbox-unread-total" hx-swap-oob="true"[^>]*>5<', page)


def test_filters_mine_unassigned_team_and_all_for_supervisors(world: World) -> None:
    channel = make_channel(world.operator)
    mine = conversation_for(channel, wa_id="59170000001", assigned_user=world.agent)
    free = conversation_for(channel, wa_id="59170000002")
    colleague = conversation_for(channel, wa_id="59170000003", assigned_user=world.back_office)
    other_team = Team.objects.create(organization=world.operator, name="Backoffice")
    theirs = conversation_for(channel, wa_id="59170000004", assigned_team=other_team)
    closed = conversation_for(
        channel,
        wa_id="59170000005",
        assigned_user=world.agent,
        status=Conversation.Status.CLOSED,
    )
    agent = signed_in(world.agent)

    def ids(client: Any, query: str) -> set[int]:
        return set(rows(client.get(LIST + query).content.decode()))

    assert ids(agent, "") == {mine.pk, free.pk, theirs.pk}  # mine and unassigned (user)
    assert ids(agent, "?scope=mine") == {mine.pk}
    assert ids(agent, "?scope=mine&status=closed") == {closed.pk}
    assert ids(agent, "?scope=mine&status=") == {mine.pk, closed.pk}
    assert ids(agent, "?scope=unassigned") == {free.pk, theirs.pk}
    # The agent's team ("Front line") holds the agent and the back-office colleague.
    assert ids(agent, "?scope=team") == {mine.pk, colleague.pk}
    # "All" is for supervisors: an agent asking for it gets its default list.
    assert ids(agent, "?scope=all") == {mine.pk, free.pk, theirs.pk}
    assert ids(signed_in(world.supervisor), "") == {mine.pk, free.pk, colleague.pk, theirs.pk}


def test_filter_by_channel_and_search_by_name_or_phone(world: World) -> None:
    sales = make_channel(world.operator)
    support = second_channel(world.operator)
    juana = conversation_for(sales, wa_id="59171234567", name="Juana Mamani")
    pedro = conversation_for(support, wa_id="59176543210", name="Pedro Rojas")
    client = signed_in(world.supervisor)
    assert set(rows(client.get(LIST + f"?channel={support.pk}").content.decode())) == {pedro.pk}
    assert rows(client.get(LIST + "?q=mamani").content.decode()) == [juana.pk]
    assert rows(client.get(LIST + "?q=7654321").content.decode()) == [pedro.pk]
    assert rows(client.get(LIST + "?q=nadie").content.decode()) == []


def test_the_list_shows_the_leads_stage_chip(world: World) -> None:
    from telcodesk.pipelines.models import Lead, Pipeline, Stage

    channel = make_channel(world.operator)
    conversation = conversation_for(channel, wa_id="59171234567", name="Juana")
    pipeline = Pipeline.objects.create(organization=world.operator, name="FIBRA", slug="fibra")
    stage = Stage.objects.create(
        organization=world.operator, pipeline=pipeline, name="Aguardando datos", kind="open"
    )
    Lead.objects.create(
        organization=world.operator,
        pipeline=pipeline,
        stage=stage,
        phone="+59171234567",
        source="channel",
        stage_entered_at=timezone.now(),
        currency="BOB",
        conversation=conversation,
    )
    page = signed_in(world.agent).get(LIST).content.decode()
    assert re.search(r'class="stage-chip"[^>]*>Aguardando datos<', page)


# --- the thread --------------------------------------------------------------------------------


def test_delivery_ticks_follow_the_message_status(world: World) -> None:
    channel = make_channel(world.operator)
    conversation = conversation_for(channel, wa_id="59171234567", last_inbound_at=recent())
    statuses = {
        MessageStatus.QUEUED: "tick-queued",
        MessageStatus.SENT: "tick-sent",
        MessageStatus.DELIVERED: "tick-delivered",
        MessageStatus.READ: "tick-read",
    }
    made = {status: outbound(conversation, f"msg {status}", status=status) for status in statuses}
    failed = outbound(
        conversation,
        "msg failed",
        status=MessageStatus.FAILED,
        error_code=131026,
        error_title="Message undeliverable",
    )
    html = signed_in(world.agent).get(thread_url(conversation, "inbox:messages")).content.decode()
    for status, css in statuses.items():
        bubble = re.search(rf'id="message-{made[status].pk}".*?</article>', html, flags=re.DOTALL)
        assert bubble is not None and f'class="tick {css}"' in bubble.group(0)
    bubble = re.search(rf'id="message-{failed.pk}".*?</article>', html, flags=re.DOTALL)
    assert bubble is not None
    assert 'class="tick tick-failed" title="Message undeliverable"' in bubble.group(0)
    assert "Not delivered: Message undeliverable" in bubble.group(0)


def test_interactive_buttons_and_templates_are_shown_as_such(world: World) -> None:
    from telcodesk.messaging.providers.whatsapp_cloud import interactive_buttons_payload

    channel = make_channel(world.operator)
    conversation = conversation_for(channel, wa_id="59171234567", last_inbound_at=recent())
    outbound(
        conversation,
        "¿Qué preferís?",
        kind=Message.Kind.INTERACTIVE,
        payload=interactive_buttons_payload(
            "59171234567", body="¿Qué preferís?", buttons=[("f", "Fibra"), ("p", "Porta")]
        ),
    )
    template = make_template(channel)
    outbound(conversation, "Hola Juana", kind=Message.Kind.TEMPLATE, template=template)
    html = signed_in(world.agent).get(thread_url(conversation)).content.decode()
    assert (
        '<span class="bubble-button">Fibra</span><span class="bubble-button">Porta</span>' in html
    )
    assert "Template · en_cobertura" in html
    assert '<span class="bubble-button">Me interesa</span>' in html


# --- the composer --------------------------------------------------------------------------------


def test_the_composer_shows_the_window_open_with_the_time_left(world: World) -> None:
    channel = make_channel(world.operator)
    last = timezone.now() - timedelta(hours=24) + timedelta(hours=3, minutes=12, seconds=30)
    conversation = conversation_for(channel, wa_id="59171234567", last_inbound_at=last)
    html = signed_in(world.agent).get(thread_url(conversation)).content.decode()
    assert "24-hour window: open, closes in 3 h 12 min" in html
    assert 'id="composer-body"' in html


def test_a_closed_window_offers_only_approved_templates(world: World) -> None:
    channel = make_channel(world.operator)
    conversation = conversation_for(
        channel, wa_id="59171234567", last_inbound_at=timezone.now() - timedelta(hours=25)
    )
    make_template(channel, name="en_cobertura")
    make_template(channel, name="pendiente", status=Template.Status.PENDING)
    make_template(
        second_channel(world.operator), name="de_otro_canal", language="es"
    )  # another channel's template
    html = signed_in(world.agent).get(thread_url(conversation)).content.decode()
    assert "24-hour window: closed: only approved templates can be sent" in html
    assert 'id="composer-body"' not in html  # no free text (the org has no bots)
    assert re.findall(r'data-template="([^"]+)"', html) == ["en_cobertura"]
    assert "Attach a file" not in html


def test_text_outside_the_window_is_refused_inline_and_nothing_is_sent(world: World) -> None:
    channel = make_channel(world.operator)
    conversation = conversation_for(
        channel, wa_id="59171234567", last_inbound_at=timezone.now() - timedelta(hours=30)
    )
    response = signed_in(world.agent).post(
        thread_url(conversation, "inbox:send"), {"body": "¿Seguís ahí?"}, headers=htmx(None)
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "The customer has not written in the last 24 hours" in html
    assert "¿Seguís ahí?" in html  # the text stays in the box
    assert Message.objects.filter(conversation=conversation).count() == 0


def test_a_reply_inside_the_window_is_queued_and_the_thread_comes_back(world: World) -> None:
    channel = make_channel(world.operator)
    conversation = conversation_for(channel, wa_id="59171234567", last_inbound_at=recent())
    response = signed_in(world.agent).post(
        thread_url(conversation, "inbox:send"),
        {"body": "  ¿En qué zona vivís?  "},
        headers=htmx(None),
    )
    assert response.status_code == 200
    message = Message.objects.get(conversation=conversation)
    assert (message.direction, message.kind, message.body, message.status) == (
        "out",
        "text",
        "¿En qué zona vivís?",
        MessageStatus.QUEUED,
    )
    assert message.created_by == world.agent
    html = response.content.decode()
    assert 'id="thread-messages" hx-swap-oob="innerHTML"' in html
    assert f'id="message-{message.pk}"' in html


def test_a_template_from_the_picker_is_sent_with_the_typed_parameters(world: World) -> None:
    channel = make_channel(world.operator)
    conversation = conversation_for(
        channel, wa_id="59171234567", last_inbound_at=timezone.now() - timedelta(days=3)
    )
    template = make_template(channel)
    client = signed_in(world.agent)
    html = client.get(thread_url(conversation)).content.decode()
    # No customer linked: the preview keeps the placeholder and asks for the value.
    assert "Hola {{1}}, ¡tenemos cobertura de fibra en tu zona!" in html
    assert "Empty for this customer: customer.first_name." in html
    response = client.post(
        thread_url(conversation, "inbox:template"),
        {"template_id": template.pk, "params": ["Juana"]},
        headers=htmx(None),
    )
    assert response.status_code == 200
    message = Message.objects.get(conversation=conversation)
    assert (message.kind, message.body, message.template_id) == (
        "template",
        "Hola Juana, ¡tenemos cobertura de fibra en tu zona!",
        template.pk,
    )


def test_a_pending_template_cannot_be_posted_by_hand(world: World) -> None:
    channel = make_channel(world.operator)
    conversation = conversation_for(channel, wa_id="59171234567")
    pending = make_template(channel, status=Template.Status.PENDING)
    response = signed_in(world.agent).post(
        thread_url(conversation, "inbox:template"),
        {"template_id": pending.pk, "params": ["Juana"]},
        headers=htmx(None),
    )
    assert response.status_code == 422
    assert "is not approved by WhatsApp" in response.content.decode()
    assert not Message.objects.filter(conversation=conversation).exists()


def test_an_unknown_bot_is_refused_inline(world: World) -> None:
    pytest.importorskip("telcodesk.pipelines.bots")
    channel = make_channel(world.operator)
    conversation = conversation_for(channel, wa_id="59171234567", last_inbound_at=recent())
    response = signed_in(world.agent).post(
        thread_url(conversation, "inbox:send"), {"body": "/no existe"}, headers=htmx(None)
    )
    assert response.status_code == 422
    assert "There is no bot" in response.content.decode()
    assert not Message.objects.filter(conversation=conversation).exists()


# --- assignment --------------------------------------------------------------------------------


def test_an_agent_takes_an_unassigned_conversation(world: World) -> None:
    channel = make_channel(world.operator)
    conversation = conversation_for(channel, wa_id="59171234567")
    response = signed_in(world.agent).post(
        thread_url(conversation, "inbox:take"), headers=htmx(None)
    )
    assert response.status_code == 200
    conversation.refresh_from_db()
    assert conversation.assigned_user == world.agent
    assert (
        conversation.assigned_team is not None and conversation.assigned_team.name == "Front line"
    )
    entry = AuditLog.objects.get(object_type="messaging.conversation")
    assert (entry.actor, entry.object_id, entry.changes["user"]) == (
        world.agent,
        str(conversation.pk),
        [None, world.agent.pk],
    )


def test_an_agent_may_not_assign_to_others_nor_take_anothers_conversation(world: World) -> None:
    channel = make_channel(world.operator)
    free = conversation_for(channel, wa_id="59171234567")
    taken = conversation_for(channel, wa_id="59171234568", assigned_user=world.back_office)
    agent = signed_in(world.agent)
    response = agent.post(
        thread_url(free, "inbox:assign"), {"user": world.back_office.pk}, headers=htmx(None)
    )
    assert response.status_code == 422
    assert "Only supervisors assign conversations to others" in response.content.decode()
    response = agent.post(thread_url(taken, "inbox:take"), headers=htmx(None))
    assert response.status_code == 422
    assert "Another agent already works this conversation" in response.content.decode()
    free.refresh_from_db()
    taken.refresh_from_db()
    assert (free.assigned_user_id, taken.assigned_user_id) == (None, world.back_office.pk)
    assert not AuditLog.objects.filter(object_type="messaging.conversation").exists()


def test_a_supervisor_assigns_within_the_organization_only(world: World) -> None:
    channel = make_channel(world.operator)
    conversation = conversation_for(channel, wa_id="59171234567")
    supervisor = signed_in(world.supervisor)
    response = supervisor.post(
        thread_url(conversation, "inbox:assign"), {"user": world.outsider.pk}, headers=htmx(None)
    )
    assert response.status_code == 422
    assert "outsider is not a member of your organization" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.assigned_user_id is None

    foreign_team = Team.objects.create(organization=world.other_operator, name="Ajeno")
    response = supervisor.post(
        thread_url(conversation, "inbox:assign"), {"team": foreign_team.pk}, headers=htmx(None)
    )
    assert response.status_code == 422
    assert "This team is not of your organization" in response.content.decode()

    response = supervisor.post(
        thread_url(conversation, "inbox:assign"), {"user": world.agent.pk}, headers=htmx(None)
    )
    assert response.status_code == 200
    conversation.refresh_from_db()
    assert conversation.assigned_user == world.agent


def test_closing_moves_the_conversation_to_the_closed_filter(world: World) -> None:
    channel = make_channel(world.operator)
    conversation = conversation_for(channel, wa_id="59171234567")
    client = signed_in(world.supervisor)
    client.post(thread_url(conversation, "inbox:status"), {"status": "closed"}, headers=htmx(None))
    conversation.refresh_from_db()
    assert conversation.status == "closed"
    assert rows(client.get(LIST).content.decode()) == []
    assert rows(client.get(LIST + "?status=closed").content.decode()) == [conversation.pk]


def test_the_agent_sends_reply_buttons_from_the_composer(world: World) -> None:
    channel = make_channel(world.operator)
    conversation = conversation_for(channel, wa_id="59171234567", last_inbound_at=recent())
    agent = signed_in(world.agent)
    assert "Reply buttons" in agent.get(thread_url(conversation)).content.decode()

    response = agent.post(
        thread_url(conversation, "inbox:buttons"),
        {"body": "¿Qué plan preferís?", "button": ["300 Mb", "600 Mb", ""]},
        headers=htmx(None),
    )

    assert response.status_code == 200
    message = Message.objects.get(conversation=conversation, direction="out")
    assert (message.kind, message.body) == (Message.Kind.INTERACTIVE, "¿Qué plan preferís?")
    buttons = message.payload["interactive"]["action"]["buttons"]
    assert [b["reply"]["title"] for b in buttons] == ["300 Mb", "600 Mb"]


def test_reply_buttons_without_a_button_or_with_a_long_title_send_nothing(world: World) -> None:
    channel = make_channel(world.operator)
    conversation = conversation_for(channel, wa_id="59171234567", last_inbound_at=recent())
    agent = signed_in(world.agent)
    for buttons in (["", ""], ["Un botón con un título larguísimo"]):
        response = agent.post(
            thread_url(conversation, "inbox:buttons"),
            {"body": "¿Cuál?", "button": buttons},
            headers=htmx(None),
        )
        assert response.status_code == 422
    assert not Message.objects.filter(direction="out").exists()

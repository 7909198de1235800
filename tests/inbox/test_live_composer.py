"""While the thread is open its poll brings only what is new or changed, the composer
follows the 24-hour window and the side panel follows the lead."""

from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from telcodesk.messaging.models import Conversation, Message, MessageStatus
from tests.conftest import World
from tests.messaging.helpers import make_channel
from tests.messaging.outbox_helpers import make_template

from .conftest import conversation_for, htmx, inbound, outbound, signed_in

pytestmark = pytest.mark.django_db

WA_ID = "59171234567"
REDRAW = "inbox-window-changed"


def url(conversation: Conversation, name: str) -> str:
    return reverse(name, args=[conversation.pk])


def conversation_written(world: World, *, hours_ago: float) -> Conversation:
    return conversation_for(
        make_channel(world.operator),
        wa_id=WA_ID,
        name="Juana Mamani",
        last_inbound_at=timezone.now() - timedelta(hours=hours_ago),
    )


def composer_window(html: str) -> str:
    match = re.search(r'id="composer" class="composer" data-window="(\w+)"', html)
    assert match is not None, html
    return match.group(1)


# --- the window, live ---------------------------------------------------------------------


def test_the_thread_page_draws_the_composer_for_the_window_and_polls_with_it(
    world: World,
) -> None:
    conversation = conversation_written(world, hours_ago=26)
    html = signed_in(world.agent).get(url(conversation, "inbox:thread")).content.decode()
    assert composer_window(html) == "closed"
    assert 'id="composer-window" name="composer_window" value="closed"' in html
    assert 'hx-include="#thread-after, #thread-since, #composer-window, #panel-stamp"' in html
    assert f'hx-get="{url(conversation, "inbox:composer")}"' in html
    assert 'hx-trigger="inbox-window-changed from:body"' in html


def test_the_poll_asks_for_a_redraw_when_the_customer_reopens_the_window(world: World) -> None:
    conversation = conversation_written(world, hours_ago=26)
    make_template(conversation.channel)
    agent = signed_in(world.agent)
    poll = url(conversation, "inbox:messages") + "?composer_window=closed"

    unchanged = agent.get(poll, headers=htmx(None))
    assert unchanged.status_code == 200
    assert "HX-Trigger" not in unchanged.headers

    inbound(conversation, "Sigo interesado, ¿me llaman?")
    reopened = agent.get(poll, headers=htmx(None))
    assert reopened.headers["HX-Trigger"] == REDRAW
    assert "Sigo interesado, ¿me llaman?" in reopened.content.decode()
    assert "24-hour window: open, closes in 23 h 59 min" in reopened.content.decode()

    composer = agent.get(url(conversation, "inbox:composer"), headers=htmx(None)).content.decode()
    assert composer_window(composer) == "open"
    assert 'id="composer-body"' in composer
    assert "Attach a file" in composer
    assert "Reply buttons" in composer
    assert 'name="list-button"' in composer
    # Templates stay available, no longer unfolded as the only way out.
    assert '<details class="composer-templates" data-keep="templates" data-server-open>' in composer


def test_the_poll_asks_for_a_redraw_when_the_24_hours_run_out(world: World) -> None:
    conversation = conversation_written(world, hours_ago=24.01)
    agent = signed_in(world.agent)
    answer = agent.get(
        url(conversation, "inbox:messages") + "?composer_window=open", headers=htmx(None)
    )
    assert answer.headers["HX-Trigger"] == REDRAW
    assert "24-hour window: closed: only approved templates can be sent" in answer.content.decode()

    composer = agent.get(url(conversation, "inbox:composer"), headers=htmx(None)).content.decode()
    assert composer_window(composer) == "closed"
    # This organization has no bots: no free text at all, and no WhatsApp-only tools.
    assert 'id="composer-body"' not in composer
    assert "Attach a file" not in composer
    assert 'name="list-button"' not in composer
    assert '<details class="composer-templates" data-keep="templates" data-server-open open>' in (
        composer
    )
    # With text typed (draft=1), the box stays so the page can put the text back.
    kept = agent.get(url(conversation, "inbox:composer") + "?draft=1", headers=htmx(None))
    assert 'id="composer-body"' in kept.content.decode()


def test_a_poll_without_the_composers_window_never_asks_for_a_redraw(world: World) -> None:
    conversation = conversation_written(world, hours_ago=1)
    answer = signed_in(world.agent).get(url(conversation, "inbox:messages"), headers=htmx(None))
    assert "HX-Trigger" not in answer.headers


def test_the_last_hour_of_the_window_is_flagged_with_its_closing_time(world: World) -> None:
    written = timezone.now() - timedelta(hours=23, minutes=29, seconds=30)
    conversation = conversation_for(
        make_channel(world.operator), wa_id=WA_ID, last_inbound_at=written
    )
    html = signed_in(world.agent).get(url(conversation, "inbox:thread")).content.decode()
    state = re.search(r'<p id="window-state"[^>]*>', html)
    assert state is not None
    assert 'class="window-state is-open is-closing"' in state.group(0)
    # Shown in the organization's time zone, like every time on the page.
    closes_at = timezone.localtime(
        written + timedelta(hours=24), zoneinfo.ZoneInfo(world.operator.time_zone)
    )
    assert f'title="Closes at {closes_at:%d/%m %H:%M}"' in state.group(0)
    assert "24-hour window: open, closes in 0 h 30 min" in html
    assert "After that only approved templates can be sent." in html

    relaxed = conversation_for(
        conversation.channel,
        wa_id="59171234568",
        last_inbound_at=timezone.now() - timedelta(hours=22),
    )
    html = signed_in(world.agent).get(url(relaxed, "inbox:thread")).content.decode()
    assert 'class="window-state is-open"' in html
    assert "After that only approved templates can be sent." not in html


def test_free_text_after_the_window_closed_is_refused_in_the_agents_language(
    world: World,
) -> None:
    conversation = conversation_written(world, hours_ago=24.01)
    world.agent.language = "es"
    world.agent.save(update_fields=["language"])
    response = signed_in(world.agent).post(
        url(conversation, "inbox:send"), {"body": "¿Seguís ahí?"}, headers=htmx(None)
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert (
        "El cliente no ha escrito en las últimas 24 horas: esto requiere una plantilla "
        "aprobada. Elija una plantilla en su lugar."
    ) in html
    assert "¿Seguís ahí?</textarea>" in html  # the typed text stays
    assert not Message.objects.filter(conversation=conversation).exists()


def test_reply_buttons_and_lists_after_the_window_closed_are_refused(world: World) -> None:
    conversation = conversation_written(world, hours_ago=25)
    agent = signed_in(world.agent)
    buttons = agent.post(
        url(conversation, "inbox:buttons"),
        {"body": "¿Cuál?", "button": ["Fibra"]},
        headers=htmx(None),
    )
    listed = agent.post(
        url(conversation, "inbox:list_send"),
        {"list-body": "¿Cuál?", "list-button": "Ver", "section-0-row-0-title": "Fibra"},
        headers=htmx(None),
    )
    for response in (buttons, listed):
        assert response.status_code == 422
        assert "The customer has not written in the last 24 hours" in response.content.decode()
    assert not Message.objects.filter(conversation=conversation).exists()


def test_another_organizations_composer_and_poll_answer_404(world: World) -> None:
    conversation = conversation_written(world, hours_ago=1)
    for user in (world.outsider, world.reseller_agent):
        client = signed_in(user)
        assert client.get(url(conversation, "inbox:composer")).status_code == 404
        poll = client.get(url(conversation, "inbox:messages") + "?composer_window=closed")
        assert poll.status_code == 404
        assert "HX-Trigger" not in poll.headers


# --- the side panel, live --------------------------------------------------------------------


def test_the_poll_brings_the_panel_when_the_lead_moved(world: World) -> None:
    from telcodesk.pipelines.models import Lead, Pipeline, Stage

    conversation = conversation_written(world, hours_ago=1)
    pipeline = Pipeline.objects.create(organization=world.operator, name="FIBRA", slug="fibra")
    waiting = Stage.objects.create(
        organization=world.operator, pipeline=pipeline, name="Aguardando datos", kind="open"
    )
    covered = Stage.objects.create(
        organization=world.operator, pipeline=pipeline, name="Con Cobertura", kind="open"
    )
    lead = Lead.objects.create(
        organization=world.operator,
        pipeline=pipeline,
        stage=waiting,
        phone="+" + WA_ID,
        source="channel",
        stage_entered_at=timezone.now(),
        currency="BOB",
        conversation=conversation,
    )
    agent = signed_in(world.agent)
    page = agent.get(url(conversation, "inbox:thread")).content.decode()
    stamp = re.search(r'id="panel-stamp" name="panel_stamp" value="([^"]*)"', page)
    assert stamp is not None
    poll = url(conversation, "inbox:messages") + "?panel_stamp=" + stamp.group(1)

    quiet = agent.get(poll, headers=htmx(None)).content.decode()
    assert 'id="inbox-panel"' not in quiet

    lead.stage = covered
    lead.save(update_fields=["stage", "updated_at"])
    moved = agent.get(poll, headers=htmx(None)).content.decode()
    panel = re.search(r'<aside id="inbox-panel"[^>]*>', moved)
    assert panel is not None and 'hx-swap-oob="true"' in panel.group(0)
    assert re.search(r'class="stage-chip"[^>]*>Con Cobertura<', moved)


# --- the thread, incrementally ------------------------------------------------------------


def cursor(html: str) -> tuple[str, str]:
    after = re.search(r'id="thread-after" name="after" value="(\d+)"', html)
    since = re.search(r'id="thread-since" name="since" value="([^"]+)"', html)
    assert after is not None and since is not None, html
    return after.group(1), since.group(1)


def test_the_poll_appends_new_messages_and_replaces_only_the_changed_ones(world: World) -> None:
    conversation = conversation_written(world, hours_ago=1)
    voice = Message.objects.create(
        organization_id=conversation.organization_id,
        channel=conversation.channel,
        conversation=conversation,
        direction=Message.Direction.INBOUND,
        provider_message_id="wamid.voice",
        kind=Message.Kind.AUDIO,
        media_id="media-voice",
        media_mime_type="audio/ogg",
        status=MessageStatus.RECEIVED,
    )
    reply = outbound(conversation, "¿En qué zona vivís?", status=MessageStatus.SENT)
    # Written a minute before the agent opened the thread.
    Message.objects.update(updated_at=timezone.now() - timedelta(minutes=1))
    agent = signed_in(world.agent)
    page = agent.get(url(conversation, "inbox:thread")).content.decode()
    after, since = cursor(page)
    assert after == str(reply.pk)
    poll = url(conversation, "inbox:messages")

    quiet = agent.get(poll, {"after": after, "since": since}, headers=htmx(None))
    html = quiet.content.decode()
    assert "<article" not in html  # nothing new, nothing changed: the players keep playing
    assert f'id="thread-after" name="after" value="{reply.pk}" hx-swap-oob="true"' in html

    Message.objects.filter(pk=reply.pk).update(status=MessageStatus.READ, updated_at=timezone.now())
    inbound(conversation, "En Caballito")
    answer = agent.get(poll, {"after": after, "since": since}, headers=htmx(None))
    html = answer.content.decode()
    newest = Message.objects.filter(conversation=conversation).latest("id")
    assert re.findall(r'<article[^>]*id="message-(\d+)"[^>]*>', html) == [
        str(newest.pk),
        str(reply.pk),
    ]
    assert re.search(rf'id="message-{reply.pk}"[^>]*hx-swap-oob="true"', html)
    assert not re.search(rf'id="message-{newest.pk}"[^>]*hx-swap-oob', html)  # appended
    assert f'id="message-{voice.pk}"' not in html
    assert "En Caballito" in html and 'class="tick tick-read"' in html
    assert cursor(html)[0] == str(newest.pk)


def test_a_poll_without_a_cursor_answers_the_whole_thread(world: World) -> None:
    conversation = conversation_written(world, hours_ago=1)
    first = outbound(conversation, "Hola")
    second = outbound(conversation, "¿Seguís ahí?")
    html = (
        signed_in(world.agent)
        .get(url(conversation, "inbox:messages"), {"after": "x", "since": "ayer"})
        .content.decode()
    )
    assert re.findall(r'<article[^>]*id="message-(\d+)"', html) == [str(first.pk), str(second.pk)]
    assert cursor(html)[0] == str(second.pk)

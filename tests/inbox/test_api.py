"""The conversations and messages API: list, read, send, assign, scoped by organization."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from telcodesk.accounts.roles import Role
from telcodesk.accounts.services import api_key_create
from telcodesk.messaging.models import Conversation, Message, MessageStatus, Template
from tests.conftest import World
from tests.messaging.helpers import make_channel
from tests.messaging.outbox_helpers import make_template

from .conftest import conversation_for, inbound, outbound, recent, signed_in

pytestmark = pytest.mark.django_db

BASE = "/api/v1/conversations"


def post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def snapshot(conversation: Conversation) -> tuple[object, ...]:
    conversation.refresh_from_db()
    return (conversation.assigned_user_id, conversation.assigned_team_id, conversation.unread_count)


def test_the_list_is_paginated_scoped_and_counts_unread(world: World) -> None:
    channel = make_channel(world.operator)
    first = conversation_for(channel, wa_id="59170000001", name="Ana", unread=2)
    inbound(first, "hola", at=timezone.now() - timedelta(minutes=10))
    second = conversation_for(channel, wa_id="59170000002", name="Beto", unread=1)
    inbound(second, "buenas", at=timezone.now() - timedelta(minutes=1))
    conversation_for(
        make_channel(world.other_operator, phone_number_id="5550001"), wa_id="5511999990000"
    )
    client = signed_in(world.supervisor)
    body = client.get(BASE + "?page_size=1").json()
    assert (body["count"], body["pages"], body["unread_total"]) == (2, 2, 3)
    assert [item["id"] for item in body["items"]] == [second.pk]
    item = body["items"][0]
    assert (item["window_open"], item["unread_count"], item["assigned_user"], item["lead"]) == (
        True,
        1,
        None,
        None,
    )
    assert [i["id"] for i in client.get(BASE + "?page=2&page_size=1").json()["items"]] == [first.pk]
    assert [i["id"] for i in client.get(BASE + "?q=beto").json()["items"]] == [second.pk]
    assert client.get(BASE + "?scope=nope").status_code == 422
    # An agent may not list everything.
    answer = signed_in(world.agent).get(BASE + "?scope=all")
    assert answer.status_code == 403
    assert answer.json()["code"] == "forbidden"


def test_another_organizations_conversation_is_404(world: World) -> None:
    conversation = conversation_for(make_channel(world.operator), wa_id="59170000001")
    client = signed_in(world.outsider)
    for url in (f"{BASE}/{conversation.pk}", f"{BASE}/{conversation.pk}/messages"):
        answer = client.get(url)
        assert answer.status_code == 404
        assert answer.json()["code"] == "not_found"
    assert post(client, f"{BASE}/{conversation.pk}/read").status_code == 404
    assert Client().get(BASE).status_code == 401


def test_messages_come_oldest_first_and_after_id_polls(world: World) -> None:
    conversation = conversation_for(make_channel(world.operator), wa_id="59170000001")
    first = inbound(conversation, "hola")
    second = outbound(conversation, "¿en qué zona?", status=MessageStatus.DELIVERED)
    client = signed_in(world.agent)
    body = client.get(f"{BASE}/{conversation.pk}/messages").json()
    assert [(m["id"], m["direction"], m["status"]) for m in body] == [
        (first.pk, "in", "received"),
        (second.pk, "out", "delivered"),
    ]
    body = client.get(f"{BASE}/{conversation.pk}/messages?after_id={first.pk}").json()
    assert [m["id"] for m in body] == [second.pk]


def test_send_a_text_inside_the_window_and_409_outside(world: World) -> None:
    channel = make_channel(world.operator)
    open_one = conversation_for(channel, wa_id="59170000001", last_inbound_at=recent())
    closed_one = conversation_for(
        channel, wa_id="59170000002", last_inbound_at=timezone.now() - timedelta(days=2)
    )
    client = signed_in(world.agent)
    answer = post(client, f"{BASE}/{open_one.pk}/messages", {"body": "Hola"})
    assert answer.status_code == 201
    assert (answer.json()["kind"], answer.json()["body"], answer.json()["status"]) == (
        "text",
        "Hola",
        "queued",
    )
    assert answer.json()["created_by"]["id"] == world.agent.pk
    answer = post(client, f"{BASE}/{closed_one.pk}/messages", {"body": "Hola"})
    assert answer.status_code == 409
    assert answer.json()["details"] == {"reason": ["needs_template"]}
    assert not Message.objects.filter(conversation=closed_one).exists()
    assert post(client, f"{BASE}/{open_one.pk}/messages", {"body": ""}).status_code == 422


def test_send_a_template_by_id_or_name(world: World) -> None:
    channel = make_channel(world.operator)
    conversation = conversation_for(
        channel, wa_id="59170000001", last_inbound_at=timezone.now() - timedelta(days=2)
    )
    template = make_template(channel)
    pending = make_template(channel, name="pendiente", status=Template.Status.PENDING)
    client = signed_in(world.agent)
    answer = post(
        client,
        f"{BASE}/{conversation.pk}/templates",
        {"template_id": template.pk, "params": ["Ana"]},
    )
    assert answer.status_code == 201
    assert answer.json()["body"] == "Hola Ana, ¡tenemos cobertura de fibra en tu zona!"
    answer = post(
        client,
        f"{BASE}/{conversation.pk}/templates",
        {"name": "en_cobertura", "language": "es_AR", "params": ["Beto"]},
    )
    assert answer.status_code == 201
    assert answer.json()["template_id"] == template.pk
    answer = post(client, f"{BASE}/{conversation.pk}/templates", {"template_id": pending.pk})
    assert answer.status_code == 409
    assert answer.json()["details"] == {"reason": ["template_not_approved"]}
    assert post(client, f"{BASE}/{conversation.pk}/templates", {}).status_code == 422
    assert Message.objects.filter(conversation=conversation).count() == 2


def test_assign_and_read(world: World) -> None:
    conversation = conversation_for(make_channel(world.operator), wa_id="59170000001", unread=4)
    supervisor = signed_in(world.supervisor)
    answer = post(supervisor, f"{BASE}/{conversation.pk}/assign", {"user_id": world.outsider.pk})
    assert answer.status_code == 422
    assert snapshot(conversation) == (None, None, 4)
    answer = post(supervisor, f"{BASE}/{conversation.pk}/assign", {"user_id": world.agent.pk})
    assert answer.status_code == 200
    assert answer.json()["assigned_user"] == {"id": world.agent.pk, "name": "Ana Quispe"}
    assert answer.json()["assigned_team"]["name"] == "Front line"
    # An agent cannot hand the conversation to someone else.
    answer = post(
        signed_in(world.back_office),
        f"{BASE}/{conversation.pk}/assign",
        {"user_id": world.back_office.pk},
    )
    assert answer.status_code == 403
    assert snapshot(conversation)[0] == world.agent.pk
    answer = post(signed_in(world.agent), f"{BASE}/{conversation.pk}/read")
    assert (answer.status_code, answer.json()["unread_count"]) == (200, 0)
    assert snapshot(conversation)[2] == 0


def test_an_api_key_works_with_the_organizations_conversations(world: World) -> None:
    conversation = conversation_for(make_channel(world.operator), wa_id="59170000001")
    _key, secret = api_key_create(actor=world.actor(world.admin), name="CRM", role=Role.ADMIN)
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    body = client.get(BASE).json()
    assert [item["id"] for item in body["items"]] == [conversation.pk]
    answer = post(client, f"{BASE}/{conversation.pk}/assign", {"user_id": world.agent.pk})
    assert answer.status_code == 200
    assert snapshot(conversation)[0] == world.agent.pk

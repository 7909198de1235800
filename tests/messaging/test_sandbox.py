"""The real client against the sandbox over HTTP, statuses back, and the phone simulator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from telcodesk.messaging import sandbox_views
from telcodesk.messaging.models import Channel, Conversation, Message, MessageStatus, SandboxMessage
from telcodesk.messaging.outbox import client_for_channel
from telcodesk.messaging.providers.sandbox import (
    Poster,
    sandbox_message_accept,
    sandbox_phone_message,
    sandbox_statuses_deliver,
    signed_post,
)
from telcodesk.messaging.providers.whatsapp_cloud import ProviderError, text_payload
from telcodesk.messaging.sending import message_send_template, message_send_text
from tests.conftest import World

from .helpers import make_channel
from .outbox_helpers import WA_ID, make_conversation, make_template

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_status_threads(settings: Any) -> None:
    # Tests deliver the sandbox's status webhooks themselves (deterministic order).
    settings.TELCODESK_SANDBOX_STATUS_WEBHOOKS = False


def client_poster(client: Client) -> Poster:
    def post(path: str, raw: bytes, headers: dict[str, str]) -> int:
        response = client.post(
            path,
            data=raw,
            content_type="application/json",
            headers={"X-Hub-Signature-256": headers["X-Hub-Signature-256"]},
        )
        return int(response.status_code)

    return post


def sandbox_channel(world: World, live_server: LiveServer, **fields: Any) -> Channel:
    return make_channel(
        world.operator, api_base_url=live_server.url + "/messaging/sandbox/graph", **fields
    )


def customer_writes(client: Client, channel: Channel, text: str = "Hola") -> Conversation:
    _record, body = sandbox_phone_message(channel=channel, wa_id=WA_ID, name="Juana", text=text)
    assert signed_post(channel, body, client_poster(client)) == 200
    return Conversation.objects.get(channel=channel, external_address=WA_ID)


def test_a_text_goes_through_the_real_client_to_the_sandbox_and_statuses_come_back(
    world: World, live_server: LiveServer, client: Client
) -> None:
    channel = sandbox_channel(world, live_server)
    conversation = customer_writes(client, channel)
    assert conversation.last_inbound_at is not None
    # Autocommit: the send is enqueued at once and runs eagerly (no broker in tests).
    message = message_send_text(
        actor_or_none=world.actor(world.agent), conversation=conversation, body="¿En qué zona?"
    )
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.provider_message_id.startswith("wamid.")
    on_phone = SandboxMessage.objects.get(wamid=message.provider_message_id)
    assert (on_phone.direction, on_phone.wa_id, on_phone.text) == (
        SandboxMessage.Direction.TO_PHONE,
        WA_ID,
        "¿En qué zona?",
    )
    assert on_phone.payload == message.payload

    answers = sandbox_statuses_deliver(
        wamid=message.provider_message_id,
        post=client_poster(client),
        statuses=("sent", "delivered"),
    )
    assert answers == [200, 200]
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    sandbox_statuses_deliver(wamid=message.provider_message_id, post=client_poster(client))
    message.refresh_from_db()
    assert message.status == MessageStatus.READ
    assert message.status_events.count() == 3


def test_a_template_arrives_rendered_and_the_customer_taps_its_button(
    world: World, live_server: LiveServer, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = sandbox_channel(world, live_server)
    conversation = make_conversation(channel, last_inbound_at=None)  # no window: template
    template = make_template(channel)
    message = message_send_template(
        actor_or_none=None, conversation=conversation, template=template, params=["Juana"]
    )
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    on_phone = SandboxMessage.objects.get(wamid=message.provider_message_id)
    assert on_phone.text == "Hola Juana, ¡tenemos cobertura de fibra en tu zona!"
    assert on_phone.buttons == [{"id": "Me interesa", "title": "Me interesa", "kind": "template"}]

    client.force_login(world.agent)
    monkeypatch.setattr(sandbox_views, "webhook_poster_for", lambda request: client_poster(client))
    page = client.get(reverse("messaging:sandbox_phone", args=[channel.pk]), {"wa_id": WA_ID})
    assert page.status_code == 200
    assert "Hola Juana, ¡tenemos cobertura de fibra en tu zona!" in page.content.decode()
    response = client.post(
        reverse("messaging:sandbox_phone_send", args=[channel.pk]),
        {"wa_id": WA_ID, "button_of": on_phone.wamid, "button_index": "0"},
    )
    assert response.status_code == 200
    reply = Message.objects.get(direction=Message.Direction.INBOUND)
    assert (reply.kind, reply.body, reply.reply_payload, reply.reply_to_provider_id) == (
        Message.Kind.BUTTON,
        "Me interesa",
        "Me interesa",
        message.provider_message_id,
    )
    conversation.refresh_from_db()
    assert conversation.last_inbound_at is not None


def test_the_simulator_types_a_reply_into_our_webhook(
    world: World, live_server: LiveServer, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = sandbox_channel(world, live_server)
    client.force_login(world.agent)
    monkeypatch.setattr(sandbox_views, "webhook_poster_for", lambda request: client_poster(client))
    response = client.post(
        reverse("messaging:sandbox_phone_send", args=[channel.pk]),
        {"wa_id": "+591 71234567", "name": "Juana", "text": "Quiero fibra"},
    )
    assert response.status_code == 200
    assert "Quiero fibra" in response.content.decode()
    inbound = Message.objects.get()
    assert (inbound.kind, inbound.body, inbound.conversation.display_name) == (
        Message.Kind.TEXT,
        "Quiero fibra",
        "Juana",
    )
    thread = client.get(
        reverse("messaging:sandbox_phone_thread", args=[channel.pk]), {"wa_id": WA_ID}
    )
    assert "Quiero fibra" in thread.content.decode()


def test_the_simulator_is_for_signed_in_members_of_the_channel_organization(
    world: World, live_server: LiveServer, client: Client
) -> None:
    channel = sandbox_channel(world, live_server)
    url = reverse("messaging:sandbox_phone", args=[channel.pk])
    assert client.get(url).status_code == 302
    client.force_login(world.outsider)
    assert client.get(url).status_code == 404
    assert (
        client.post(
            reverse("messaging:sandbox_phone_send", args=[channel.pk]),
            {"wa_id": WA_ID, "text": "hola"},
        ).status_code
        == 404
    )
    assert not SandboxMessage.objects.exists()


def test_the_sandbox_answers_131047_when_the_customer_has_not_written(
    world: World, live_server: LiveServer
) -> None:
    channel = sandbox_channel(world, live_server)
    with pytest.raises(ProviderError) as error:
        client_for_channel(channel).send(text_payload(WA_ID, "Hola"))
    assert (error.value.code, error.value.status, error.value.retryable) == (131047, 400, False)
    assert "24 hours" in error.value.details


def test_a_131047_from_the_provider_fails_the_outbox_message(
    world: World, live_server: LiveServer
) -> None:
    channel = sandbox_channel(world, live_server)
    # Our side believes the window is open; the provider knows better.
    conversation = make_conversation(channel, last_inbound_at=timezone.now())
    message = message_send_text(actor_or_none=None, conversation=conversation, body="Hola")
    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_title) == (
        MessageStatus.FAILED,
        131047,
        "needs an approved template",
    )


def test_the_sandbox_answers_130429_over_its_throughput(
    world: World, live_server: LiveServer, settings: Any
) -> None:
    channel = sandbox_channel(world, live_server)
    template = make_template(channel)
    settings.TELCODESK_SANDBOX_MESSAGES_PER_SECOND = 0
    from telcodesk.messaging.providers.whatsapp_cloud import template_payload

    with pytest.raises(ProviderError) as error:
        client_for_channel(channel).send(
            template_payload(WA_ID, name=template.name, language=template.language, params=["A"])
        )
    assert (error.value.code, error.value.retryable) == (130429, True)


def test_the_sandbox_throughput_counts_per_second(world: World) -> None:
    channel = make_channel(world.operator)
    make_template(channel)
    from django.test import override_settings

    from telcodesk.messaging.providers.whatsapp_cloud import template_payload

    payload = template_payload(WA_ID, name="en_cobertura", language="es_AR", params=["A"])
    now = timezone.now().replace(microsecond=100)
    with override_settings(TELCODESK_SANDBOX_MESSAGES_PER_SECOND=2):
        statuses = [
            sandbox_message_accept(
                phone_number_id=channel.phone_number_id,
                authorization="Bearer " + channel.access_token,
                payload=payload,
                now=now + timedelta(milliseconds=step),
            )[0]
            for step in range(3)
        ]
        later = sandbox_message_accept(
            phone_number_id=channel.phone_number_id,
            authorization="Bearer " + channel.access_token,
            payload=payload,
            now=now + timedelta(seconds=1),
        )
    assert statuses == [200, 200, 400]
    assert later[0] == 200


def test_the_sandbox_refuses_a_wrong_token_like_meta(world: World, live_server: LiveServer) -> None:
    channel = sandbox_channel(world, live_server)
    Channel.objects.filter(pk=channel.pk).update(access_token="another-token")
    with pytest.raises(ProviderError) as error:
        client_for_channel(channel).send(text_payload(WA_ID, "Hola"))
    assert (error.value.code, error.value.status, error.value.retryable) == (190, 401, False)


def test_an_unreachable_provider_is_retryable(world: World) -> None:
    channel = make_channel(world.operator, api_base_url="http://127.0.0.1:9")
    with pytest.raises(ProviderError) as error:
        client_for_channel(channel).send(text_payload(WA_ID, "Hola"))
    assert (error.value.code, error.value.retryable) == (None, True)


def test_the_sandbox_error_body_has_meta_shape(world: World, client: Client) -> None:
    channel = make_channel(world.operator)
    response = client.post(
        f"/messaging/sandbox/graph/v21.0/{channel.phone_number_id}/messages",
        data=text_payload(WA_ID, "Hola"),
        content_type="application/json",
        headers={"Authorization": "Bearer " + channel.access_token},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "error_data", "fbtrace_id"}
    assert (error["type"], error["code"], error["error_data"]["messaging_product"]) == (
        "OAuthException",
        131047,
        "whatsapp",
    )


def test_a_list_shows_on_the_phone_with_its_sections_and_descriptions(
    world: World, live_server: LiveServer, client: Client
) -> None:
    from telcodesk.messaging.interactive_lists import InteractiveList, ListRow, ListSection
    from telcodesk.messaging.sending import message_send_interactive

    channel = sandbox_channel(world, live_server)
    conversation = customer_writes(client, channel)
    spec = InteractiveList(
        body="¿Qué plan te interesa?",
        button="Ver planes",
        header="Planes Fibra",
        footer="Precios con IVA",
        sections=(
            ListSection("Hogar", (ListRow("f300", "300 Mb", "Ideal para 3 personas"),)),
            ListSection("Pro", (ListRow("f1000", "1000 Mb"),)),
        ),
    )
    message = message_send_interactive(
        actor_or_none=world.actor(world.agent), conversation=conversation, list_spec=spec
    )
    message.refresh_from_db()
    on_phone = SandboxMessage.objects.get(wamid=message.provider_message_id)
    assert on_phone.text == "Planes Fibra\n¿Qué plan te interesa?\nPrecios con IVA"
    assert on_phone.buttons == [
        {
            "id": "f300",
            "title": "300 Mb",
            "kind": "list_reply",
            "section": "Hogar",
            "description": "Ideal para 3 personas",
        },
        {
            "id": "f1000",
            "title": "1000 Mb",
            "kind": "list_reply",
            "section": "Pro",
            "description": "",
        },
    ]
    client.force_login(world.agent)
    page = client.get(
        reverse("messaging:sandbox_phone_thread", args=[channel.pk]), {"wa_id": WA_ID}
    )
    html = page.content.decode()
    assert html.index("Hogar") < html.index("300 Mb") < html.index("Pro") < html.index("1000 Mb")
    assert '<small class="description">Ideal para 3 personas</small>' in html

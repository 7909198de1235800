"""Media over real HTTP: upload and send through the sandbox, the proxy, the simulator's photos."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from telcodesk.messaging import sandbox_views
from telcodesk.messaging.models import (
    Channel,
    Conversation,
    Message,
    MessageStatus,
    SandboxMessage,
)
from telcodesk.messaging.outbox import client_for_channel
from telcodesk.messaging.providers.sandbox import (
    sandbox_media_get,
    sandbox_phone_message,
    signed_post,
)
from telcodesk.messaging.providers.whatsapp_cloud import ProviderError
from tests.conftest import World
from tests.messaging.helpers import make_channel
from tests.messaging.test_sandbox import client_poster

from .conftest import htmx, signed_in

pytestmark = pytest.mark.django_db(transaction=True)

WA_ID = "59171234567"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture(autouse=True)
def _sandbox(settings: Any, tmp_path: Path) -> None:
    settings.TELCODESK_SANDBOX_STATUS_WEBHOOKS = False
    settings.TELCODESK_SANDBOX_MEDIA_DIR = str(tmp_path / "sandbox-media")


def sandbox_channel(world: World, live_server: LiveServer, **fields: Any) -> Channel:
    return make_channel(
        world.operator, api_base_url=live_server.url + "/messaging/sandbox/graph", **fields
    )


def customer_writes(client: Client, channel: Channel) -> Conversation:
    _record, body = sandbox_phone_message(channel=channel, wa_id=WA_ID, name="Juana", text="Hola")
    assert signed_post(channel, body, client_poster(client)) == 200
    return Conversation.objects.get(channel=channel, external_address=WA_ID)


def test_an_uploaded_image_goes_through_the_sandbox_and_the_proxy_serves_it_back(
    world: World, live_server: LiveServer
) -> None:
    channel = sandbox_channel(world, live_server)
    agent = signed_in(world.agent)
    conversation = customer_writes(agent, channel)
    upload = SimpleUploadedFile("plan.png", PNG, content_type="image/png")
    response = agent.post(
        reverse("inbox:upload", args=[conversation.pk]),
        {"file": upload, "caption": "El plan de 600 Mb"},
        headers=htmx(None),
    )
    assert response.status_code == 200, response.content.decode()
    message = Message.objects.get(conversation=conversation, direction="out")
    # Autocommit: the outbox sent it at once through the real client to the sandbox.
    assert (message.kind, message.status, message.media_caption, message.media_filename) == (
        "image",
        MessageStatus.SENT,
        "El plan de 600 Mb",
        "plan.png",
    )
    stored = sandbox_media_get(message.media_id)
    assert stored is not None and stored.path.read_bytes() == PNG
    assert stored.phone_number_id == channel.phone_number_id
    on_phone = SandboxMessage.objects.get(wamid=message.provider_message_id)
    assert (on_phone.kind, on_phone.text) == ("image", "El plan de 600 Mb")
    assert on_phone.payload["image"] == {"id": message.media_id, "caption": "El plan de 600 Mb"}

    proxied = agent.get(reverse("inbox:media", args=[conversation.pk, message.pk]))
    assert proxied.status_code == 200
    assert proxied["Content-Type"] == "image/png"
    assert proxied.content == PNG


def test_a_photo_from_the_simulator_shows_inline_through_the_proxy(
    world: World, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = sandbox_channel(world, live_server)
    agent = signed_in(world.agent)
    monkeypatch.setattr(sandbox_views, "webhook_poster_for", lambda request: client_poster(agent))
    response = agent.post(
        reverse("messaging:sandbox_phone_send", args=[channel.pk]),
        {
            "wa_id": WA_ID,
            "name": "Juana",
            "text": "Mi factura",
            "file": SimpleUploadedFile("factura.jpg", PNG, content_type="image/jpeg"),
        },
    )
    assert response.status_code == 200
    assert "/media/" in response.content.decode()  # the phone shows its own photo
    message = Message.objects.get(channel=channel, direction="in")
    assert (message.kind, message.media_mime_type, message.media_caption) == (
        "image",
        "image/jpeg",
        "Mi factura",
    )
    proxy_url = reverse("inbox:media", args=[message.conversation_id, message.pk])
    thread = agent.get(reverse("inbox:thread", args=[message.conversation_id])).content.decode()
    assert f'<img class="bubble-image" src="{proxy_url}" alt="Mi factura"' in thread
    proxied = agent.get(proxy_url)
    assert (proxied.status_code, proxied["Content-Type"], proxied.content) == (
        200,
        "image/jpeg",
        PNG,
    )
    # Nobody outside the organization gets the file.
    assert signed_in(world.outsider).get(proxy_url).status_code == 404


def test_the_sandbox_media_endpoints_refuse_another_channels_token(
    world: World, live_server: LiveServer
) -> None:
    channel = sandbox_channel(world, live_server)
    other = sandbox_channel(
        world, live_server, phone_number_id="2233445566", access_token="EAAG-other-token"
    )
    media_id = client_for_channel(channel).upload_media(
        data=PNG, mime_type="image/png", filename="a.png"
    )
    info = client_for_channel(channel).media_info(media_id)
    assert (info.mime_type, info.file_size) == ("image/png", len(PNG))
    assert client_for_channel(channel).media_download(info.url) == (PNG, "image/png")
    with pytest.raises(ProviderError) as refused:
        client_for_channel(other).media_info(media_id)
    assert refused.value.code == 100
    with pytest.raises(ProviderError) as refused:
        client_for_channel(other).media_download(info.url)
    assert refused.value.status == 401


def test_a_file_type_whatsapp_refuses_is_not_uploaded(
    world: World, live_server: LiveServer, tmp_path: Path
) -> None:
    channel = sandbox_channel(world, live_server)
    agent = signed_in(world.agent)
    conversation = customer_writes(agent, channel)
    response = agent.post(
        reverse("inbox:upload", args=[conversation.pk]),
        {"file": SimpleUploadedFile("page.html", b"<html>", content_type="text/html")},
        headers=htmx(None),
    )
    assert response.status_code == 422
    assert "This file type cannot be sent on WhatsApp" in response.content.decode()
    assert not (tmp_path / "sandbox-media").exists()
    assert not Message.objects.filter(conversation=conversation, direction="out").exists()


def test_a_file_outside_the_window_is_refused_before_the_upload(
    world: World, live_server: LiveServer, tmp_path: Path
) -> None:
    channel = sandbox_channel(world, live_server)
    agent = signed_in(world.agent)
    conversation = customer_writes(agent, channel)
    Conversation.objects.filter(pk=conversation.pk).update(
        last_inbound_at=timezone.now() - timedelta(hours=25)
    )
    response = agent.post(
        reverse("inbox:upload", args=[conversation.pk]),
        {"file": SimpleUploadedFile("plan.png", PNG, content_type="image/png")},
        headers=htmx(None),
    )
    assert response.status_code == 422
    assert "needs an approved template" in response.content.decode()
    assert not (tmp_path / "sandbox-media").exists()


def test_the_api_uploads_and_sends_a_document_and_reply_buttons(
    world: World, live_server: LiveServer
) -> None:
    channel = sandbox_channel(world, live_server)
    agent = signed_in(world.agent)
    conversation = customer_writes(agent, channel)
    pdf = b"%PDF-1.4\n" + b"0" * 512

    sent = agent.post(
        f"/api/v1/conversations/{conversation.pk}/media",
        {
            "file": SimpleUploadedFile("contrato.pdf", pdf, content_type="application/pdf"),
            "caption": "Tu contrato",
        },
    )

    assert sent.status_code == 201, sent.content.decode()
    assert (sent.json()["kind"], sent.json()["status"]) == ("document", "queued")
    message = Message.objects.get(pk=sent.json()["id"])
    assert message.status == MessageStatus.SENT  # the outbox sent it after the commit
    on_phone = SandboxMessage.objects.get(wamid=message.provider_message_id)
    assert on_phone.payload["document"]["filename"] == "contrato.pdf"

    buttons = agent.post(
        f"/api/v1/conversations/{conversation.pk}/interactive",
        {
            "body": "¿Qué plan preferís?",
            "buttons": [{"id": "p300", "title": "300 Mb"}, {"id": "p600", "title": "600 Mb"}],
        },
        content_type="application/json",
    )
    assert buttons.status_code == 201, buttons.content.decode()
    tapped = SandboxMessage.objects.get(
        wamid=Message.objects.get(pk=buttons.json()["id"]).provider_message_id
    )
    assert [b["title"] for b in tapped.buttons] == ["300 Mb", "600 Mb"]


def test_the_api_refuses_a_file_whatsapp_cannot_take_and_four_buttons(
    world: World, live_server: LiveServer
) -> None:
    channel = sandbox_channel(world, live_server)
    agent = signed_in(world.agent)
    conversation = customer_writes(agent, channel)

    refused = agent.post(
        f"/api/v1/conversations/{conversation.pk}/media",
        {"file": SimpleUploadedFile("x.exe", b"MZ" * 10, content_type="application/x-msdownload")},
    )
    assert refused.status_code == 409
    assert refused.json()["details"]["reason"] == ["bad_media_type"]

    too_many = agent.post(
        f"/api/v1/conversations/{conversation.pk}/interactive",
        {"body": "¿Cuál?", "buttons": [{"id": str(n), "title": f"Opción {n}"} for n in range(4)]},
        content_type="application/json",
    )
    assert too_many.status_code == 409
    assert not Message.objects.filter(direction="out").exists()

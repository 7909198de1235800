"""The side panel's lead, quick replies and slash commands, with the Claro reseller's pack."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from telcodesk.messaging.models import Message
from telcodesk.pipelines.models import Lead
from tests.messaging.helpers import make_channel
from tests.pipelines.conftest import Claro

from .conftest import conversation_for, htmx, recent, signed_in

pytestmark = pytest.mark.django_db

WA_ID = "5491123456789"


def _conversation(claro: Claro, **fields: object):  # type: ignore[no-untyped-def]
    channel = make_channel(claro.reseller, phone_number_id="7700112233")
    return conversation_for(channel, wa_id=WA_ID, name="Lucía Fernández", **fields)


def test_without_a_lead_the_panel_offers_to_create_one_in_the_entry_pipeline(
    claro: Claro,
) -> None:
    conversation = _conversation(claro)
    client = signed_in(claro.agent)
    html = client.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert "No lead for this conversation." in html
    assert reverse("inbox:lead_create", args=[conversation.pk]) in html

    response = client.post(reverse("inbox:lead_create", args=[conversation.pk]), headers=htmx(None))
    assert response.status_code == 200
    lead = Lead.objects.get(organization=claro.reseller, conversation=conversation)
    assert (lead.pipeline.name, lead.source, lead.owner, lead.phone, lead.name) == (
        "FIBRA",
        "channel",
        claro.agent,
        "+5491123456789",
        "Lucía Fernández",
    )
    panel = response.content.decode()
    assert f'href="{reverse("pipelines:lead", args=[lead.pk])}"' in panel
    assert lead.stage.name in panel
    if lead.stage.guidance:
        assert "What to do here" in panel

    # A second click links nothing new: the phone's open lead is the same one.
    client.post(reverse("inbox:lead_create", args=[conversation.pk]), headers=htmx(None))
    assert Lead.objects.filter(organization=claro.reseller, phone="+5491123456789").count() == 1


def test_an_outsider_cannot_create_a_lead_on_the_conversation(claro: Claro) -> None:
    conversation = _conversation(claro)
    response = signed_in(claro.outsider).post(reverse("inbox:lead_create", args=[conversation.pk]))
    assert response.status_code == 404
    assert not Lead.objects.filter(conversation=conversation).exists()


def test_quick_replies_come_rendered_for_the_customer_and_the_agent(claro: Claro) -> None:
    pytest.importorskip("telcodesk.pipelines.bots")
    conversation = _conversation(claro, last_inbound_at=recent())
    html = (
        signed_in(claro.agent).get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    )
    data = re.search(
        r'<script type="application/json" id="quick-replies">(.*?)</script>', html, re.S
    )
    assert data is not None
    replies = {row["shortcut"]: row for row in json.loads(data.group(1))}
    assert set(replies) >= {"saludo", "acometida", "referidos"}
    assert replies["saludo"]["text"].startswith("¡Hola Lucía! Soy Lucas, de ")
    assert replies["acometida"]["title"] == "Pedido de acometida"


def test_a_slash_command_fires_the_bot_and_queues_its_messages(claro: Claro) -> None:
    pytest.importorskip("telcodesk.pipelines.bots")
    conversation = _conversation(claro, last_inbound_at=recent())
    client = signed_in(claro.agent)
    html = client.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    bots = re.search(r'<script type="application/json" id="bots-data">(.*?)</script>', html, re.S)
    assert bots is not None
    assert "/En cober" in [bot["name"] for bot in json.loads(bots.group(1))]

    response = client.post(
        reverse("inbox:send", args=[conversation.pk]), {"body": "/En cober"}, headers=htmx(None)
    )
    assert response.status_code == 200, response.content.decode()
    sent = list(Message.objects.filter(conversation=conversation).order_by("id"))
    assert [m.kind for m in sent] == ["interactive"]
    assert sent[0].body.startswith("¡Buenas noticias Lucía!")
    assert "Bot /En cober ran: 1 message(s) queued." in response.content.decode()

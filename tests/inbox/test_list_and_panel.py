"""What an agent reads at a glance: the list's previews and channel, the lead's flags in
the list and the panel, and templates greeting a prospect by the name they gave."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from telcodesk.messaging.models import Channel, Message, MessageStatus, Template
from telcodesk.pipelines.models import Lead
from tests.conftest import World
from tests.messaging.helpers import make_channel
from tests.pipelines.conftest import Claro

from .conftest import conversation_for, recent, second_channel, signed_in

pytestmark = pytest.mark.django_db

LIST = reverse("inbox:list")
WA_ID = "5491123456789"


def test_a_photo_or_a_document_without_text_reads_as_such_in_the_list(world: World) -> None:
    channel = make_channel(world.operator)
    for n, kind in enumerate((Message.Kind.IMAGE, Message.Kind.DOCUMENT, Message.Kind.AUDIO)):
        conversation = conversation_for(channel, wa_id=f"5917000000{n}", last_inbound_at=recent(n))
        Message.objects.create(
            organization_id=world.operator.pk,
            channel=channel,
            conversation=conversation,
            direction=Message.Direction.INBOUND,
            provider_message_id=f"wamid.media-{n}",
            kind=kind,
            media_id=f"media-{n}",
            status=MessageStatus.RECEIVED,
        )
    previews = re.findall(
        r'<span class="inbox-row-preview">(.*?)</span>',
        signed_in(world.agent).get(LIST).content.decode(),
    )
    assert sorted(previews) == sorted(["Photo", "Document", "Voice or audio message"])


def test_the_channel_shows_in_the_row_only_with_two_channels_or_more(world: World) -> None:
    sales = make_channel(world.operator)
    conversation_for(sales, wa_id="59170000001", name="Juana")
    agent = signed_in(world.agent)
    assert 'class="inbox-row-channel"' not in agent.get(LIST).content.decode()
    support = second_channel(world.operator)
    conversation_for(support, wa_id="59170000002", name="Pedro")
    page = agent.get(LIST).content.decode()
    assert page.count('class="inbox-row-channel"') == 2
    assert f'title="{support.name}"' in page and f'title="{sales.name}"' in page


def _conversation(claro: Claro, **fields: object):  # type: ignore[no-untyped-def]
    channel = make_channel(claro.reseller, phone_number_id="7700112233")
    return conversation_for(channel, wa_id=WA_ID, name="Lucía Fernández", **fields)


def test_a_lead_lost_with_the_undefined_reason_is_flagged_in_the_list_and_the_panel(
    claro: Claro,
) -> None:
    conversation = _conversation(claro, last_inbound_at=recent())
    lead = claro.lead(phone="+" + WA_ID)
    undefined = claro.reason("FIBRA", "Razón no definida")
    assert undefined.is_system
    Lead.objects.filter(pk=lead.pk).update(
        conversation=conversation,
        stage=claro.stage("FIBRA", "Perdidos"),
        loss_reason=undefined,
        lost_at=timezone.now(),
    )
    agent = signed_in(claro.agent)
    row = agent.get(LIST).content.decode()
    assert '<span class="badge badge-overdue">Undefined loss reason</span>' in row
    panel = agent.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert re.search(
        r"<dt>Loss reason</dt><dd>Razón no definida <span class=\"badge badge-overdue\">"
        r"Undefined loss reason: set the real one</span></dd>",
        panel,
    )

    Lead.objects.filter(pk=lead.pk).update(loss_reason=claro.reason("FIBRA", "Fuera de cobertura"))
    panel = agent.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert "<dt>Loss reason</dt><dd>Fuera de cobertura</dd>" in panel
    assert "Undefined loss reason" not in agent.get(LIST).content.decode()


def test_the_template_picker_greets_a_prospect_by_their_whatsapp_name(claro: Claro) -> None:
    pytest.importorskip("telcodesk.pipelines.bots")
    Template.objects.filter(organization=claro.reseller).update(status=Template.Status.APPROVED)
    conversation = _conversation(claro, last_inbound_at=timezone.now() - timedelta(days=2))
    html = (
        signed_in(claro.agent).get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    )
    choice = re.search(r'data-template="saludo_inicial">.*?</form>', html, re.S)
    assert choice is not None
    assert "¡Hola Lucía! Te escribimos de Agente Claro por tu consulta." in choice.group(0)
    assert 'name="params" value="Lucía"' in choice.group(0)
    assert "Empty for this customer" not in choice.group(0)


def test_an_email_channel_row_shows_the_mail_icon(world: World) -> None:
    make_channel(world.operator)
    mail = Channel.objects.create(
        organization=world.operator, kind=Channel.Kind.EMAIL, name="Correo", phone_number_id=""
    )
    conversation_for(mail, wa_id="juana@example.com", name="Juana")
    page = signed_in(world.agent).get(LIST).content.decode()
    row = re.search(r'<span class="inbox-row-channel" title="Correo">(.*?)</span>', page, re.S)
    assert row is not None and "<svg" in row.group(1)


def test_a_shared_location_and_a_contact_card_show_what_the_agent_needs(world: World) -> None:
    channel = make_channel(world.operator)
    conversation = conversation_for(channel, wa_id="59170000001", last_inbound_at=recent())
    for n, (kind, body, payload) in enumerate(
        [
            (
                Message.Kind.LOCATION,
                "Casa, Av. Rivadavia 5200",
                {
                    "type": "location",
                    "location": {
                        "latitude": -34.6189,
                        "longitude": -58.4381,
                        "name": "Casa",
                        "address": "Av. Rivadavia 5200",
                    },
                },
            ),
            (
                Message.Kind.CONTACTS,
                "Marcos Gómez",
                {
                    "type": "contacts",
                    "contacts": [
                        {
                            "name": {"formatted_name": "Marcos Gómez"},
                            "phones": [{"phone": "+54 9 11 5555-0101"}],
                        }
                    ],
                },
            ),
        ]
    ):
        Message.objects.create(
            organization_id=world.operator.pk,
            channel=channel,
            conversation=conversation,
            direction=Message.Direction.INBOUND,
            provider_message_id=f"wamid.shared-{n}",
            kind=kind,
            body=body,
            payload=payload,
            status=MessageStatus.RECEIVED,
        )
    html = signed_in(world.agent).get(reverse("inbox:thread", args=[conversation.pk])).content
    page = html.decode()
    assert (
        'href="https://www.openstreetmap.org/?mlat=-34.6189&amp;mlon=-58.4381#map=17/-34.6189/-58.4381"'
        in page
    )
    assert '<span class="mono">-34.6189, -58.4381</span>' in page
    assert "Casa, Av. Rivadavia 5200" in page
    assert '<div class="bubble-body mono">+54 9 11 5555-0101</div>' in page

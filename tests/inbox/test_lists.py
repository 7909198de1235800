"""WhatsApp list messages: Meta's limits with errors that say what to fix, the
composer's list builder, the API, and how a list shows in the thread."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.urls import reverse

from telcodesk.core.errors import ValidationFailed
from telcodesk.messaging.interactive_lists import (
    InteractiveList,
    ListRow,
    ListSection,
    interactive_list_check,
    interactive_list_payload,
)
from telcodesk.messaging.models import Channel, Conversation, Message, MessageStatus
from tests.conftest import World
from tests.messaging.helpers import make_channel

from .conftest import conversation_for, htmx, outbound, recent, signed_in

pytestmark = pytest.mark.django_db

WA_ID = "59171234567"


def rows(*titles: str, start: int = 1) -> tuple[ListRow, ...]:
    return tuple(ListRow(id=f"r{n}", title=title) for n, title in enumerate(titles, start=start))


def a_list(*sections: ListSection, **fields: Any) -> InteractiveList:
    fields.setdefault("body", "¿Qué plan te interesa?")
    fields.setdefault("button", "Ver planes")
    return InteractiveList(sections=sections, **fields)


def refusal(spec: InteractiveList) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        interactive_list_check(spec)
    return caught.value


# --- the rules ------------------------------------------------------------------------------


def test_a_list_in_two_sections_becomes_the_graph_api_body() -> None:
    spec = a_list(
        ListSection(
            title="Fibra",
            rows=(
                ListRow(id="f300", title="300 Mb", description="Para 2 o 3 personas"),
                ListRow(id="f600", title="600 Mb"),
            ),
        ),
        ListSection(title="Combos", rows=(ListRow(id="tv", title="Fibra + TV"),)),
        header="Planes Claro",
        footer="Precios con IVA",
    )
    interactive_list_check(spec)  # no refusal
    assert interactive_list_payload(WA_ID, spec) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "header": {"type": "text", "text": "Planes Claro"},
            "body": {"text": "¿Qué plan te interesa?"},
            "footer": {"text": "Precios con IVA"},
            "action": {
                "button": "Ver planes",
                "sections": [
                    {
                        "title": "Fibra",
                        "rows": [
                            {"id": "f300", "title": "300 Mb", "description": "Para 2 o 3 personas"},
                            {"id": "f600", "title": "600 Mb"},
                        ],
                    },
                    {"title": "Combos", "rows": [{"id": "tv", "title": "Fibra + TV"}]},
                ],
            },
        },
    }


def test_one_section_needs_no_title_and_leaves_header_and_footer_out() -> None:
    spec = a_list(ListSection(title="", rows=rows("Sí", "No")))
    interactive_list_check(spec)
    assert interactive_list_payload(WA_ID, spec)["interactive"] == {
        "type": "list",
        "body": {"text": "¿Qué plan te interesa?"},
        "action": {
            "button": "Ver planes",
            "sections": [{"rows": [{"id": "r1", "title": "Sí"}, {"id": "r2", "title": "No"}]}],
        },
    }


def test_ten_rows_in_all_is_the_limit_across_sections() -> None:
    ten = a_list(
        ListSection(title="A", rows=rows(*[f"A{n}" for n in range(6)])),
        ListSection(title="B", rows=rows(*[f"B{n}" for n in range(4)], start=7)),
    )
    interactive_list_check(ten)
    eleven = a_list(
        ListSection(title="A", rows=rows(*[f"A{n}" for n in range(6)])),
        ListSection(title="B", rows=rows(*[f"B{n}" for n in range(5)], start=7)),
    )
    error = refusal(eleven)
    assert error.message == "A list has at most 10 rows in all; it has 11: remove 1."
    assert error.details == {"sections": [error.message]}


def test_titles_descriptions_and_button_longer_than_meta_allows_are_refused_by_field() -> None:
    spec = a_list(
        ListSection(
            title="Planes de fibra óptica hogar",  # 28 characters
            rows=(
                ListRow(id="a", title="Fibra 1000 Mb con router Wi-Fi 6"),  # 32
                ListRow(id="b", title="600 Mb", description="x" * 73),
            ),
        ),
        button="Elegí el plan que quieras",  # 25
        header="h" * 61,
    )
    error = refusal(spec)
    assert error.details == {
        "button": [
            "Write the text of the button that opens the list, 1 to 20 characters (it has 25)."
        ],
        "header": ["Shorten the header to 60 characters (it has 61), or leave it empty."],
        "sections.0.title": ["Shorten the title of section 1 to 24 characters (it has 28)."],
        "sections.0.rows.0.title": [
            "Shorten the title of row 1 (“Fibra 1000 Mb con router Wi-Fi 6”) to 24 characters "
            "(it has 32); put the rest in its description."
        ],
        "sections.0.rows.1.description": [
            "Shorten the description of row 2 to 72 characters (it has 73)."
        ],
    }
    assert error.message.startswith("Write the text of the button that opens the list")


def test_several_sections_each_need_a_title_and_a_row() -> None:
    spec = a_list(
        ListSection(title="Fibra", rows=rows("300 Mb")),
        ListSection(title="", rows=rows("Fibra + TV", start=2)),
        ListSection(title="Móvil", rows=()),
    )
    assert refusal(spec).details == {
        "sections.1.title": [
            "Give section 2 a title of 1 to 24 characters: a list with several sections "
            "shows their titles."
        ],
        "sections.2.rows": ["Section 3 has no rows: add a row or remove the section."],
    }


def test_rows_need_their_own_title_and_id_and_the_list_a_message() -> None:
    spec = a_list(
        ListSection(
            title="",
            rows=(
                ListRow(id="same", title="300 Mb"),
                ListRow(id="same", title="300 MB"),
                ListRow(id="c", title="", description="sin título"),
            ),
        ),
        body="  ",
    )
    assert refusal(spec).details == {
        "body": ["Write the list's message, 1 to 1024 characters (it has 0)."],
        "sections.0.rows.1.title": ["Two rows are called “300 MB”: give each row its own title."],
        "sections.0.rows.1.id": ["Row 2 repeats the id “same”: every row needs its own id."],
        "sections.0.rows.2.title": ["Give row 3 a title of 1 to 24 characters."],
    }


def test_an_empty_list_is_refused() -> None:
    assert refusal(a_list()).details == {"sections": ["Add at least one row to the list."]}


# --- the composer's list builder ------------------------------------------------------------


def open_conversation(world: World) -> Conversation:
    return conversation_for(make_channel(world.operator), wa_id=WA_ID, last_inbound_at=recent())


def list_url(conversation: Conversation) -> str:
    return reverse("inbox:list_send", args=[conversation.pk])


def test_the_composer_offers_the_list_builder_inside_the_window(world: World) -> None:
    conversation = open_conversation(world)
    html = signed_in(world.agent).get(reverse("inbox:thread", args=[conversation.pk])).content
    page = html.decode()
    assert f'action="{list_url(conversation)}"' in page
    for name in ("list-body", "list-button", "list-header", "list-footer", "section-0-title"):
        assert f'name="{name}"' in page
    for row in range(3):
        assert f'name="section-0-row-{row}-title"' in page
        assert f'name="section-0-row-{row}-description"' in page
    assert 'name="section-0-row-3-title"' not in page
    assert "0 of 10 rows" in page


def test_the_agent_sends_a_list_in_sections_and_empty_rows_are_left_out(world: World) -> None:
    conversation = open_conversation(world)
    response = signed_in(world.agent).post(
        list_url(conversation),
        {
            "list-body": "¿Qué plan te interesa?",
            "list-button": "Ver planes",
            "list-footer": "Precios finales",
            "section-0-title": "Fibra",
            "section-0-row-0-title": "300 Mb",
            "section-0-row-0-description": "Para 2 o 3 personas",
            "section-0-row-1-title": "",
            "section-0-row-2-title": "600 Mb",
            "section-1-title": "Combos",
            "section-1-row-0-title": "Fibra + TV",
            "section-2-title": "",
            "section-2-row-0-title": "",
        },
        headers=htmx(None),
    )
    assert response.status_code == 200, response.content.decode()
    message = Message.objects.get(conversation=conversation)
    assert (message.kind, message.body, message.status, message.created_by) == (
        Message.Kind.INTERACTIVE,
        "¿Qué plan te interesa?",
        MessageStatus.QUEUED,
        world.agent,
    )
    assert message.payload["interactive"] == {
        "type": "list",
        "body": {"text": "¿Qué plan te interesa?"},
        "footer": {"text": "Precios finales"},
        "action": {
            "button": "Ver planes",
            "sections": [
                {
                    "title": "Fibra",
                    "rows": [
                        {
                            "id": "agent:list:1",
                            "title": "300 Mb",
                            "description": "Para 2 o 3 personas",
                        },
                        {"id": "agent:list:2", "title": "600 Mb"},
                    ],
                },
                {"title": "Combos", "rows": [{"id": "agent:list:3", "title": "Fibra + TV"}]},
            ],
        },
    }
    # The composer comes back empty and the thread shows the list.
    html = response.content.decode()
    assert 'id="thread-messages" hx-swap-oob="innerHTML"' in html
    assert '<span class="bubble-button bubble-list-button">☰ Ver planes</span>' in html
    assert 'value="300 Mb"' not in html


def test_a_refused_list_keeps_what_the_agent_wrote_and_sends_nothing(world: World) -> None:
    conversation = open_conversation(world)
    response = signed_in(world.agent).post(
        list_url(conversation),
        {
            "list-body": "¿Qué plan te interesa?",
            "list-button": "Ver planes",
            "section-0-title": "Fibra",
            "section-0-row-0-title": "Fibra 1000 Mb con router Wi-Fi 6",
            "section-1-title": "",
            "section-1-row-0-title": "Fibra + TV",
        },
        headers=htmx(None),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert (
        "Shorten the title of row 1 (“Fibra 1000 Mb con router Wi-Fi 6”) to 24 characters "
        "(it has 32); put the rest in its description."
    ) in html
    assert "Give section 2 a title of 1 to 24 characters" in html
    assert '<details class="composer-list" data-keep="list" open>' in html
    kept = re.findall(r'name="(section-\d-row-\d-title)" data-name="[^"]+" value="([^"]*)"', html)
    assert kept == [
        ("section-0-row-0-title", "Fibra 1000 Mb con router Wi-Fi 6"),
        ("section-1-row-0-title", "Fibra + TV"),
    ]
    assert "¿Qué plan te interesa?</textarea>" in html
    assert not Message.objects.filter(conversation=conversation).exists()


def test_eleven_rows_from_the_builder_are_refused(world: World) -> None:
    conversation = open_conversation(world)
    form = {"list-body": "¿Cuál?", "list-button": "Ver"}
    form.update({f"section-0-row-{n}-title": f"Opción {n}" for n in range(11)})
    response = signed_in(world.agent).post(list_url(conversation), form, headers=htmx(None))
    assert response.status_code == 422
    assert "A list has at most 10 rows in all; it has 11: remove 1." in response.content.decode()
    assert not Message.objects.exists()


def test_another_organization_cannot_send_a_list_on_the_conversation(world: World) -> None:
    conversation = open_conversation(world)
    form = {"list-body": "¿Cuál?", "list-button": "Ver", "section-0-row-0-title": "Fibra"}
    for user in (world.outsider, world.reseller_agent):
        assert signed_in(user).post(list_url(conversation), form).status_code == 404
    assert not Message.objects.exists()


def test_an_email_conversation_takes_no_list(world: World) -> None:
    channel = Channel.objects.create(
        organization=world.operator,
        kind=Channel.Kind.EMAIL,
        name="Correo ventas",
        phone_number_id="",
    )
    conversation = conversation_for(channel, wa_id="juana@example.com", last_inbound_at=recent())
    response = signed_in(world.agent).post(
        list_url(conversation),
        {"list-body": "¿Cuál?", "list-button": "Ver", "section-0-row-0-title": "Fibra"},
        headers=htmx(None),
    )
    assert response.status_code == 422
    assert "Lists are a WhatsApp message" in response.content.decode()
    assert not Message.objects.exists()


# --- the thread -------------------------------------------------------------------------------


def test_a_sent_list_and_the_customers_choice_show_in_the_thread(world: World) -> None:
    conversation = open_conversation(world)
    spec = a_list(
        ListSection(
            title="Fibra",
            rows=(ListRow(id="f300", title="300 Mb", description="Para 2 o 3 personas"),),
        ),
        ListSection(title="Combos", rows=(ListRow(id="tv", title="Fibra + TV"),)),
        header="Planes Claro",
    )
    outbound(
        conversation,
        spec.body,
        kind=Message.Kind.INTERACTIVE,
        payload=interactive_list_payload(WA_ID, spec),
    )
    Message.objects.create(
        organization_id=conversation.organization_id,
        channel=conversation.channel,
        conversation=conversation,
        direction=Message.Direction.INBOUND,
        provider_message_id="wamid.list-reply",
        kind=Message.Kind.INTERACTIVE,
        body="Fibra + TV",
        reply_payload="tv",
        status=MessageStatus.RECEIVED,
        payload={
            "type": "interactive",
            "interactive": {
                "type": "list_reply",
                "list_reply": {"id": "tv", "title": "Fibra + TV"},
            },
        },
    )
    html = (
        signed_in(world.agent)
        .get(reverse("inbox:messages", args=[conversation.pk]))
        .content.decode()
    )
    assert '<div class="bubble-header">Planes Claro</div>' in html
    assert '<li class="bubble-list-section">Combos</li>' in html
    assert (
        '<li class="bubble-list-row"><span>300 Mb</span><small>Para 2 o 3 personas</small></li>'
        in html
    )
    assert '<span class="bubble-tag">Chose from the list</span>' in html


# --- the API ------------------------------------------------------------------------------


def api_post(world: World, conversation: Conversation, body: dict[str, Any]) -> Any:
    return signed_in(world.agent).post(
        f"/api/v1/conversations/{conversation.pk}/interactive",
        json.dumps(body),
        content_type="application/json",
    )


def test_the_api_sends_a_list_in_sections_with_descriptions(world: World) -> None:
    conversation = open_conversation(world)
    answer = api_post(
        world,
        conversation,
        {
            "body": "¿Qué plan te interesa?",
            "list_button": "Ver planes",
            "header": "Planes Claro",
            "sections": [
                {
                    "title": "Fibra",
                    "rows": [{"id": "f300", "title": "300 Mb", "description": "2 o 3 personas"}],
                },
                {"title": "Combos", "rows": [{"id": "tv", "title": "Fibra + TV"}]},
            ],
        },
    )
    assert answer.status_code == 201, answer.content.decode()
    message = Message.objects.get(pk=answer.json()["id"])
    assert message.payload["interactive"]["header"] == {"type": "text", "text": "Planes Claro"}
    assert message.payload["interactive"]["action"]["sections"] == [
        {
            "title": "Fibra",
            "rows": [{"id": "f300", "title": "300 Mb", "description": "2 o 3 personas"}],
        },
        {"title": "Combos", "rows": [{"id": "tv", "title": "Fibra + TV"}]},
    ]


def test_the_api_keeps_rows_as_a_one_section_list(world: World) -> None:
    conversation = open_conversation(world)
    answer = api_post(
        world,
        conversation,
        {
            "body": "¿Cuál?",
            "list_button": "Ver",
            "rows": [{"id": "a", "title": "Fibra"}, {"id": "b", "title": "Porta"}],
        },
    )
    assert answer.status_code == 201, answer.content.decode()
    message = Message.objects.get(pk=answer.json()["id"])
    assert message.payload["interactive"]["action"] == {
        "button": "Ver",
        "sections": [{"rows": [{"id": "a", "title": "Fibra"}, {"id": "b", "title": "Porta"}]}],
    }


def test_the_api_refuses_eleven_rows_across_sections_and_mixed_shapes(world: World) -> None:
    conversation = open_conversation(world)

    def section(title: str, count: int, start: int) -> dict[str, Any]:
        rows = [{"id": f"{title}{n}", "title": f"{title} {n}"} for n in range(start, start + count)]
        return {"title": title, "rows": rows}

    too_many = api_post(
        world,
        conversation,
        {
            "body": "¿Cuál?",
            "list_button": "Ver",
            "sections": [section("A", 6, 0), section("B", 5, 0)],
        },
    )
    assert too_many.status_code == 422
    assert too_many.json()["details"]["sections"] == [
        "A list has at most 10 rows in all; it has 11: remove 1."
    ]
    both = api_post(
        world,
        conversation,
        {
            "body": "¿Cuál?",
            "list_button": "Ver",
            "rows": [{"id": "a", "title": "Fibra"}],
            "sections": [section("A", 1, 0)],
        },
    )
    assert both.status_code == 422
    buttons_and_list = api_post(
        world,
        conversation,
        {
            "body": "¿Cuál?",
            "buttons": [{"id": "a", "title": "Fibra"}],
            "rows": [{"id": "b", "title": "Porta"}],
            "list_button": "Ver",
        },
    )
    assert buttons_and_list.status_code == 409
    assert buttons_and_list.json()["details"]["reason"] == ["bad_interactive"]
    assert not Message.objects.exists()

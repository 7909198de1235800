"""The inbox in a real Chromium: a customer writes from the phone simulator, the agent
answers with a quick reply, and the ticks follow the sandbox's status webhooks; the
composer follows the 24-hour window live; the agent sends a list and the customer
picks a row; a customer's e-mail with a PDF shows its file, which downloads intact."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from tests.conftest import PASSWORD, make_organization, make_user
from tests.messaging.helpers import make_channel
from tests.messaging.outbox_helpers import make_template
from tests.messaging.test_email_support import free_port, make_email_channel

from e2e.conftest import Screenshot
from telcodesk.accounts.roles import Role
from telcodesk.mailsandbox.smtp import MailSandbox
from telcodesk.messaging.email import email_send
from telcodesk.messaging.models import Conversation, Message, QuickReply, SandboxMessage
from telcodesk.messaging.providers.sandbox import http_poster, sandbox_phone_message, signed_post

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WA_ID = "59171234567"


@pytest.fixture(autouse=True)
def _sandbox(settings: Any, tmp_path: Path) -> None:
    settings.TELCODESK_SANDBOX_MEDIA_DIR = str(tmp_path / "sandbox-media")
    settings.TELCODESK_SANDBOX_STATUS_WEBHOOKS = True


def test_an_agent_answers_a_simulator_message_with_a_quick_reply_and_sees_it_read(
    page: Page, live_server: Any, screenshot: Screenshot
) -> None:
    base_url = str(live_server)
    operator = make_organization("comteco-inbox", name="COMTECO")
    make_user("ana", operator, Role.AGENT, first_name="Ana", last_name="Quispe")
    channel = make_channel(operator, api_base_url=base_url + "/messaging/sandbox/graph")
    QuickReply.objects.create(
        organization=operator,
        shortcut="saludo",
        title="Saludo",
        body="¡Hola {customer_name}! Soy {agent_name}. ¿En qué zona vivís?",
        language="es",
    )
    # The customer writes from the simulated phone: a signed webhook over real HTTP.
    _record, body = sandbox_phone_message(
        channel=channel, wa_id=WA_ID, name="Juana Mamani", text="Hola, ¿tienen fibra?"
    )
    assert signed_post(channel, body, http_poster(base_url)) == 200

    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("User name").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#nav-inbox-unread")).to_have_text("1")

    page.get_by_role("link", name="Inbox").click()
    row = page.locator(".inbox-row", has_text="Juana Mamani")
    expect(row.locator(".unread-badge")).to_have_text("1")
    row.get_by_role("link").click()
    expect(page.locator(".bubble-in")).to_contain_text("Hola, ¿tienen fibra?")
    expect(page.locator("#window-state")).to_contain_text("open, closes in 23 h")
    screenshot("01-thread")

    box = page.locator("#composer-body")
    box.click()
    box.type("#sal")
    suggestion = page.locator("#composer-suggest li", has_text="#saludo")
    expect(suggestion).to_be_visible()
    box.press("Enter")  # takes the highlighted quick reply
    expect(box).to_have_value("¡Hola Juana! Soy Ana. ¿En qué zona vivís?")
    screenshot("02-quick-reply")
    box.press("Enter")  # sends

    bubble = page.locator(".bubble-out", has_text="¿En qué zona vivís?")
    expect(bubble).to_be_visible()
    expect(box).to_have_value("")
    # The sandbox posts sent → delivered → read a second apart; the thread polls.
    expect(bubble.locator(".tick-read")).to_be_visible(timeout=20_000)
    screenshot("03-read")

    message = Message.objects.get(direction="out")
    assert (message.body, message.status, message.created_by.username) == (  # type: ignore[union-attr]
        "¡Hola Juana! Soy Ana. ¿En qué zona vivís?",
        "read",
        "ana",
    )
    assert SandboxMessage.objects.filter(wamid=message.provider_message_id).exists()


def sign_in_as_ana(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("User name").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Inbox")).to_be_visible()


def customer_writes(phone: Page, text: str) -> None:
    phone.get_by_label("Message").fill(text)
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(phone.locator(".bubble.from_phone", has_text=text)).to_be_visible()


def test_the_composer_turns_to_free_text_when_the_customer_writes_while_it_is_open(
    page: Page, live_server: Any, screenshot: Screenshot
) -> None:
    """Template-only (the customer wrote two days ago) → the customer writes from the
    phone simulator → the open composer becomes free text, without a reload, keeping
    what the agent had typed into a template parameter."""
    base_url = str(live_server)
    operator = make_organization("comteco-window", name="COMTECO")
    make_user("ana", operator, Role.AGENT, first_name="Ana", last_name="Quispe")
    channel = make_channel(operator, api_base_url=base_url + "/messaging/sandbox/graph")
    make_template(channel)
    _record, body = sandbox_phone_message(
        channel=channel, wa_id=WA_ID, name="Juana Mamani", text="Hola, ¿tienen fibra?"
    )
    assert signed_post(channel, body, http_poster(base_url)) == 200
    conversation = Conversation.objects.get(channel=channel)
    Conversation.objects.filter(pk=conversation.pk).update(
        last_inbound_at=timezone.now() - timedelta(days=2)
    )

    sign_in_as_ana(page, base_url)
    page.goto(f"{base_url}/inbox/{conversation.pk}/")
    composer = page.locator("#composer")
    expect(composer).to_have_attribute("data-window", "closed")
    expect(page.locator("#window-state")).to_contain_text(
        "closed: only approved templates can be sent"
    )
    expect(page.locator("#composer-body")).to_have_count(0)
    expect(composer.get_by_text("Attach a file")).to_have_count(0)
    parameter = page.locator('[data-template="en_cobertura"] input[name="params"]')
    parameter.fill("Juanita")
    page.evaluate("window.__sameDocument = true")
    screenshot("01-template-only")

    phone = page.context.new_page()
    phone.goto(f"{base_url}/messaging/sandbox/phone/{channel.pk}/?wa_id={WA_ID}&name=Juana Mamani")
    customer_writes(phone, "Sigo interesada, ¿me cuentan?")

    # The thread polls every 4 s: the new message arrives and the composer redraws.
    expect(page.locator(".bubble-in", has_text="Sigo interesada")).to_be_visible(timeout=15_000)
    expect(composer).to_have_attribute("data-window", "open", timeout=10_000)
    expect(page.locator("#window-state")).to_contain_text("open, closes in 23 h 59 min")
    expect(page.locator("#composer-body")).to_be_visible()
    expect(composer.get_by_text("Attach a file")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True  # no reload
    expect(parameter).to_have_value("Juanita")  # carried over into the new composer
    screenshot("02-free-text")

    box = page.locator("#composer-body")
    box.fill("¡Hola Juana! ¿En qué zona vivís?")
    box.press("Enter")
    expect(page.locator(".bubble-out", has_text="¿En qué zona vivís?")).to_be_visible()
    expect(phone.locator(".bubble.to_phone", has_text="¿En qué zona vivís?")).to_be_visible(
        timeout=15_000
    )
    message = Message.objects.get(direction="out")
    assert (message.kind, message.body) == ("text", "¡Hola Juana! ¿En qué zona vivís?")


def test_the_composer_turns_template_only_when_the_window_closes_while_it_is_open(
    page: Page, live_server: Any, screenshot: Screenshot
) -> None:
    """The window closes seconds after the agent opened the thread: the composer turns
    template-only by itself, the typed text stays, and sending it is refused."""
    base_url = str(live_server)
    operator = make_organization("comteco-closing", name="COMTECO")
    make_user("ana", operator, Role.AGENT, first_name="Ana", last_name="Quispe")
    channel = make_channel(operator, api_base_url=base_url + "/messaging/sandbox/graph")
    make_template(channel)
    _record, body = sandbox_phone_message(
        channel=channel, wa_id=WA_ID, name="Juana Mamani", text="Hola, ¿tienen fibra?"
    )
    assert signed_post(channel, body, http_poster(base_url)) == 200
    conversation = Conversation.objects.get(channel=channel)

    sign_in_as_ana(page, base_url)
    # 24 hours minus a few seconds ago: the window closes while the thread is open.
    Conversation.objects.filter(pk=conversation.pk).update(
        last_inbound_at=timezone.now() - timedelta(hours=24) + timedelta(seconds=6)
    )
    page.goto(f"{base_url}/inbox/{conversation.pk}/")
    composer = page.locator("#composer")
    expect(composer).to_have_attribute("data-window", "open")
    expect(page.locator("#window-state")).to_contain_text("open, closes in less than a minute")
    box = page.locator("#composer-body")
    box.fill("¿Seguís interesada?")

    expect(composer).to_have_attribute("data-window", "closed", timeout=20_000)
    expect(page.locator("#window-state")).to_contain_text(
        "closed: only approved templates can be sent"
    )
    expect(composer.get_by_text("Attach a file")).to_have_count(0)
    expect(page.locator('[data-template="en_cobertura"]')).to_be_visible()
    expect(box).to_have_value("¿Seguís interesada?")  # kept, to copy into a template
    screenshot("01-closed")

    box.press("Enter")
    expect(page.locator(".composer-error")).to_contain_text(
        "The customer has not written in the last 24 hours"
    )
    expect(box).to_have_value("¿Seguís interesada?")
    assert not Message.objects.filter(direction="out").exists()


def test_the_agent_builds_a_list_in_two_sections_and_the_customer_picks_a_row(
    page: Page, live_server: Any, screenshot: Screenshot
) -> None:
    base_url = str(live_server)
    operator = make_organization("comteco-list", name="COMTECO")
    make_user("ana", operator, Role.AGENT, first_name="Ana", last_name="Quispe")
    channel = make_channel(operator, api_base_url=base_url + "/messaging/sandbox/graph")
    _record, body = sandbox_phone_message(
        channel=channel, wa_id=WA_ID, name="Juana Mamani", text="¿Qué planes tienen?"
    )
    assert signed_post(channel, body, http_poster(base_url)) == 200
    conversation = Conversation.objects.get(channel=channel)

    sign_in_as_ana(page, base_url)
    page.goto(f"{base_url}/inbox/{conversation.pk}/")
    page.locator(".composer-list summary").click()
    builder = page.locator(".composer-list-form")
    builder.locator("[name=list-body]").fill("¿Qué plan te interesa?")
    builder.locator("[name=list-button]").fill("Ver planes")
    builder.locator("[name=section-0-title]").fill("Fibra")
    builder.get_by_label("Row 1", exact=True).fill("300 Mb")
    builder.get_by_label("Description of row 1").fill("Para 2 o 3 personas")
    builder.get_by_label("Row 2", exact=True).fill("600 Mb")
    expect(builder.locator("[data-list-count]")).to_have_text("2 of 10 rows")
    builder.get_by_role("button", name="Add a section").click()
    expect(builder.locator("legend", has_text="Section 2")).to_be_visible()
    builder.locator("[name=section-1-title]").fill("Combos")
    # The new section's row is number 4: rows count across the whole list.
    builder.get_by_label("Row 4", exact=True).fill("Fibra + TV")
    expect(builder.locator("[data-list-count]")).to_have_text("3 of 10 rows")
    screenshot("01-list-builder")
    builder.get_by_role("button", name="Send the list").click()

    bubble = page.locator(".bubble-out", has_text="¿Qué plan te interesa?")
    expect(bubble.locator(".bubble-list-section", has_text="Combos")).to_be_visible()
    expect(bubble.locator(".bubble-list-row", has_text="Para 2 o 3 personas")).to_be_visible()
    message = Message.objects.get(direction="out")
    sections = message.payload["interactive"]["action"]["sections"]
    assert [(s["title"], [r["title"] for r in s["rows"]]) for s in sections] == [
        ("Fibra", ["300 Mb", "600 Mb"]),
        ("Combos", ["Fibra + TV"]),
    ]

    phone = page.context.new_page()
    phone.goto(f"{base_url}/messaging/sandbox/phone/{channel.pk}/?wa_id={WA_ID}&name=Juana Mamani")
    offer = phone.locator(".bubble.to_phone", has_text="¿Qué plan te interesa?")
    expect(offer).to_be_visible(timeout=15_000)
    offer.get_by_role("button", name="Fibra + TV").click()
    expect(phone.locator(".bubble.from_phone", has_text="Fibra + TV")).to_be_visible()

    choice = page.locator(".bubble-in", has_text="Fibra + TV")
    expect(choice).to_be_visible(timeout=15_000)
    expect(choice.locator(".bubble-tag")).to_have_text("Chose from the list")
    screenshot("02-chosen")
    reply = Message.objects.get(direction="in", reply_payload="agent:list:3")
    assert reply.body == "Fibra + TV"


PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8


def test_a_customers_mail_with_a_pdf_shows_the_file_and_it_downloads_intact(
    page: Page, live_server: Any, settings: Any, tmp_path: Path, screenshot: Screenshot
) -> None:
    """The customer answers our mail from the mailbox simulator with a PDF attached; the
    agent sees the file under the mail in the thread and downloads the same bytes."""
    base_url = str(live_server)
    settings.TELCODESK_MAIL_SANDBOX_PORT = free_port()
    settings.TELCODESK_SANDBOX_WEBHOOK_BASE_URL = base_url
    operator = make_organization("comteco-mail", name="COMTECO")
    make_user("ana", operator, Role.AGENT, first_name="Ana", last_name="Quispe")
    with MailSandbox() as mail_sandbox:
        channel = make_email_channel(operator, port=mail_sandbox.port)
        sent = email_send(
            actor_or_none=None,
            organization=operator,
            to_address="juana@example.com",
            subject="Tu factura de mayo",
            body="Hola Juana, ¿nos mandás el comprobante?",
        )
        sign_in_as_ana(page, base_url)

        mailbox = page.context.new_page()
        mailbox.goto(f"{base_url}/mailsandbox/{channel.pk}/?address=juana@example.com")
        expect(mailbox.locator(".mail.to_mailbox", has_text="Tu factura de mayo")).to_be_visible()
        mailbox.get_by_label("Reply", exact=True).fill("Va el comprobante.")
        pdf_path = tmp_path / "comprobante.pdf"
        pdf_path.write_bytes(PDF)
        mailbox.locator("#reply-attachment").set_input_files(str(pdf_path))
        mailbox.get_by_role("button", name="Send reply").click()
        expect(
            mailbox.locator(".mail.from_mailbox", has_text="Attached file: comprobante.pdf")
        ).to_be_visible()

    page.goto(f"{base_url}/inbox/{sent.conversation_id}/")
    bubble = page.locator(".bubble-in", has_text="Va el comprobante.")
    expect(bubble).to_be_visible()
    link = bubble.get_by_role("link", name="comprobante.pdf")
    expect(link).to_be_visible()
    expect(bubble.locator(".bubble-file-meta")).to_have_text("application/pdf · 2.0\xa0KB")
    expect(bubble.locator(".bubble-thumbnail")).to_have_count(0)
    screenshot("01-mail-with-pdf")

    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "comprobante.pdf"
    assert Path(download.path()).read_bytes() == PDF
    inbound = Message.objects.get(conversation_id=sent.conversation_id, direction="in")
    assert inbound.payload["attachments"] == [
        {"filename": "comprobante.pdf", "content_type": "application/pdf", "size": len(PDF)}
    ]

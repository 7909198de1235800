"""The inbox in a real Chromium: a customer writes from the phone simulator, the agent
answers with a quick reply, and the ticks follow the sandbox's status webhooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.conftest import PASSWORD, make_organization, make_user
from tests.messaging.helpers import make_channel

from e2e.conftest import Screenshot
from telcodesk.accounts.roles import Role
from telcodesk.messaging.models import Message, QuickReply, SandboxMessage
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

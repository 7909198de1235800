"""The Claro Argentina reseller's WhatsApp lead flow in a real Chromium.

1. A customer writes from the phone simulator → a lead appears in FIBRA → the agent
   takes it, fills the address and checks coverage → the lead moves to "Con Cobertura"
   and the /En cober bot arrives on the simulator → the customer taps a button → the
   lead jumps to "Respondió oferta" at the top of the agent's queue → losing it without
   a reason is refused → winning it sends /Ganado Fibra to the simulator.
2. Time travel: the agent fires /tramite fibra from the inbox → "Aguardando datos";
   15 minutes later without a reply the timer tick creates the "call the customer" task
   and the lead is in the queue as "Call now".

Everything is real: the pack, the coverage demo data, the webhook signed by the
simulator, the outbox sending through the WhatsApp Cloud client to the sandbox over
HTTP, and the durable timer fired by the tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect
from tests.conftest import PASSWORD, make_user
from tests.messaging.helpers import make_channel

from e2e.conftest import Screenshot
from telcodesk.accounts.models import Organization, User
from telcodesk.accounts.roles import Role
from telcodesk.automation.tick import drain
from telcodesk.coverage.demo import coverage_demo_load
from telcodesk.messaging.models import Channel, SandboxMessage
from telcodesk.packs.loader import pack_load
from telcodesk.pipelines.models import Lead, LeadTask, Pipeline

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WA_ID = "5491155550123"
CUSTOMER = "Martina Gómez"


@pytest.fixture(autouse=True)
def _sandbox(settings: Any, tmp_path: Path) -> None:
    settings.TELCODESK_SANDBOX_MEDIA_DIR = str(tmp_path / "sandbox-media")
    settings.TELCODESK_SANDBOX_STATUS_WEBHOOKS = False


@dataclass
class Shop:
    base_url: str
    reseller: Organization
    agent: User
    channel: Channel

    def url(self, name: str, *args: object) -> str:
        return self.base_url + reverse(name, args=args)

    @property
    def fibra(self) -> Pipeline:
        return Pipeline.objects.get(organization=self.reseller, name="FIBRA")

    def lead(self) -> Lead:
        return Lead.objects.select_related("stage").get(organization=self.reseller)


@pytest.fixture
def shop(live_server: Any, transactional_db: None) -> Shop:
    pack_load("claro-ar-reseller")
    coverage_demo_load()
    reseller = Organization.objects.get(slug="claro-ar-reseller")
    agent = make_user("lucia", reseller, Role.AGENT, first_name="Lucía", last_name="Pérez")
    base_url = str(live_server)
    channel = make_channel(
        reseller,
        phone_number_id="sandbox-claro-e2e",
        display_phone="+54 11 5555-0000",
        api_base_url=base_url + "/messaging/sandbox/graph",
    )
    return Shop(base_url=base_url, reseller=reseller, agent=agent, channel=channel)


def sign_in(page: Page, shop: Shop) -> None:
    page.goto(shop.url("accounts:login"))
    page.get_by_label("User name").fill("lucia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Inbox")).to_be_visible()


def customer_writes(phone: Page, text: str) -> None:
    box = phone.get_by_label("Message")
    box.fill(text)
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(phone.locator(".bubble.from_phone", has_text=text)).to_be_visible()


def open_simulator(page: Page, shop: Shop) -> Page:
    phone = page.context.new_page()
    phone.goto(
        shop.url("messaging:sandbox_phone", shop.channel.pk) + f"?wa_id={WA_ID}&name={CUSTOMER}"
    )
    return phone


def test_a_whatsapp_lead_from_first_message_to_won(
    page: Page, shop: Shop, screenshot: Screenshot
) -> None:
    sign_in(page, shop)
    phone = open_simulator(page, shop)
    customer_writes(phone, "Hola, quiero fibra en mi casa")

    # The lead is on the FIBRA board, in the incoming stage, with nobody working it.
    page.goto(shop.url("pipelines:board", shop.fibra.pk))
    card = page.get_by_role("link", name=CUSTOMER)
    expect(card).to_be_visible()
    lead = shop.lead()
    assert (lead.stage.name, lead.owner_id, lead.source) == ("Leads entrantes", None, "channel")
    screenshot("01-board")

    card.click()
    page.get_by_role("button", name="Take this lead").click()
    expect(page.get_by_text("You work this lead now.")).to_be_visible()
    page.locator("[name=installation_address]").fill("Av. Rivadavia 5200, Caballito, CABA")
    page.locator("[name=floors]").fill("3")
    page.locator("[name=apartments]").fill("6")
    page.locator("[name=has_box]").select_option("true")
    page.get_by_role("button", name="Save data").click()
    expect(page.locator("[name=installation_address]")).to_have_value(
        "Av. Rivadavia 5200, Caballito, CABA"
    )

    page.get_by_role("button", name="Check coverage").click()
    expect(page.locator("#stage-title")).to_have_text("Stage: Con Cobertura")
    screenshot("02-covered")

    # /En cober went out through the outbox to the sandbox; the customer sees it.
    offer = phone.locator(".bubble.to_phone", has_text="Tu dirección tiene cobertura")
    expect(offer).to_be_visible(timeout=15_000)
    phone.screenshot(path=str(Path(screenshot("03-page")).with_name("phone-offer.png")))
    offer.get_by_role("button", name="600 Mb").click()
    expect(phone.locator(".bubble.from_phone", has_text="600 Mb")).to_be_visible()

    # The reply moved the lead to "Respondió oferta", first in the agent's queue.
    page.goto(shop.url("pipelines:queue"))
    first = page.locator("#queue > li").first
    expect(first).to_contain_text(CUSTOMER)
    expect(first).to_contain_text("Respondió oferta")
    expect(first).to_contain_text("Replied to an offer")
    screenshot("04-queue")

    first.get_by_role("link").click()
    expect(page.locator("#stage-title")).to_have_text("Stage: Respondió oferta")
    page.get_by_role("button", name="Close as lost").click()
    expect(page.locator("#lead-actions")).to_contain_text("Choose why the lead is lost")
    assert shop.lead().is_open
    screenshot("05-loss-refused")

    page.get_by_role("button", name="Win").click()
    expect(page.locator("#stage-title")).to_have_text("Stage: Ganados")
    won = phone.locator(".bubble.to_phone", has_text="Tu solicitud de Claro Fibra quedó cargada")
    expect(won).to_be_visible(timeout=15_000)
    screenshot("06-won")

    sent = list(
        SandboxMessage.objects.filter(direction="to_phone", wa_id=WA_ID)
        .order_by("created_at")
        .values_list("text", flat=True)
    )
    assert len(sent) == 2
    assert "Tu dirección tiene cobertura de Claro Fibra" in sent[0]
    assert "Tu solicitud de Claro Fibra quedó cargada" in sent[1]


def test_no_reply_15_minutes_after_asking_for_the_data_makes_a_call_task(
    page: Page, shop: Shop, screenshot: Screenshot
) -> None:
    sign_in(page, shop)
    phone = open_simulator(page, shop)
    customer_writes(phone, "Hola, ya tengo cobertura, ¿qué necesitan?")

    lead = shop.lead()
    page.goto(shop.url("pipelines:lead", lead.pk))
    page.get_by_role("button", name="Take this lead").click()
    expect(page.get_by_text("You work this lead now.")).to_be_visible()

    # The agent fires the bot from the inbox with a slash command.
    page.goto(shop.url("inbox:thread", lead.conversation_id))
    box = page.locator("#composer-body")
    box.fill("/tramite fibra")
    page.locator("#composer").get_by_role("button", name="Send", exact=True).click()
    expect(
        page.locator(".bubble-out", has_text="Para cargar tu solicitud de fibra")
    ).to_be_visible()
    expect(
        phone.locator(".bubble.to_phone", has_text="Para cargar tu solicitud de fibra")
    ).to_be_visible(timeout=15_000)
    lead.refresh_from_db()
    assert lead.stage.name == "Aguardando datos"
    screenshot("01-asked-for-data")

    # Time travel: the tick runs 16 minutes later and the customer never answered.
    assert not LeadTask.objects.filter(lead=lead).exists()
    drain(now=timezone.now() + timedelta(minutes=16))
    task = LeadTask.objects.get(lead=lead, kind=LeadTask.Kind.CALL_CUSTOMER)
    assert (task.priority, task.assigned_to_id, task.done_at) == ("high", shop.agent.pk, None)

    page.goto(shop.url("pipelines:queue"))
    first = page.locator("#queue > li").first
    expect(first).to_contain_text(CUSTOMER)
    expect(first).to_contain_text("Call now")
    page.goto(shop.url("pipelines:lead", lead.pk))
    expect(page.locator("#lead-timeline")).to_contain_text(task.title)
    expect(page.locator("#lead-notification-count")).to_have_text("1")
    screenshot("02-call-task")

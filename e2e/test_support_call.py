"""The ISP's Process 2 (a support call) with the wisp-mx pack, in a real Chromium.

The customer has written on WhatsApp (the phone simulator) and calls. The agent opens
"Guided call" and is walked through the playbook step by step: the greeting with the
provider's and the agent's names, technical or administrative, finding the customer by
name (two customers are called so: the agent clicks the one with the service), confirming
phone and e-mail, the ticket, the five key questions, the four validations against the
real demo OLT (snmpsim over SNMP) and real ICMP to the CPE, the
advice step (a required item left open is refused until a reason is written), the
technical visit within 24-48 business hours, the ticket number sent on WhatsApp, the
NPS survey, and the closing. The ticket number and the survey arrive on the simulator,
and the customer answers the survey with two taps.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect
from tests.conftest import PASSWORD, make_user
from tests.messaging.helpers import make_channel

from e2e.conftest import Screenshot
from telcodesk.accounts.models import Organization, User
from telcodesk.accounts.roles import Role
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer
from telcodesk.customers.services import address_add, customer_create, subscription_create
from telcodesk.messaging.models import Channel, Template
from telcodesk.network.demo.agent import SnmpSimulator
from telcodesk.network.demo.seed import demo_network_seed
from telcodesk.network.models import DiagnosticRun
from telcodesk.nps.models import Survey
from telcodesk.packs.loader import pack_load
from telcodesk.playbooks.models import PlaybookRun, RunItem
from telcodesk.tickets.models import Ticket, TicketStatus
from telcodesk.visits.models import Visit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WA_ID = "525512345678"
CUSTOMER = "Carmen Ruiz"


@pytest.fixture(autouse=True)
def _sandbox(settings: Any, tmp_path: Path) -> None:
    settings.TELCODESK_SANDBOX_MEDIA_DIR = str(tmp_path / "sandbox-media")
    settings.TELCODESK_SANDBOX_STATUS_WEBHOOKS = False


@pytest.fixture(scope="module")
def olt() -> Iterator[SnmpSimulator]:
    with SnmpSimulator() as simulator:
        yield simulator


@dataclass
class Isp:
    base_url: str
    organization: Organization
    agent: User
    channel: Channel
    customer: Customer

    def url(self, name: str, *args: object) -> str:
        return self.base_url + reverse(name, args=args)


@pytest.fixture
def isp(live_server: Any, transactional_db: None, olt: SnmpSimulator) -> Isp:
    pack_load("wisp-mx")
    organization = Organization.objects.get(slug="wisp-mx")
    # Meta approves the pack's utility templates (the sandbox has no review queue).
    Template.objects.filter(organization=organization).update(status=Template.Status.APPROVED)
    agent = make_user("rosa", organization, Role.AGENT, first_name="Rosa", last_name="Lima")
    admin = make_user("admin-wm", organization, Role.ADMIN)
    actor = Actor(organization=organization, role=Role.ADMIN, user=admin)
    customer = customer_create(
        actor=actor,
        first_name="Carmen",
        last_name="Ruiz",
        phones=[{"raw": "+52 55 1234 5678", "is_whatsapp": True}],
        emails=[{"raw": "carmen.ruiz@example.com"}],
    )
    address = address_add(
        actor=actor,
        customer=customer,
        purpose="installation",
        street="Calle Durango",
        number="215",
        neighbourhood="Roma Norte",
        city="Ciudad de México",
        state="CDMX",
        postal_code="06700",
        reference="Edificio gris, depto. 4",
    )
    subscription_create(
        actor=actor,
        customer=customer,
        service_id="WM-1001",
        contract_number="C-1001",
        service_type="fiber_ftth",
        plan_code="fibra-100",
        started_on=date(2025, 2, 1),
        installation_address_id=address.pk,
    )
    # A namesake without a service: the search by name offers both.
    customer_create(
        actor=actor, first_name="Carmen", last_name="Ruiz", phones=[{"raw": "+52 55 8765 4321"}]
    )
    # The good Huawei ONU (10 Mbps in use) and a CPE that answers ping (this machine).
    demo_network_seed(organization=organization, port=olt.port)
    base_url = str(live_server)
    channel = make_channel(
        organization,
        phone_number_id="sandbox-wisp-e2e",
        display_phone="+52 55 5000 0000",
        api_base_url=base_url + "/messaging/sandbox/graph",
    )
    return Isp(base_url, organization, agent, channel, customer)


def sign_in(page: Page, isp: Isp) -> None:
    page.goto(isp.url("accounts:login"))
    page.get_by_label("User name").fill("rosa")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Guided call")).to_be_visible()


class Panel:
    """The playbook side panel: every form posts with htmx and swaps the panel, so each
    interaction waits for its answer and the swap before the next one."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator(".playbook-panel")

    def _posting(self, interact: Any, timeout: float = 10_000) -> None:
        # The simulator's page was opened later and is in front; a page behind gets
        # about one animation frame a second, and Playwright waits for frames before
        # it clicks: put the console in front first.
        self.page.bring_to_front()
        with self.page.expect_response(
            lambda response: "/playbooks/" in response.url and response.request.method == "POST",
            timeout=timeout,
        ):
            interact()
        self.page.wait_for_function(
            "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')"
        )

    def at(self, step: str) -> None:
        expect(self.root).to_have_attribute("data-step", step)

    def check(self, item: str) -> None:
        self._posting(lambda: self.root.locator(f"input[data-item={item}]").check())
        expect(self.root.locator(f"input[data-item={item}]")).to_be_checked()

    def answer(self, question: str, value: str, *, choose: bool = False) -> None:
        form = self.root.locator(f"form[data-question={question}]")
        field = form.locator("[name=value]")
        if choose:
            field.select_option(value)
        else:
            field.fill(value)
        self._posting(lambda: form.get_by_role("button", name="Save answer").click())
        expect(self.root.locator(f"form[data-question={question}]")).to_contain_text("Answered")

    def act(self, action: str, *, timeout: float = 10_000) -> None:
        row = self.root.locator(f"li[data-action={action}]")
        self._posting(lambda: row.get_by_role("button").click(), timeout=timeout)
        expect(self.root.locator(f"li[data-action={action}] .help")).to_be_visible()

    def pick(self, action: str, label: str) -> None:
        """Click the candidate of ``action`` whose button says ``label``."""
        candidates = self.root.locator(f"li[data-action={action}] .playbook-candidates")
        button = candidates.get_by_role("button", name=re.compile(re.escape(label)))
        self._posting(lambda: button.click())
        expect(self.root.locator(f"li[data-action={action}] .playbook-candidates")).to_have_count(0)

    def press(self, name: str) -> None:
        self._posting(lambda: self.root.get_by_role("button", name=name).click())

    def complete(self, next_step: str | None) -> None:
        self.press("Complete the step")
        if next_step is not None:
            self.at(next_step)


def test_the_full_process_2_call_from_greeting_to_ticket_number_and_nps(
    page: Page, isp: Isp, screenshot: Screenshot
) -> None:
    sign_in(page, isp)
    phone = page.context.new_page()
    phone.goto(
        isp.url("messaging:sandbox_phone", isp.channel.pk) + f"?wa_id={WA_ID}&name={CUSTOMER}"
    )
    phone.get_by_label("Message").fill("Hola, el internet se me corta a cada rato")
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(phone.locator(".bubble.from_phone")).to_have_count(1)

    # The customer calls: the agent starts the guided call.
    page.get_by_role("link", name="Guided call").click()
    page.locator("[data-playbook=atencion-llamada]").click()
    panel = Panel(page)

    # PASO 1: the greeting names the provider and the agent.
    panel.at("saludo")
    expect(panel.root.locator(".playbook-script")).to_contain_text(
        "se comunica a WISP México. Le atiende Rosa"
    )
    panel.check("titular")
    panel.check("escuchar")
    panel.answer("tipo_problema", "technical", choose=True)
    screenshot("01-greeting")
    panel.complete("identificacion")

    # PASO 2: two customers are called Carmen Ruiz: the agent picks the one with the
    # service WM-1001; phone and e-mail confirmed.
    panel.answer("busqueda", CUSTOMER)
    panel.act("identify_customer")
    expect(panel.root.locator(".playbook-candidate")).to_have_count(2)
    panel.pick("identify_customer", "WM-1001")
    expect(panel.root.locator("li[data-action=identify_customer]")).to_contain_text(CUSTOMER)
    assert PlaybookRun.objects.get().customer_id == isp.customer.pk
    panel.answer("telefono_vigente", "yes", choose=True)
    panel.answer("correo_vigente", "yes", choose=True)
    panel.act("confirm_contact")
    panel.complete("ticket")

    # PASO 3: the ticket, filled in as the call goes on.
    panel.answer("motivo", "Internet intermitente desde el lunes")
    panel.answer("subcategoria", "intermitencia", choose=True)
    panel.act("create_ticket")
    ticket = Ticket.objects.get(organization=isp.organization)
    number = ticket.display_number
    expect(panel.root.locator("li[data-action=create_ticket]")).to_contain_text(number)
    panel.complete("preguntas")

    # The five key questions go into the ticket.
    panel.answer("desde_cuando", "Desde el lunes, sobre todo en la noche")
    panel.answer("dispositivos", "all", choose=True)
    panel.answer("conexion", "wifi", choose=True)
    panel.answer("marca", "Samsung")
    panel.answer("personas", "4 personas, 9 dispositivos")
    panel.answer("intermitencia", "yes", choose=True)
    panel.complete("validaciones")
    ticket.refresh_from_db()
    assert ticket.answers["since_when"] == "Desde el lunes, sobre todo en la noche"
    assert (ticket.answers["all_devices_or_one"], ticket.answers["wifi_or_cable"]) == (
        "all",
        "wifi",
    )
    assert ticket.answers["people_and_devices"] == "4 personas, 9 dispositivos"

    # PASO 4: ONU, ping, traffic and optical power against the real network.
    panel.act("run_diagnostics", timeout=30_000)
    kinds = set(DiagnosticRun.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == {"onu_status", "ping", "traffic", "optical_power"}
    panel.check("revisar_resultados")
    panel.answer("costo_manipulacion", "no", choose=True)
    screenshot("02-validations")
    # No fault found and the customer reports intermittency: the advice step.
    panel.complete("asesoria")

    # PASO 5: advice. Leaving a required item open is refused without a reason.
    expect(panel.root.locator(".playbook-script")).to_contain_text("Fibra 100 Mbps")
    expect(panel.root.locator(".playbook-script")).to_contain_text("pastel familiar")
    panel.check("wifi_no_100")
    panel.check("prueba_cable")
    panel.answer("persiste", "yes", choose=True)
    panel.press("Complete the step")
    expect(panel.root.locator(".playbook-item.has-error")).to_contain_text(
        "Confirmar el plan o paquete contratado"
    )
    panel.at("asesoria")
    screenshot("03-refused-without-reason")
    skips = panel.root.locator("details.playbook-skips")
    if skips.get_attribute("open") is None:  # the refusal opens it
        skips.locator("summary").click()
    panel.root.locator("input[id$='-confirmar_plan']").fill(
        "El cliente leyó su plan en la factura antes de que se lo confirmara"
    )
    # The problem persists: the visit.
    panel.complete("visita")
    skipped = RunItem.objects.get(key="confirmar_plan")
    assert skipped.skip_reason.startswith("El cliente leyó su plan")

    # Checklist PASO 6: observations in the customer's words, the visit in the window.
    panel.check("resultados_en_ticket")
    panel.check("costo_informado")
    panel.answer("observaciones", "Dice que cada noche se le cae el Wi-Fi en toda la casa")
    panel.answer("disponibilidad", "morning", choose=True)
    panel.answer("adulto", "yes", choose=True)
    panel.act("schedule_visit")
    visit = Visit.objects.get(ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.VISIT_SCHEDULED
    assert 9 <= visit.starts_at.astimezone(visit_zone()).hour < 14  # a morning slot
    expect(panel.root.locator(".playbook-script")).not_to_contain_text("[eta]")
    screenshot("04-visit")
    panel.complete("numero_ticket")

    # The ticket number and the 24-48 business hours, also sent on WhatsApp.
    expect(panel.root.locator(".playbook-script")).to_contain_text(
        f"Su número de ticket es {number}"
    )
    panel.check("compartir_numero")
    panel.check("informar_tiempo")
    panel.act("send_template")
    expect(phone.locator(".bubble.to_phone", has_text=number).first).to_be_visible(timeout=15_000)
    panel.complete("encuesta")

    # PASO 6 (process): the NPS survey; the customer answers with two taps.
    panel.act("send_nps")
    phone.bring_to_front()
    survey_question = phone.locator(".bubble.to_phone", has_text="calificando nuestro servicio")
    expect(survey_question).to_be_visible(timeout=15_000)
    phone.screenshot(path=str(Path(screenshot("05-page")).with_name("phone-survey.png")))
    survey_question.get_by_role("button", name="9–10").click()
    exact = phone.locator(".bubble.to_phone").last
    expect(exact.get_by_role("button", name="10", exact=True)).to_be_visible(timeout=15_000)
    exact.get_by_role("button", name="10", exact=True).click()
    panel.complete("cierre")

    # PASO 7: the closing names the agent; the run finishes.
    expect(panel.root.locator(".playbook-script")).to_contain_text("mi nombre es Rosa")
    panel.check("otra_duda")
    panel.check("despedida")
    panel.press("Finish the playbook")
    expect(panel.root).to_have_attribute("data-status", "finished")
    screenshot("06-finished")

    run = PlaybookRun.objects.get()
    assert run.status == "finished"
    assert wait_for(lambda: Survey.objects.get(ticket=ticket).score) == 10


def wait_for(read: Any, seconds: float = 15.0) -> Any:
    """The value ``read()`` gives once it is not None (the webhook is processed on the
    live server's thread)."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if value is not None or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def visit_zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("America/Mexico_City")

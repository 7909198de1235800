"""The agent console in a real Chromium: sign in, search, open, translate, edit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from tests.conftest import PASSWORD, make_organization, make_user

from e2e.conftest import Screenshot
from telcodesk.accounts.models import User
from telcodesk.accounts.roles import Role
from telcodesk.core.tenancy import Actor
from telcodesk.customers import services
from telcodesk.customers.models import ContactPoint, Customer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BRAND_COLOR = "#003f87"


@dataclass
class Floor:
    agent: User
    customer: Customer
    other: Customer


@pytest.fixture
def floor(transactional_db: None) -> Floor:
    operator = make_organization(
        "comteco-e2e",
        name="Cooperativa de Telecomunicaciones Cochabamba",
        brand_name="COMTECO",
        brand_color=BRAND_COLOR,
        brand_logo_text="CT",
    )
    outsider_org = make_organization("claro-br-e2e", name="Claro BR", country="BR")
    make_user("outsider", outsider_org, Role.ADMIN)
    agent = make_user("ana", operator, Role.BACK_OFFICE, first_name="Ana", last_name="Quispe")
    actor = Actor(organization=operator, role=Role.BACK_OFFICE, user=agent)
    customer = services.customer_create(
        actor=actor,
        first_name="Juan Carlos",
        last_name="Mamani Quispe",
        segment="residential",
        consent_whatsapp=True,
        documents=[{"kind": "bo_ci", "number": "4567890", "issued_in": "CB"}],
        phones=[{"raw": "71234567", "is_whatsapp": True, "is_primary": True}],
        emails=[{"raw": "juan.mamani@example.com"}],
    )
    services.address_add(
        actor=actor,
        customer=customer,
        purpose="installation",
        street="Av. Ayacucho",
        number="1234",
        between_street_a="Lanza",
        between_street_b="Antezana",
        zone="Centro",
        city="Cochabamba",
        state="Cochabamba",
        reference="Frente a la plaza, portón verde",
    )
    subscription = services.subscription_create(
        actor=actor,
        customer=customer,
        service_id="FO-100245",
        contract_number="CB-2023-8841",
        service_type="fiber_ftth",
        technology="fiber",
        started_on=date(2023, 3, 1),
        monthly_price=Decimal("199.00"),
    )
    services.subscription_create(
        actor=actor,
        customer=customer,
        service_id="TV-552310",
        contract_number="CB-2023-8842",
        service_type="hfc_tv",
        technology="coax",
        started_on=date(2023, 3, 1),
        monthly_price=Decimal("120.00"),
        status="partially_blocked",
    )
    today = date.today()
    services.invoice_register(
        actor=actor,
        customer=customer,
        number="F-000981",
        period_start=today - timedelta(days=60),
        period_end=today - timedelta(days=31),
        amount=Decimal("319.00"),
        issued_on=today - timedelta(days=30),
        due_on=today - timedelta(days=12),
        subscription_id=subscription.pk,
    )
    services.invoice_register(
        actor=actor,
        customer=customer,
        number="F-001204",
        period_start=today - timedelta(days=30),
        period_end=today - timedelta(days=1),
        amount=Decimal("319.00"),
        issued_on=today,
        due_on=today + timedelta(days=15),
    )
    other = services.customer_create(
        actor=actor,
        first_name="María Fernanda",
        last_name="Rojas",
        phones=[{"raw": "60011223"}],
    )
    return Floor(agent=agent, customer=customer, other=other)


def sign_in(page: Page, base_url: str, screenshot: Screenshot) -> None:
    page.goto(f"{base_url}/accounts/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot("01-login")
    page.get_by_label("User name").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hello, Ana")).to_be_visible()


def search(page: Page, text: str) -> None:
    """Focus the always-visible search with "/" and type, as an agent would."""
    page.locator("body").press("/")
    box = page.locator("#global-search")
    expect(box).to_be_focused()
    box.fill("")
    box.press_sequentially(text, delay=15)


def test_an_agent_finds_a_customer_translates_the_page_and_fixes_a_phone(
    page: Page, live_server: object, floor: Floor, screenshot: Screenshot
) -> None:
    base_url = str(live_server)
    sign_in(page, base_url, screenshot)

    # The operator's branding from its pack.
    expect(page.locator(".brand-name")).to_have_text("COMTECO")
    expect(page.locator(".brand-mark")).to_have_css("background-color", "rgb(0, 63, 135)")
    screenshot("02-home")

    # A phone typed with spaces: live results under the search box.
    search(page, "7123 4567")
    popover = page.locator("#search-popover")
    expect(popover.get_by_text("Juan Carlos Mamani Quispe")).to_be_visible()
    expect(popover.get_by_text("María Fernanda Rojas")).to_have_count(0)
    screenshot("03-search-phone")

    # A misspelt name, submitted: the result list in the middle.
    search(page, "Juan Mamanu")
    page.locator("#global-search").press("Enter")
    expect(page).to_have_url(re.compile(r"/customers/\?q=Juan\+Mamanu$"))
    results = page.locator("main .list")
    expect(results.get_by_text("Juan Carlos Mamani Quispe")).to_be_visible()
    screenshot("04-search-misspelt-name")

    # The customer page: profile, documents, contacts, services with badges, balance.
    results.get_by_role("link", name=re.compile("Juan Carlos Mamani Quispe")).click()
    expect(page.get_by_role("heading", name="Juan Carlos Mamani Quispe")).to_be_visible()
    contacts = page.locator("#contacts-section")
    expect(contacts.get_by_text("+591 71234567")).to_be_visible()
    expect(page.locator(".context-panel .badge-partially_blocked")).to_be_visible()
    expect(page.locator(".context-panel .badge-overdue")).to_be_visible()
    screenshot("05-customer")

    # Switch to Brazilian Portuguese: the page comes back translated.
    page.locator(".topbar .lang-switch button[value='pt-br']").click()
    expect(page.locator("html")).to_have_attribute("lang", "pt-br")
    expect(page.locator(".sidebar .nav-link").nth(1)).to_have_text("Clientes")
    contacts = page.locator("#contacts-section")
    contacts.locator("details.inline-form").first.locator("summary").click()
    phone_form = contacts.locator("form[action$='/phones/']")
    save = phone_form.get_by_role("button")
    expect(save).to_have_text("Salvar")
    screenshot("06-customer-pt-br")

    # An invalid phone: the error appears next to the field, nothing is saved.
    phone_input = phone_form.locator("input[name='phone-raw']")
    phone_input.fill("12")
    save.click()
    phone_form = page.locator("#contacts-section form[action$='/phones/']")
    error = phone_form.locator(".field-error")
    expect(error).to_be_visible()
    expect(phone_form.locator("input[name='phone-raw']")).to_have_attribute("aria-invalid", "true")
    expect(phone_form.locator("input[name='phone-raw']")).to_be_focused()
    assert ContactPoint.objects.filter(customer=floor.customer, kind="phone").count() == 1
    screenshot("07-invalid-phone")

    # A valid one, typed with a space: saved in E.164 and listed.
    phone_form.locator("input[name='phone-raw']").fill("7654 3210")
    phone_form.get_by_role("button").click()
    contacts = page.locator("#contacts-section")
    expect(contacts.locator(".list-title", has_text="+591 76543210")).to_be_visible()
    expect(contacts.locator(".field-error")).to_have_count(0)
    assert ContactPoint.objects.filter(customer=floor.customer, value="+59176543210").exists()
    screenshot("08-phone-saved")


def test_the_console_is_usable_with_the_keyboard_alone(
    page: Page, live_server: object, floor: Floor, screenshot: Screenshot
) -> None:
    base_url = str(live_server)
    sign_in(page, base_url, screenshot)

    # The first Tab reaches the skip link, which jumps to the content.
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()

    # "/" focuses the search; arrow down walks into the live results; Enter opens one.
    search(page, "Rojas")
    first = page.locator("#search-popover a.popover-item").first
    expect(first).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="María Fernanda Rojas")).to_be_visible()

    # Confirming a contact is a button reachable by keyboard.
    confirm = page.locator("#contacts-section button", has_text="Confirm").first
    confirm.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#contacts-section .badge-verified")).to_be_visible()
    screenshot("01-confirmed-by-keyboard")

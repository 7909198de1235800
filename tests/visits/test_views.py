"""The console: the ticket's visit box (book, move, cancel with htmx), the technicians'
day board and the printable work order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from telcodesk.network.models import DiagnosticRun
from telcodesk.tickets.models import TicketStatus
from telcodesk.tickets.services import ticket_answers_set, ticket_update
from telcodesk.visits.models import Visit, VisitStatus
from telcodesk.visits.services import visit_book

from .conftest import NOW, Isp, local, signed_in

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    yield


def _box(isp: Isp, ticket_id: int, query: str = "") -> str:
    answer = signed_in(isp.agent).get(
        reverse("visits:ticket_visit") + f"?ticket={ticket_id}{query}"
    )
    assert answer.status_code == 200
    return answer.content.decode()


def test_the_box_offers_the_slots_with_their_technicians(isp: Isp) -> None:
    ticket = isp.ticket()

    html = _box(isp, ticket.pk)

    luis = isp.technician("Luis Pérez").pk
    assert 'id="visit-book-form"' in html
    assert f'value="2026-12-09T21:00:00+00:00|{luis}"' in html
    assert html.count('name="slot"') == 20  # ten slots, two technicians each


def test_the_box_narrowed_to_mornings_has_only_morning_slots(isp: Isp) -> None:
    html = _box(isp, isp.ticket().pk, "&part_of_day=morning")

    assert html.count('name="slot"') == 10
    assert "T21:00:00" not in html


def test_booking_from_the_box_returns_the_box_with_the_visit(isp: Isp) -> None:
    ticket = isp.ticket()
    luis = isp.technician("Luis Pérez").pk

    answer = signed_in(isp.agent).post(
        reverse("visits:book", args=[ticket.pk]),
        {"slot": f"2026-12-10T15:00:00+00:00|{luis}", "adult_present": "on", "part_of_day": "any"},
        headers=HTMX,
    )

    assert answer.status_code == 200
    visit = Visit.objects.get()
    html = answer.content.decode()
    assert f'data-visit-id="{visit.pk}"' in html
    assert 'id="visit-cancel-form"' in html
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.VISIT_SCHEDULED


def test_a_refused_booking_comes_back_inline_as_422(isp: Isp) -> None:
    ticket = isp.ticket()
    luis = isp.technician("Luis Pérez").pk

    answer = signed_in(isp.agent).post(
        reverse("visits:book", args=[ticket.pk]),
        {"slot": f"2026-12-10T15:00:00+00:00|{luis}"},
        headers=HTMX,
    )

    assert answer.status_code == 422
    assert "Confirm with the customer that an adult (18 or older) will be at home" in (
        answer.content.decode()
    )
    assert Visit.objects.count() == 0


def test_cancelling_from_the_box(isp: Isp) -> None:
    ticket = isp.ticket()
    visit = visit_book(
        actor=isp.actor(), ticket=ticket, starts_at=local(2026, 12, 10, 9), adult_present=True
    )

    answer = signed_in(isp.agent).post(
        reverse("visits:cancel", args=[visit.pk]), {"reason": "Ya funciona"}, headers=HTMX
    )

    assert answer.status_code == 200
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CANCELLED
    assert 'id="visit-history"' in answer.content.decode()


def test_the_board_shows_each_technician_s_day_with_the_capacity_used(isp: Isp) -> None:
    visit_book(
        actor=isp.actor(), ticket=isp.ticket(), starts_at=local(2026, 12, 10, 9), adult_present=True
    )

    answer = signed_in(isp.supervisor).get(reverse("visits:board") + "?start=2026-12-08")
    refused = signed_in(isp.agent).get(reverse("visits:board"))

    html = answer.content.decode()
    assert answer.status_code == 200
    assert refused.status_code == 403
    luis_row = html.split(f'data-technician-id="{isp.technician("Luis Pérez").pk}"')[1].split(
        "</tr>"
    )[0]
    thursday = luis_row.split('data-day="2026-12-10"')[1].split("</td>")[0]
    assert "1/2" in thursday
    assert "09:00–11:00" in thursday


def test_the_work_order_has_what_the_technician_needs(isp: Isp) -> None:
    ticket = isp.ticket()
    ticket_update(actor=isp.actor(), ticket=ticket, customer_words="Se cae el internet cada noche")
    ticket_answers_set(
        actor=isp.actor(),
        ticket=ticket,
        answers={"since_when": "hace 3 días", "wifi_or_cable": "wifi"},
    )
    DiagnosticRun.objects.create(
        organization=isp.organization,
        subscription=isp.subscription,
        ticket=ticket,
        kind="optical_power",
        status="ok",
        verdict="low_power",
        raw={"rx_dbm": -29.4},
        started_at=NOW,
        finished_at=NOW + timedelta(seconds=2),
    )
    visit = visit_book(
        actor=isp.actor(),
        ticket=ticket,
        starts_at=local(2026, 12, 10, 9),
        adult_present=True,
        extra_cost="200.00",
        extra_cost_reason="Cambio de conector",
    )

    answer = signed_in(isp.agent).get(reverse("visits:work_order", args=[visit.pk]))
    outsider = signed_in(isp.world.outsider).get(reverse("visits:work_order", args=[visit.pk]))

    html = answer.content.decode()
    assert answer.status_code == 200
    assert outsider.status_code == 404
    assert f'<span id="wo-ticket">{ticket.display_number}</span>' in html
    assert "Juana Hernández" in html
    assert "Portón verde junto a la farmacia" in html
    assert "FIB-100" in html
    assert "Se cae el internet cada noche" in html
    assert "hace 3 días" in html
    assert "rx_dbm: -29.4" in html
    assert "Cambio de conector" in html
    assert "Luis Pérez" in html
    assert "@media print" in html
    assert "http" not in html.split("<body>")[0]  # no external asset in the head

"""Attachments: stored under our own names, type and size checked, served only to the
organization's people with download-safe headers."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.tickets.models import TicketAttachment
from telcodesk.tickets.services import ticket_attachment_add, ticket_status_set

from .conftest import Desk, signed_in

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _attach(desk: Desk, filename: str, data: bytes, **kwargs: Any) -> TicketAttachment:
    return ticket_attachment_add(
        actor=desk.world.actor(desk.world.agent),
        ticket=kwargs.pop("ticket", None) or desk.ticket(),
        filename=filename,
        data=data,
    )


def test_a_photo_is_stored_under_a_name_of_our_own(desk: Desk, _media: Path) -> None:
    ticket = desk.ticket()
    attachment = _attach(desk, "../../etc/onu luz roja.png", PNG, ticket=ticket)
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "onu luz roja.png",
        "image/png",
        len(PNG),
    )
    assert attachment.sha256 == hashlib.sha256(PNG).hexdigest()
    stored = Path(attachment.file.path)
    assert stored.parent == _media / "tickets" / str(desk.world.operator.pk) / str(ticket.pk)
    assert len(stored.name) == 32 and "onu" not in stored.name
    assert stored.read_bytes() == PNG


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("fake.png", b"<html><script>alert(1)</script></html>", "is not really a .png file"),
        ("informe.pdf", b"MZ\x90\x00 not a pdf", "is not really a .pdf file"),
        ("setup.exe", b"MZ\x90\x00", "This kind of file cannot be attached."),
        ("page.html", b"<html></html>", "This kind of file cannot be attached."),
        ("notes.txt", b"a\x00b", "is not really a .txt file"),
        ("vacio.pdf", b"", "The file is empty."),
    ],
)
def test_a_file_that_is_not_what_its_name_says_is_refused(
    desk: Desk, filename: str, data: bytes, message: str, _media: Path
) -> None:
    ticket = desk.ticket()
    with pytest.raises(ValidationFailed) as caught:
        _attach(desk, filename, data, ticket=ticket)
    assert message in caught.value.details["file"][0]
    assert not TicketAttachment.objects.exists()
    assert not (_media / "tickets").exists()


def test_a_file_over_the_size_limit_is_refused(desk: Desk, settings: Any) -> None:
    settings.TELCODESK_TICKET_ATTACHMENT_MAX_BYTES = 1024
    with pytest.raises(ValidationFailed) as caught:
        _attach(desk, "foto.png", PNG + b"\x00" * 1024)
    assert caught.value.details == {"file": ["The file is too large: at most 1.0\xa0KB."]}
    assert _attach(desk, "foto.png", PNG).size == len(PNG)


def test_the_outsider_cannot_attach_and_a_closed_ticket_takes_no_file(desk: Desk) -> None:
    ticket = desk.ticket()
    with pytest.raises(NotFound):
        ticket_attachment_add(
            actor=desk.world.actor(desk.world.outsider), ticket=ticket, filename="a.png", data=PNG
        )
    agent = desk.world.actor(desk.world.agent)
    ticket = ticket_status_set(actor=agent, ticket=ticket, status="resolved")
    ticket = ticket_status_set(actor=agent, ticket=ticket, status="closed")
    with pytest.raises(ValidationFailed):
        ticket_attachment_add(actor=agent, ticket=ticket, filename="a.png", data=PNG)
    assert not TicketAttachment.objects.exists()


def test_a_photo_is_shown_inline_and_a_document_downloaded_with_safe_headers(
    desk: Desk,
) -> None:
    ticket = desk.ticket()
    photo = _attach(desk, "onu.png", PNG, ticket=ticket)
    report = _attach(desk, "velocidad ñandú.pdf", PDF, ticket=ticket)
    client = signed_in(desk.world.agent)

    shown = client.get(reverse("tickets:attachment", args=[ticket.pk, photo.pk]))
    assert shown.status_code == 200
    assert shown.content == PNG
    assert shown["Content-Type"] == "image/png"
    assert shown["Content-Disposition"] == (
        "inline; filename=\"onu.png\"; filename*=UTF-8''onu.png"
    )
    assert shown["X-Content-Type-Options"] == "nosniff"
    assert shown["Content-Security-Policy"] == "default-src 'none'; img-src 'self'; sandbox"

    downloaded = client.get(reverse("tickets:attachment", args=[ticket.pk, report.pk]))
    assert downloaded["Content-Type"] == "application/pdf"
    assert downloaded["Content-Disposition"] == (
        'attachment; filename="velocidad nandu.pdf"; '
        "filename*=UTF-8''velocidad%20%C3%B1and%C3%BA.pdf"
    )


def test_the_file_is_not_served_to_another_organization_or_under_another_ticket(
    desk: Desk,
) -> None:
    ticket, other = desk.ticket(), desk.ticket()
    photo = _attach(desk, "onu.png", PNG, ticket=ticket)
    outsider = signed_in(desk.world.outsider)
    assert (
        outsider.get(reverse("tickets:attachment", args=[ticket.pk, photo.pk])).status_code == 404
    )
    agent = signed_in(desk.world.agent)
    assert agent.get(reverse("tickets:attachment", args=[other.pk, photo.pk])).status_code == 404


def test_the_ticket_page_uploads_a_file(desk: Desk) -> None:
    ticket = desk.ticket()
    client = signed_in(desk.world.agent)
    response = client.post(
        reverse("tickets:attachment_add", args=[ticket.pk]),
        {"file": SimpleUploadedFile("prueba.png", PNG, content_type="image/png")},
    )
    assert response.status_code == 302
    attachment = TicketAttachment.objects.get()
    assert (attachment.ticket, attachment.filename) == (ticket, "prueba.png")
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "prueba.png" in page

    refused = client.post(
        reverse("tickets:attachment_add", args=[ticket.pk]),
        {"file": SimpleUploadedFile("virus.exe", b"MZ", content_type="application/x-msdownload")},
    )
    assert refused.status_code == 422
    assert "This kind of file cannot be attached." in refused.content.decode()
    assert TicketAttachment.objects.count() == 1

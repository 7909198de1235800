"""The files of a customer's e-mail in the thread: listed with links, thumbnails only for
raster images, served back byte for byte as downloads that never run as a page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from telcodesk.accounts.models import Membership
from telcodesk.inbox import views
from telcodesk.inbox.media import (
    MediaFile,
    content_disposition,
    download_filename,
    email_files,
    served_content_type,
)
from telcodesk.messaging.models import Channel, Conversation, Message
from tests.conftest import World
from tests.messaging.helpers import make_channel
from tests.messaging.test_email_support import make_email_channel, post_mail, raw_mail

from .conftest import conversation_for, inbound, signed_in

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8  # binary: the raw mail is kept as base64
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<html><body><script>fetch('/api/v1/conversations')</script></body></html>"
FILES = [
    ("carnet.pdf", "application/pdf", PDF),
    ("medidor.png", "image/png", PNG),
    ("logo.svg", "image/svg+xml", SVG),
    ("factura.html", "text/html", HTML),
]


def customer_mails(
    client: Client,
    channel: Channel,
    capture: Capture,
    *,
    files: list[tuple[str, str, bytes]] = FILES,
    message_id: str = "<files-1@example.com>",
    sender: str = "Juana Mamani <juana@example.com>",
) -> Message:
    raw = raw_mail(
        sender=sender,
        text="Van el carnet, la foto del medidor y la factura.",
        attachments=files,
        message_id=message_id,
    )
    with capture(execute=True):
        assert post_mail(client, channel, raw).status_code == 200
    return Message.objects.get(channel=channel, provider_message_id=message_id.strip("<>"))


def file_url(message: Message, index: int) -> str:
    return reverse("inbox:email_attachment", args=[message.conversation_id, message.pk, index])


def served_headers(response: Any) -> dict[str, str]:
    names = (
        "Content-Type",
        "Content-Disposition",
        "X-Content-Type-Options",
        "Content-Security-Policy",
        "Cache-Control",
    )
    return {name: response.get(name) for name in names}


def test_the_thread_lists_each_file_with_its_link_and_thumbnails_only_raster_images(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_email_channel(world.operator)
    message = customer_mails(client, channel, django_capture_on_commit_callbacks)
    page = signed_in(world.agent).get(reverse("inbox:thread", args=[message.conversation_id]))
    assert page.status_code == 200
    html = page.content.decode()

    pdf, png, svg, page_file = (file_url(message, index) for index in range(4))
    assert f'<a class="bubble-file" href="{pdf}" download="carnet.pdf">' in html
    assert (
        '<span class="bubble-file-name">carnet.pdf</span></a>\n'
        '      <span class="bubble-file-meta">application/pdf · 2.0\xa0KB</span>'
    ) in html
    assert (
        f'<a href="{png}" target="_blank" rel="noopener"><img class="bubble-thumbnail" '
        f'src="{png}" alt="medidor.png" loading="lazy"></a>'
    ) in html
    assert '<span class="bubble-file-meta">image/png · 1.0\xa0KB</span>' in html
    assert f'<a class="bubble-file" href="{svg}" download="logo.svg">' in html
    assert f'<span class="bubble-file-meta">image/svg+xml · {len(SVG)}\xa0bytes</span>' in html
    assert f'<a class="bubble-file" href="{page_file}" download="factura.html">' in html
    assert f'<span class="bubble-file-meta">text/html · {len(HTML)}\xa0bytes</span>' in html
    # One thumbnail: the PNG. The SVG (a page that runs scripts) is only a link.
    assert html.count('class="bubble-thumbnail"') == 1
    assert f'src="{svg}"' not in html and f'src="{page_file}"' not in html
    assert "Van el carnet, la foto del medidor y la factura." in html


@pytest.mark.parametrize(
    ("index", "content_type", "disposition", "data"),
    [
        (
            0,
            "application/pdf",
            "attachment; filename=\"carnet.pdf\"; filename*=UTF-8''carnet.pdf",
            PDF,
        ),
        (1, "image/png", "inline; filename=\"medidor.png\"; filename*=UTF-8''medidor.png", PNG),
        (
            2,
            "application/octet-stream",
            "attachment; filename=\"logo.svg\"; filename*=UTF-8''logo.svg",
            SVG,
        ),
        (
            3,
            "application/octet-stream",
            "attachment; filename=\"factura.html\"; filename*=UTF-8''factura.html",
            HTML,
        ),
    ],
    ids=["pdf-download", "png-inline", "svg-download", "html-download"],
)
def test_each_file_comes_back_byte_for_byte_with_its_download_headers(
    world: World,
    client: Client,
    django_capture_on_commit_callbacks: Capture,
    index: int,
    content_type: str,
    disposition: str,
    data: bytes,
) -> None:
    channel = make_email_channel(world.operator)
    message = customer_mails(client, channel, django_capture_on_commit_callbacks)

    response = signed_in(world.agent).get(file_url(message, index))

    assert response.status_code == 200
    assert served_headers(response) == {
        "Content-Type": content_type,
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
        "Cache-Control": "private, max-age=3600",
    }
    assert response.content == data


def test_a_name_with_accents_quotes_and_folders_is_kept_in_filename_star(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_email_channel(world.operator)
    message = customer_mails(
        client,
        channel,
        django_capture_on_commit_callbacks,
        files=[('C:\\docs\\Factura "marzo"; ñandú.pdf', "application/pdf", PDF)],
    )
    assert email_files(message)[0].filename == 'Factura "marzo"; ñandú.pdf'

    response = signed_in(world.agent).get(file_url(message, 0))

    assert response["Content-Disposition"] == (
        'attachment; filename="Factura _marzo_ nandu.pdf"; '
        "filename*=UTF-8''Factura%20%22marzo%22%3B%20%C3%B1and%C3%BA.pdf"
    )
    assert response.content == PDF


def test_a_user_of_another_organization_gets_404_and_not_the_file(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_email_channel(world.operator)
    message = customer_mails(client, channel, django_capture_on_commit_callbacks)
    for user in (world.outsider, world.reseller_agent):
        response = signed_in(user).get(file_url(message, 0))
        assert response.status_code == 404
        assert PDF not in response.content
    # Signed out: to the sign-in page, nothing served.
    anonymous = Client().get(file_url(message, 0))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")


def test_a_member_whose_role_cannot_read_conversations_is_refused(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_email_channel(world.operator)
    message = customer_mails(client, channel, django_capture_on_commit_callbacks)
    Membership.objects.filter(user=world.agent).update(role="integration")

    response = signed_in(world.agent).get(file_url(message, 0))

    assert response.status_code == 403
    assert "Your role does not allow this action." in response.content.decode()
    assert PDF not in response.content


def test_a_wrong_index_another_conversations_mail_or_a_whatsapp_message_is_404(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_email_channel(world.operator)
    message = customer_mails(client, channel, django_capture_on_commit_callbacks)
    other = customer_mails(
        client,
        channel,
        django_capture_on_commit_callbacks,
        message_id="<files-2@example.com>",
        sender="Pedro <pedro@example.com>",
    )
    assert other.conversation_id != message.conversation_id
    whatsapp = inbound(conversation_for(make_channel(world.operator), wa_id="59170000001"), "Hola")
    agent = signed_in(world.agent)

    assert agent.get(file_url(message, 4)).status_code == 404
    negative = f"/inbox/{message.conversation_id}/email/{message.pk}/files/-1/"
    assert agent.get(negative).status_code == 404
    assert (
        agent.get(
            reverse("inbox:email_attachment", args=[message.conversation_id, other.pk, 0])
        ).status_code
        == 404
    )
    assert (
        agent.get(
            reverse("inbox:email_attachment", args=[whatsapp.conversation_id, whatsapp.pk, 0])
        ).status_code
        == 404
    )
    # The right ones still answer.
    assert agent.get(file_url(other, 3)).content == HTML


def test_a_mail_whose_original_is_no_longer_kept_answers_404_with_the_reason(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_email_channel(world.operator)
    message = customer_mails(client, channel, django_capture_on_commit_callbacks)
    Message.objects.filter(pk=message.pk).update(webhook_event=None)

    response = signed_in(world.agent).get(file_url(message, 0))

    assert response.status_code == 404
    assert PDF not in response.content


def test_a_mail_with_only_files_shows_them_without_a_placeholder(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_email_channel(world.operator)
    raw = raw_mail(text=None, html=None, attachments=[("", "image/jpeg", PNG)])
    with django_capture_on_commit_callbacks(execute=True):
        assert post_mail(client, channel, raw).status_code == 200
    message = Message.objects.get(channel=channel)
    assert message.body == ""
    html = signed_in(world.agent).get(reverse("inbox:thread", args=[message.conversation_id]))
    text = html.content.decode()
    url = file_url(message, 0)
    assert f'<img class="bubble-thumbnail" src="{url}" alt="Image" loading="lazy">' in text
    assert '<span class="bubble-file-name">Unnamed file</span>' in text
    assert "[E-mail]" not in text
    response = signed_in(world.agent).get(url)
    assert (response["Content-Type"], response["Content-Disposition"]) == (
        "image/jpeg",
        "inline; filename=\"attachment.jpg\"; filename*=UTF-8''attachment.jpg",
    )
    assert response.content == PNG


def test_messages_other_than_received_mails_list_no_files(world: World) -> None:
    channel = make_email_channel(world.operator)
    conversation = Conversation.objects.create(
        organization=world.operator, channel=channel, external_address="juana@example.com"
    )
    ours = Message.objects.create(
        organization=world.operator,
        channel=channel,
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        kind=Message.Kind.EMAIL,
        payload={"attachments": [{"filename": "x.pdf", "content_type": "application/pdf"}]},
    )
    assert email_files(ours) == []
    ours.direction = Message.Direction.INBOUND
    ours.payload = {"attachments": [{"filename": "x.pdf", "size": "12"}, "junk"]}
    [listed] = email_files(ours)
    assert (listed.index, listed.filename, listed.content_type, listed.size) == (0, "x.pdf", "", 0)
    ours.payload = {"attachments": "junk"}
    assert email_files(ours) == []


@pytest.mark.parametrize(
    ("declared", "served"),
    [
        ("application/pdf", "application/pdf"),
        ("image/png", "image/png"),
        ("IMAGE/JPEG; name=x.jpg", "image/jpeg"),
        ("text/plain", "text/plain"),
        ("text/html", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("application/xhtml+xml", "application/octet-stream"),
        ("application/xml", "application/octet-stream"),
        ("application/vnd.mozilla.xul+xml", "application/octet-stream"),
        ("text/javascript", "application/octet-stream"),
        ("multipart/x-mixed-replace", "application/octet-stream"),
        ("message/rfc822", "application/octet-stream"),
        ("", "application/octet-stream"),
        ("text/html\r\nSet-Cookie: a=b", "application/octet-stream"),
        ("not a type", "application/octet-stream"),
    ],
)
def test_a_type_a_browser_could_run_is_served_as_octet_stream(declared: str, served: str) -> None:
    assert served_content_type(declared) == served


def test_download_names_lose_folders_control_characters_and_leading_dots() -> None:
    assert download_filename("../../etc/passwd") == "passwd"
    assert download_filename("a\r\nb.txt") == "ab.txt"
    assert download_filename(".htaccess") == "htaccess"
    assert download_filename("", "application/pdf") == "attachment.pdf"
    assert download_filename("", "application/x-unknown") == "attachment"
    assert content_disposition(filename="日本.pdf") == (
        "attachment; filename=\"attachment.pdf\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.pdf"
    )
    assert content_disposition(filename="n\u0303o.txt", inline=True) == (
        "inline; filename=\"no.txt\"; filename*=UTF-8''n%CC%83o.txt"
    )
    assert content_disposition(filename="日本") == (
        "attachment; filename=\"attachment\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC"
    )


def test_the_whatsapp_proxy_serves_an_html_document_only_as_a_download(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation = conversation_for(make_channel(world.operator), wa_id="59171234567")
    message = inbound(conversation, "")
    Message.objects.filter(pk=message.pk).update(
        kind=Message.Kind.DOCUMENT, media_id="media-1", media_mime_type="text/html"
    )
    monkeypatch.setattr(
        views,
        "media_fetch",
        lambda *, message: MediaFile(data=HTML, content_type="text/html", filename="pago.html"),
    )

    response = signed_in(world.agent).get(
        reverse("inbox:media", args=[conversation.pk, message.pk])
    )

    assert (response.status_code, response["Content-Type"], response["Content-Disposition"]) == (
        200,
        "application/octet-stream",
        "attachment; filename=\"pago.html\"; filename*=UTF-8''pago.html",
    )
    assert response.content == HTML

"""The mailbox simulator: one customer's mailbox talking to an e-mail channel.

For signed-in members of the channel's organization, only while the sandbox is enabled.
It shows what the channel mailed to an address (kept by the sandbox SMTP server) and
sends the customer's replies through the channel's real, signed inbound webhook.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from telcodesk.accounts.services import actor_for_user
from telcodesk.core.errors import DomainError
from telcodesk.mailsandbox.models import SandboxMail
from telcodesk.mailsandbox.services import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MAX_REPLY_LENGTH,
    ReplyFile,
    mailbox_addresses,
    mailbox_inbox,
    mailbox_mail,
    mailbox_thread,
    reply_file_from_upload,
    sandbox_mail_store,
    sandbox_reply_build,
    sandbox_reply_post,
)
from telcodesk.messaging.email import email_address_normalize
from telcodesk.messaging.models import Channel
from telcodesk.messaging.providers.sandbox import Poster, http_poster


def _own_base_url(request: HttpRequest) -> str:
    """Where our own webhook answers: a setting, else the origin of this request."""
    configured = getattr(settings, "TELCODESK_SANDBOX_WEBHOOK_BASE_URL", "")
    return configured or request.build_absolute_uri("/").rstrip("/")


def webhook_poster_for(request: HttpRequest) -> Poster:
    """How the simulator reaches our inbound webhook: over HTTP, to ourselves."""
    return http_poster(_own_base_url(request))


def _channel_for(request: HttpRequest, channel_id: int) -> Channel:
    if not settings.SANDBOX_ENABLED:
        raise Http404
    try:
        actor = actor_for_user(request.user)  # type: ignore[arg-type]
    except DomainError as exc:
        raise Http404(exc.message) from exc
    channel = Channel.objects.filter(
        pk=channel_id, organization=actor.organization, kind=Channel.Kind.EMAIL
    ).first()
    if channel is None:
        raise Http404
    return channel


def _mails(request: HttpRequest, channel: Channel, address: str, error: str = "") -> HttpResponse:
    return render(
        request,
        "mailsandbox/mails.html",
        {
            "channel": channel,
            "address": address,
            "mails": mailbox_thread(channel=channel, address=address),
            "error": error,
        },
    )


@login_required
@require_GET
def mailbox(request: HttpRequest, channel_id: int) -> HttpResponse:
    """The simulator page: the mailbox of one customer address."""
    channel = _channel_for(request, channel_id)
    address = email_address_normalize(request.GET.get("address", ""))
    inbox = mailbox_inbox(channel=channel, address=address)
    reply_to: SandboxMail | None = None
    wanted = request.GET.get("reply", "")
    if wanted.isdigit():
        reply_to = next((mail for mail in inbox if mail.pk == int(wanted)), None)
    if reply_to is None and inbox:
        reply_to = inbox[-1]
    return render(
        request,
        "mailsandbox/mailbox.html",
        {
            "channel": channel,
            "address": address,
            "address_given": request.GET.get("address", "")[:254],
            "mails": mailbox_thread(channel=channel, address=address),
            "inbox": inbox,
            "reply_to": reply_to,
            "recent_addresses": mailbox_addresses(channel=channel),
        },
    )


@login_required
@require_GET
def mailbox_mails(request: HttpRequest, channel_id: int) -> HttpResponse:
    """The list of mails (polled by htmx every two seconds)."""
    channel = _channel_for(request, channel_id)
    return _mails(request, channel, email_address_normalize(request.GET.get("address", "")))


def _reply_files(request: HttpRequest) -> tuple[list[ReplyFile], str]:
    """The files attached to the reply form, or the error that refuses them."""
    uploads = request.FILES.getlist("attachment")
    if len(uploads) > MAX_ATTACHMENTS:
        return [], _("Attach at most %(count)d files.") % {"count": MAX_ATTACHMENTS}
    if sum(int(upload.size or 0) for upload in uploads) > MAX_ATTACHMENT_BYTES:
        return [], _("The attached files add up to more than %(size)d MB; attach smaller ones.") % {
            "size": MAX_ATTACHMENT_BYTES // (1024 * 1024)
        }
    files = [
        reply_file_from_upload(
            name=str(upload.name or ""),
            content_type=str(upload.content_type or ""),
            data=upload.read(),
        )
        for upload in uploads
    ]
    if any(not file.data for file in files):
        return [], _("An attached file is empty; attach it again or remove it.")
    return files, ""


@login_required
@require_POST
def mailbox_reply(request: HttpRequest, channel_id: int) -> HttpResponse:
    """The customer answers a mail: the reply goes, signed, to our inbound webhook.

    The reply is ``text``, or ``html`` (sent as an HTML alternative of the text, or
    alone), or both, with up to MAX_ATTACHMENTS files under ``attachment``.
    """
    channel = _channel_for(request, channel_id)
    address = email_address_normalize(request.POST.get("address", ""))
    text = request.POST.get("text", "").strip()
    html_text = request.POST.get("html", "").strip()
    mail_id = request.POST.get("mail", "")
    mail = (
        mailbox_mail(channel=channel, address=address, mail_id=int(mail_id))
        if address and mail_id.isdigit()
        else None
    )
    files, error = _reply_files(request)
    if not address:
        error = _("Enter the customer's e-mail address first.")
    elif mail is None:
        error = _("Choose a mail of this mailbox to answer.")
    elif (not text and not html_text) or max(len(text), len(html_text)) > MAX_REPLY_LENGTH:
        error = _("Write a reply (text or HTML) of 1 to %(max)d characters.") % {
            "max": MAX_REPLY_LENGTH
        }
    elif not error:
        reply = sandbox_reply_build(
            mail=mail, address=address, text=text, html_text=html_text, files=files
        )
        sandbox_mail_store(
            envelope_from=address,
            envelope_to=[reply.to_address],
            raw=reply.raw,
            direction=SandboxMail.Direction.FROM_MAILBOX,
        )
        status = sandbox_reply_post(channel=channel, reply=reply, post=webhook_poster_for(request))
        if status != 200:
            error = _("The inbound webhook answered %(status)d.") % {"status": status}
    if request.headers.get("HX-Request"):
        response = _mails(request, channel, address, error)
        if not error:
            response["HX-Trigger"] = "reply-sent"  # the form clears itself
        return response
    url = reverse("mailsandbox:mailbox", args=[channel.pk])
    return HttpResponseRedirect(f"{url}?{urlencode({'address': address})}")

"""The media proxy: a message's file fetched through the provider's media endpoints.

WhatsApp keeps inbound (and uploaded) files behind ``GET /{version}/{media-id}``, which
answers a short-lived URL that needs the channel's token too. The console never sees
the token: it asks us, and we fetch with the real client.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from telcodesk.core.errors import DomainError, ErrorCode, NotFound
from telcodesk.messaging.models import Channel, Message
from telcodesk.messaging.providers.whatsapp_cloud import ProviderError, WhatsAppCloudClient


@dataclass(frozen=True)
class MediaFile:
    data: bytes
    content_type: str
    filename: str


class MediaUnavailable(DomainError):
    code = ErrorCode.CONFLICT
    status = 502


def whatsapp_client_for(channel: Channel) -> WhatsAppCloudClient:
    """The Graph API client of a WhatsApp Cloud channel (media live only there)."""
    if channel.kind != Channel.Kind.WHATSAPP_CLOUD:
        raise MediaUnavailable(_("Files are sent and shown only on WhatsApp channels."), status=409)
    return WhatsAppCloudClient(
        base_url=channel.api_base_url,
        version=channel.api_version,
        phone_number_id=channel.phone_number_id,
        access_token=channel.access_token,
        timeout=float(getattr(settings, "TELCODESK_WHATSAPP_TIMEOUT_SECONDS", 10)),
    )


def media_fetch(*, message: Message, client: WhatsAppCloudClient | None = None) -> MediaFile:
    """The file of ``message`` (scoped by the caller), through the channel's client."""
    if not message.media_id:
        raise NotFound(_("This message has no file."))
    client = client or whatsapp_client_for(message.channel)
    try:
        info = client.media_info(message.media_id)
        data, content_type = client.media_download(info.url)
    except ProviderError as error:
        raise MediaUnavailable(
            _("WhatsApp did not give the file (%(error)s). Try again later.")
            % {"error": error.title}
        ) from error
    return MediaFile(
        data=data,
        content_type=info.mime_type or message.media_mime_type or content_type,
        filename=message.media_filename,
    )

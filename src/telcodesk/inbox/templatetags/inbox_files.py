"""Template filters for the files of a thread's messages."""

from __future__ import annotations

from django import template

from telcodesk.inbox.media import EmailFile, email_files
from telcodesk.messaging.models import Message

register = template.Library()


@register.filter(name="email_files")
def email_files_filter(message: Message) -> list[EmailFile]:
    """``{% with files=message|email_files %}``: the files of a received e-mail."""
    return email_files(message)

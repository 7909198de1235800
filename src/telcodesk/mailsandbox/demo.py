"""The demo's e-mail channels: one per organization, sending to the sandbox SMTP server."""

from __future__ import annotations

from collections.abc import Callable

from telcodesk.accounts.models import Organization
from telcodesk.mailsandbox.services import HOST, sandbox_smtp_port
from telcodesk.messaging.models import Channel, EmailSecurity

DEMO_ADDRESS = "cliente@example.com"


def demo_from_address(organization: Organization) -> str:
    return f"ventas@{organization.slug}.demo.telcodesk.test"


def mail_sandbox_channels(*, host: str, port: int, write: Callable[[str], object]) -> int:
    """An e-mail channel per organization pointing at the sandbox SMTP (idempotent).

    ``host`` and ``port`` are the web server's, for the printed simulator URL. Returns
    how many channels were created.
    """
    created = 0
    for organization in Organization.objects.order_by("slug"):
        from_address = demo_from_address(organization)
        if Channel.objects.filter(
            organization=organization, kind=Channel.Kind.EMAIL, email_from_address=from_address
        ).exists():
            continue
        channel = Channel(
            organization=organization,
            kind=Channel.Kind.EMAIL,
            name=f"E-mail {organization.display_name} (sandbox)",
            smtp_host=HOST,
            smtp_port=sandbox_smtp_port(),
            smtp_security=EmailSecurity.NONE,
            email_from_address=from_address,
            email_from_name=f"{organization.display_name} Ventas",
            email_reply_address=from_address,
        )
        channel.full_clean()
        channel.save()
        created += 1
        write(
            f"  {organization.slug}: e-mail sandbox channel; mailbox simulator at "
            f"http://{host}:{port}/mailsandbox/{channel.pk}/?address={DEMO_ADDRESS}"
        )
    return created

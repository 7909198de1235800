"""What the e-mail sandbox saw: mails its SMTP server received, replies the simulator sent."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SandboxMail(models.Model):
    """One mail: received by the sandbox SMTP server, or sent from the mailbox simulator.

    ``envelope_to`` holds the envelope recipients, lower-cased, separated and surrounded
    by single spaces (" a@x.test b@y.test "), so that a recipient is found with a plain
    ``contains`` on every database. ``raw`` is the RFC 822 text as received.
    """

    class Direction(models.TextChoices):
        TO_MAILBOX = "to_mailbox", _("To the mailbox")
        FROM_MAILBOX = "from_mailbox", _("From the mailbox")

    direction = models.CharField(
        max_length=12, choices=Direction.choices, default=Direction.TO_MAILBOX
    )
    envelope_from = models.CharField(max_length=254, blank=True)
    envelope_to = models.TextField(blank=True)
    raw = models.TextField()
    subject = models.CharField(max_length=255, blank=True)
    from_header = models.CharField(max_length=320, blank=True)
    to_header = models.CharField(max_length=1000, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    date_header = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["envelope_from", "received_at"], name="mailsandbox_from")]

    def __str__(self) -> str:
        return f"{self.direction} {self.envelope_from} {self.subject[:40]}"

    @property
    def recipients(self) -> list[str]:
        return self.envelope_to.split()

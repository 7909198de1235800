"""Write the message templates and quick replies of an operator pack.

Registered with ``packs.loader.register_pack_applier`` (by ``PipelinesConfig.ready``,
before the pipelines' applier), so it runs inside ``pack_load``'s transaction.
Templates are organization-level rows (``channel`` NULL) matched by (organization,
name, language); quick replies by (organization, shortcut, language). Loading the same
pack twice changes nothing.

A template is created ``pending``: only Meta (or the sandbox, through its webhook)
approves it. A new version that changes a template's body, category, parameters or
buttons puts it back to ``pending``, as Meta would. Quick replies the pack no longer
lists are made inactive; templates are kept (sent messages point at them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from telcodesk.accounts.models import Organization
from telcodesk.messaging.models import EmailTemplate, QuickReply, Template
from telcodesk.packs.loader import Tally
from telcodesk.packs.schema import EmailTemplateSpec, Pack, QuickReplySpec, TemplateSpec

# Fields whose change needs a new approval.
_REVIEWED = ("category", "body", "param_fields", "buttons")


def _template_values(spec: TemplateSpec, pack: Pack) -> dict[str, Any]:
    return {
        "category": spec.category,
        "body": spec.body,
        "param_fields": list(spec.params),
        "buttons": [{"type": "QUICK_REPLY", "text": text} for text in spec.buttons],
        "pack_name": pack.name,
    }


def _templates_sync(
    specs: list[TemplateSpec], organization: Organization, pack: Pack, tally: Tally
) -> None:
    for spec in specs:
        language = spec.language or organization.default_language
        values = _template_values(spec, pack)
        template = Template.objects.filter(
            organization=organization, channel__isnull=True, name=spec.name, language=language
        ).first()
        if template is None:
            Template.objects.create(
                organization=organization,
                channel=None,
                name=spec.name,
                language=language,
                status=Template.Status.PENDING,
                **values,
            )
            tally.add("created")
            continue
        changed = [name for name, value in values.items() if getattr(template, name) != value]
        if not changed:
            tally.add("unchanged")
            continue
        for name in changed:
            setattr(template, name, values[name])
        if any(name in _REVIEWED for name in changed):
            template.status = Template.Status.PENDING
            template.status_at = timezone.now()
            changed += ["status", "status_at"]
        template.save(update_fields=[*changed, "updated_at"])
        tally.add("updated")


def _quick_reply_values(spec: QuickReplySpec, position: int, pack: Pack) -> dict[str, Any]:
    return {
        "title": spec.title,
        "body": spec.body,
        "position": position,
        "is_active": True,
        "pack_name": pack.name,
    }


def _quick_replies_sync(
    specs: list[QuickReplySpec], organization: Organization, pack: Pack, tally: Tally
) -> None:
    kept: list[int] = []
    for position, spec in enumerate(specs):
        language = spec.language or organization.default_language
        values = _quick_reply_values(spec, position, pack)
        reply = QuickReply.objects.filter(
            organization=organization, shortcut=spec.shortcut, language=language
        ).first()
        if reply is None:
            reply = QuickReply.objects.create(
                organization=organization, shortcut=spec.shortcut, language=language, **values
            )
            tally.add("created")
        else:
            changed = [name for name, value in values.items() if getattr(reply, name) != value]
            if changed:
                for name in changed:
                    setattr(reply, name, values[name])
                reply.save(update_fields=[*changed, "updated_at"])
                tally.add("updated")
            else:
                tally.add("unchanged")
        kept.append(reply.pk)
    dropped = QuickReply.objects.filter(
        organization=organization, pack_name=pack.name, is_active=True
    ).exclude(pk__in=kept)
    for reply in dropped:
        reply.is_active = False
        reply.save(update_fields=["is_active", "updated_at"])
        tally.add("updated")


def _email_templates_sync(
    specs: list[EmailTemplateSpec], organization: Organization, pack: Pack, tally: Tally
) -> None:
    """Upsert by (organization, name, language); ones the pack dropped become inactive."""
    kept: list[int] = []
    for spec in specs:
        language = spec.language or organization.default_language
        values = {
            "subject": spec.subject,
            "body": spec.body,
            "is_active": True,
            "pack_name": pack.name,
        }
        template = EmailTemplate.objects.filter(
            organization=organization, name=spec.name, language=language
        ).first()
        if template is None:
            template = EmailTemplate.objects.create(
                organization=organization, name=spec.name, language=language, **values
            )
            tally.add("created")
        else:
            changed = [name for name, value in values.items() if getattr(template, name) != value]
            if changed:
                for name in changed:
                    setattr(template, name, values[name])
                template.save(update_fields=[*changed, "updated_at"])
                tally.add("updated")
            else:
                tally.add("unchanged")
        kept.append(template.pk)
    dropped = EmailTemplate.objects.filter(
        organization=organization, pack_name=pack.name, is_active=True
    ).exclude(pk__in=kept)
    for template in dropped:
        template.is_active = False
        template.save(update_fields=["is_active", "updated_at"])
        tally.add("updated")


def messages_apply(pack: Pack, organizations: Mapping[str, Organization]) -> Tally:
    """Upsert every organization's templates, quick replies and e-mail templates."""
    tally = Tally()
    for spec in pack.organizations:
        organization = organizations[spec.slug]
        _templates_sync(spec.templates, organization, pack, tally)
        _quick_replies_sync(spec.quick_replies, organization, pack, tally)
        _email_templates_sync(spec.email_templates, organization, pack, tally)
    return tally


def pack_templates_mark_approved_for_sandbox(organization: Organization) -> int:
    """SANDBOX ONLY: mark the organization's pending pack templates approved.

    On a real WhatsApp Business account Meta approves templates and its webhook sets
    the status; the demo talks to the local sandbox, which has no review, so the demo
    calls this instead. Never call it for a production channel. Returns how many.
    """
    now = timezone.now()
    return (
        Template.objects.filter(
            organization=organization,
            channel__isnull=True,
            status=Template.Status.PENDING,
        )
        .exclude(pack_name="")
        .update(status=Template.Status.APPROVED, status_at=now, updated_at=now)
    )

"""Write the ``nps`` section of a pack's organizations into their ``NpsSettings`` row.

Registered with ``packs.loader.register_pack_applier`` in ``NpsConfig.ready``, so it
runs inside ``pack_load``'s transaction. Loading the same pack twice changes nothing;
an organization whose pack drops the section keeps its row, disabled (its surveys stay).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telcodesk.accounts.models import Organization
from telcodesk.nps.models import NpsSettings
from telcodesk.nps.pack_spec import NpsSpec
from telcodesk.packs.loader import Tally
from telcodesk.packs.schema import Pack


def _values(spec: NpsSpec, pack_name: str) -> dict[str, Any]:
    return {
        "is_enabled": True,
        "send_on_resolved": spec.send_on_resolved,
        "good_threshold": spec.good_threshold,
        "template_name": spec.template,
        "question": spec.question,
        "expires_after_hours": spec.expires_after_hours,
        "comment_minutes": spec.comment_minutes,
        "reasks": spec.reasks,
        "pack_name": pack_name,
    }


def nps_settings_sync(
    *, organization: Organization, spec: NpsSpec | None, pack_name: str, tally: Tally
) -> None:
    row = NpsSettings.objects.filter(organization=organization).first()
    if spec is None:
        if row is not None and row.is_enabled and row.pack_name == pack_name:
            row.is_enabled = False
            row.save(update_fields=["is_enabled", "updated_at"])
            tally.add("updated")
        return
    values = _values(spec, pack_name)
    if row is None:
        NpsSettings.objects.create(organization=organization, **values)
        tally.add("created")
        return
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    if not changed:
        tally.add("unchanged")
        return
    for name in changed:
        setattr(row, name, values[name])
    row.save(update_fields=[*changed, "updated_at"])
    tally.add("updated")


def nps_apply(pack: Pack, organizations: Mapping[str, Organization]) -> Tally:
    """Upsert every organization's NPS settings from ``pack`` (a pack applier)."""
    tally = Tally()
    for organization_spec in pack.organizations:
        spec = getattr(organization_spec, "nps", None)
        if spec is not None and not isinstance(spec, NpsSpec):
            spec = NpsSpec.model_validate(spec)
        nps_settings_sync(
            organization=organizations[organization_spec.slug],
            spec=spec,
            pack_name=pack.name,
            tally=tally,
        )
    return tally

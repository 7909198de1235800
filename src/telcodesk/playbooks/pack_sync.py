"""Write the playbooks of an operator pack into Playbook rows.

``playbooks_apply`` is registered with ``packs.loader.register_pack_applier`` in
``PlaybooksConfig.ready`` and runs inside ``pack_load``'s transaction; it reads each
organization's ``playbooks`` (a list of ``PlaybookSpec``, the section the packs schema
gives OrganizationSpec). ``playbooks_sync`` does the work for one organization.

A playbook is matched by (organization, key, version): loading the same pack twice
changes nothing; the same version with new content (``pack load --force``) updates
the row in place; a new version adds a row and makes the other versions of that key
inactive, so running runs keep reading the definition they started with. A playbook
the pack no longer lists is made inactive, never deleted (runs point at it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from telcodesk.accounts.models import Organization
from telcodesk.packs.loader import Outcome, Tally
from telcodesk.packs.schema import Pack
from telcodesk.playbooks.models import Playbook
from telcodesk.playbooks.pack_spec import PlaybookSpec


def _definition(spec: PlaybookSpec) -> tuple[dict[str, Any], str]:
    definition = spec.model_dump(mode="json")
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return definition, hashlib.sha256(canonical.encode()).hexdigest()


def _upsert(
    organization: Organization, spec: PlaybookSpec, pack_name: str
) -> tuple[Playbook, Outcome]:
    definition, checksum = _definition(spec)
    values: dict[str, Any] = {
        "name": spec.name,
        "description": spec.description,
        "pack_name": pack_name,
        "definition": definition,
        "checksum": checksum,
        "is_active": True,
    }
    playbook = Playbook.objects.filter(
        organization=organization, key=spec.key, version=spec.version
    ).first()
    if playbook is None:
        created = Playbook.objects.create(
            organization=organization, key=spec.key, version=spec.version, **values
        )
        return created, "created"
    changed = [name for name, value in values.items() if getattr(playbook, name) != value]
    if not changed:
        return playbook, "unchanged"
    for name in changed:
        setattr(playbook, name, values[name])
    playbook.save(update_fields=[*changed, "updated_at"])
    return playbook, "updated"


def playbooks_sync(
    *, organization: Organization, pack_name: str, specs: Sequence[PlaybookSpec]
) -> Tally:
    """Upsert ``specs`` as the organization's playbooks of ``pack_name``."""
    tally = Tally()
    kept: list[int] = []
    for spec in specs:
        playbook, outcome = _upsert(organization, spec, pack_name)
        tally.add(outcome)
        kept.append(playbook.pk)
    stale = Playbook.objects.filter(
        organization=organization, pack_name=pack_name, is_active=True
    ).exclude(pk__in=kept)
    for playbook in stale:
        playbook.is_active = False
        playbook.save(update_fields=["is_active", "updated_at"])
        tally.add("updated")
    return tally


def playbooks_apply(pack: Pack, organizations: Mapping[str, Organization]) -> Tally:
    """Upsert every organization's playbooks from ``pack`` (a pack applier)."""
    tally = Tally()
    for organization_spec in pack.organizations:
        # The section is added to OrganizationSpec by the packs schema; a pack (or a
        # schema) without it has no playbooks.
        specs: Sequence[PlaybookSpec] = getattr(organization_spec, "playbooks", None) or []
        result = playbooks_sync(
            organization=organizations[organization_spec.slug], pack_name=pack.name, specs=specs
        )
        tally.created += result.created
        tally.updated += result.updated
        tally.unchanged += result.unchanged
    return tally

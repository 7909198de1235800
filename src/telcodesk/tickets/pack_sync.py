"""Write the ``tickets`` section of a pack's organizations into TicketSubcategory rows.

Registered with ``packs.loader.register_pack_applier`` in ``TicketsConfig.ready``, so it
runs inside ``pack_load``'s transaction. Subcategories are matched by (organization,
key): loading the same pack twice changes nothing, a newer version updates rows in
place, and one the pack no longer lists is made inactive, never deleted (tickets point
at it). Until ``OrganizationSpec`` has a ``tickets`` field (wired by packs.schema), an
organization without the section is left as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telcodesk.accounts.models import Organization
from telcodesk.packs.loader import Outcome, Tally
from telcodesk.packs.schema import Pack
from telcodesk.tickets.models import TicketSubcategory
from telcodesk.tickets.pack_spec import TicketsSpec, TicketSubcategorySpec


def _values(spec: TicketSubcategorySpec, position: int, pack_name: str) -> dict[str, Any]:
    return {
        "category": spec.category,
        "name": spec.name,
        "description": spec.description,
        "position": position,
        "is_active": True,
        "pack_name": pack_name,
    }


def _upsert(lookup: dict[str, Any], values: dict[str, Any]) -> Outcome:
    row = TicketSubcategory.objects.filter(**lookup).first()
    if row is None:
        TicketSubcategory.objects.create(**lookup, **values)
        return "created"
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    if not changed:
        return "unchanged"
    for name in changed:
        setattr(row, name, values[name])
    row.save(update_fields=[*changed, "updated_at"])
    return "updated"


def subcategories_sync(
    *, organization: Organization, spec: TicketsSpec, pack_name: str, tally: Tally
) -> None:
    """Upsert ``spec``'s subcategories of ``organization``; deactivate the pack's others."""
    keys: list[str] = []
    for position, subcategory in enumerate(spec.subcategories):
        tally.add(
            _upsert(
                {"organization": organization, "key": subcategory.key},
                _values(subcategory, position, pack_name),
            )
        )
        keys.append(subcategory.key)
    dropped = TicketSubcategory.objects.filter(
        organization=organization, pack_name=pack_name, is_active=True
    ).exclude(key__in=keys)
    for row in dropped:
        row.is_active = False
        row.save(update_fields=["is_active", "updated_at"])
        tally.add("updated")


def tickets_apply(pack: Pack, organizations: Mapping[str, Organization]) -> Tally:
    """Upsert every organization's ticket subcategories from ``pack`` (a pack applier)."""
    tally = Tally()
    for organization_spec in pack.organizations:
        spec = getattr(organization_spec, "tickets", None)
        if spec is None:
            continue
        if not isinstance(spec, TicketsSpec):
            spec = TicketsSpec.model_validate(spec)
        subcategories_sync(
            organization=organizations[organization_spec.slug],
            spec=spec,
            pack_name=pack.name,
            tally=tally,
        )
    return tally

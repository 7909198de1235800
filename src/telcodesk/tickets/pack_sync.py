"""Write the ``tickets`` section of a pack's organizations into TicketSubcategory and
SlaPolicy rows.

Registered with ``packs.loader.register_pack_applier`` in ``TicketsConfig.ready``, so it
runs inside ``pack_load``'s transaction. Subcategories are matched by (organization,
key): loading the same pack twice changes nothing, a newer version updates rows in
place, and one the pack no longer lists is made inactive, never deleted (tickets point
at it). SLA policies are matched by (organization, key) the same way; one the pack no
longer lists becomes inactive (its tickets keep their clocks). A policy's calendar is
looked up by name among the organization's active business calendars (written before
the appliers run); an unknown one refuses the pack. An organization without the
section is left as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from telcodesk.accounts.models import Organization
from telcodesk.core.models import BusinessCalendar
from telcodesk.packs.loader import Outcome, PackInvalid, Tally
from telcodesk.packs.schema import Pack
from telcodesk.tickets.models import SlaPolicy, TicketSubcategory
from telcodesk.tickets.pack_spec import SlaPolicySpec, TicketsSpec, TicketSubcategorySpec


def _values(spec: TicketSubcategorySpec, position: int, pack_name: str) -> dict[str, Any]:
    return {
        "category": spec.category,
        "name": spec.name,
        "description": spec.description,
        "position": position,
        "is_active": True,
        "pack_name": pack_name,
    }


def _upsert(
    lookup: dict[str, Any],
    values: dict[str, Any],
    model: type[TicketSubcategory] | type[SlaPolicy] = TicketSubcategory,
) -> Outcome:
    row = model.objects.filter(**lookup).first()
    if row is None:
        model.objects.create(**lookup, **values)
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


def _policy_values(
    spec: SlaPolicySpec,
    position: int,
    pack_name: str,
    subcategory: TicketSubcategory | None,
    calendar: BusinessCalendar | None,
) -> dict[str, Any]:
    return {
        "name": spec.name,
        "category": spec.category,
        "subcategory": subcategory,
        "priority": "" if spec.priority == "any" else spec.priority,
        "first_response_hours": spec.first_response_hours,
        "resolution_hours": spec.resolution_hours,
        "warn_before_percent": spec.warn_before_percent,
        "warn_before_minutes": spec.warn_before_minutes,
        "escalate_to_team": spec.escalate_to_team or "",
        "calendar": calendar,
        "position": position,
        "is_active": True,
        "pack_name": pack_name,
    }


def sla_policies_sync(
    *,
    organization: Organization,
    spec: TicketsSpec,
    pack_name: str,
    tally: Tally,
    path: str,
) -> None:
    """Upsert ``spec``'s SLA policies of ``organization``; deactivate the pack's others.
    ``path``: the section's place in the pack, for the refusal of an unknown calendar."""
    calendars = {
        c.name.casefold(): c
        for c in BusinessCalendar.objects.filter(organization=organization, is_active=True)
    }
    subcategories = {s.key: s for s in TicketSubcategory.objects.filter(organization=organization)}
    # Every calendar is checked before anything is written.
    problems: dict[str, list[str]] = {}
    chosen: list[BusinessCalendar | None] = []
    for position, policy in enumerate(spec.sla_policies):
        calendar = calendars.get(policy.calendar.casefold()) if policy.calendar else None
        if policy.calendar is not None and calendar is None:
            problems[f"{path}.sla_policies[{position}].calendar"] = [
                _(
                    'There is no business calendar "%(name)s" in this organization; '
                    "name one of its business_calendars or leave calendar out."
                )
                % {"name": policy.calendar}
            ]
        chosen.append(calendar)
    if problems:
        raise PackInvalid(problems, source=pack_name)
    keys: list[str] = []
    for position, (policy, calendar) in enumerate(zip(spec.sla_policies, chosen, strict=True)):
        subcategory = subcategories.get(policy.subcategory) if policy.subcategory else None
        tally.add(
            _upsert(
                {"organization": organization, "key": policy.key},
                _policy_values(policy, position, pack_name, subcategory, calendar),
                SlaPolicy,
            )
        )
        keys.append(policy.key)
    dropped = SlaPolicy.objects.filter(
        organization=organization, pack_name=pack_name, is_active=True
    ).exclude(key__in=keys)
    for row in dropped:
        row.is_active = False
        row.save(update_fields=["is_active", "updated_at"])
        tally.add("updated")


def tickets_apply(pack: Pack, organizations: Mapping[str, Organization]) -> Tally:
    """Upsert every organization's ticket subcategories and SLA policies from ``pack``
    (a pack applier)."""
    tally = Tally()
    for index, organization_spec in enumerate(pack.organizations):
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
        sla_policies_sync(
            organization=organizations[organization_spec.slug],
            spec=spec,
            pack_name=pack.name,
            tally=tally,
            path=f"organizations[{index}].tickets",
        )
    return tally

"""Write the ``visits`` section of a pack's organizations: the policy, zones, technicians.

Registered with ``packs.loader.register_pack_applier`` in ``VisitsConfig.ready``, so it
runs inside ``pack_load``'s transaction, after the business calendars. Zones are matched
by (organization, key), technicians by (organization, name): loading the same pack twice
changes nothing, a newer version updates rows in place, and a zone or technician the
pack no longer lists becomes inactive, never deleted (visits point at it). A calendar
name that is not one of the organization's active calendars refuses the whole pack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from telcodesk.accounts.models import Organization
from telcodesk.core.models import BusinessCalendar
from telcodesk.packs.loader import Outcome, PackInvalid, Tally
from telcodesk.packs.schema import Pack
from telcodesk.visits.models import Technician, VisitPolicy, Zone
from telcodesk.visits.pack_spec import VisitsSpec


def _upsert(model: Any, lookup: dict[str, Any], values: dict[str, Any]) -> tuple[Any, Outcome]:
    row = model.objects.filter(**lookup).first()
    if row is None:
        return model.objects.create(**lookup, **values), "created"
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    if not changed:
        return row, "unchanged"
    for name in changed:
        setattr(row, name, values[name])
    row.save(update_fields=[*changed, "updated_at"])
    return row, "updated"


def _calendar(organization: Organization, name: str | None, path: str, pack: Pack) -> int | None:
    if name is None:
        return None
    calendar = BusinessCalendar.objects.filter(
        organization=organization, name__iexact=name, is_active=True
    ).first()
    if calendar is None:
        raise PackInvalid(
            {
                path: [
                    _('"%(name)s" is not one of the business_calendars of this organization.')
                    % {"name": name}
                ]
            },
            source=pack.name,
        )
    return calendar.pk


def visits_sync(
    *, organization: Organization, spec: VisitsSpec, pack: Pack, path: str, tally: Tally
) -> None:
    templates = {
        event: name for event, name in spec.templates.model_dump().items() if name is not None
    }
    _row, outcome = _upsert(
        VisitPolicy,
        {"organization": organization},
        {
            "slot_minutes": spec.slot_minutes,
            "window_min_hours": spec.window_min_business_hours,
            "window_max_hours": spec.window_max_business_hours,
            "calendar_id": _calendar(organization, spec.calendar, f"{path}.calendar", pack),
            "adult_required": spec.adult_required,
            "templates": templates,
            "pack_name": pack.name,
        },
    )
    tally.add(outcome)
    zones: dict[str, Zone] = {}
    for position, zone_spec in enumerate(spec.zones):
        zone, outcome = _upsert(
            Zone,
            {"organization": organization, "key": zone_spec.key},
            {
                "name": zone_spec.name,
                "neighbourhoods": list(zone_spec.neighbourhoods),
                "postal_codes": list(zone_spec.postal_codes),
                "cities": list(zone_spec.cities),
                "position": position,
                "is_active": True,
                "pack_name": pack.name,
            },
        )
        zones[zone_spec.key] = zone
        tally.add(outcome)
    for zone in Zone.objects.filter(
        organization=organization, pack_name=pack.name, is_active=True
    ).exclude(key__in=list(zones)):
        zone.is_active = False
        zone.save(update_fields=["is_active", "updated_at"])
        tally.add("updated")
    names: list[str] = []
    for technician_spec in spec.technicians:
        technician, outcome = _upsert(
            Technician,
            {"organization": organization, "name": technician_spec.name},
            {
                "phone": technician_spec.phone or "",
                "daily_capacity": technician_spec.daily_capacity,
                "is_active": True,
                "pack_name": pack.name,
            },
        )
        wanted = {zones[key].pk for key in technician_spec.zones}
        if set(technician.zones.values_list("pk", flat=True)) != wanted:
            technician.zones.set(wanted)
            if outcome == "unchanged":
                outcome = "updated"
        tally.add(outcome)
        names.append(technician_spec.name)
    for technician in Technician.objects.filter(
        organization=organization, pack_name=pack.name, is_active=True
    ).exclude(name__in=names):
        technician.is_active = False
        technician.save(update_fields=["is_active", "updated_at"])
        tally.add("updated")


def visits_apply(pack: Pack, organizations: Mapping[str, Organization]) -> Tally:
    """Write every organization's visits section from ``pack`` (a pack applier)."""
    tally = Tally()
    for index, organization_spec in enumerate(pack.organizations):
        spec = getattr(organization_spec, "visits", None)
        if spec is None:
            continue
        if not isinstance(spec, VisitsSpec):
            spec = VisitsSpec.model_validate(spec)
        visits_sync(
            organization=organizations[organization_spec.slug],
            spec=spec,
            pack=pack,
            path=f"organizations[{index}].visits",
            tally=tally,
        )
    return tally

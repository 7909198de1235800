"""The ``visits`` section of an organization in an operator pack.

    visits:
      slot_minutes: 120                  # slots of 2 hours, cut from each opening's start
      window_min_business_hours: 24      # "de 24 a 48 horas se agenda la visita"
      window_max_business_hours: 48
      calendar: Soporte técnico          # a business_calendars name; default: the default one
      adult_required: true               # confirm an adult (18+) receives the technician
      templates: {booked: visita_agendada, rescheduled: visita_reagendada,
                  cancelled: visita_cancelada}   # WhatsApp templates, outside the 24 h window
      zones:
        - {key: centro, name: Centro, neighbourhoods: [Centro, Juárez], cities: [Toluca]}
        - {key: norte, name: Norte, postal_codes: ["50100", "50110"]}
      technicians:
        - {name: Luis Pérez, phone: "+527221234567", zones: [centro], daily_capacity: 4}

Zones are matched by key and technicians by name when the pack is loaded again; one the
pack no longer lists becomes inactive (visits point at it).
"""

from __future__ import annotations

from typing import Annotated

import phonenumbers
from django.utils.translation import gettext as _
from pydantic import AfterValidator, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from telcodesk.packs.spec_base import Name, PackModel, ShortName, Slug, pack_rule_error


def _check_phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise PydanticCustomError(
            "phone",
            _("{value} is not a valid phone number; write it in E.164, e.g. +527221234567."),
            {"value": value},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


Phone = Annotated[str, AfterValidator(_check_phone)]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]


class VisitZoneSpec(PackModel):
    key: Slug
    name: ShortName
    neighbourhoods: list[ShortName] = Field(default_factory=list)
    postal_codes: list[PostalCode] = Field(default_factory=list)
    cities: list[ShortName] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_a_rule(self) -> VisitZoneSpec:
        if not (self.neighbourhoods or self.postal_codes or self.cities):
            raise pack_rule_error(
                "key",
                _("Zone %(key)s covers nothing: list its neighbourhoods, postal codes or cities.")
                % {"key": self.key},
            )
        return self


class VisitTechnicianSpec(PackModel):
    name: Name
    phone: Phone | None = None
    zones: Annotated[list[Slug], Field(min_length=1)]
    daily_capacity: Annotated[int, Field(ge=0, le=50)]


class VisitTemplatesSpec(PackModel):
    booked: ShortName | None = None
    rescheduled: ShortName | None = None
    cancelled: ShortName | None = None


class VisitsSpec(PackModel):
    slot_minutes: Annotated[int, Field(ge=15, le=720)] = 120
    window_min_business_hours: Annotated[int, Field(ge=0, le=720)] = 24
    window_max_business_hours: Annotated[int, Field(ge=1, le=720)] = 48
    # The name of one of the organization's business_calendars; None: the default one.
    calendar: ShortName | None = None
    adult_required: bool = True
    templates: VisitTemplatesSpec = Field(default_factory=VisitTemplatesSpec)
    zones: Annotated[list[VisitZoneSpec], Field(max_length=500)] = Field(default_factory=list)
    technicians: Annotated[list[VisitTechnicianSpec], Field(max_length=1000)] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _consistent(self) -> VisitsSpec:
        if self.window_max_business_hours <= self.window_min_business_hours:
            raise pack_rule_error(
                "window_max_business_hours",
                _("The latest visit time must come after the earliest (%(min)s business hours).")
                % {"min": self.window_min_business_hours},
            )
        keys: dict[str, int] = {}
        for index, zone in enumerate(self.zones):
            if zone.key in keys:
                raise pack_rule_error(
                    f"zones[{index}].key",
                    _('Zone key "%(key)s" is used twice (zones[%(first)d] and zones[%(again)d]).')
                    % {"key": zone.key, "first": keys[zone.key], "again": index},
                )
            keys[zone.key] = index
        names: dict[str, int] = {}
        for index, technician in enumerate(self.technicians):
            folded = technician.name.casefold()
            if folded in names:
                raise pack_rule_error(
                    f"technicians[{index}].name",
                    _('Technician "%(name)s" is listed twice (technicians[%(first)d]).')
                    % {"name": technician.name, "first": names[folded]},
                )
            names[folded] = index
            for position, key in enumerate(technician.zones):
                if key not in keys:
                    raise pack_rule_error(
                        f"technicians[{index}].zones[{position}]",
                        _('"%(key)s" is not one of the zones of this section.') % {"key": key},
                    )
        return self

"""The ``tickets`` section of an organization in an operator pack.

The categories are the product's own (technical, administrative, billing, commercial,
other); a pack declares the subcategories its agents choose under them, e.g. for an ISP:

    tickets:
      subcategories:
        - {key: sin-servicio, name: "Sin servicio", category: technical}
        - {key: intermitencia, name: "Intermitencia / lentitud", category: technical,
           description: "Se cae o va lento; validar Wi-Fi vs cable"}
        - {key: cambio-plan, name: "Cambio de plan", category: commercial}

Keys are unique within the organization (the loader matches rows by key: renaming a
subcategory keeps its tickets); names are unique within their category.

SLA policies (targets in business hours, see docs/sla.md) match a category, optionally
one of the subcategories above, and a priority (or any):

    tickets:
      sla_policies:
        - {key: tecnico, name: "Técnico", category: technical,
           first_response_hours: 2, resolution_hours: 48, warn_before_percent: 80,
           escalate_to_team: "Soporte N2"}
        - {key: sin-servicio-urgente, name: "Sin servicio urgente", category: technical,
           subcategory: sin-servicio, priority: urgent, first_response_hours: 0.5,
           resolution_hours: 24, warn_before_minutes: 60, calendar: "NOC"}

``calendar`` names one of the organization's business calendars (default: its default
calendar); ``escalate_to_team`` names a team (default: the organization's supervisors).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, Self

from django.utils.translation import gettext as _
from pydantic import Field, field_validator, model_validator

from telcodesk.packs.spec_base import PackModel, ShortName, Slug, Text, pack_rule_error

CategoryName = Literal["technical", "administrative", "billing", "commercial", "other"]


class TicketSubcategorySpec(PackModel):
    key: Slug
    name: ShortName
    category: CategoryName
    # When an agent chooses it, in the pack's language.
    description: Text = ""


PriorityName = Literal["low", "normal", "high", "urgent", "any"]
# Business hours, two decimals at most (0.5 = 30 minutes); at most a year of hours.
SlaHours = Annotated[Decimal, Field(gt=0, le=10_000, max_digits=7, decimal_places=2)]


class SlaPolicySpec(PackModel):
    key: Slug
    name: ShortName
    category: CategoryName
    subcategory: Slug | None = None  # a subcategory key of this section
    priority: PriorityName = "any"
    first_response_hours: SlaHours | None = None
    resolution_hours: SlaHours | None = None
    warn_before_percent: Annotated[int, Field(ge=1, le=99)] | None = None
    warn_before_minutes: Annotated[int, Field(ge=1, le=100_000)] | None = None
    escalate_to_team: ShortName | None = None  # a team's name; none: the supervisors
    calendar: ShortName | None = None  # a business calendar's name; none: the default

    @model_validator(mode="after")
    def _targets_and_one_warning(self) -> Self:
        if self.first_response_hours is None and self.resolution_hours is None:
            raise pack_rule_error(
                "first_response_hours",
                _(
                    "SLA policy “%(key)s” has no target: give first_response_hours, "
                    "resolution_hours or both."
                )
                % {"key": self.key},
            )
        if self.warn_before_percent is not None and self.warn_before_minutes is not None:
            raise pack_rule_error(
                "warn_before_minutes",
                _(
                    "SLA policy “%(key)s” gives warn_before_percent and warn_before_minutes; "
                    "keep one of them."
                )
                % {"key": self.key},
            )
        return self


class TicketsSpec(PackModel):
    subcategories: Annotated[list[TicketSubcategorySpec], Field(max_length=200)] = Field(
        default_factory=list
    )
    sla_policies: Annotated[list[SlaPolicySpec], Field(max_length=200)] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _policies_are_unique_and_known(self) -> Self:
        subcategories = {spec.key: spec for spec in self.subcategories}
        keys: dict[str, int] = {}
        for index, policy in enumerate(self.sla_policies):
            if policy.key in keys:
                raise pack_rule_error(
                    f"sla_policies[{index}].key",
                    _(
                        'SLA policy key "%(key)s" is used twice (sla_policies[%(first)d] and '
                        "sla_policies[%(again)d]); give each policy its own key."
                    )
                    % {"key": policy.key, "first": keys[policy.key], "again": index},
                )
            keys[policy.key] = index
            if policy.subcategory is None:
                continue
            subcategory = subcategories.get(policy.subcategory)
            if subcategory is None:
                raise pack_rule_error(
                    f"sla_policies[{index}].subcategory",
                    _(
                        'SLA policy "%(key)s" names the subcategory "%(subcategory)s", which '
                        "is not in subcategories; use one of their keys."
                    )
                    % {"key": policy.key, "subcategory": policy.subcategory},
                )
            if subcategory.category != policy.category:
                raise pack_rule_error(
                    f"sla_policies[{index}].subcategory",
                    _(
                        'SLA policy "%(key)s" is for %(category)s, but the subcategory '
                        '"%(subcategory)s" is under %(other)s.'
                    )
                    % {
                        "key": policy.key,
                        "category": policy.category,
                        "subcategory": policy.subcategory,
                        "other": subcategory.category,
                    },
                )
        return self

    @field_validator("subcategories")
    @classmethod
    def _keys_and_names_are_unique(
        cls, subcategories: list[TicketSubcategorySpec]
    ) -> list[TicketSubcategorySpec]:
        keys: dict[str, int] = {}
        names: dict[tuple[str, str], int] = {}
        for index, spec in enumerate(subcategories):
            if spec.key in keys:
                raise pack_rule_error(
                    f"[{index}].key",
                    _(
                        'Subcategory key "%(key)s" is used twice (subcategories[%(first)d] and '
                        "subcategories[%(again)d]); give each subcategory its own key."
                    )
                    % {"key": spec.key, "first": keys[spec.key], "again": index},
                )
            keys[spec.key] = index
            name = (spec.category, spec.name.casefold())
            if name in names:
                raise pack_rule_error(
                    f"[{index}].name",
                    _(
                        'Subcategory "%(name)s" is listed twice under %(category)s '
                        "(subcategories[%(first)d] and subcategories[%(again)d])."
                    )
                    % {
                        "name": spec.name,
                        "category": spec.category,
                        "first": names[name],
                        "again": index,
                    },
                )
            names[name] = index
        return subcategories

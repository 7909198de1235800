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
"""

from __future__ import annotations

from typing import Annotated, Literal

from django.utils.translation import gettext as _
from pydantic import Field, field_validator

from telcodesk.packs.spec_base import PackModel, ShortName, Slug, Text, pack_rule_error

CategoryName = Literal["technical", "administrative", "billing", "commercial", "other"]


class TicketSubcategorySpec(PackModel):
    key: Slug
    name: ShortName
    category: CategoryName
    # When an agent chooses it, in the pack's language.
    description: Text = ""


class TicketsSpec(PackModel):
    subcategories: Annotated[list[TicketSubcategorySpec], Field(max_length=200)] = Field(
        default_factory=list
    )

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

"""The claro-ar-reseller pack loaded (FIBRA leads in the reseller) and coverage helpers.

Coverage areas belong to the operator ``claro-ar``; the reseller's leads are checked
against them. ``outsider`` (another operator with its own areas) must see nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from telcodesk.accounts.models import Organization, User
from telcodesk.accounts.roles import Role
from telcodesk.core.tenancy import Actor
from telcodesk.coverage.imports import coverage_import_csv, coverage_import_geojson
from telcodesk.packs.loader import pack_load
from telcodesk.pipelines.models import Lead, LossReason, Pipeline, Stage
from telcodesk.pipelines.services import lead_create
from tests.conftest import make_organization, make_user

RANGES_CSV = """\
# test ranges
city,zone,street,from,to,parity,technology
CABA,Caballito,Av. Rivadavia,5000,5800,even,fiber
CABA,Palermo,Gurruchaga,1500,2200,all,fiber
CABA,Almagro,Sarmiento,3501,4299,odd,fiber
La Plata,Casco urbano,Calle 50,1000,1600,all,fiber
CABA,Villa Crespo,Gral. Paz,1400,1600,all,fiber
"""

# Palermo: a square with a square hole; two small squares as a MultiPolygon.
POLYGONS_GEOJSON = """\
{"type": "FeatureCollection", "features": [
 {"type": "Feature", "properties": {"name": "Palermo Soho", "zone": "Palermo", "city": "CABA"},
  "geometry": {"type": "Polygon", "coordinates": [
   [[-58.44, -34.595], [-58.42, -34.595], [-58.42, -34.58], [-58.44, -34.58], [-58.44, -34.595]],
   [[-58.432, -34.59], [-58.428, -34.59], [-58.428, -34.586], [-58.432, -34.586], [-58.432, -34.59]]
  ]}},
 {"type": "Feature", "properties": {"name": "Islas", "city": "CABA"},
  "geometry": {"type": "MultiPolygon", "coordinates": [
   [[[-58.50, -34.70], [-58.49, -34.70], [-58.49, -34.69], [-58.50, -34.69], [-58.50, -34.70]]],
   [[[-58.40, -34.70], [-58.39, -34.70], [-58.39, -34.69], [-58.40, -34.69], [-58.40, -34.70]]]
  ]}}
]}
"""


@dataclass
class Coverage:
    operator: Organization
    reseller: Organization
    outsider_operator: Organization
    agent: User
    operator_admin: User
    outsider: User

    def actor(self, user: User) -> Actor:
        membership = user.memberships.select_related("organization").get()
        return Actor(organization=membership.organization, role=membership.role, user=user)

    def importer(self, organization: Organization | None = None) -> Actor:
        return Actor(organization=organization or self.operator, role=Role.ADMIN, label="test")

    def pipeline(self, name: str = "FIBRA") -> Pipeline:
        return Pipeline.objects.get(organization=self.reseller, name=name)

    def stage(self, name: str, pipeline: str = "FIBRA") -> Stage:
        return Stage.objects.get(pipeline=self.pipeline(pipeline), name=name)

    def reason(self, name: str, pipeline: str = "FIBRA") -> LossReason:
        return LossReason.objects.get(pipeline=self.pipeline(pipeline), name=name)

    def lead(self, phone: str = "11 2345-6789", **data: Any) -> Lead:
        result = lead_create(
            actor=self.actor(self.agent),
            pipeline=self.pipeline(),
            name="Lucía Fernández",
            phone=phone,
            source="channel",
            owner=self.agent,
            stage=self.stage("Seguimiento"),
            data=data,
        )
        assert result.created
        return result.lead


@pytest.fixture
def coverage(db: None) -> Coverage:
    pack_load("claro-ar-reseller")
    operator = Organization.objects.get(slug="claro-ar")
    reseller = Organization.objects.get(slug="claro-ar-reseller")
    outsider_operator = make_organization(
        "otro-operador",
        name="Otro Operador",
        country="AR",
        currency="ARS",
        time_zone="America/Argentina/Buenos_Aires",
    )
    world = Coverage(
        operator=operator,
        reseller=reseller,
        outsider_operator=outsider_operator,
        agent=make_user("lucas", reseller, Role.AGENT, first_name="Lucas", last_name="Gómez"),
        operator_admin=make_user("ops-admin", operator, Role.ADMIN),
        outsider=make_user("intruso", outsider_operator, Role.ADMIN),
    )
    coverage_import_csv(actor=world.importer(), content=RANGES_CSV, source_file="ranges.csv")
    coverage_import_geojson(
        actor=world.importer(), content=POLYGONS_GEOJSON, source_file="areas.geojson"
    )
    return world

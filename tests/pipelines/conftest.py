"""The claro-ar-reseller pack loaded, with its people and an outsider organization.

The reseller's agents work the leads; ``outsider`` is an admin of another organization
with a pipeline of its own, who must see and change nothing of the reseller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from telcodesk.accounts.models import Organization, User
from telcodesk.accounts.roles import Role
from telcodesk.core.tenancy import Actor
from telcodesk.packs.loader import pack_load
from telcodesk.pipelines.models import Lead, LossReason, Pipeline, Stage
from telcodesk.pipelines.services import lead_create
from tests.conftest import make_organization, make_user


@dataclass
class Claro:
    reseller: Organization
    operator: Organization
    outsider_org: Organization
    agent: User
    other_agent: User
    supervisor: User
    viewer_less: User
    outsider: User
    outsider_pipeline: Pipeline

    def actor(self, user: User) -> Actor:
        membership = user.memberships.select_related("organization").get()
        return Actor(organization=membership.organization, role=membership.role, user=user)

    def pipeline(self, name: str, organization: Organization | None = None) -> Pipeline:
        return Pipeline.objects.get(organization=organization or self.reseller, name=name)

    def stage(self, pipeline: str, name: str) -> Stage:
        return Stage.objects.get(pipeline=self.pipeline(pipeline), name=name)

    def reason(self, pipeline: str, name: str) -> LossReason:
        return LossReason.objects.get(pipeline=self.pipeline(pipeline), name=name)

    def lead(
        self,
        pipeline: str = "FIBRA",
        phone: str = "11 2345-6789",
        *,
        owner: User | None = None,
        stage: str | None = None,
        now: datetime | None = None,
        **fields: Any,
    ) -> Lead:
        """A lead created through the service, owned by ``owner`` (the agent by default)."""
        result = lead_create(
            actor=self.actor(self.agent),
            pipeline=self.pipeline(pipeline),
            name=fields.pop("name", "Lucía Fernández"),
            phone=phone,
            source=fields.pop("source", "channel"),
            owner=owner or self.agent,
            stage=self.stage(pipeline, stage) if stage else None,
            now=now,
            **fields,
        )
        assert result.created
        return result.lead


@pytest.fixture
def claro(db: None) -> Claro:
    pack_load("claro-ar-reseller")
    reseller = Organization.objects.get(slug="claro-ar-reseller")
    outsider_org = make_organization(
        "otro-revendedor",
        name="Otro Revendedor",
        country="AR",
        currency="ARS",
        time_zone="America/Argentina/Buenos_Aires",
    )
    outsider_pipeline = Pipeline.objects.create(
        organization=outsider_org, name="FIBRA", slug="fibra", position=0
    )
    for position, (name, kind) in enumerate(
        [("Nuevo", "open"), ("Ganados", "won"), ("Perdidos", "lost")]
    ):
        Stage.objects.create(
            organization=outsider_org,
            pipeline=outsider_pipeline,
            name=name,
            kind=kind,
            position=position,
        )
    LossReason.objects.create(
        organization=outsider_org, pipeline=outsider_pipeline, name="Precio", counter="-"
    )
    return Claro(
        reseller=reseller,
        operator=Organization.objects.get(slug="claro-ar"),
        outsider_org=outsider_org,
        agent=make_user("lucas", reseller, Role.AGENT, first_name="Lucas", last_name="Gómez"),
        other_agent=make_user(
            "sofia", reseller, Role.AGENT, first_name="Sofía", last_name="Martínez"
        ),
        supervisor=make_user("marta", reseller, Role.SUPERVISOR),
        viewer_less=make_user("sin-rol", reseller, "nobody"),
        outsider=make_user("intruso", outsider_org, Role.ADMIN),
        outsider_pipeline=outsider_pipeline,
    )

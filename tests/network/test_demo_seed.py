"""The demo inventory: the snmpsim OLTs registered for an organization's first services."""

from __future__ import annotations

import pytest

from telcodesk.network.demo.agent import SnmpSimulator
from telcodesk.network.demo.seed import demo_network_seed
from telcodesk.network.diagnostics import diagnostics_run
from telcodesk.network.models import Cpe, Olt, Onu
from tests.conftest import World
from tests.network.conftest import make_plan, make_subscription

pytestmark = pytest.mark.django_db


def test_the_demo_seed_gives_the_first_services_every_kind_of_line(
    world: World, olt_agent: SnmpSimulator
) -> None:
    plan = make_plan(world.operator)
    services = [make_subscription(world.operator, f"DEMO-{n}", plan=plan) for n in range(9)]

    seeded = demo_network_seed(organization=world.operator, port=olt_agent.port)
    again = demo_network_seed(organization=world.operator, port=olt_agent.port)

    assert [(onu.olt.name, onu.onu_id, onu.subscription_id) for onu in seeded.onus] == [
        ("OLT-HW-CENTRO", 1, services[0].pk),
        ("OLT-HW-CENTRO", 2, services[1].pk),
        ("OLT-HW-CENTRO", 3, services[2].pk),
        ("OLT-HW-CENTRO", 5, services[3].pk),
        ("OLT-ZTE-NORTE", 1, services[4].pk),
        ("OLT-ZTE-NORTE", 2, services[5].pk),
        ("OLT-ZTE-NORTE", 3, services[6].pk),
    ]
    assert [onu.pk for onu in again.onus] == [onu.pk for onu in seeded.onus]
    assert (Olt.objects.count(), Onu.objects.count(), Cpe.objects.count()) == (2, 7, 2)
    actor = world.actor(world.back_office)
    good = diagnostics_run(actor=actor, subscription=services[0], kinds=["ping", "optical_power"])
    dead = diagnostics_run(actor=actor, subscription=services[2], kinds=["optical_power"])
    assert [(run.kind, run.verdict) for run in good] == [
        ("ping", "stable"),
        ("optical_power", "good"),
    ]
    assert [(run.kind, run.verdict) for run in dead] == [("optical_power", "fault")]

"""A real SNMP agent on loopback (snmpsim) and a small network inventory on it.

``olt_agent`` serves the demo data (src/telcodesk/network/demo/snmprec): a Huawei
MA5800 (community ``huawei``) and a ZTE C320 (community ``zte``) with good, marginal,
dead, powered-off, garbage and missing ONUs, and counters growing at fixed rates.

``net`` builds the inventory in the test database: both OLTs pointing at the agent,
one customer and subscription per interesting ONU, and an outsider operator with its
own OLT and subscription that must see and change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from telcodesk.accounts.models import Organization
from telcodesk.customers.models import Address, Customer, Plan, Subscription
from telcodesk.network.demo.agent import SnmpSimulator
from telcodesk.network.models import Cpe, Olt, Onu, PonPort
from tests.conftest import World

HUAWEI_PON = 4_194_312_192  # 0/1/0 on the demo MA5800
HUAWEI_PON_2 = 4_194_312_448  # 0/1/1, no ONUs in the agent's data
ZTE_PON = 268_566_784  # gpon-olt_1/2/1 on the demo C320

# Ten echoes 20 ms apart: the jitter is the mean of nine consecutive differences, so
# one scheduling blip of a loaded CI machine (tens of ms on loopback) cannot by itself
# push a healthy loopback line past the 30 ms "intermittent" threshold, as it could
# with four echoes.
FAST_DIAGNOSTICS = {
    "ping_count": 10,
    "ping_interval": 0.02,
    "ping_timeout": 0.5,
    "traffic_interval": 1.0,
}


@pytest.fixture(scope="session")
def olt_agent() -> Iterator[SnmpSimulator]:
    with SnmpSimulator() as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def _fast_diagnostics(settings: Any) -> None:
    settings.TELCODESK_NETWORK_DIAGNOSTICS = dict(FAST_DIAGNOSTICS)


@dataclass
class Net:
    world: World
    agent: SnmpSimulator
    plan: Plan
    huawei: Olt
    huawei_port: PonPort
    huawei_port_2: PonPort
    zte: Olt
    zte_port: PonPort
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    outsider_olt: Olt | None = None
    outsider_subscription: Subscription | None = None

    def __getitem__(self, name: str) -> Subscription:
        return self.subscriptions[name]


def make_plan(organization: Organization, code: str = "fibra-100") -> Plan:
    return Plan.objects.create(
        organization=organization,
        code=code,
        name="Fibra 100",
        service_type="fiber_ftth",
        technology="fiber",
        download_mbps=Decimal("100"),
        upload_mbps=Decimal("10"),
        monthly_price=Decimal("250"),
        currency=organization.currency,
    )


def make_subscription(
    organization: Organization,
    service_id: str,
    *,
    plan: Plan | None = None,
    zone: str = "",
    city: str = "Cochabamba",
    cpe_ip: str | None = None,
) -> Subscription:
    customer = Customer.objects.create(
        organization=organization,
        first_name="Cliente",
        last_name=service_id,
        search_name=f"cliente {service_id.lower()}",
    )
    address = None
    if zone:
        address = Address.objects.create(
            organization=organization,
            customer=customer,
            purpose=Address.Purpose.INSTALLATION,
            country=organization.country,
            street="Av. Heroinas",
            number="123",
            zone=zone,
            city=city,
        )
    return Subscription.objects.create(
        organization=organization,
        customer=customer,
        contract_number=f"C-{service_id}",
        service_id=service_id,
        service_type="fiber_ftth",
        technology="fiber",
        plan=plan,
        plan_name=plan.name if plan else "",
        currency=organization.currency,
        started_on=date(2024, 3, 1),
        installation_address=address,
        cpe_ip=cpe_ip,
    )


def make_olt(organization: Organization, name: str, vendor: str, port: int, **fields: Any) -> Olt:
    return Olt.objects.create(
        organization=organization,
        name=name,
        vendor=vendor,
        model="MA5800-X7" if vendor == "huawei" else "C320",
        management_address="127.0.0.1",
        snmp_port=port,
        snmp_community=vendor,
        timeout_seconds=Decimal("1.0"),
        retries=0,
        **fields,
    )


def attach_onu(
    subscription: Subscription,
    port: PonPort,
    onu_id: int,
    *,
    traffic_if_index: int | None = None,
) -> Onu:
    return Onu.objects.create(
        organization=subscription.organization,
        olt=port.olt,
        pon_port=port,
        onu_id=onu_id,
        serial=f"HWTC{onu_id:08X}",
        subscription=subscription,
        traffic_if_index=traffic_if_index,
    )


@pytest.fixture
def net(world: World, olt_agent: SnmpSimulator) -> Net:
    operator = world.operator
    plan = make_plan(operator)
    huawei = make_olt(operator, "OLT-HW-CENTRO", "huawei", olt_agent.port)
    zte = make_olt(operator, "OLT-ZTE-NORTE", "zte", olt_agent.port)
    huawei_port = PonPort.objects.create(
        organization=operator, olt=huawei, frame=0, slot=1, port=0, if_index=HUAWEI_PON
    )
    huawei_port_2 = PonPort.objects.create(
        organization=operator, olt=huawei, frame=0, slot=1, port=1, if_index=HUAWEI_PON_2
    )
    zte_port = PonPort.objects.create(
        organization=operator, olt=zte, frame=1, slot=2, port=1, if_index=ZTE_PON
    )
    result = Net(
        world=world,
        agent=olt_agent,
        plan=plan,
        huawei=huawei,
        huawei_port=huawei_port,
        huawei_port_2=huawei_port_2,
        zte=zte,
        zte_port=zte_port,
    )
    # name: (port, onu id, traffic ifIndex, zone)
    layout: dict[str, tuple[PonPort, int, int | None, str]] = {
        "hw-good": (huawei_port, 1, 1001, "Queru Queru"),
        "hw-marginal": (huawei_port, 2, 1002, "Queru Queru"),
        "hw-dead": (huawei_port, 3, None, "Cala Cala"),
        "hw-high": (huawei_port, 4, 1003, "Cala Cala"),
        "hw-powered-off": (huawei_port, 5, None, "Sarco"),
        "hw-weak": (huawei_port, 6, None, "Sarco"),
        "hw-garbage": (huawei_port, 7, None, ""),
        "hw-missing": (huawei_port, 9, 4242, ""),
        "zte-good": (zte_port, 1, 2001, "Tupuraya"),
        "zte-marginal": (zte_port, 2, None, "Tupuraya"),
        "zte-dead": (zte_port, 3, None, ""),
        "zte-powered-off": (zte_port, 4, None, ""),
        "zte-hot": (zte_port, 5, None, ""),
        "zte-missing": (zte_port, 8, None, ""),
    }
    for number, (name, (port, onu_id, traffic, zone)) in enumerate(layout.items(), start=1):
        subscription = make_subscription(operator, f"SRV-{number:03d}", plan=plan, zone=zone)
        attach_onu(subscription, port, onu_id, traffic_if_index=traffic)
        result.subscriptions[name] = subscription
    Cpe.objects.create(
        organization=operator, subscription=result["hw-good"], ip_address="127.0.0.1"
    )
    result.subscriptions["no-equipment"] = make_subscription(operator, "SRV-900", plan=plan)
    outsider = world.other_operator
    result.outsider_olt = make_olt(outsider, "OLT-FORA", "huawei", olt_agent.port)
    outsider_port = PonPort.objects.create(
        organization=outsider, olt=result.outsider_olt, slot=1, port=0, if_index=HUAWEI_PON
    )
    result.outsider_subscription = make_subscription(
        outsider, "BR-001", plan=make_plan(outsider, "fibra-br"), zone="Queru Queru"
    )
    attach_onu(result.outsider_subscription, outsider_port, 1, traffic_if_index=1001)
    return result

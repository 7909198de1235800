"""Demo inventory: the two snmpsim OLTs and ONUs for an organization's first services.

``demo_network_seed`` registers the demo Huawei and ZTE OLTs (pointing at an
``SnmpSimulator`` serving ``snmprec/``) with their PON ports, and hands the demo ONUs,
in the order below, to the organization's first fiber subscriptions, so the demo shows
every verdict. Running it again changes nothing that is already there.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from telcodesk.accounts.models import Organization
from telcodesk.customers.models import Subscription
from telcodesk.network.models import Cpe, Olt, Onu, PonPort

HUAWEI_NAME, ZTE_NAME = "OLT-HW-CENTRO", "OLT-ZTE-NORTE"
HUAWEI_PON = (0, 1, 0, 4_194_312_192)
ZTE_PON = (1, 2, 1, 268_566_784)

# (OLT name, ONU id, traffic ifIndex): what each of the first services gets.
DEMO_ONUS: tuple[tuple[str, int, int | None], ...] = (
    (HUAWEI_NAME, 1, 1001),  # good line, 10 Mbps in use
    (HUAWEI_NAME, 2, 1002),  # marginal optics, line saturated
    (HUAWEI_NAME, 3, None),  # dead: no light (LOSi)
    (HUAWEI_NAME, 5, None),  # powered off (dying gasp)
    (ZTE_NAME, 1, 2001),  # good line on the ZTE
    (ZTE_NAME, 2, None),  # marginal optics
    (ZTE_NAME, 3, None),  # LOS
)


@dataclass(frozen=True)
class DemoNetwork:
    olts: list[Olt]
    onus: list[Onu]


@transaction.atomic
def demo_network_seed(
    *, organization: Organization, port: int, host: str = "127.0.0.1"
) -> DemoNetwork:
    """The demo OLTs at ``host:port`` and ONUs for the first fiber services."""
    olts: dict[str, Olt] = {}
    pon_ports: dict[str, PonPort] = {}
    for name, vendor, model, (frame, slot, number, if_index) in (
        (HUAWEI_NAME, "huawei", "MA5800-X7", HUAWEI_PON),
        (ZTE_NAME, "zte", "C320", ZTE_PON),
    ):
        olt, _created = Olt.objects.update_or_create(
            organization=organization,
            name=name,
            defaults={
                "vendor": vendor,
                "model": model,
                "management_address": host,
                "snmp_port": port,
                "snmp_community": vendor,
                "timeout_seconds": Decimal("1.0"),
                "retries": 1,
            },
        )
        olts[name] = olt
        pon_ports[name], _created = PonPort.objects.get_or_create(
            organization=organization,
            olt=olt,
            frame=frame,
            slot=slot,
            port=number,
            defaults={"if_index": if_index},
        )
    taken = Onu.objects.filter(organization=organization).values("subscription_id")
    free = list(
        Subscription.objects.filter(organization=organization, service_type="fiber_ftth")
        .exclude(pk__in=taken)
        .order_by("id")
    )
    onus: list[Onu] = []
    for name, onu_id, traffic_if_index in DEMO_ONUS:
        existing = Onu.objects.filter(pon_port=pon_ports[name], onu_id=onu_id).first()
        if existing is not None:
            onus.append(existing)
            continue
        if not free:
            break
        subscription = free.pop(0)
        onus.append(
            Onu.objects.create(
                organization=organization,
                olt=olts[name],
                pon_port=pon_ports[name],
                onu_id=onu_id,
                serial=f"DEMO{onu_id:04d}{name[-5:]}",
                subscription=subscription,
                traffic_if_index=traffic_if_index,
            )
        )
        if onu_id == 1 and not Cpe.objects.filter(subscription=subscription).exists():
            # The demo CPE is this machine: the ping check gets real answers.
            Cpe.objects.create(
                organization=organization, subscription=subscription, ip_address=host
            )
    return DemoNetwork(olts=list(olts.values()), onus=onus)

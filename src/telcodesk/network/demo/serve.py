"""The demo OLTs for ``telcodesk demo`` and ``telcodesk serve`` (sandbox mode only).

``telcodesk demo`` registers the two snmpsim OLTs for the ISP operator (``wisp-mx``) and
gives their ONUs to its first fiber services; ``telcodesk serve`` starts the snmpsim
agent they point at, on 127.0.0.1:``TELCODESK_DEMO_SNMP_PORT`` (1161), so the
diagnostics of a call run against a real SNMP agent.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from telcodesk.accounts.models import Organization
from telcodesk.network.demo.agent import SnmpSimulator

DEFAULT_PORT = 1161
DEMO_ORGANIZATION = "wisp-mx"


def demo_snmp_port() -> int:
    return int(getattr(settings, "TELCODESK_DEMO_SNMP_PORT", DEFAULT_PORT))


def demo_network_for_demo(write: Any) -> int:
    """Register the demo OLTs and ONUs for the ISP's first fiber services; how many ONUs."""
    if not settings.SANDBOX_ENABLED:
        return 0
    from telcodesk.network.demo.seed import demo_network_seed

    organization = Organization.objects.filter(slug=DEMO_ORGANIZATION).first()
    if organization is None:
        return 0
    network = demo_network_seed(organization=organization, port=demo_snmp_port())
    write(
        f"  {organization.slug}: {len(network.olts)} demo OLTs (snmpsim on 127.0.0.1:"
        f"{demo_snmp_port()}), {len(network.onus)} ONUs on the first fiber services"
    )
    return len(network.onus)


def start_demo_olt_for_serve(write: Any) -> SnmpSimulator | None:
    """For ``telcodesk serve``: the snmpsim agent of the demo OLTs (None when the sandbox
    is off, or when it cannot start: the web server runs without it)."""
    if not settings.SANDBOX_ENABLED:
        return None
    simulator = SnmpSimulator(port=demo_snmp_port())
    try:
        simulator.start()
    except Exception as exc:  # the port is taken, or snmpsim failed
        write(f"demo OLT (snmpsim) not started on 127.0.0.1:{simulator.port}: {exc}")
        return None
    write(f"demo OLT (snmpsim) at 127.0.0.1:{simulator.port} udp (Huawei MA5800, ZTE C320)")
    return simulator

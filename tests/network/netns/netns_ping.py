"""Ping diagnostics to addresses that do not answer: only inside an isolated namespace.

test_isolated_ping.py runs this module with pytest inside a network namespace of its
own (``unshare --net``) that has nothing but a loopback interface, plus a route that
sends 198.18.0.0/24 (RFC 2544 benchmarking space) into that loopback where no host
answers. No packet can leave such a namespace. The module is not collected by the
normal run (its name does not match test_*.py) and skips itself anywhere else, because
on a normal host the same addresses would be routed out to the real network.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from telcodesk.network.diagnostics import diagnostics_run
from telcodesk.network.models import DiagnosticRun
from tests.conftest import World
from tests.network.conftest import FAST_DIAGNOSTICS, make_subscription

SILENT_ADDRESS = "198.18.0.7"  # routed into the namespace's loopback; nobody answers
UNROUTABLE_ADDRESS = "203.0.113.5"  # TEST-NET-3: no route at all in the namespace


def _isolated() -> bool:
    if os.environ.get("TELCODESK_ISOLATED_NET") != "1":
        return False
    routes = Path("/proc/net/route").read_text().splitlines()[1:]
    return all(line.split()[0] == "lo" for line in routes if line.strip())


pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not _isolated(), reason="only inside the isolated network namespace"),
]


# Where nothing answers every request waits its whole timeout: four short ones suffice.
SILENT_DIAGNOSTICS = {**FAST_DIAGNOSTICS, "ping_count": 4, "ping_timeout": 0.25}


def ping(world: World, address: str) -> DiagnosticRun:
    subscription = make_subscription(world.operator, f"SRV-{address}", cpe_ip=address)
    actor = world.actor(world.back_office)
    (run,) = diagnostics_run(actor=actor, subscription=subscription, kinds=["ping"])
    return run


def test_loopback_answers_inside_the_namespace(world: World) -> None:
    run = ping(world, "127.0.0.1")

    assert (run.status, run.verdict, run.raw["received"]) == (
        "ok",
        "stable",
        FAST_DIAGNOSTICS["ping_count"],
    )


def test_an_address_that_never_answers_is_no_connectivity(world: World, settings: Any) -> None:
    settings.TELCODESK_NETWORK_DIAGNOSTICS = dict(SILENT_DIAGNOSTICS)
    run = ping(world, SILENT_ADDRESS)

    assert (run.status, run.verdict, run.recommendation) == ("ok", "no_connectivity", "ping_none")
    assert {key: run.raw[key] for key in ("sent", "received", "loss_percent", "rtts_ms")} == {
        "sent": 4,
        "received": 0,
        "loss_percent": 100.0,
        "rtts_ms": [],
    }
    assert run.error == ""
    assert run.duration_ms >= 4 * 250  # each request waited its whole timeout


def test_an_unroutable_address_is_unreachable_with_the_socket_error(
    world: World, settings: Any
) -> None:
    settings.TELCODESK_NETWORK_DIAGNOSTICS = dict(SILENT_DIAGNOSTICS)
    run = ping(world, UNROUTABLE_ADDRESS)

    assert (run.status, run.verdict, run.recommendation) == (
        "unreachable",
        "no_connectivity",
        "ping_none",
    )
    assert (run.raw["sent"], run.raw["received"], run.raw["loss_percent"]) == (0, 0, 100.0)
    assert run.error == "[Errno 101] Network is unreachable"
    assert DiagnosticRun.objects.filter(pk=run.pk).exists()

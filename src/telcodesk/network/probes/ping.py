"""Real ICMP echo to the customer's CPE with icmplib's asyncio sockets.

Privileged (raw) sockets first: they work as root or with CAP_NET_RAW. Without that the
probe falls back to unprivileged datagram ICMP sockets, which Linux allows only to the
groups in ``net.ipv4.ping_group_range``. Which one was used is kept in the measurement.

Unlike ``icmplib.async_ping`` the probe keeps the first socket error ("Network is
unreachable" for an address with no route), so the diagnostic can show why nothing
came back.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass, field

from icmplib import (
    AsyncSocket,
    Host,
    ICMPLibError,
    ICMPRequest,
    ICMPv4Socket,
    ICMPv6Socket,
    SocketPermissionError,
    TimeoutExceeded,
)
from icmplib.utils import unique_identifier


class PingUnavailable(Exception):
    """No ICMP socket could be opened on this machine (neither raw nor datagram)."""


@dataclass(frozen=True)
class PingMeasurement:
    address: str
    sent: int
    rtts_ms: list[float] = field(default_factory=list)
    socket: str = ""  # "raw" (privileged) or "datagram" (unprivileged)
    error: str = ""  # the first send/receive error other than a plain timeout

    @property
    def received(self) -> int:
        return len(self.rtts_ms)

    @property
    def _host(self) -> Host:
        return Host(self.address, self.sent, self.rtts_ms)

    @property
    def loss_percent(self) -> float:
        if not self.sent:
            return 100.0
        return round(100.0 * (self.sent - self.received) / self.sent, 1)

    @property
    def min_ms(self) -> float:
        return round(self._host.min_rtt, 3)

    @property
    def avg_ms(self) -> float:
        return round(self._host.avg_rtt, 3)

    @property
    def max_ms(self) -> float:
        return round(self._host.max_rtt, 3)

    @property
    def jitter_ms(self) -> float:
        """Mean absolute difference of consecutive round trips (icmplib's definition)."""
        return round(self._host.jitter, 3)

    def as_raw(self) -> dict[str, object]:
        return {
            "address": self.address,
            "sent": self.sent,
            "received": self.received,
            "loss_percent": self.loss_percent,
            "min_ms": self.min_ms,
            "avg_ms": self.avg_ms,
            "max_ms": self.max_ms,
            "jitter_ms": self.jitter_ms,
            "rtts_ms": [round(rtt, 3) for rtt in self.rtts_ms],
            "socket": self.socket,
        }


def _open_socket(address: str) -> tuple[AsyncSocket, str]:
    socket_class = ICMPv6Socket if ipaddress.ip_address(address).version == 6 else ICMPv4Socket
    try:
        return AsyncSocket(socket_class(None, True)), "raw"
    except SocketPermissionError:
        pass
    try:
        return AsyncSocket(socket_class(None, False)), "datagram"
    except SocketPermissionError as exc:
        raise PingUnavailable(
            "cannot open an ICMP socket: run with CAP_NET_RAW or allow the process's group "
            "in net.ipv4.ping_group_range"
        ) from exc


async def ping_probe(
    address: str, *, count: int = 10, interval: float = 0.2, timeout: float = 1.0
) -> PingMeasurement:
    """Send ``count`` echo requests ``interval`` seconds apart, each waiting ``timeout``."""
    sock, mode = _open_socket(address)
    identifier = unique_identifier()
    sent = 0
    rtts: list[float] = []
    first_error = ""
    with sock:
        for sequence in range(count):
            if sequence:
                await asyncio.sleep(interval)
            request = ICMPRequest(destination=address, id=identifier, sequence=sequence)
            try:
                sock.send(request)
                sent += 1
                reply = await sock.receive(request, timeout)
                reply.raise_for_status()
                rtts.append((reply.time - request.time) * 1000)
            except TimeoutExceeded:
                continue
            except ICMPLibError as exc:
                first_error = first_error or str(exc)
    return PingMeasurement(address=address, sent=sent, rtts_ms=rtts, socket=mode, error=first_error)

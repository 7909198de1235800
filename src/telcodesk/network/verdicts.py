"""Verdicts and next steps: pure functions over measurements, with the thresholds.

Every verdict and recommendation is a stable key stored on the DiagnosticRun; the texts
below are what the agent reads, translated. The thresholds are documented in
docs/network.md and tested at their edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

# --- thresholds ------------------------------------------------------------------------

# Ping: stable = no loss and a steady round trip; intermittent = some loss or jitter.
PING_MAX_STABLE_JITTER_MS = 30.0

# GPON class B+ (ITU-T G.984.2): the ONU receiver works between -27 and -8 dBm.
OPTICAL_RX_MIN_DBM = -27.0
OPTICAL_RX_MAX_DBM = -8.0
OPTICAL_MARGIN_DB = 2.0  # closer than this to either edge: marginal

# Traffic, as a share of the plan's speed in the same direction.
TRAFFIC_SATURATED_SHARE = 0.80  # the customer is already getting the contracted speed
TRAFFIC_IDLE_MBPS = 0.1  # practically nothing passes


@dataclass(frozen=True)
class Verdict:
    verdict: str
    recommendation: str


VERDICT_LABELS = {
    "stable": _("Stable"),
    "intermittent": _("Intermittent"),
    "no_connectivity": _("No connectivity"),
    "online": _("Online"),
    "offline": _("Offline"),
    "good": _("Good"),
    "marginal": _("Marginal"),
    "fault": _("Fault"),
    "saturated": _("At the plan's speed"),
    "normal": _("Below the plan's speed"),
    "idle": _("No traffic"),
    "measured": _("Measured"),
    "unknown": _("Unknown"),
}

RECOMMENDATIONS = {
    "ping_stable": _(
        "The customer's equipment answers steadily. Go on with the traffic check and the "
        "Wi-Fi and cable advice."
    ),
    "ping_intermittent": _(
        "The connection loses packets or its delay varies. Check the optical power and ask "
        "the customer to test with a cable next to the router."
    ),
    "ping_none": _(
        "The customer's equipment does not answer. Check the ONU status and ask the customer "
        "to restart the router."
    ),
    "onu_online": _("The ONU is online. Go on with the optical power check."),
    "onu_power": _(
        "The ONU lost power (dying gasp). Ask the customer to check that the ONU is plugged "
        "in and switched on."
    ),
    "onu_fiber": _(
        "No light reaches the ONU: a cut or loose fibre. Check for an outage in the zone; "
        "if there is none, schedule a technical visit."
    ),
    "onu_offline": _(
        "The ONU is offline. Ask the customer to restart it; if it stays offline, schedule "
        "a technical visit."
    ),
    "optical_good": _("The optical power is within range: the fibre is fine."),
    "optical_marginal": _(
        "The optical power is close to the limit: the service may drop. If the customer "
        "reports drops, schedule a visit to clean or replace the connectors."
    ),
    "visit": _("The optical power is out of range or missing: schedule a technical visit."),
    "traffic_saturated": _(
        "The line is carrying about the contracted speed: the slowness comes from what is "
        "used at home. Explain that the plan is shared by every device."
    ),
    "traffic_normal": _(
        "The line has capacity left. Ask the customer to test by cable: Wi-Fi does not "
        "deliver the full plan."
    ),
    "traffic_idle": _(
        "Almost no traffic passes. If nothing works for the customer, check the ONU and the router."
    ),
    "traffic_no_plan": _("The plan has no speed on file: compare the figures with the contract."),
    "olt_unreachable": _(
        "The OLT did not answer. Check for an outage or tell the network operations "
        "centre; the customer's line cannot be judged from here."
    ),
    "olt_refused": _(
        "The OLT refused the request. Ask the network team to check the SNMP settings of this OLT."
    ),
    "olt_unexpected": _(
        "The OLT answered values that make no sense for this check. Tell the network team: "
        "the OLT's firmware or vendor setting may be wrong."
    ),
    "ping_unavailable": _(
        "This server is not allowed to send pings. An administrator must allow ICMP for "
        "the telcodesk process (see the network documentation)."
    ),
    "check_inventory": _(
        "The network inventory does not match the OLT. Ask the network team to check this "
        "customer's ONU, port and interface."
    ),
    "complete_inventory": _(
        "This service has no network equipment on file. Ask the network team to register "
        "its ONU or CPE."
    ),
    "retry_later": _("The check took too long. Try again in a few minutes."),
}


def verdict_label(verdict: str) -> str:
    return str(VERDICT_LABELS.get(verdict, verdict))


def recommendation_text(key: str) -> str:
    return str(RECOMMENDATIONS.get(key, "")) if key else ""


def ping_verdict(*, sent: int, received: int, jitter_ms: float) -> Verdict:
    if received == 0:
        return Verdict("no_connectivity", "ping_none")
    if received < sent or jitter_ms > PING_MAX_STABLE_JITTER_MS:
        return Verdict("intermittent", "ping_intermittent")
    return Verdict("stable", "ping_stable")


def onu_status_verdict(*, online: bool, cause: str) -> Verdict:
    if online:
        return Verdict("online", "onu_online")
    if cause == "power":
        return Verdict("offline", "onu_power")
    if cause == "fiber":
        return Verdict("offline", "onu_fiber")
    return Verdict("offline", "onu_offline")


def optical_verdict(onu_rx_dbm: float | None) -> Verdict:
    """Class B+ window: inside with 2 dB to spare is good, inside but closer is marginal."""
    if onu_rx_dbm is None:
        return Verdict("fault", "visit")
    if onu_rx_dbm < OPTICAL_RX_MIN_DBM or onu_rx_dbm > OPTICAL_RX_MAX_DBM:
        return Verdict("fault", "visit")
    margin = min(onu_rx_dbm - OPTICAL_RX_MIN_DBM, OPTICAL_RX_MAX_DBM - onu_rx_dbm)
    if margin < OPTICAL_MARGIN_DB:
        return Verdict("marginal", "optical_marginal")
    return Verdict("good", "optical_good")


def traffic_verdict(
    *,
    download_mbps: float,
    upload_mbps: float,
    plan_download_mbps: Decimal | None,
    plan_upload_mbps: Decimal | None,
) -> Verdict:
    if download_mbps < TRAFFIC_IDLE_MBPS and upload_mbps < TRAFFIC_IDLE_MBPS:
        return Verdict("idle", "traffic_idle")
    if not plan_download_mbps:
        return Verdict("measured", "traffic_no_plan")
    shares = [download_mbps / float(plan_download_mbps)]
    if plan_upload_mbps:
        shares.append(upload_mbps / float(plan_upload_mbps))
    if max(shares) >= TRAFFIC_SATURATED_SHARE:
        return Verdict("saturated", "traffic_saturated")
    return Verdict("normal", "traffic_normal")

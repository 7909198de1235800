"""The verdict thresholds at their edges (pure functions, no network)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from telcodesk.network.adapters.base import date_and_time
from telcodesk.network.adapters.zte import rx_level_dbm
from telcodesk.network.verdicts import (
    RECOMMENDATIONS,
    VERDICT_LABELS,
    Verdict,
    onu_status_verdict,
    optical_verdict,
    ping_verdict,
    recommendation_text,
    traffic_verdict,
)


@pytest.mark.parametrize(
    ("rx_dbm", "expected"),
    [
        (None, Verdict("fault", "visit")),
        (-27.01, Verdict("fault", "visit")),
        (-27.0, Verdict("marginal", "optical_marginal")),
        (-25.01, Verdict("marginal", "optical_marginal")),
        (-25.0, Verdict("good", "optical_good")),
        (-18.5, Verdict("good", "optical_good")),
        (-10.0, Verdict("good", "optical_good")),
        (-9.99, Verdict("marginal", "optical_marginal")),
        (-8.0, Verdict("marginal", "optical_marginal")),
        (-7.99, Verdict("fault", "visit")),
    ],
)
def test_the_optical_verdict_follows_the_class_b_plus_window(
    rx_dbm: float | None, expected: Verdict
) -> None:
    assert optical_verdict(rx_dbm) == expected


@pytest.mark.parametrize(
    ("sent", "received", "jitter", "expected"),
    [
        (10, 10, 0.4, Verdict("stable", "ping_stable")),
        (10, 10, 30.0, Verdict("stable", "ping_stable")),
        (10, 10, 30.1, Verdict("intermittent", "ping_intermittent")),
        (10, 9, 0.4, Verdict("intermittent", "ping_intermittent")),
        (10, 1, 0.0, Verdict("intermittent", "ping_intermittent")),
        (10, 0, 0.0, Verdict("no_connectivity", "ping_none")),
        (0, 0, 0.0, Verdict("no_connectivity", "ping_none")),
    ],
)
def test_the_ping_verdict_reads_loss_and_jitter(
    sent: int, received: int, jitter: float, expected: Verdict
) -> None:
    assert ping_verdict(sent=sent, received=received, jitter_ms=jitter) == expected


@pytest.mark.parametrize(
    ("online", "cause", "expected"),
    [
        (True, "", Verdict("online", "onu_online")),
        (False, "power", Verdict("offline", "onu_power")),
        (False, "fiber", Verdict("offline", "onu_fiber")),
        (False, "other", Verdict("offline", "onu_offline")),
    ],
)
def test_the_onu_status_verdict_names_the_next_step(
    online: bool, cause: str, expected: Verdict
) -> None:
    assert onu_status_verdict(online=online, cause=cause) == expected


@pytest.mark.parametrize(
    ("down", "up", "expected"),
    [
        (0.0, 0.09, Verdict("idle", "traffic_idle")),
        (79.9, 7.9, Verdict("normal", "traffic_normal")),
        (80.0, 1.0, Verdict("saturated", "traffic_saturated")),
        (10.0, 8.0, Verdict("saturated", "traffic_saturated")),
    ],
)
def test_the_traffic_verdict_compares_with_the_plan(
    down: float, up: float, expected: Verdict
) -> None:
    verdict = traffic_verdict(
        download_mbps=down,
        upload_mbps=up,
        plan_download_mbps=Decimal("100"),
        plan_upload_mbps=Decimal("10"),
    )
    assert verdict == expected


def test_traffic_without_a_plan_speed_is_only_measured() -> None:
    verdict = traffic_verdict(
        download_mbps=50.0, upload_mbps=5.0, plan_download_mbps=None, plan_upload_mbps=None
    )
    assert verdict == Verdict("measured", "traffic_no_plan")


def test_every_recommendation_a_verdict_can_give_has_a_text() -> None:
    keys = {
        verdict.recommendation
        for verdict in [
            optical_verdict(None),
            optical_verdict(-26.0),
            optical_verdict(-18.0),
            ping_verdict(sent=1, received=0, jitter_ms=0),
            ping_verdict(sent=2, received=1, jitter_ms=0),
            ping_verdict(sent=1, received=1, jitter_ms=0),
            onu_status_verdict(online=False, cause="power"),
            onu_status_verdict(online=False, cause="fiber"),
            onu_status_verdict(online=False, cause="other"),
            onu_status_verdict(online=True, cause=""),
        ]
    }
    assert keys <= set(RECOMMENDATIONS)
    assert recommendation_text("visit") == (
        "The optical power is out of range or missing: schedule a technical visit."
    )
    assert {"stable", "intermittent", "no_connectivity", "good", "marginal", "fault"} <= set(
        VERDICT_LABELS
    )


@pytest.mark.parametrize(
    ("raw", "dbm"),
    [(5250, -19.5), (2000, -26.0), (0, -30.0), (12000, -6.0), (65535, None), (65534, -30.0)],
)
def test_the_zte_receive_level_is_raw_times_0_002_minus_30(raw: int, dbm: float | None) -> None:
    assert rx_level_dbm(raw) == dbm


def test_a_date_and_time_with_zone_becomes_iso_8601() -> None:
    value = bytes([0x07, 0xE9, 11, 28, 8, 15, 3, 0, ord("-"), 4, 0])
    assert date_and_time(value) == "2025-11-28T08:15:03-04:00"
    assert date_and_time(bytes(8)) is None
    assert date_and_time(b"short") is None

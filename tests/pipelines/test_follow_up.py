"""The daily follow-up at 10:00 (organization-local): Seguimiento, two more, abandon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from telcodesk.automation.models import Timer
from telcodesk.automation.tick import tick
from telcodesk.messaging.models import Channel
from telcodesk.pipelines.follow_up import FOLLOW_UP_KIND, follow_up_next_due, follow_up_schedule
from telcodesk.pipelines.models import AutomationRun, Lead, LeadTask, Pipeline
from telcodesk.pipelines.services import lead_lose
from tests.messaging.helpers import make_channel
from tests.pipelines.conftest import Claro
from tests.pipelines.test_automations import inbound


@pytest.fixture
def channel(claro: Claro) -> Channel:
    return make_channel(claro.reseller, display_phone="+54 11 5555-0000")


def _timer(pipeline: Pipeline) -> Timer:
    return Timer.objects.get(kind=FOLLOW_UP_KIND, target_id=pipeline.pk, state="pending")


def test_loading_the_pack_schedules_each_pipelines_next_ten_oclock(claro: Claro) -> None:
    buenos_aires = ZoneInfo("America/Argentina/Buenos_Aires")
    for name in ("FIBRA", "PORTA", "TECHSTORE CHATS"):
        local = _timer(claro.pipeline(name)).due_at.astimezone(buenos_aires)
        assert (local.hour, local.minute) == (10, 0)
    # Argentina is UTC-3 all year.
    assert _timer(claro.pipeline("FIBRA")).due_at.astimezone(UTC).hour == 13


def test_the_next_follow_up_keeps_the_local_hour_across_a_dst_change() -> None:
    new_york = ZoneInfo("America/New_York")
    # 2026-03-08: clocks go forward at 02:00 in New York (UTC-5 -> UTC-4).
    saturday = datetime(2026, 3, 7, 15, 0, tzinfo=UTC)  # 10:00 EST, exactly
    sunday = follow_up_next_due(after=saturday, zone=new_york, hour=10, minute=0)
    assert sunday == datetime(2026, 3, 8, 14, 0, tzinfo=UTC)  # 10:00 EDT
    assert sunday.astimezone(new_york).hour == 10
    before = follow_up_next_due(
        after=saturday - timedelta(minutes=1), zone=new_york, hour=10, minute=0
    )
    assert before == saturday
    # A local time that does not exist that night (02:30) still gives one instant.
    gap = follow_up_next_due(after=saturday, zone=new_york, hour=2, minute=30)
    assert gap == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_an_organization_in_another_zone_gets_its_own_local_hour(claro: Claro) -> None:
    fibra = claro.pipeline("FIBRA")
    claro.reseller.time_zone = "America/New_York"
    claro.reseller.save(update_fields=["time_zone"])
    fibra.refresh_from_db()

    timer = follow_up_schedule(pipeline=fibra, after=datetime(2026, 3, 7, 15, 0, tzinfo=UTC))

    assert timer is not None
    assert timer.due_at == datetime(2026, 3, 8, 14, 0, tzinfo=UTC)
    assert timer.dedupe_key == f"pipeline:{fibra.pk}:follow-up:2026-03-08T1000"
    assert (
        Timer.objects.filter(kind=FOLLOW_UP_KIND, target_id=fibra.pk, state="pending").count() == 1
    )


def _silent_since_yesterday(claro: Claro, channel: Channel, due: datetime) -> Lead:
    """A chat lead that wrote yesterday 15:00 (local), answered 15:05, then nothing."""
    inbound(channel, "Hola, quiero fibra")
    lead = Lead.objects.get()
    yesterday = due - timedelta(hours=19)  # 10:00 today -> 15:00 yesterday
    Lead.objects.filter(pk=lead.pk).update(
        owner=claro.agent,
        last_inbound_at=yesterday,
        last_outbound_at=yesterday + timedelta(minutes=5),
    )
    return lead


def test_day_one_two_and_three_follow_up_then_propose_abandono(
    claro: Claro, channel: Channel
) -> None:
    fibra = claro.pipeline("FIBRA")
    due = _timer(fibra).due_at
    lead = _silent_since_yesterday(claro, channel, due)
    other = claro.lead("FIBRA", phone="11 4000-0001")  # wrote nothing: not followed up

    tick(now=due + timedelta(seconds=1))  # day 1
    lead.refresh_from_db()
    assert (lead.stage.name, lead.follow_up_count, lead.last_follow_up_at) == (
        "Seguimiento",
        1,
        due,
    )
    sends = AutomationRun.objects.filter(lead=lead, automation_key="follow-up", action="send_bot")
    assert sends.count() == 1
    assert sends.get().subject == "/seguimiento"
    other.refresh_from_db()
    assert (other.stage.name, other.follow_up_count) == ("Leads entrantes", 0)

    day2 = _timer(fibra).due_at
    assert day2 == due + timedelta(days=1)
    tick(now=day2 + timedelta(seconds=1))
    lead.refresh_from_db()
    assert (lead.stage.name, lead.follow_up_count, lead.proposed_loss_reason) == (
        "Seguimiento",
        2,
        None,
    )
    assert sends.count() == 2

    day3 = _timer(fibra).due_at
    tick(now=day3 + timedelta(seconds=1))
    lead.refresh_from_db()
    assert lead.follow_up_count == 2
    assert lead.proposed_loss_reason == claro.reason("FIBRA", "Abandono gestión")
    assert lead.proposed_at == day3
    assert sends.count() == 2
    task = LeadTask.objects.get(lead=lead)
    assert (task.kind, task.priority, task.assigned_to) == ("call_customer", "high", claro.agent)
    assert "Abandono gestión" in task.title

    tick(now=_timer(fibra).due_at + timedelta(seconds=1))  # day 4: nothing more
    assert LeadTask.objects.filter(lead=lead).count() == 1
    assert sends.count() == 2

    # One click: lose with the proposed reason.
    lead_lose(actor=claro.actor(claro.agent), lead=lead, reason=lead.proposed_loss_reason)
    lead.refresh_from_db()
    assert (lead.loss_reason.name, lead.proposed_loss_reason) == ("Abandono gestión", None)  # type: ignore[union-attr]


def test_a_reply_resets_the_count_and_the_proposal(claro: Claro, channel: Channel) -> None:
    fibra = claro.pipeline("FIBRA")
    due = _timer(fibra).due_at
    lead = _silent_since_yesterday(claro, channel, due)
    tick(now=due + timedelta(seconds=1))

    # The reply comes an hour after the follow-up (a fixed moment: with the real clock
    # the test failed in the hours after local midnight, when "now" came before "due").
    inbound(channel, "Perdón, estuve ocupada", at=due + timedelta(hours=1))
    tick(now=_timer(fibra).due_at + timedelta(seconds=1))

    lead.refresh_from_db()
    assert (lead.follow_up_count, lead.proposed_loss_reason) == (0, None)
    assert (
        AutomationRun.objects.filter(
            lead=lead, automation_key="follow-up", action="send_bot"
        ).count()
        == 1
    )


def test_a_lead_we_did_not_answer_is_not_followed_up(claro: Claro, channel: Channel) -> None:
    fibra = claro.pipeline("FIBRA")
    due = _timer(fibra).due_at
    lead = _silent_since_yesterday(claro, channel, due)
    Lead.objects.filter(pk=lead.pk).update(last_outbound_at=None)

    tick(now=due + timedelta(seconds=1))

    lead.refresh_from_db()
    assert (lead.stage.name, lead.follow_up_count) == ("Leads entrantes", 0)


def test_a_follow_up_firing_twice_schedules_one_next_day(claro: Claro) -> None:
    fibra = claro.pipeline("FIBRA")
    due = _timer(fibra).due_at

    follow_up_schedule(pipeline=fibra, after=due)
    follow_up_schedule(pipeline=fibra, after=due)

    pending = Timer.objects.filter(kind=FOLLOW_UP_KIND, target_id=fibra.pk, state="pending")
    assert [t.due_at for t in pending] == [due + timedelta(days=1)]

"""Declaring and closing outages, and which subscriptions an outage covers when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from telcodesk.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Subscription
from telcodesk.network.models import Outage
from telcodesk.network.outages import outage_close, outage_declare
from telcodesk.network.selectors import outages_affecting, outages_visible
from tests.network.conftest import Net, attach_onu, make_subscription

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 11, 28, 14, 0, tzinfo=UTC)


def supervisor(net: Net) -> Actor:
    return net.world.actor(net.world.supervisor)


def service_ids(subscriptions: list[Subscription]) -> list[str]:
    return sorted(subscription.service_id for subscription in subscriptions)


def test_an_olt_outage_covers_every_service_on_that_olt(net: Net) -> None:
    change = outage_declare(
        actor=supervisor(net),
        scope="olt",
        olt_id=net.zte.pk,
        description="Power failure at the Norte node",
        starts_at=T0,
        estimated_end_at=T0 + timedelta(hours=4),
    )

    assert service_ids(change.affected) == [net[name].service_id for name in (
        "zte-good", "zte-marginal", "zte-dead", "zte-powered-off", "zte-hot", "zte-missing"
    )]  # fmt: skip
    outage = change.outage
    assert (outage.scope, outage.olt_id, outage.starts_at, outage.ended_at) == (
        "olt",
        net.zte.pk,
        T0,
        None,
    )
    assert outage.declared_by_id == net.world.supervisor.pk
    assert outage.scope_label == "OLT-ZTE-NORTE"


def test_a_pon_port_outage_covers_only_that_port(net: Net) -> None:
    other_port_service = make_subscription(net.world.operator, "SRV-777")
    attach_onu(other_port_service, net.huawei_port_2, 1)

    change = outage_declare(
        actor=supervisor(net),
        scope="pon_port",
        pon_port_id=net.huawei_port_2.pk,
        description="Fibre cut on the 0/1/1 trunk",
    )

    assert service_ids(change.affected) == ["SRV-777"]
    assert change.outage.scope_label == "OLT-HW-CENTRO 0/1/1"


def test_a_zone_outage_matches_the_installation_zone_in_any_case(net: Net) -> None:
    change = outage_declare(
        actor=supervisor(net), scope="zone", zone="queru queru", description="Cable stolen"
    )

    # hw-good and hw-marginal are in Queru Queru; the outsider's service too, but it is
    # another organization's.
    assert service_ids(change.affected) == service_ids([net["hw-good"], net["hw-marginal"]])


def test_a_zone_outage_with_a_city_covers_that_city_only(net: Net) -> None:
    make_subscription(net.world.operator, "SRV-801", zone="Queru Queru", city="Sucre")

    change = outage_declare(
        actor=supervisor(net),
        scope="zone",
        zone="Queru Queru",
        city="SUCRE",
        description="Node down",
    )

    assert service_ids(change.affected) == ["SRV-801"]


def test_outages_affecting_a_service_are_those_in_force_at_that_moment(net: Net) -> None:
    actor = supervisor(net)
    olt = outage_declare(
        actor=actor, scope="olt", olt_id=net.huawei.pk, description="OLT reboot", starts_at=T0
    ).outage
    zone = outage_declare(
        actor=actor,
        scope="zone",
        zone="Queru Queru",
        description="Cable stolen",
        starts_at=T0 + timedelta(hours=1),
    ).outage
    outage_close(actor=actor, outage_id=olt.pk, ended_at=T0 + timedelta(hours=2))
    good = net["hw-good"]

    assert outages_affecting(good, at=T0 - timedelta(minutes=1)) == []
    assert outages_affecting(good, at=T0) == [olt]
    assert outages_affecting(good, at=T0 + timedelta(hours=1, minutes=30)) == [olt, zone]
    assert outages_affecting(good, at=T0 + timedelta(hours=2)) == [zone]
    assert outages_affecting(net["zte-good"], at=T0 + timedelta(hours=1, minutes=30)) == []
    assert outages_affecting(good) == [zone]  # now: still open


def test_another_organizations_outage_never_covers_a_service(net: Net) -> None:
    outsider = net.world.actor(net.world.outsider)
    assert net.outsider_olt is not None
    outage_declare(actor=outsider, scope="zone", zone="Queru Queru", description="Theirs")
    outage_declare(actor=outsider, scope="olt", olt_id=net.outsider_olt.pk, description="Theirs")

    assert outages_affecting(net["hw-good"]) == []
    assert outages_visible(actor=supervisor(net)).count() == 0


def test_closing_returns_the_services_to_tell_and_records_who_closed(net: Net) -> None:
    actor = supervisor(net)
    outage = outage_declare(
        actor=actor, scope="zone", zone="Cala Cala", description="Works", starts_at=T0
    ).outage

    change = outage_close(actor=actor, outage_id=outage.pk, ended_at=T0 + timedelta(hours=3))

    assert service_ids(change.affected) == service_ids([net["hw-dead"], net["hw-high"]])
    assert (change.outage.ended_at, change.outage.closed_by_id) == (
        T0 + timedelta(hours=3),
        net.world.supervisor.pk,
    )
    assert not change.outage.is_open


def test_an_outage_closes_once(net: Net) -> None:
    actor = supervisor(net)
    outage = outage_declare(
        actor=actor, scope="olt", olt_id=net.huawei.pk, description="x", starts_at=T0
    ).outage
    outage_close(actor=actor, outage_id=outage.pk, ended_at=T0 + timedelta(hours=1))

    with pytest.raises(DomainError) as raised:
        outage_close(actor=actor, outage_id=outage.pk)

    assert raised.value.status == 409
    assert raised.value.message.startswith("This outage was already closed at ")
    outage.refresh_from_db()
    assert outage.ended_at == T0 + timedelta(hours=1)


@pytest.mark.parametrize(
    ("fields", "details"),
    [
        ({"scope": "olt"}, {"olt_id": ["Pick one of your OLTs."]}),
        ({"scope": "pon_port", "pon_port_id": 999999}, {"pon_port_id": [
            "Pick one of your OLTs' PON ports."]}),
        ({"scope": "zone", "zone": "  "}, {"zone": [
            "Write the zone as it appears in the installation addresses."]}),
        ({"scope": "building"}, {"scope": ["Choose an OLT, a PON port or a zone."]}),
        ({"scope": "zone", "zone": "Sarco", "description": " "}, {"description": [
            "Describe the outage: what failed and where."]}),
        ({"scope": "zone", "zone": "Sarco", "starts_at": datetime(2025, 1, 1, 10)},
         {"starts_at": ["Give the time with its time zone."]}),
        ({"scope": "zone", "zone": "Sarco", "starts_at": T0, "estimated_end_at": T0},
         {"estimated_end_at": ["The estimated end must come after the start."]}),
    ],
)  # fmt: skip
def test_a_bad_outage_is_refused_with_the_field_and_nothing_is_stored(
    net: Net, fields: dict[str, Any], details: dict[str, list[str]]
) -> None:
    arguments = {"description": "Fibre cut", **fields}

    with pytest.raises(ValidationFailed) as raised:
        outage_declare(actor=supervisor(net), **arguments)

    assert raised.value.message == "The outage was not declared: correct the marked fields."
    assert raised.value.details == details
    assert Outage.objects.count() == 0


def test_an_outage_on_another_organizations_olt_is_refused(net: Net) -> None:
    assert net.outsider_olt is not None

    with pytest.raises(ValidationFailed) as raised:
        outage_declare(
            actor=supervisor(net), scope="olt", olt_id=net.outsider_olt.pk, description="x"
        )

    assert raised.value.details == {"olt_id": ["Pick one of your OLTs."]}
    assert Outage.objects.count() == 0


def test_an_outsider_cannot_close_the_operators_outage(net: Net) -> None:
    outage = outage_declare(
        actor=supervisor(net), scope="olt", olt_id=net.huawei.pk, description="x"
    ).outage

    with pytest.raises(NotFound):
        outage_close(actor=net.world.actor(net.world.outsider), outage_id=outage.pk)

    outage.refresh_from_db()
    assert outage.ended_at is None


def test_an_agent_cannot_declare_and_a_reseller_cannot_either(net: Net) -> None:
    with pytest.raises(PermissionDenied):
        outage_declare(
            actor=net.world.actor(net.world.agent), scope="zone", zone="Sarco", description="x"
        )
    reseller_admin = Actor(organization=net.world.reseller, role="admin", label="test")
    with pytest.raises(PermissionDenied) as raised:
        outage_declare(actor=reseller_admin, scope="zone", zone="Sarco", description="x")
    assert raised.value.message == (
        "Outages are declared by the operator that runs the network. Ask the operator."
    )
    assert Outage.objects.count() == 0


def test_a_reseller_sees_the_outages_of_the_operators_it_works_for(net: Net) -> None:
    outage = outage_declare(
        actor=supervisor(net), scope="zone", zone="Sarco", description="Node down"
    ).outage
    reseller_agent = net.world.actor(net.world.reseller_agent)

    assert list(outages_visible(actor=reseller_agent, open_only=True)) == [outage]
    assert list(outages_visible(actor=net.world.actor(net.world.outsider))) == []


def test_an_open_outage_started_in_the_future_does_not_cover_yet(net: Net) -> None:
    later = timezone.now() + timedelta(hours=2)
    outage_declare(
        actor=supervisor(net),
        scope="olt",
        olt_id=net.huawei.pk,
        description="Planned maintenance",
        starts_at=later,
    )

    assert outages_affecting(net["hw-good"]) == []
    assert len(outages_affecting(net["hw-good"], at=later + timedelta(minutes=5))) == 1

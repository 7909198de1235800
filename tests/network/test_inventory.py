"""The inventory's rules: usable SNMP credentials, the admin, the diagnostics settings."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import Client

from telcodesk.accounts.models import User
from telcodesk.network.conf import DiagnosticsConfig, diagnostics_config
from telcodesk.network.credentials import snmp_credential_problems
from telcodesk.network.models import Olt
from tests.conftest import World
from tests.network.conftest import Net

V3_OK = {
    "version": "3",
    "community": "",
    "user": "telcodesk",
    "auth_protocol": "sha",
    "auth_key": "auth-key-2025",
    "priv_protocol": "aes128",
    "priv_key": "priv-key-2025",
}


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        ({}, {}),
        ({"version": "2c", "community": "public"}, {}),
        ({"version": "2c"}, {"snmp_community": "SNMP v2c needs the read community of the OLT."}),
        ({"user": ""}, {"snmp_v3_user": "SNMP v3 needs the user name configured on the OLT."}),
        (
            {"auth_key": "short"},
            {"snmp_v3_auth_key": "The authentication key must have at least 8 characters."},
        ),
        (
            {"priv_key": "short"},
            {"snmp_v3_priv_key": "The privacy key must have at least 8 characters."},
        ),
        (
            {"auth_protocol": "none", "auth_key": ""},
            {
                "snmp_v3_priv_protocol": (
                    "Encryption needs authentication too: choose an authentication protocol."
                )
            },
        ),
        ({"auth_protocol": "none", "auth_key": "", "priv_protocol": "none"}, {}),
        ({"version": "1"}, {"snmp_version": "Choose SNMP v2c or v3."}),
    ],
)
def test_snmp_credentials_that_cannot_work_are_named(
    changes: dict[str, str], problems: dict[str, str]
) -> None:
    found = snmp_credential_problems(**{**V3_OK, **changes})

    assert {field: str(message) for field, message in found.items()} == problems


@pytest.mark.django_db
def test_an_olt_without_its_community_does_not_validate(world: World) -> None:
    olt = Olt(
        organization=world.operator, name="OLT-X", vendor="huawei", management_address="10.0.0.1"
    )

    with pytest.raises(ValidationError) as raised:
        olt.full_clean()

    assert raised.value.message_dict == {
        "snmp_community": ["SNMP v2c needs the read community of the OLT."]
    }


@pytest.mark.django_db
def test_platform_staff_manage_the_inventory_in_the_admin(net: Net) -> None:
    staff = User.objects.create_superuser("root", "root@example.com", "x-very-long-pass-1")
    client = Client()
    client.force_login(staff)

    for url in (
        "/admin/network/olt/",
        f"/admin/network/olt/{net.huawei.pk}/change/",
        "/admin/network/ponport/",
        "/admin/network/onu/",
        "/admin/network/cpe/",
        "/admin/network/diagnosticrun/",
        "/admin/network/outage/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/network/diagnosticrun/add/").status_code == 403


def test_the_diagnostics_settings_have_defaults_and_accept_overrides(settings: Any) -> None:
    settings.TELCODESK_NETWORK_DIAGNOSTICS = {}
    assert diagnostics_config() == DiagnosticsConfig()
    settings.TELCODESK_NETWORK_DIAGNOSTICS = {"ping_count": 3}
    assert diagnostics_config(traffic_interval=1.5) == DiagnosticsConfig(
        ping_count=3, traffic_interval=1.5
    )


@pytest.mark.parametrize(
    ("configured", "message"),
    [
        (
            {"pings": 3},
            "TELCODESK_NETWORK_DIAGNOSTICS: unknown key(s) pings; known: deadline, ping_count, "
            "ping_interval, ping_timeout, snmp_max_in_flight, traffic_interval",
        ),
        ({"ping_count": 0}, "TELCODESK_NETWORK_DIAGNOSTICS['ping_count'] = 0"),
        ({"ping_timeout": "1"}, "TELCODESK_NETWORK_DIAGNOSTICS['ping_timeout'] = '1'"),
        ({"deadline": True}, "TELCODESK_NETWORK_DIAGNOSTICS['deadline'] = True"),
        ({"snmp_max_in_flight": 0}, "TELCODESK_NETWORK_DIAGNOSTICS['snmp_max_in_flight'] = 0"),
        (
            {"snmp_max_in_flight": 2.5},
            "TELCODESK_NETWORK_DIAGNOSTICS['snmp_max_in_flight'] = 2.5",
        ),
    ],
)
def test_bad_diagnostics_settings_are_refused_loudly(
    settings: Any, configured: dict[str, Any], message: str
) -> None:
    settings.TELCODESK_NETWORK_DIAGNOSTICS = configured

    with pytest.raises(ImproperlyConfigured) as raised:
        diagnostics_config()

    assert str(raised.value) == message

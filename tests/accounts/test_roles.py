import pytest

from telcodesk.accounts.roles import PERMISSIONS, ROLE_PERMISSIONS, Role, role_allows

# The whole permission table, spelled out: a change to roles.py must change this test.
EXPECTED = {
    Role.AGENT: {
        "customer.view",
        "customer.create",
        "customer.edit",
        "customer.confirm_contact",
        "ledger.view",
        "lead.view",
        "lead.work",
        "conversation.view",
        "conversation.reply",
        "ticket.view",
        "ticket.work",
        "network.view",
        "network.diagnose",
        "playbook.view",
        "playbook.work",
    },
    Role.BACK_OFFICE: {
        "customer.view",
        "customer.create",
        "customer.edit",
        "customer.confirm_contact",
        "ledger.view",
        "lead.view",
        "lead.work",
        "conversation.view",
        "conversation.reply",
        "ticket.view",
        "ticket.work",
        "network.view",
        "network.diagnose",
        "playbook.view",
        "playbook.work",
        "subscription.edit",
        "subscription.change_status",
        "ledger.edit",
    },
    Role.SUPERVISOR: {
        "customer.view",
        "customer.create",
        "customer.edit",
        "customer.confirm_contact",
        "ledger.view",
        "lead.view",
        "lead.work",
        "conversation.view",
        "conversation.reply",
        "ticket.view",
        "ticket.work",
        "network.view",
        "network.diagnose",
        "playbook.view",
        "playbook.work",
        "subscription.edit",
        "subscription.change_status",
        "ledger.edit",
        "audit.view",
        "team.manage",
        "lead.assign",
        "conversation.supervise",
        "ticket.assign",
        "ticket.charge_approve",
        "outage.manage",
        "playbook.supervise",
    },
    Role.ADMIN: set(PERMISSIONS),
    # An integration's API key feeds leads in and reads nothing.
    Role.INTEGRATION: {"lead.intake"},
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_has_exactly_the_expected_permissions(role: Role) -> None:
    assert set(ROLE_PERMISSIONS[role]) == EXPECTED[role]
    for permission in PERMISSIONS:
        assert role_allows(role, permission) is (permission in EXPECTED[role])


def test_an_unknown_permission_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        role_allows(Role.ADMIN, "customer.teleport")


def test_an_unknown_role_is_allowed_nothing() -> None:
    assert not role_allows("intern", "customer.view")

"""Who works a ticket: an agent takes it, or a supervisor assigns it (as pipelines does
for leads).

- working tickets ("customer.edit") lets an agent take a ticket that nobody works, for
  themselves; taking a ticket another agent works, giving one to someone else, or
  giving it to a team only, is for supervisors ("team.manage");
- the new assignee must be a member of the organization and the team one of its
  teams; without an explicit team the assignee's team is used;
- a closed ticket keeps its last assignee;
- every change is written to the audit log.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from telcodesk.accounts.models import AuditLog, Membership, Team, User
from telcodesk.accounts.services import audit_record
from telcodesk.core.errors import PermissionDenied, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.tickets.models import Ticket
from telcodesk.tickets.permissions import ASSIGN_PERMISSION
from telcodesk.tickets.services.common import check_not_closed, display, ticket_locked


def _membership(actor: Actor, user: User) -> Membership:
    membership = (
        Membership.objects.select_related("team")
        .filter(user=user, organization=actor.organization)
        .first()
    )
    if membership is None:
        message = _("%(name)s is not a member of your organization; choose one of its agents.") % {
            "name": display(user)
        }
        raise ValidationFailed(message, details={"user": [message]})
    return membership


def ticket_assign(
    *, actor: Actor, ticket: Ticket, user: User | None, team: Team | None = None
) -> Ticket:
    """Give ``ticket`` to ``user`` (None: nobody) and ``team``; see the module's rules."""
    with transaction.atomic():
        locked = ticket_locked(actor=actor, ticket=ticket)
        check_not_closed(locked, field="user")
        if team is not None and team.organization_id != actor.organization.pk:
            message = _("This team is not of your organization; choose one of its teams.")
            raise ValidationFailed(message, details={"team": [message]})
        membership = _membership(actor, user) if user is not None else None
        if not actor.can(ASSIGN_PERMISSION):
            me = actor.user
            taking = user is not None and me is not None and user.pk == me.pk
            if not taking:
                raise PermissionDenied(
                    _(
                        "Only supervisors give tickets to other agents or teams. Use “Take "
                        "this ticket” to work it yourself."
                    )
                )
            if locked.assigned_user_id not in (None, me.pk):  # type: ignore[union-attr]
                raise PermissionDenied(
                    _("Another agent already works this ticket. Ask a supervisor to reassign it.")
                )
        if team is None and membership is not None:
            team = membership.team
        before = {
            "assigned_user": locked.assigned_user_id,
            "assigned_team": locked.assigned_team_id,
        }
        after = {
            "assigned_user": user.pk if user else None,
            "assigned_team": team.pk if team else None,
        }
        if before == after:
            return locked
        locked.assigned_user = user
        locked.assigned_team = team
        locked.save(update_fields=["assigned_user", "assigned_team", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditLog.Action.UPDATE,
            object_type="tickets.ticket",
            object_id=locked.pk,
            changes={key: [before[key], after[key]] for key in before if before[key] != after[key]},
        )
    return locked


def ticket_take(*, actor: Actor, ticket: Ticket) -> Ticket:
    """The acting agent works the ticket from now on (with their team)."""
    if actor.user is None:
        raise PermissionDenied(_("Only a signed-in agent can take a ticket."))
    return ticket_assign(actor=actor, ticket=ticket, user=actor.user)

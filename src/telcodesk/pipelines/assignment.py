"""Who works a lead: take it ("aceptar el lead"), or a supervisor assigns it.

The document's PORTA sheet starts with "we must accept the lead": a lead that came in
from a channel has no owner until an agent takes it. Rules:

- working leads ("lead.work") lets an agent take an open lead that nobody owns, for
  themselves; taking a lead that another agent owns, or giving a lead to someone
  else, is for supervisors ("lead.assign");
- the new owner must be a member of the organization; without an explicit team the
  owner's team is used;
- the lead's conversation follows when nobody answers it yet, so the inbox and the
  board agree on who talks to the customer;
- every change is written to the audit log and, when the lead has a customer, to the
  customer's timeline.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from telcodesk.accounts.models import AuditLog, Membership, Team, User
from telcodesk.accounts.services import audit_record
from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import TimelineEvent
from telcodesk.customers.services import timeline_add
from telcodesk.pipelines.models import Lead
from telcodesk.pipelines.services import ASSIGN_PERMISSION, WORK_PERMISSION, lead_lock

__all__ = ["ASSIGN_PERMISSION", "lead_assign", "lead_take"]


def _display(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _membership(actor: Actor, user: User) -> Membership:
    membership = (
        Membership.objects.select_related("team")
        .filter(user=user, organization=actor.organization)
        .first()
    )
    if membership is None:
        message = _("The owner must be a member of your organization; choose one of its agents.")
        raise ValidationFailed(message, details={"owner": [message]})
    return membership


def lead_assign(*, actor: Actor, lead: Lead, owner: User | None, team: Team | None = None) -> Lead:
    """Give ``lead`` to ``owner`` (None: nobody) and ``team``; see the module's rules."""
    actor.require(WORK_PERMISSION)
    if lead.organization_id != actor.organization.pk:
        raise NotFound(_("No such lead. It may belong to another organization."))
    with transaction.atomic():
        locked = lead_lock(lead=lead)
        if not locked.is_open:
            message = _("This lead is closed; reopen it before changing its owner.")
            raise ValidationFailed(message, details={"owner": [message]})
        if team is not None and team.organization_id != actor.organization.pk:
            message = _("This team is not of your organization; choose one of its teams.")
            raise ValidationFailed(message, details={"team": [message]})
        membership = _membership(actor, owner) if owner is not None else None
        if not actor.can(ASSIGN_PERMISSION):
            me = actor.user
            taking = owner is not None and me is not None and owner.pk == me.pk
            if not taking:
                raise PermissionDenied(
                    _(
                        "Only supervisors give leads to other agents. Use “Take this lead” "
                        "to work it yourself."
                    )
                )
            if locked.owner_id not in (None, owner.pk):  # type: ignore[union-attr]
                raise PermissionDenied(
                    _("Another agent already works this lead. Ask a supervisor to reassign it.")
                )
        if team is None and membership is not None:
            team = membership.team
        before = {"owner": locked.owner_id, "team": locked.team_id}
        after = {"owner": owner.pk if owner else None, "team": team.pk if team else None}
        if before == after:
            return locked
        previous_owner = locked.owner
        locked.owner = owner
        locked.team = team
        locked.save(update_fields=["owner", "team", "updated_at"])
        if owner is not None and locked.conversation_id is not None:
            from telcodesk.messaging.models import Conversation

            Conversation.objects.filter(
                pk=locked.conversation_id, assigned_user__isnull=True
            ).update(assigned_user=owner, assigned_team=team)
        audit_record(
            actor=actor,
            action=AuditLog.Action.UPDATE,
            object_type="pipelines.lead",
            object_id=locked.pk,
            changes={key: [before[key], after[key]] for key in ("owner", "team")},
        )
        if locked.customer is not None:
            timeline_add(
                actor=actor,
                customer=locked.customer,
                kind=TimelineEvent.Kind.CHANGE,
                message=gettext_noop("Lead in %(pipeline)s now worked by %(owner)s"),
                params={
                    "pipeline": locked.pipeline.name,
                    "owner": _display(owner) or "—",
                    "previous": _display(previous_owner),
                },
                data={"lead": locked.pk},
                at=timezone.now(),
            )
    return locked


def lead_take(*, actor: Actor, lead: Lead) -> Lead:
    """The acting agent accepts the lead ("aceptar el lead") and works it from now on."""
    if actor.user is None:
        raise PermissionDenied(_("Only a signed-in agent can take a lead."))
    return lead_assign(actor=actor, lead=lead, owner=actor.user)

"""The tasks automations make for a lead's owner ("call the customer"): marking one done."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from telcodesk.core.errors import NotFound, PermissionDenied
from telcodesk.core.tenancy import Actor
from telcodesk.pipelines.models import LeadTask
from telcodesk.pipelines.services.history import moment
from telcodesk.pipelines.services.leads import ASSIGN_PERMISSION, WORK_PERMISSION


def lead_task_complete(*, actor: Actor, task_id: int, now: datetime | None = None) -> LeadTask:
    """Mark the open task ``task_id`` done, now (it leaves the queue's "call now").

    Needs "lead.work". A task of another organization is NotFound. A task assigned to
    another agent is theirs: only a supervisor ("lead.assign") marks it done for them.
    A task already done is left as it is.
    """
    actor.require(WORK_PERMISSION)
    with transaction.atomic():
        task = (
            LeadTask.objects.select_for_update(of=("self",))
            .select_related("assigned_to", "lead")
            .filter(pk=task_id, organization=actor.organization)
            .first()
        )
        if task is None:
            raise NotFound(_("No such task. Reload the lead's page."))
        if task.done_at is not None:
            return task
        mine = actor.user is not None and task.assigned_to_id == actor.user.pk
        assignee = task.assigned_to
        if assignee is not None and not mine and not actor.can(ASSIGN_PERMISSION):
            raise PermissionDenied(
                _("This task is assigned to %(agent)s; only they or a supervisor can mark it done.")
                % {"agent": assignee.get_full_name() or assignee.get_username()}
            )
        task.done_at = moment(now)
        task.save(update_fields=["done_at", "updated_at"])
    return task

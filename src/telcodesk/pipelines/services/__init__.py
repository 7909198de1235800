"""Every write to a lead: create, move, win, lose, close automatically, update its tabs.

The agents' services (``leads``) take an ``Actor`` and check, in this order: the
permission ("lead.work" to work leads), the organization (a lead of another
organization is NotFound), then the business rule (pipelines.rules), refusing with
ValidationFailed whose message says why and what to do. Each change is one
transaction, holds a row lock on the lead (SELECT ... FOR UPDATE), records a
LeadStageChange and, when the lead is linked to a customer, a timeline entry.

The system's services (``system``: ``lead_create_automatically``,
``lead_close_automatically``, ``lead_move_automatically``, ``lead_update_automatically``,
``lead_greeting_record``) are for automations, bots, inbound messages and the store
intake: they take no actor and check no permission (the caller checked its own, e.g.
"lead.intake" for the store).

Modules: ``leads`` (agents), ``system`` (no actor), ``creation`` (what creating a lead
checks, shared by both), ``duplicates`` (one open lead per phone and pipeline),
``history`` (recording a stage change), ``locks``, ``tasks`` (marking the automations'
tasks done). Import from this package: ``from telcodesk.pipelines.services import
lead_move``.
"""

from telcodesk.pipelines.services.creation import CENTS
from telcodesk.pipelines.services.duplicates import (
    SALE_IN_PROCESS,
    LeadCreateResult,
    lead_duplicate_find,
)
from telcodesk.pipelines.services.history import stage_facts
from telcodesk.pipelines.services.leads import (
    ASSIGN_PERMISSION,
    WORK_PERMISSION,
    lead_contact_update,
    lead_create,
    lead_lose,
    lead_move,
    lead_update_data,
    lead_win,
)
from telcodesk.pipelines.services.locks import lead_lock, lead_lock_by_id
from telcodesk.pipelines.services.system import (
    lead_close_automatically,
    lead_create_automatically,
    lead_greeting_record,
    lead_move_automatically,
    lead_update_automatically,
)
from telcodesk.pipelines.services.tasks import lead_task_complete

__all__ = [
    "ASSIGN_PERMISSION",
    "CENTS",
    "SALE_IN_PROCESS",
    "WORK_PERMISSION",
    "LeadCreateResult",
    "lead_close_automatically",
    "lead_contact_update",
    "lead_create",
    "lead_create_automatically",
    "lead_duplicate_find",
    "lead_greeting_record",
    "lead_lock",
    "lead_lock_by_id",
    "lead_lose",
    "lead_move",
    "lead_move_automatically",
    "lead_task_complete",
    "lead_update_automatically",
    "lead_update_data",
    "lead_win",
    "stage_facts",
]

"""Every write to a playbook run (``runs``), on the runner's parts (``engine``).

Import from this package: ``from telcodesk.playbooks.services import run_answer``.
"""

from telcodesk.playbooks.services.engine import RunClosed
from telcodesk.playbooks.services.runs import (
    RunTarget,
    playbook_run_start,
    run_abandon,
    run_action,
    run_answer,
    run_candidate_pick,
    run_finish,
    run_item_check,
    run_step_complete,
    run_step_skip,
)

__all__ = [
    "RunClosed",
    "RunTarget",
    "playbook_run_start",
    "run_abandon",
    "run_action",
    "run_answer",
    "run_candidate_pick",
    "run_finish",
    "run_item_check",
    "run_step_complete",
    "run_step_skip",
]

"""The permissions the playbooks app checks (see accounts/roles.py for who has them).

Read runs: "playbook.view"; work runs (start, answer, check, complete, finish,
abandon): "playbook.work"; the supervisors' adherence figures: "playbook.supervise".
"""

from __future__ import annotations

VIEW_PERMISSION = "playbook.view"
WORK_PERMISSION = "playbook.work"
SUPERVISE_PERMISSION = "playbook.supervise"

"""Where a run goes after a step: ``next`` rules, and the checks on the steps' graph.

A step's ``next`` rules are tried in order; the first whose ``when`` matches the run's
answers and facts wins (``goto`` a step, or ``end`` the run). A rule without ``when``
always matches (it must be the last). When no rule matches the run goes on to the
following step in the list, or ends after a step marked ``end: true`` and after the
last step.

``when`` maps question keys (or facts reported by actions) to the expected value; a
list means "any of these". Every key must match: ``{fault_found: false,
intermittent: true}``. An unanswered question matches nothing.

Graph checks (run when a pack loads): every step must be reachable from the first
(a step nobody can reach is a mistake, e.g. a misspelt ``goto``: refused), and from
every step some path must lead to an end (a loop without a way out: refused). Loops
that have a way out are allowed (e.g. "still failing? back to the validations").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from telcodesk.playbooks.pack_spec import NextRuleSpec, PlaybookSpec

# A successor in the graph: a step index, or END.
END = -1


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and actual is expected
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return float(actual) == float(expected)
    return bool(actual == expected)


def condition_matches(when: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    """Whether every ``key: expected`` of ``when`` holds in ``values``."""
    for key, expected in when.items():
        if key not in values or values[key] is None:
            return False
        options = expected if isinstance(expected, list) else [expected]
        if not any(_same(values[key], option) for option in options):
            return False
    return True


def rule_target(rule: NextRuleSpec, keys: Sequence[str]) -> int:
    return END if rule.end else keys.index(rule.goto or "")


def step_next(spec: PlaybookSpec, step_key: str, values: Mapping[str, Any]) -> str | None:
    """The key of the step after ``step_key`` given ``values``; None: the run ends."""
    keys = spec.step_keys()
    index = keys.index(step_key)
    step = spec.steps[index]
    for rule in step.next:
        if rule.when is None or condition_matches(rule.when, values):
            return None if rule.end else rule.goto
    if step.end or index == len(keys) - 1:
        return None
    return keys[index + 1]


def step_successors(spec: PlaybookSpec, index: int) -> list[int]:
    """Every step index (or END) the run may go to after step ``index``."""
    keys = spec.step_keys()
    step = spec.steps[index]
    found: list[int] = []
    for rule in step.next:
        target = rule_target(rule, keys)
        if target not in found:
            found.append(target)
        if rule.when is None:
            return found
    fallthrough = END if step.end or index == len(keys) - 1 else index + 1
    if fallthrough not in found:
        found.append(fallthrough)
    return found


def unreachable_steps(spec: PlaybookSpec) -> list[int]:
    """Indexes of the steps no path from the first step reaches."""
    seen = {0}
    todo = [0]
    while todo:
        for target in step_successors(spec, todo.pop()):
            if target != END and target not in seen:
                seen.add(target)
                todo.append(target)
    return [index for index in range(len(spec.steps)) if index not in seen]


def never_ending_steps(spec: PlaybookSpec) -> list[int]:
    """Indexes of the steps from which no path leads to an end (a loop with no way out)."""
    successors = {index: step_successors(spec, index) for index in range(len(spec.steps))}
    ending = {index for index, targets in successors.items() if END in targets}
    changed = True
    while changed:
        changed = False
        for index, targets in successors.items():
            if index not in ending and any(target in ending for target in targets):
                ending.add(index)
                changed = True
    return [index for index in range(len(spec.steps)) if index not in ending]


def may_end_after(spec: PlaybookSpec, step_key: str) -> bool:
    """Whether the run may end right after ``step_key`` (the panel labels it "Finish")."""
    return END in step_successors(spec, spec.step_keys().index(step_key))

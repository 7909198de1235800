"""The ``run_diagnostics`` playbook action: the four validations of Process 2.

View the ONU, ping, traffic and optical power — ``network.diagnostics.diagnostics_run``
on the call's service, stored on the call's ticket. What the results mean for the rest
of the call is reported as facts that the playbook's ``next`` rules read:

- ``fault_found``: a check found a fault (no connectivity, ONU offline, optical power
  out of range) or a device did not answer;
- ``intermittent``: the ping was intermittent, or the customer said the problem comes
  and goes (``intermittent_question``);
- ``outage``: an outage in force covers the service;
- ``all_ok``: every check ran and found nothing wrong, nothing is intermittent and no
  outage covers the service.

A device that does not answer is a stored "unreachable" result, not a failed action:
the agent reads the error and the playbook goes on (to the visit, usually).
"""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field

from telcodesk.network.diagnostics import diagnostics_run
from telcodesk.network.models import DiagnosticKind, DiagnosticRun, DiagnosticStatus
from telcodesk.network.selectors import outages_affecting
from telcodesk.network.verdicts import verdict_label
from telcodesk.playbooks.actions import ActionContext, ActionResult
from telcodesk.tickets.playbook_common import (
    answer_of,
    no_customer,
    run_customer,
    service_choose,
    ticket_of,
)

# The network app's diagnostic kinds (network.models.DiagnosticKind).
KindName = Literal["ping", "onu_status", "optical_power", "traffic"]
# Verdicts that are a fault of the line (network.verdicts).
FAULT_VERDICTS = frozenset({"no_connectivity", "offline", "fault"})
# Verdicts of a line that works (marginal optical power and "no traffic" are not faults,
# but neither are they "all fine").
OK_VERDICTS = frozenset({"stable", "online", "good", "normal", "saturated", "measured"})
# Answers meaning "it comes and goes" when the intermittent question is a choice or text.
INTERMITTENT_ANSWERS = frozenset({"intermittent", "intermitente", "intermitent"})


class RunDiagnosticsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kinds: list[KindName] = Field(min_length=1)
    # A question whose "yes" (or the choice "intermittent") says the problem is
    # intermittent, whatever the ping showed at this moment.
    intermittent_question: str | None = None
    # A text question with the service ID, when the customer has several services.
    service_question: str | None = None


def _said_intermittent(context: ActionContext, key: str | None) -> bool:
    answer = answer_of(context, key)
    if isinstance(answer, bool):
        return answer
    return isinstance(answer, str) and answer.strip().casefold() in INTERMITTENT_ANSWERS


def _line(run: DiagnosticRun) -> str:
    kind = DiagnosticKind(run.kind).label
    if run.status == DiagnosticStatus.OK:
        outcome = verdict_label(run.verdict)
    else:
        outcome = str(DiagnosticStatus(run.status).label)
        if run.error:
            outcome = f"{outcome} ({run.error})"
    return f"{kind}: {outcome}"


def run_diagnostics_action(context: ActionContext) -> ActionResult:
    """Run the step's checks on the call's service and report what they found."""
    actor = context.actor
    params = RunDiagnosticsParams.model_validate(context.params)
    customer = run_customer(actor, context.run)
    if customer is None:
        return no_customer()
    ticket = ticket_of(actor, context.link("ticket"))
    service = service_choose(
        actor=actor,
        customer=customer,
        context=context,
        service_question=params.service_question,
        ticket=ticket,
    )
    if service.refusal:
        return ActionResult(ok=False, message=service.refusal)
    subscription = service.subscription
    if subscription is None:
        return ActionResult(
            ok=False,
            message=_(
                "%(name)s has no single active service to check: ask which service fails "
                "and write its service ID."
            )
            % {"name": customer.display_name},
        )
    runs = diagnostics_run(
        actor=actor, subscription=subscription, kinds=list(params.kinds), ticket=ticket
    )
    unreachable = [run for run in runs if run.status == DiagnosticStatus.UNREACHABLE]
    fault = bool(unreachable) or any(run.verdict in FAULT_VERDICTS for run in runs)
    intermittent = any(
        run.kind == DiagnosticKind.PING and run.verdict == "intermittent" for run in runs
    ) or _said_intermittent(context, params.intermittent_question)
    outage = bool(outages_affecting(subscription))
    all_ok = (
        not intermittent
        and not outage
        and all(run.status == DiagnosticStatus.OK and run.verdict in OK_VERDICTS for run in runs)
    )
    results = "; ".join(_line(run) for run in runs)
    if unreachable:
        message = _(
            "A device did not answer: the results were stored as unreachable (%(results)s). "
            "Check for an outage or tell the network operations centre."
        )
    elif outage:
        message = _("An outage covers this service: %(results)s.")
    elif fault:
        message = _("Diagnostics done, a fault was found: %(results)s.")
    elif all_ok:
        message = _("Diagnostics done, everything is fine: %(results)s.")
    else:
        message = _("Diagnostics done, no fault found: %(results)s.")
    return ActionResult(
        message=message % {"results": results},
        facts={
            "fault_found": fault,
            "intermittent": intermittent,
            "outage": outage,
            "all_ok": all_ok,
        },
        data={
            "diagnostic_run_ids": [run.pk for run in runs],
            "subscription_id": subscription.pk,
            "ticket_id": ticket.pk if ticket is not None else None,
            "results": {
                run.kind: {
                    "status": run.status,
                    "verdict": run.verdict,
                    "recommendation": run.recommendation,
                    "error": run.error,
                }
                for run in runs
            },
        },
    )

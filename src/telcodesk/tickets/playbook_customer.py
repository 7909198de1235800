"""Playbook actions about who is calling: ``identify_customer`` and ``confirm_contact``.

Process 2 of the ISP: find the customer by name, phone or service ID, then confirm the
phone and e-mail on file ("¿sigue siendo su número el ...?").
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, model_validator

from telcodesk.customers.models import ContactPoint, Customer, SubscriptionStatus
from telcodesk.customers.phones import phone_query_forms
from telcodesk.customers.search import customer_search
from telcodesk.customers.selectors import customers_visible
from telcodesk.customers.services import contact_confirm, email_add, phone_add
from telcodesk.playbooks.actions import ActionContext, ActionResult
from telcodesk.tickets.playbook_common import (
    SERVICE_VARIABLE,
    answer_of,
    no_customer,
    not_answered,
    question_text,
    run_customer,
)

# Candidates listed when a name matches several customers (the panel offers them).
CANDIDATES_SHOWN = 10
# The answer naming one of the candidates by id, as listed: "#123".
CANDIDATE_RE = re.compile(r"^#(\d{1,18})$")


class IdentifyCustomerParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # A text question whose answer is the customer's name, phone, document or service ID.
    question: str


class ConfirmContactParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Yes/no questions "is the phone (e-mail) on file still yours?" ...
    phone_question: str | None = None
    email_question: str | None = None
    # ... and the text questions with the new value when the answer is no.
    new_phone_question: str | None = None
    new_email_question: str | None = None

    @model_validator(mode="after")
    def _something_to_confirm(self) -> ConfirmContactParams:
        if not self.phone_question and not self.email_question:
            raise ValueError(_("Give phone_question, email_question or both."))
        return self


PLAN_VARIABLE = "plan"


def _found(
    customer: Customer, message: str, *, matched_on: str, service_id: str = ""
) -> ActionResult:
    variables = {"customer_name": customer.display_name}
    if service_id:
        variables[SERVICE_VARIABLE] = service_id
    # {plan}: the contracted plan, for scripts such as the advice step ("Su plan
    # contratado es {plan}"), when the service is known or the customer has only one.
    services = customer.subscriptions.filter(status=SubscriptionStatus.ACTIVE)
    if service_id:
        services = services.filter(service_id=service_id)
    plans = list(services.values_list("plan_name", flat=True)[:2])  # one query
    if len(plans) == 1 and plans[0]:
        variables[PLAN_VARIABLE] = plans[0]
    return ActionResult(
        message=message,
        customer_id=customer.pk,
        variables=variables,
        facts={"customer_found": True},
        data={"customer_id": customer.pk, "matched_on": matched_on},
    )


def identify_customer_action(context: ActionContext) -> ActionResult:
    """Find the caller among the organization's customers from one typed answer.

    Exact identifiers first (phone, document, service ID, contract, e-mail: customers'
    search), names only when no identifier matched; "#<id>" picks one of the candidates
    listed earlier. One customer: the run is about them (``customer_id``,
    ``{customer_name}``, fact ``customer_found``). None or several: a refusal saying
    what to ask next; several list the candidates in ``data.candidates`` (id, name,
    what matched) for the panel to offer.
    """
    actor = context.actor
    params = IdentifyCustomerParams.model_validate(context.params)
    already = run_customer(actor, context.run)
    if already is not None:
        return _found(
            already,
            _("The customer is %(name)s (the playbook was started from their page).")
            % {"name": already.display_name},
            matched_on="run",
        )
    typed = answer_of(context, params.question)
    if typed is None or not str(typed).strip():
        return not_answered(context, params.question)
    query = str(typed).strip()
    chosen_id = CANDIDATE_RE.match(query)
    if chosen_id is not None:
        # A candidate the panel offered ("#123"): only one the actor sees.
        picked = customers_visible(actor=actor).filter(pk=int(chosen_id.group(1))).first()
        if picked is not None:
            return _found(
                picked,
                _("Customer found: %(name)s.") % {"name": picked.display_name},
                matched_on="candidate",
            )
        return ActionResult(
            ok=False,
            message=_(
                "Customer %(query)s is not among your customers. Search again by the "
                "customer's name, phone or service ID."
            )
            % {"query": query},
            facts={"customer_found": False},
            data={"query": query, "candidates": []},
        )
    hits = customer_search(actor=actor, query=query, limit=CANDIDATES_SHOWN + 1)
    exact = [hit for hit in hits if hit.matched_on != "name"]
    chosen = exact or hits
    if not chosen:
        # Identifiers have digits ("FTTH-1001", "71234567"); names do not.
        if any(char.isdigit() for char in query):
            message = _(
                "No customer has the phone, document or service ID “%(query)s”. Check the "
                "number with the customer, or search by their name."
            )
        else:
            message = _(
                "Nobody is called “%(query)s” among your customers. Ask for the name as on "
                "the contract, or for the phone or service ID."
            )
        return ActionResult(
            ok=False,
            message=message % {"query": query},
            facts={"customer_found": False},
            data={"query": query, "candidates": []},
        )
    if len(chosen) > 1:
        candidates = [
            {
                "id": hit.customer.pk,
                "name": hit.customer.display_name,
                "matched_on": hit.matched_on,
            }
            for hit in chosen[:CANDIDATES_SHOWN]
        ]
        return ActionResult(
            ok=False,
            message=_(
                "%(count)d customers match “%(query)s”: %(names)s. Ask for the phone or "
                "service ID to tell them apart."
            )
            % {
                "count": len(chosen),
                "query": query,
                "names": "; ".join(f"{c['name']} (#{c['id']})" for c in candidates),
            },
            data={"query": query, "candidates": candidates},
        )
    hit = chosen[0]
    customer = hit.customer
    service_id = ""
    if hit.matched_on == "service_id":
        wanted = "".join(query.split()).upper()
        service_id = (
            customer.subscriptions.filter(service_id__in=[query.upper(), wanted])
            .values_list("service_id", flat=True)
            .first()
            or ""
        )
    return _found(
        customer,
        _("Customer found: %(name)s.") % {"name": customer.display_name},
        matched_on=hit.matched_on,
        service_id=service_id,
    )


def _on_file(customer: Customer, kind: str) -> ContactPoint | None:
    return customer.contacts.filter(kind=kind).order_by("-is_primary", "id").first()


def _existing(customer: Customer, kind: str, raw: str) -> ContactPoint | None:
    """The customer's contact of ``kind`` with the value ``raw`` as typed, if any."""
    if kind == ContactPoint.Kind.PHONE:
        forms = phone_query_forms(raw, region=customer.organization.country or "US")
    else:
        forms = [raw.strip().lower()]
    return customer.contacts.filter(kind=kind, value__in=forms).first()


def _new_contact(context: ActionContext, customer: Customer, kind: str, raw: str) -> ContactPoint:
    """A new contact of the customer with ``raw``, as their primary one of its kind."""
    if kind == ContactPoint.Kind.PHONE:
        return phone_add(actor=context.actor, customer=customer, raw=raw, is_primary=True)
    return email_add(actor=context.actor, customer=customer, raw=raw, is_primary=True)


def _nothing_on_file(kind: str) -> str:
    if kind == ContactPoint.Kind.PHONE:
        return _(
            "%(name)s has no phone on file: answer no to “%(question)s” and write the new one."
        )
    return _("%(name)s has no e-mail on file: answer no to “%(question)s” and write the new one.")


def _new_value_missing(kind: str) -> str:
    if kind == ContactPoint.Kind.PHONE:
        return _("The customer gave a new phone: write it in “%(question)s”.")
    return _("The customer gave a new e-mail address: write it in “%(question)s”.")


def confirm_contact_action(context: ActionContext) -> ActionResult:
    """Confirm the phone and/or e-mail on file, or record the new ones the customer gives.

    For each kind with a question: "yes" confirms the contact on file
    (``contact_confirm``, as ``POST /api/v1/contacts/{id}/confirm`` does); "no" adds
    the value typed in the new-value question as the customer's primary contact of
    that kind and confirms it. Everything is checked before anything is written: an
    unanswered question, "yes" with nothing on file, or "no" without the new value
    refuses the whole action.
    """
    params = ConfirmContactParams.model_validate(context.params)
    customer = run_customer(context.actor, context.run)
    if customer is None:
        return no_customer()
    plan: list[tuple[str, ContactPoint | None, str]] = []
    for kind, question, new_question in (
        (ContactPoint.Kind.PHONE, params.phone_question, params.new_phone_question),
        (ContactPoint.Kind.EMAIL, params.email_question, params.new_email_question),
    ):
        if not question:
            continue
        same = answer_of(context, question)
        if same is None:
            return not_answered(context, question)
        on_file = _on_file(customer, kind)
        if same is True:
            if on_file is None:
                return ActionResult(
                    ok=False,
                    message=_nothing_on_file(kind)
                    % {"name": customer.display_name, "question": question_text(context, question)},
                )
            plan.append((kind, on_file, ""))
            continue
        # "No": the new value is in its own question; a text answer is the value itself.
        new_value = answer_of(context, new_question) if same is False else same
        if new_value is None or not str(new_value).strip():
            return ActionResult(
                ok=False,
                message=_new_value_missing(kind)
                % {"question": question_text(context, new_question or question)},
            )
        plan.append((kind, None, str(new_value).strip()))
    confirmed: list[ContactPoint] = []
    added: list[int] = []
    for planned_kind, on_file, raw in plan:
        contact = on_file or _existing(customer, planned_kind, raw)
        if contact is None:
            contact = _new_contact(context, customer, planned_kind, raw)
            added.append(contact.pk)
        confirmed.append(contact_confirm(actor=context.actor, contact_id=contact.pk))
    values = ", ".join(contact.value for contact in confirmed)
    return ActionResult(
        message=_("Contact data confirmed with the customer: %(values)s.") % {"values": values},
        facts={"contact_confirmed": True},
        data=_data(confirmed, added),
    )


def _data(confirmed: list[ContactPoint], added: list[int]) -> dict[str, Any]:
    return {
        "confirmed": [{"id": c.pk, "kind": c.kind, "value": c.value} for c in confirmed],
        "added": added,
    }

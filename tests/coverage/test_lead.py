"""lead_coverage_apply: the FIBRA lead qualified by its installation address."""

from __future__ import annotations

import pytest

from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from telcodesk.coverage.models import CoverageArea
from telcodesk.coverage.services import lead_coverage_apply
from telcodesk.pipelines.models import Lead, LeadStageChange
from tests.coverage.conftest import Coverage

pytestmark = pytest.mark.django_db


def snapshot(lead: Lead) -> tuple[object, ...]:
    lead.refresh_from_db()
    return (
        lead.stage_id,
        lead.loss_reason_id,
        lead.lost_at,
        lead.data,
        LeadStageChange.objects.filter(lead=lead).count(),
    )


def test_a_covered_address_moves_the_lead_to_con_cobertura(coverage: Coverage) -> None:
    lead = coverage.lead(installation_address="Av. Rivadavia 5200, Caballito, CABA")

    decision = lead_coverage_apply(actor=coverage.actor(coverage.agent), lead=lead)

    lead.refresh_from_db()
    assert decision.covered is True
    assert decision.moved_to == "Con Cobertura"
    assert decision.area == CoverageArea.objects.get(name="Caballito")
    assert decision.reasons == [
        "Av. Rivadavia 5200 is within Caballito (Av. Rivadavia 5000–5800, even numbers).",
        'The lead moved to "Con Cobertura".',
    ]
    assert lead.stage == coverage.stage("Con Cobertura")
    assert lead.data == {
        "installation_address": "Av. Rivadavia 5200, Caballito, CABA",
        "coverage_result": "covered",
    }
    change = LeadStageChange.objects.filter(lead=lead).order_by("-id").first()
    assert change is not None
    assert change.actor == coverage.agent
    assert change.reason == (
        "Av. Rivadavia 5200 is within Caballito (Av. Rivadavia 5000–5800, even numbers)."
    )


def test_an_uncovered_address_loses_the_lead_fuera_de_cobertura(coverage: Coverage) -> None:
    lead = coverage.lead(installation_address="Av. Rivadavia 5201, Caballito")

    decision = lead_coverage_apply(actor=coverage.actor(coverage.agent), lead=lead)

    lead.refresh_from_db()
    assert decision.covered is False
    assert decision.lost_with == "Fuera de cobertura"
    assert decision.reasons[-1] == 'The lead was lost with the reason "Fuera de cobertura".'
    assert lead.stage == coverage.stage("Perdidos")
    assert lead.loss_reason == coverage.reason("Fuera de cobertura")
    assert lead.lost_at is not None
    assert lead.data["coverage_result"] == "not_covered"


def test_an_unreadable_address_moves_nothing_and_says_what_to_fill(coverage: Coverage) -> None:
    lead = coverage.lead(installation_address="Rivadavia, Caballito")
    stage_id = lead.stage_id

    decision = lead_coverage_apply(actor=coverage.actor(coverage.agent), lead=lead)

    lead.refresh_from_db()
    assert decision.covered is None
    assert (decision.moved_to, decision.lost_with) == ("", "")
    assert decision.reasons == [
        "Complete the installation address with the house number (e.g. Av. Rivadavia 5200, "
        'Caballito), or the installation point as "latitude, longitude".'
    ]
    assert lead.stage_id == stage_id
    assert lead.data["coverage_result"] == "unchecked"


def test_the_installation_point_is_used_when_the_ranges_do_not_match(coverage: Coverage) -> None:
    lead = coverage.lead(installation_address="Honduras 9999")
    lead.data["installation_point"] = "-34.583, -58.435"
    Lead.objects.filter(pk=lead.pk).update(data=lead.data)

    decision = lead_coverage_apply(actor=coverage.actor(coverage.agent), lead=lead)

    assert decision.covered is True
    assert decision.matched_by == "polygon"
    assert decision.moved_to == "Con Cobertura"


def test_a_bad_installation_point_is_ignored_with_a_reason(coverage: Coverage) -> None:
    lead = coverage.lead(installation_address="Gurruchaga 1800")
    lead.data["installation_point"] = "somewhere"
    Lead.objects.filter(pk=lead.pk).update(data=lead.data)

    decision = lead_coverage_apply(actor=coverage.actor(coverage.agent), lead=lead)

    assert decision.covered is True
    assert decision.reasons[1] == (
        'The installation point "somewhere" is not "latitude, longitude" (e.g. -34.61, '
        "-58.43); it was not used."
    )


def test_a_lead_lost_out_of_coverage_is_reopened_when_the_address_is_fixed(
    coverage: Coverage,
) -> None:
    agent = coverage.actor(coverage.agent)
    lead = coverage.lead(installation_address="Av. Rivadavia 5201")
    lead_coverage_apply(actor=agent, lead=lead)
    again = lead_coverage_apply(actor=agent, lead=lead)  # still not covered: nothing new
    changes = LeadStageChange.objects.filter(lead=lead).count()
    Lead.objects.filter(pk=lead.pk).update(
        data={"installation_address": "Av. Rivadavia 5202", "coverage_result": "not_covered"}
    )

    fixed = lead_coverage_apply(actor=agent, lead=lead)

    lead.refresh_from_db()
    assert again.lost_with == ""
    assert fixed.moved_to == "Con Cobertura"
    assert (lead.stage.name, lead.lost_at, lead.loss_reason) == ("Con Cobertura", None, None)
    assert LeadStageChange.objects.filter(lead=lead).count() == changes + 1


def test_the_pipeline_rules_can_rename_the_stage_and_reason(coverage: Coverage) -> None:
    pipeline = coverage.pipeline()
    pipeline.rules = {**pipeline.rules, "coverage": {"covered_stage": "Pedido Acometida"}}
    pipeline.save(update_fields=["rules"])
    lead = coverage.lead(installation_address="Gurruchaga 1800")

    decision = lead_coverage_apply(actor=coverage.actor(coverage.agent), lead=lead)

    assert decision.moved_to == "Pedido Acometida"


def test_a_pipeline_without_the_stage_is_refused_and_nothing_changes(coverage: Coverage) -> None:
    pipeline = coverage.pipeline()
    pipeline.rules = {**pipeline.rules, "coverage": {"covered_stage": "No existe"}}
    pipeline.save(update_fields=["rules"])
    lead = coverage.lead(installation_address="Gurruchaga 1800")
    before = snapshot(lead)

    with pytest.raises(ValidationFailed) as error:
        lead_coverage_apply(actor=coverage.actor(coverage.agent), lead=lead)

    assert error.value.message == (
        'Coverage is checked on a pipeline with an installation address, a stage "No existe" '
        'and a loss reason "Fuera de cobertura"; FIBRA lacks them.'
    )
    assert snapshot(lead) == before


def test_outsiders_and_roles_without_edit_change_nothing(coverage: Coverage) -> None:
    lead = coverage.lead(installation_address="Gurruchaga 1800")
    before = snapshot(lead)

    with pytest.raises(NotFound):
        lead_coverage_apply(actor=coverage.actor(coverage.outsider), lead=lead)
    viewer = coverage.actor(coverage.agent)
    with pytest.raises(PermissionDenied):
        lead_coverage_apply(
            actor=type(viewer)(organization=viewer.organization, role="nobody", user=viewer.user),
            lead=lead,
        )

    assert snapshot(lead) == before

"""The demo's sample leads: N leads through the services, in every state the demo needs."""

from __future__ import annotations

from collections import Counter

import pytest

from telcodesk.pipelines.demo import demo_leads_generate
from telcodesk.pipelines.models import Lead, LeadStageChange
from tests.pipelines.conftest import Claro

pytestmark = pytest.mark.django_db


def test_it_creates_the_number_of_leads_asked_for(claro: Claro) -> None:
    created = demo_leads_generate(organization=claro.reseller, count=80, seed=7)

    assert created == 80
    leads = Lead.objects.filter(organization=claro.reseller)
    assert leads.count() == 80
    by_pipeline = Counter(leads.values_list("pipeline__name", flat=True))
    assert set(by_pipeline) == {"FIBRA", "PORTA", "TECHSTORE CHATS"}
    assert leads.filter(loss_reason__is_system=True).exists()
    assert leads.filter(loss_reason__is_system=False, lost_at__isnull=False).exists()
    assert leads.filter(won_at__isnull=False).exists()
    assert leads.filter(stage__name="Aguardando datos").exists()
    assert leads.filter(stage__name="Respondió oferta").exists()
    assert all(lead.phone.startswith("+549") for lead in leads)
    # Every lead has its history from its creation, written by the services.
    assert LeadStageChange.objects.filter(lead__in=leads, from_stage=None).count() == 80
    assert not Lead.objects.filter(organization=claro.outsider_org).exists()


def test_the_same_seed_gives_the_same_leads(claro: Claro) -> None:
    demo_leads_generate(organization=claro.reseller, count=10, seed=3)
    first = list(Lead.objects.order_by("id").values_list("name", "phone", "stage__name"))
    Lead.objects.all().delete()

    demo_leads_generate(organization=claro.reseller, count=10, seed=3)

    again = list(Lead.objects.order_by("id").values_list("name", "phone", "stage__name"))
    assert again == first


def test_nothing_is_created_for_an_organization_without_pipelines(claro: Claro) -> None:
    assert demo_leads_generate(organization=claro.operator, count=5, seed=1) == 0
    assert Lead.objects.count() == 0

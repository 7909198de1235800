"""Whether an organization has pipelines, asked by every inbound message, is cached.

``selectors.organization_has_pipelines`` keeps the answer per process for a few
seconds; saving or deleting a pipeline (by hand or by a pack load) forgets it at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoAssertNumQueries

from telcodesk.messaging.models import Channel
from telcodesk.packs.loader import pack_load
from telcodesk.pipelines import selectors
from telcodesk.pipelines.models import Lead, Pipeline
from telcodesk.pipelines.selectors import (
    PIPELINES_IN_USE_CACHE_SECONDS,
    organization_has_pipelines,
    pipelines_in_use_cache_clear,
)
from tests.messaging.helpers import make_channel
from tests.pipelines.conftest import Claro
from tests.pipelines.test_automations import inbound

PIPELINE_TABLE = f'FROM "{Pipeline._meta.db_table}"'


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # Ids are reused after each test's rollback: start and end with nothing cached.
    pipelines_in_use_cache_clear()
    yield
    pipelines_in_use_cache_clear()


def pipeline_queries(ctx: CaptureQueriesContext) -> list[str]:
    """The queries that read the pipelines table itself (not a join from the leads)."""
    return [query["sql"] for query in ctx.captured_queries if PIPELINE_TABLE in query["sql"]]


def test_the_second_message_costs_no_pipeline_query(claro: Claro) -> None:
    channel = make_channel(claro.reseller)
    inbound(channel, "Hola")

    with CaptureQueriesContext(connection) as second:
        inbound(channel, "¿Hay fibra en Palermo?")

    assert pipeline_queries(second) == []
    assert Lead.objects.get().last_inbound_at is not None


def test_without_the_cache_the_same_message_reads_the_pipelines_once(claro: Claro) -> None:
    channel = make_channel(claro.reseller)
    inbound(channel, "Hola")
    pipelines_in_use_cache_clear(organization_id=claro.reseller.pk)

    with CaptureQueriesContext(connection) as ctx:
        inbound(channel, "¿Hay fibra en Palermo?")

    assert len(pipeline_queries(ctx)) == 1


def test_an_organization_without_pipelines_is_answered_from_the_cache_too(
    claro: Claro, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_num_queries(1):
        assert organization_has_pipelines(organization_id=claro.operator.pk) is False
    with django_assert_num_queries(0):
        assert organization_has_pipelines(organization_id=claro.operator.pk) is False
        assert organization_has_pipelines(organization_id=claro.operator.pk) is False


def entry_channel(claro: Claro) -> tuple[Pipeline, Channel]:
    """The outsider's pipeline made the entry pipeline, but switched off."""
    pipeline = claro.outsider_pipeline
    pipeline.is_entry, pipeline.is_active = True, False
    pipeline.save(update_fields=["is_entry", "is_active", "updated_at"])
    return pipeline, make_channel(claro.outsider_org, phone_number_id="998877665547")


def test_activating_a_pipeline_applies_to_the_next_message(claro: Claro) -> None:
    pipeline, channel = entry_channel(claro)
    inbound(channel, "Hola", wa_id="5491170000001")
    assert Lead.objects.filter(organization=claro.outsider_org).count() == 0

    pipeline.is_active = True
    pipeline.save(update_fields=["is_active", "updated_at"])
    inbound(channel, "Hola de nuevo", wa_id="5491170000001")

    lead = Lead.objects.get(organization=claro.outsider_org)
    assert (lead.pipeline, lead.stage.name, lead.phone) == (pipeline, "Nuevo", "+5491170000001")


def test_a_pack_load_that_reactivates_the_pipelines_applies_to_the_next_message(
    claro: Claro,
) -> None:
    channel = make_channel(claro.reseller)
    # Switched off behind the cache's back (no signal), as another process would.
    Pipeline.objects.filter(organization=claro.reseller).update(is_active=False)
    inbound(channel, "Hola", wa_id="5491170000002")
    assert Lead.objects.count() == 0
    assert organization_has_pipelines(organization_id=claro.reseller.pk) is False

    pack_load("claro-ar-reseller")  # the pack lists them: active again, saved one by one
    inbound(channel, "Hola de nuevo", wa_id="5491170000002")

    lead = Lead.objects.get()
    assert (lead.pipeline.name, lead.stage.name) == ("FIBRA", "Leads entrantes")


def test_deleting_the_last_pipeline_is_seen_at_once(claro: Claro) -> None:
    assert organization_has_pipelines(organization_id=claro.outsider_org.pk) is True

    claro.outsider_pipeline.delete()

    assert organization_has_pipelines(organization_id=claro.outsider_org.pk) is False
    assert organization_has_pipelines(organization_id=claro.reseller.pk) is True


def test_a_change_without_a_signal_is_seen_when_the_entry_expires(
    claro: Claro, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock[0])
    assert organization_has_pipelines(organization_id=claro.outsider_org.pk) is True
    Pipeline.objects.filter(pk=claro.outsider_pipeline.pk).update(is_active=False)

    clock[0] += PIPELINES_IN_USE_CACHE_SECONDS - 0.5
    assert organization_has_pipelines(organization_id=claro.outsider_org.pk) is True
    clock[0] += 1.0
    assert organization_has_pipelines(organization_id=claro.outsider_org.pk) is False


def test_one_organizations_pipelines_say_nothing_of_another(claro: Claro) -> None:
    _pipeline, channel = entry_channel(claro)
    assert organization_has_pipelines(organization_id=claro.reseller.pk) is True

    inbound(channel, "Hola", wa_id="5491123456789")

    assert organization_has_pipelines(organization_id=claro.outsider_org.pk) is False
    assert Lead.objects.count() == 0

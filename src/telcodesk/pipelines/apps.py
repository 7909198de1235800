from typing import Any

from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_save


def _pipeline_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A saved or deleted pipeline: the next inbound message asks again whether its
    organization has pipelines in use (pipelines.selectors.organization_has_pipelines).

    Forgotten now and again after commit: a message handled by another thread of this
    process before the commit would otherwise cache the old answer.
    """
    from telcodesk.pipelines.selectors import pipelines_in_use_cache_clear

    organization_id = instance.organization_id
    pipelines_in_use_cache_clear(organization_id=organization_id)
    transaction.on_commit(
        lambda: pipelines_in_use_cache_clear(organization_id=organization_id), robust=True
    )


class PipelinesConfig(AppConfig):
    name = "telcodesk.pipelines"
    label = "pipelines"

    def ready(self) -> None:
        # Imported here: the loader imports models, which are ready only now.
        from telcodesk.messaging.pack_sync import messages_apply
        from telcodesk.messaging.services import register_inbound_handler
        from telcodesk.packs.loader import register_pack_applier
        from telcodesk.pipelines.inbound import lead_inbound_apply
        from telcodesk.pipelines.models import Pipeline
        from telcodesk.pipelines.pack_sync import pipelines_apply

        # The pack's templates and quick replies (registered here because the messaging
        # app's AppConfig belongs to another part; it runs before the pipelines, whose
        # bots name the templates).
        register_pack_applier("messaging", messages_apply)
        register_pack_applier("pipelines", pipelines_apply)
        # A new inbound message finds or creates the sender's lead (pipelines.inbound).
        register_inbound_handler(lead_inbound_apply)
        for signal in (post_save, post_delete):
            signal.connect(
                _pipeline_changed, sender=Pipeline, dispatch_uid=f"pipeline-in-use-{id(signal)}"
            )

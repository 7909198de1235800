from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    name = "telcodesk.pipelines"
    label = "pipelines"

    def ready(self) -> None:
        # Imported here: the loader imports models, which are ready only now.
        from telcodesk.messaging.pack_sync import messages_apply
        from telcodesk.messaging.services import register_inbound_handler
        from telcodesk.packs.loader import register_pack_applier
        from telcodesk.pipelines.inbound import lead_inbound_apply
        from telcodesk.pipelines.pack_sync import pipelines_apply

        # The pack's templates and quick replies (registered here because the messaging
        # app's AppConfig belongs to another part; it runs before the pipelines, whose
        # bots name the templates).
        register_pack_applier("messaging", messages_apply)
        register_pack_applier("pipelines", pipelines_apply)
        # A new inbound message finds or creates the sender's lead (pipelines.inbound).
        register_inbound_handler(lead_inbound_apply)

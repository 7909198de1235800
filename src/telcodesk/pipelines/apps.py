from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    name = "telcodesk.pipelines"
    label = "pipelines"

    def ready(self) -> None:
        # Imported here: the loader imports models, which are ready only now.
        from telcodesk.packs.loader import register_pack_applier
        from telcodesk.pipelines.pack_sync import pipelines_apply

        register_pack_applier("pipelines", pipelines_apply)

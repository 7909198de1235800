from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    name = "telcodesk.playbooks"
    label = "playbooks"
    verbose_name = "Playbooks"

    def ready(self) -> None:
        # Imported here: the applier imports models, which are ready only now.
        from telcodesk.packs.loader import register_pack_applier
        from telcodesk.playbooks.pack_sync import playbooks_apply

        register_pack_applier("playbooks", playbooks_apply)

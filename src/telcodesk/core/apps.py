from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "telcodesk.core"
    label = "core"

    def ready(self) -> None:
        from telcodesk.core.calendar_pack import business_calendars_apply
        from telcodesk.packs.loader import register_pack_applier

        # First of the appliers: SLA policies and visits name these calendars.
        register_pack_applier("calendars", business_calendars_apply)

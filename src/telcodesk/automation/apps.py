from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "telcodesk.automation"
    label = "automation"

    def ready(self) -> None:
        # Every app declares its timer handlers in a ``timers`` module; importing them
        # here means every process (web, worker, ticker) knows every kind.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("timers")

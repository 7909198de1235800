from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "telcodesk.automation"
    label = "automation"

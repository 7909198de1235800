from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "telcodesk.core"
    label = "core"

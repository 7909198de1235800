from django.apps import AppConfig


class PacksConfig(AppConfig):
    name = "telcodesk.packs"
    label = "packs"

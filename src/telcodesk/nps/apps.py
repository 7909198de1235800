from django.apps import AppConfig


class NpsConfig(AppConfig):
    name = "telcodesk.nps"
    label = "nps"
    verbose_name = "NPS surveys"

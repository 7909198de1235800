from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "telcodesk.visits"
    label = "visits"
    verbose_name = "Technical visits"

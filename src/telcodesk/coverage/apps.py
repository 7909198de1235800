from django.apps import AppConfig


class CoverageConfig(AppConfig):
    name = "telcodesk.coverage"
    label = "coverage"
    verbose_name = "Coverage"

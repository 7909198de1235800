from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    name = "telcodesk.pipelines"
    label = "pipelines"

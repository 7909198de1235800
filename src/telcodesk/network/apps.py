from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "telcodesk.network"
    label = "network"
    verbose_name = "Network"

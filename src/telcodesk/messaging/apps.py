from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "telcodesk.messaging"
    label = "messaging"

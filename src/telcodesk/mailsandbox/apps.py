from django.apps import AppConfig


class MailSandboxConfig(AppConfig):
    name = "telcodesk.mailsandbox"
    label = "mailsandbox"
    verbose_name = "E-mail sandbox"

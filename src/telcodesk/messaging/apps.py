from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def _channel_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A saved or deleted channel is read again by the next webhook (new app secret...)."""
    from telcodesk.messaging.selectors import channel_cache_clear, customer_misses_clear

    channel_cache_clear(channel_id=instance.pk)
    customer_misses_clear()


def _customers_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A contact point, customer, assignment or organization changed: look up again."""
    from telcodesk.accounts.models import Organization
    from telcodesk.messaging.selectors import channel_cache_clear, customer_misses_clear

    customer_misses_clear()
    if sender is Organization:
        channel_cache_clear()  # the cached channels carry their organization


class MessagingConfig(AppConfig):
    name = "telcodesk.messaging"
    label = "messaging"

    def ready(self) -> None:
        from telcodesk.accounts.models import Organization
        from telcodesk.customers.models import ContactPoint, Customer, CustomerAssignment
        from telcodesk.messaging.models import Channel

        for signal in (post_save, post_delete):
            signal.connect(_channel_changed, sender=Channel, dispatch_uid=f"channel-{id(signal)}")
            for model in (ContactPoint, Customer, CustomerAssignment, Organization):
                signal.connect(
                    _customers_changed,
                    sender=model,
                    dispatch_uid=f"customer-miss-{model.__name__}-{id(signal)}",
                )

from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "telcodesk.tickets"
    label = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        # Imported here: the loader imports models, which are ready only now.
        from telcodesk.packs.loader import register_pack_applier
        from telcodesk.tickets.pack_sync import tickets_apply

        # The pack's ticket subcategories (a no-op for packs without a tickets section).
        register_pack_applier("tickets", tickets_apply)

        from telcodesk.tickets.playbook import playbook_register

        # The "ticket" target, the ticket.* fields and the call actions of playbooks.
        playbook_register()

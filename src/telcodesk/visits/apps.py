from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "telcodesk.visits"
    label = "visits"
    verbose_name = "Technical visits"

    def ready(self) -> None:
        from telcodesk.packs.loader import register_pack_applier
        from telcodesk.tickets.hooks import register_ticket_status_handler
        from telcodesk.visits.pack_sync import visits_apply
        from telcodesk.visits.playbook import playbook_register
        from telcodesk.visits.services import visits_on_ticket_status

        # The pack's visit policy, zones and technicians (after the business calendars,
        # which core registers first: the policy names one of them).
        register_pack_applier("visits", visits_apply)
        # The "schedule_visit" action and the "visit" target of playbooks.
        playbook_register()
        # A resolved or closed ticket cancels its active visits (the tickets app imports
        # no visits code: it calls the handlers it was given).
        register_ticket_status_handler(visits_on_ticket_status)

from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "telcodesk.visits"
    label = "visits"
    verbose_name = "Technical visits"

    def ready(self) -> None:
        from telcodesk.packs.loader import register_pack_applier
        from telcodesk.visits.pack_sync import visits_apply
        from telcodesk.visits.playbook import playbook_register

        # The pack's visit policy, zones and technicians (after the business calendars,
        # which core registers first: the policy names one of them).
        register_pack_applier("visits", visits_apply)
        # The "schedule_visit" action and the "visit" target of playbooks.
        playbook_register()

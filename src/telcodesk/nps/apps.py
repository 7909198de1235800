from django.apps import AppConfig


class NpsConfig(AppConfig):
    name = "telcodesk.nps"
    label = "nps"
    verbose_name = "NPS surveys"

    def ready(self) -> None:
        # Imported here: these modules import models, which are ready only now.
        from telcodesk.messaging.services import register_inbound_handler
        from telcodesk.nps.pack_sync import nps_apply
        from telcodesk.nps.playbook import playbook_register
        from telcodesk.nps.services import nps_on_ticket_status, survey_reply_apply
        from telcodesk.packs.loader import register_pack_applier
        from telcodesk.tickets.hooks import register_ticket_status_handler

        # The pack's ``nps`` section: the organization's NpsSettings row.
        register_pack_applier("nps", nps_apply)
        # A resolved ticket sends its survey (once; NpsSettings.send_on_resolved).
        register_ticket_status_handler(nps_on_ticket_status)
        # The customer's replies to an open survey (buttons, list rows, typed scores);
        # a reply it takes is not seen by the other handlers (a lead's offer reply).
        register_inbound_handler(survey_reply_apply, claims=True)
        # The ``send_nps`` action of playbook steps.
        playbook_register()

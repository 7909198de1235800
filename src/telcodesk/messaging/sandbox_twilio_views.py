"""HTTP face of the sandbox's Twilio: ``POST /messaging/sandbox/twilio/2010-04-01/
Accounts/<AccountSid>/Messages.json``, authenticated like Twilio (HTTP Basic,
AccountSid:AuthToken). The phone simulator of an SMS channel is ``sandbox_views.phone``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from telcodesk.messaging.providers.sandbox_twilio import (
    sandbox_sms_accept,
    sandbox_sms_statuses_deliver_later,
)

MAX_BODY_BYTES = 64 * 1024


def _status_delivery_enabled() -> bool:
    return bool(getattr(settings, "TELCODESK_SANDBOX_STATUS_WEBHOOKS", True))


@csrf_exempt
@require_POST
def twilio_messages(request: HttpRequest, account_sid: str) -> JsonResponse:
    """Create a Message, as Twilio's REST API does (form-encoded in, JSON out)."""
    form = {name: request.POST.get(name, "") for name in request.POST}
    status, body = sandbox_sms_accept(
        account_sid=account_sid,
        authorization=request.headers.get("Authorization", ""),
        form=form,
    )
    if status == 201 and _status_delivery_enabled():
        sid = str(body["sid"])
        transaction.on_commit(lambda: sandbox_sms_statuses_deliver_later(sid=sid))
    return JsonResponse(body, status=status)

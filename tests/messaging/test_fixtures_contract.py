"""Contract tests over the shared WhatsApp Cloud API samples (../shared/fixtures/).

Every case of every file is posted with a valid signature, must be answered 200 and,
once processed, must have produced exactly the kind of row its file is about. The
samples are read in place, never copied into the project; a clone without the shared
folder skips these tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from telcodesk.messaging.models import (
    MarketingPreferenceEvent,
    Message,
    MessageStatusEvent,
    TemplateStatusEvent,
    WebhookEvent,
)
from telcodesk.messaging.providers.whatsapp_cloud import (
    InboundMessage,
    MarketingPreference,
    StatusUpdate,
    TemplateStatus,
    Unhandled,
    parse_webhook,
)
from tests.conftest import World

from .helpers import PHONE_NUMBER_ID, make_channel, post_signed

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "whatsapp-cloud-api"

if not FIXTURES.is_dir():
    pytestmark = pytest.mark.skip(
        reason=f"shared WhatsApp samples not found at {FIXTURES} (a clone without ../shared)"
    )


def _cases() -> list[tuple[str, str]]:
    if not FIXTURES.is_dir():
        return []
    return [
        (path.name, case)
        for path in sorted(FIXTURES.glob("*.json"))
        for case in json.loads(path.read_text())
    ]


def _body(file_name: str, case: str) -> dict[str, Any]:
    return json.loads((FIXTURES / file_name).read_text())[case]


def _phone_number_id(body: dict[str, Any]) -> str:
    for entry in body.get("entry", []):
        for change in entry.get("changes", []):
            metadata = change.get("value", {}).get("metadata", {})
            if metadata.get("phone_number_id"):
                return str(metadata["phone_number_id"])
    return PHONE_NUMBER_ID


# The inbound message kind each case of the message-like files is parsed into.
MESSAGE_KINDS: dict[str, dict[str, str]] = {
    "message.json": {
        "text": "text",
        "image": "image",
        "media_with_url": "image",
        "video": "video",
        "document": "document",
        "audio": "audio",
        "voice": "audio",
        "static_sticker": "sticker",
        "animated_sticker": "sticker",
        "reaction": "reaction",
        "unreaction_empty": "reaction",
        "unreaction_no_emoji": "reaction",
        "current_location": "location",
        "chosen_location": "location",
        "contacts": "contacts",
        "order": "order",
        "unsupported": "unknown",
        "unsupported_with_type": "unknown",
        "reply": "text",
        "forwarded": "text",
        "forwarded_many_times": "text",
        "interactive_message_with_err": "interactive",
        "referral": "text",
    },
    "callback_button.json": {
        "button": "interactive",
        "quick_reply": "button",
        "quick_reply_without_context": "button",
    },
    "callback_selection.json": {"callback": "interactive", "description": "interactive"},
    "call_permission_update.json": {"accept": "interactive", "reject": "interactive"},
    "flow_completion.json": {"completion": "interactive", "without_flow_token": "interactive"},
    "deleted_message.json": {"revoke": "revoke"},
    "edited_message.json": {"image": "edit"},
    "system.json": {"phone_number_change": "system", "identity_change": "system"},
}
# Fields of the stored message worth pinning down, per case.
MESSAGE_DETAILS: dict[tuple[str, str], dict[str, Any]] = {
    ("message.json", "text"): {"body": "Body Text"},
    ("message.json", "image"): {"media_id": "65463453", "media_mime_type": "image/jpeg"},
    ("message.json", "document"): {
        "media_filename": "filename.pdf",
        "media_caption": "caption",
        "media_mime_type": "application/pdf",
    },
    ("message.json", "reaction"): {"body": "😮", "reply_to_provider_id": "wamid.yzxyzx="},
    ("message.json", "unreaction_no_emoji"): {"body": ""},
    ("message.json", "chosen_location"): {
        "body": "Facebook HQ, 1 Hacker Way, Menlo Park, CA 94025"
    },
    ("message.json", "contacts"): {"body": "Chandler Bing, Monica, Rachel Green"},
    ("message.json", "unsupported"): {"error_code": 131051, "error_title": "Message type unknown"},
    ("message.json", "reply"): {"reply_to_provider_id": "wamid.xyzxyz=="},
    ("message.json", "interactive_message_with_err"): {
        "error_code": 131000,
        "error_details": "Unsupported webhook payload",
    },
    ("callback_button.json", "button"): {"body": "title", "reply_payload": "callback_data"},
    ("callback_button.json", "quick_reply"): {"body": "title", "reply_payload": "callback_data"},
    ("callback_selection.json", "description"): {"reply_payload": "callback_data"},
    ("call_permission_update.json", "reject"): {"body": "reject"},
    ("flow_completion.json", "completion"): {"body": "Sent", "reply_payload": "flow"},
    ("edited_message.json", "image"): {
        "body": "Updated image caption",
        "media_id": "1234567890",
        "reply_to_provider_id": ("wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="),
    },
    ("deleted_message.json", "revoke"): {"reply_to_provider_id": "<ORIGINAL_WHATSAPP_MESSAGE_ID>"},
    ("system.json", "phone_number_change"): {
        "body": "User A changed from 972987654321 to 972912345678"
    },
}
# The message status each status case leaves on its outbound message.
STATUS_CASES: dict[str, tuple[str, str]] = {
    "sent": ("sent", "sent"),
    "delivered": ("delivered", "delivered"),
    "read": ("read", "read"),
    "played": ("played", "read"),
    "failed": ("failed", "failed"),
    "with_tracker": ("sent", "sent"),
    "group": ("read", "read"),
}
TEMPLATE_CASES: dict[tuple[str, str], dict[str, Any]] = {
    ("template_status_update.json", "approved"): {
        "field": "message_template_status_update",
        "event": "APPROVED",
        "name": "order_confirmation",
        "language": "en_US",
        "category": "UTILITY",
    },
    ("template_status_update.json", "rejected"): {
        "event": "REJECTED",
        "reason": "INVALID_FORMAT",
        "category": "MARKETING",
    },
    ("template_category_update.json", "marketing"): {
        "field": "template_category_update",
        "category": "MARKETING",
        "name": "my_message_template",
    },
    ("template_quality_update.json", "yellow"): {
        "field": "message_template_quality_update",
        "quality_score": "YELLOW",
        "provider_template_id": "806312974732579",
    },
    ("template_components_update.json", "element"): {
        "field": "message_template_components_update",
        "name": "my_message_template",
    },
}
PREFERENCE_CASES = {"resume": "resume", "signup": "signup"}
# Files whose updates the product does not handle: kept raw, answered 200, ignored.
UNHANDLED_FILES: dict[str, str] = {
    "account_update.json": "account_update",
    "call_connect.json": "calls",
    "call_status.json": "calls",
    "call_terminate.json": "calls",
    "outgoing_message.json": "smb_message_echoes",
}


def _expected_parsed_type(file_name: str) -> type:
    if file_name in MESSAGE_KINDS:
        return InboundMessage
    if file_name == "message_status.json":
        return StatusUpdate
    if file_name.startswith("template_"):
        return TemplateStatus
    if file_name == "user_marketing_preferences.json":
        return MarketingPreference
    return Unhandled


@pytest.mark.parametrize(("file_name", "case"), _cases())
def test_every_sample_parses_into_its_kind_of_event(file_name: str, case: str) -> None:
    events = parse_webhook(_body(file_name, case))
    assert len(events) == 1, events
    [event] = events
    assert type(event) is _expected_parsed_type(file_name)
    if isinstance(event, InboundMessage):
        assert event.kind == MESSAGE_KINDS[file_name][case]
        assert event.provider_message_id
        assert event.sent_at is not None
    if isinstance(event, StatusUpdate):
        assert event.status == STATUS_CASES[case][0]
        assert event.occurred_at is not None
    if isinstance(event, Unhandled):
        assert event.field == UNHANDLED_FILES[file_name]


@pytest.mark.django_db
@pytest.mark.parametrize(("file_name", "case"), _cases())
def test_every_sample_is_accepted_and_stored_as_its_kind(
    world: World,
    client: Client,
    django_capture_on_commit_callbacks: Callable[..., Any],
    file_name: str,
    case: str,
) -> None:
    raw = (FIXTURES / file_name).read_text()
    body = json.loads(raw)[case]
    channel = make_channel(world.operator, phone_number_id=_phone_number_id(body))
    outbound = None
    if file_name == "message_status.json":
        # The outbound message the statuses are about.
        wamid = body["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
        from .test_webhook import _outbound

        outbound = _outbound(channel, wamid=wamid)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, channel, json.dumps(body).encode())
    assert response.status_code == 200

    event = WebhookEvent.objects.get()
    assert event.state != WebhookEvent.State.FAILED, event.error
    if file_name in MESSAGE_KINDS:
        assert event.state == "processed"
        message = Message.objects.get(direction="in")
        assert message.kind == MESSAGE_KINDS[file_name][case]
        assert message.channel == channel
        assert message.payload == body["entry"][0]["changes"][0]["value"]["messages"][0]
        for name, value in MESSAGE_DETAILS.get((file_name, case), {}).items():
            assert getattr(message, name) == value, name
    elif file_name == "message_status.json":
        assert event.state == "processed"
        reported, applied = STATUS_CASES[case]
        status_event = MessageStatusEvent.objects.get()
        assert (status_event.status, status_event.message) == (reported, outbound)
        assert outbound is not None
        outbound.refresh_from_db()
        assert outbound.status == applied
        if case == "failed":
            assert (outbound.error_code, outbound.error_title) == (
                130472,
                "User's number is part of an experiment",
            )
            assert outbound.error_details.startswith("Failed to send message")
    elif file_name.startswith("template_"):
        assert event.state == "processed"
        template_event = TemplateStatusEvent.objects.get()
        for name, value in TEMPLATE_CASES[(file_name, case)].items():
            assert getattr(template_event, name) == value, name
    elif file_name == "user_marketing_preferences.json":
        assert event.state == "processed"
        preference = MarketingPreferenceEvent.objects.get()
        assert (preference.value, preference.wa_id, preference.category) == (
            PREFERENCE_CASES[case],
            "16505551234",
            "marketing_messages",
        )
    elif file_name in UNHANDLED_FILES:
        assert event.state == "ignored"
        assert event.kinds == [f"unhandled:{UNHANDLED_FILES[file_name]}"]
        assert Message.objects.count() == 0
    else:
        pytest.fail(f"{file_name} is a new sample file: add what it must be parsed into")
    assert json.loads(event.body) == body


def test_the_contract_covers_every_sample_file() -> None:
    files = {name for name, _case in _cases()}
    known = (
        set(MESSAGE_KINDS)
        | set(UNHANDLED_FILES)
        | {name for name, _case in TEMPLATE_CASES}
        | {"message_status.json", "user_marketing_preferences.json"}
    )
    assert files <= known, files - known

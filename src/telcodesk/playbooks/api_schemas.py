"""Request and response schemas of the playbooks API (playbooks.api)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from telcodesk.core.api_schemas import InputSchema

Scalar = str | int | float | bool | None

# --- input ----------------------------------------------------------------------------


class RunStartIn(InputSchema):
    playbook_id: int = Field(..., ge=1, description="an active playbook of your organization")
    customer_id: int | None = Field(None, ge=1)
    target_type: str = Field(
        "", max_length=40, description='what the run belongs to: "conversation", "ticket"...'
    )
    target_id: int | None = Field(None, ge=1)
    variables: dict[str, str] = Field(
        default_factory=dict, description="values of the playbook's variables"
    )


class RunAnswerIn(InputSchema):
    question: str = Field(..., min_length=1, max_length=48, description="a question key")
    value: Scalar = Field(
        ..., description="as typed, or typed JSON (a number, true/false); null or '' clears"
    )


class RunCheckIn(InputSchema):
    item: str = Field(..., min_length=1, max_length=48, description="a checklist item key")
    checked: bool = True


class RunActionIn(InputSchema):
    action: str = Field(..., min_length=1, max_length=48, description="an action key")


class RunCompleteIn(InputSchema):
    skip_reasons: dict[str, str] = Field(
        default_factory=dict,
        description="item, question or action key -> why it was skipped (required ones)",
    )


class RunReasonIn(InputSchema):
    reason: str = Field(..., max_length=2000)


class AdherencePeriodQuery(Schema):
    start: datetime = Field(..., description="with its time zone, e.g. 2025-07-01T00:00:00-06:00")
    end: datetime = Field(..., description="exclusive")
    playbook: str = Field("", max_length=64, description="a playbook key (default: all)")


# --- output ---------------------------------------------------------------------------


class PlaybookStepRefOut(Schema):
    key: str
    title: str


class PlaybookOut(Schema):
    id: int
    key: str
    name: str
    version: str
    description: str
    pack_name: str
    steps: list[PlaybookStepRefOut]


class PlaybookDetailOut(PlaybookOut):
    definition: dict[str, Any]


class PlaybookAdherenceOut(Schema):
    required: int
    done: int
    skipped: int
    open: int
    percent: Decimal | None


class RunChecklistOut(Schema):
    key: str
    text: str
    required: bool
    status: str
    skip_reason: str


class PlaybookChoiceOut(Schema):
    value: str
    label: str


class RunQuestionOut(Schema):
    key: str
    text: str
    help: str
    type: str
    choices: list[PlaybookChoiceOut] | None
    required: bool
    field: str | None
    min: float | None
    max: float | None
    integer: bool
    answer: Any
    status: str
    skip_reason: str


class RunActionLogOut(Schema):
    id: int
    step_key: str
    action_key: str
    action: str
    trigger: str
    status: str
    message: str
    data: dict[str, Any]
    ran_at: datetime


class RunStepActionOut(Schema):
    key: str
    action: str
    label: str
    when: str
    required: bool
    status: str
    last: RunActionLogOut | None


class RunCurrentStepOut(Schema):
    key: str
    title: str
    index: int
    script: str
    guidance: str
    checklist: list[RunChecklistOut]
    questions: list[RunQuestionOut]
    actions: list[RunStepActionOut]
    open_required: list[str]
    ends_here: bool


class RunStepVisitOut(Schema):
    key: str
    title: str
    position: int
    status: str
    skip_reason: str
    entered_at: datetime
    completed_at: datetime | None


class RunTargetOut(Schema):
    type: str
    id: int


class RunOut(Schema):
    id: int
    playbook: PlaybookOut
    status: str
    agent_id: int | None
    customer_id: int | None
    target_type: str
    target_id: int | None
    links: list[RunTargetOut]
    variables: dict[str, str]
    facts: dict[str, Any]
    answers: dict[str, Any]
    started_at: datetime
    finished_at: datetime | None
    abandon_reason: str
    current_step: RunCurrentStepOut | None
    steps: list[RunStepVisitOut]
    actions: list[RunActionLogOut]
    adherence: PlaybookAdherenceOut


class AgentAdherenceOut(Schema):
    agent_id: int | None
    agent_name: str
    runs: int
    finished: int
    abandoned: int
    adherence: PlaybookAdherenceOut


class SkipReasonCountOut(Schema):
    reason: str
    count: int


class ItemSkipsOut(Schema):
    key: str
    kind: str
    text: str
    required: int
    skipped: int
    reasons: list[SkipReasonCountOut]


class StepAdherenceOut(Schema):
    playbook_key: str
    playbook_name: str
    step_key: str
    title: str
    visits: int
    skipped_visits: int
    adherence: PlaybookAdherenceOut
    items: list[ItemSkipsOut]

"""The typed schema of an operator pack (``src/telcodesk/packs/<name>.yaml``).

Every model forbids unknown fields, so a typo in a pack is an error, not a silently
ignored key. Rules that look at more than one field (unique codes, a reseller's
operators, duplicate stages) raise a ``pack_rule`` error whose context carries
``at``: the part of the path below the validated object, so the loader can report
the exact YAML path of the bad field (``organizations[0].pipelines[1].stages[4].name``).

Later issues extend this schema (templates, automations, SLA policies, playbooks...):
add a field with a default so existing packs stay valid.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from pydantic import (
    Field,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

# The apps' own sections (they build on packs.spec_base, imported above).
from telcodesk.core.calendar_pack import BusinessCalendarList
from telcodesk.customers.models import ServiceType, Technology
from telcodesk.nps.pack_spec import NpsSpec
from telcodesk.packs.spec_base import (  # noqa: F401 - re-exported for pack sections
    SUPPORTED_COUNTRIES,
    SUPPORTED_LANGUAGES,
    ChoiceSpec,
    Color,
    CountryCode,
    CurrencyCode,
    Language,
    Money,
    Name,
    PackModel,
    ShortName,
    Slug,
    Speed,
    Text,
    TimeZoneName,
    Version,
    pack_rule_error,
    version_key,
)
from telcodesk.playbooks.pack_spec import PlaybookSpec
from telcodesk.tickets.pack_spec import TicketsSpec
from telcodesk.visits.pack_spec import VisitsSpec


class Branding(PackModel):
    name: Name
    color: Color
    logo_text: Annotated[str, StringConstraints(min_length=1, max_length=4)]


class PlanSpec(PackModel):
    code: Slug
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=160)]
    service_type: ServiceType
    technology: Technology | None = None
    download_mbps: Speed | None = None
    upload_mbps: Speed | None = None
    monthly_price: Money
    # None in the YAML means "the organization's currency"; filled in by OrganizationSpec.
    currency: CurrencyCode | None = None
    components: list[ShortName] = Field(default_factory=list)
    description: Text = ""


QueueRole = Literal["replied_offer", "awaiting_data", "follow_up"]
FieldKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=48)]


class StageSpec(PackModel):
    name: ShortName
    kind: Literal["open", "won", "lost"]
    color: Color
    sla_minutes: Annotated[StrictInt, Field(gt=0)] | None = None
    # When a lead belongs in this stage ("cuando aplica").
    description: Text = ""
    # What the agent does here ("acciones"), shown beside the lead.
    guidance: Text = ""
    # Set and left only by the system (bots, store intake): agents cannot move a lead
    # into or out of it by hand.
    is_system: bool = False
    # An offer stage whose bot message only reads right after the greeting was sent.
    requires_greeting: bool = False
    # Where the stage puts its leads in the agent's queue (see pipelines.selectors).
    queue_role: QueueRole | None = None
    # The stage's bot sends the customer an offer: a reply from the customer moves the
    # lead automatically to the pipeline's replied_offer stage ("Respondió oferta").
    sends_offer: bool = False
    # The data tab the agent must fill in while the lead is here (TECHSTORE's device tab).
    asks_tab: ShortName | None = None

    @model_validator(mode="after")
    def _check_stage(self) -> StageSpec:
        if self.kind != "open" and (
            self.is_system or self.requires_greeting or self.queue_role or self.sends_offer
        ):
            raise pack_rule_error(
                "kind",
                _(
                    "Only an open stage can be a system stage, require the greeting, "
                    "send an offer or have a queue role; make it open or remove those "
                    "fields."
                ),
            )
        return self


class LossReasonSpec(PackModel):
    name: ShortName
    # How an agent counters this outcome, in the pack's language.
    counter: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    # When the reason applies.
    description: Text = ""
    # Set only by the system (a lead closed automatically); agents must replace it.
    is_system: bool = False


class TabFieldSpec(PackModel):
    key: FieldKey
    label: ShortName
    type: Literal["text", "number", "bool", "choice", "date"]
    choices: list[ChoiceSpec] | None = None
    required: bool = False
    help: Text = ""

    @model_validator(mode="after")
    def _check_choices(self) -> TabFieldSpec:
        if self.type == "choice":
            if not self.choices:
                raise pack_rule_error("choices", _("A choice field needs its list of choices."))
            values = [choice.value.casefold() for choice in self.choices]
            for index, value in enumerate(values):
                if value in values[:index]:
                    raise pack_rule_error(
                        f"choices[{index}].value",
                        _('Choice "%(value)s" is listed twice.')
                        % {"value": self.choices[index].value},
                    )
        elif self.choices is not None:
            raise pack_rule_error(
                "choices", _("Only a field of type choice has choices; remove them.")
            )
        return self


class TabSpec(PackModel):
    name: ShortName
    fields: Annotated[list[TabFieldSpec], Field(min_length=1)]


class RiserRuleSpec(PackModel):
    """A building without a box needs a riser above these sizes (FIBRA "Pedido Acometida")."""

    stage: ShortName
    max_floors: Annotated[StrictInt, Field(ge=0)]
    max_apartments: Annotated[StrictInt, Field(ge=0)]


class DebtRuleSpec(PackModel):
    """An open overdue invoice under the lead's document sends it to ``stage``."""

    stage: ShortName


class CarrierOfferRuleSpec(PackModel):
    """Which offer stage a portability lead gets, from the ``current_carrier`` tab field."""

    by_carrier: dict[str, ShortName] = Field(default_factory=dict)
    prepaid: ShortName | None = None
    new_line: ShortName | None = None
    # Where a lead goes when none of the above applies (the carrier is not known yet).
    unknown: ShortName | None = None


class PermanenceRuleSpec(PackModel):
    """A line with fewer than ``min_days`` with its carrier cannot be ported yet."""

    stage: ShortName
    min_days: Annotated[StrictInt, Field(gt=0)]


class StoreIntakeRuleSpec(PackModel):
    """Where a click on the online store's "pay by link" lands (a system open stage)."""

    stage: ShortName


class PipelineRulesSpec(PackModel):
    riser: RiserRuleSpec | None = None
    debt: DebtRuleSpec | None = None
    carrier_offer: CarrierOfferRuleSpec | None = None
    permanence: PermanenceRuleSpec | None = None
    store_intake: StoreIntakeRuleSpec | None = None

    def stage_references(self) -> list[tuple[str, str]]:
        """(path below ``rules``, stage name) of every stage the rules send leads to."""
        found: list[tuple[str, str]] = []
        if self.riser:
            found.append(("riser.stage", self.riser.stage))
        if self.debt:
            found.append(("debt.stage", self.debt.stage))
        if self.permanence:
            found.append(("permanence.stage", self.permanence.stage))
        if self.carrier_offer:
            offer = self.carrier_offer
            found += [(f"carrier_offer.by_carrier.{k}", v) for k, v in offer.by_carrier.items()]
            for name in ("prepaid", "new_line", "unknown"):
                value = getattr(offer, name)
                if value is not None:
                    found.append((f"carrier_offer.{name}", value))
        return found


# The tab fields each rule reads (engine conventions, documented in docs/pipelines.md).
RULE_FIELDS: dict[str, tuple[str, ...]] = {
    "riser": ("has_box", "floors", "apartments"),
    "carrier_offer": ("current_carrier",),
    "permanence": ("days_with_carrier",),
}


# --- messages: WhatsApp templates, quick replies, bots ------------------------------------

TemplateName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,512}$")]
_TEMPLATE_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
# The objects a template parameter may be read from (see pipelines.bots).
TEMPLATE_PARAM_ROOTS: tuple[str, ...] = (
    "customer",
    "lead",
    "agent",
    "organization",
    "ticket",
    "visit",
)
ParamField = Annotated[
    str, StringConstraints(pattern=r"^[a-z_]+(\.[a-z_][a-z0-9_]*)+$", max_length=80)
]
ButtonTitle = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
# Placeholders a quick reply or a bot message may hold (filled in when sent/inserted).
TEXT_PLACEHOLDERS: frozenset[str] = frozenset({"customer_name", "agent_name", "organization"})
_TEXT_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def _check_text_placeholders(text: str, at: str) -> None:
    unknown = sorted(set(_TEXT_PLACEHOLDER.findall(text)) - TEXT_PLACEHOLDERS)
    if unknown:
        raise pack_rule_error(
            at,
            _(
                "Unknown placeholder %(names)s; the placeholders are customer_name, "
                "agent_name and organization, written in braces."
            )
            % {"names": ", ".join(unknown)},
        )


class TemplateSpec(PackModel):
    """A WhatsApp message template (created pending; Meta approves it)."""

    name: TemplateName
    language: Language | None = None  # None: the organization's default language
    category: Literal["marketing", "utility", "authentication"]
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1024)]
    # params[n-1] is the dotted field that fills {{n}}: "lead.name", "agent.first_name".
    params: list[ParamField] = Field(default_factory=list)
    buttons: Annotated[list[ButtonTitle], Field(max_length=3)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_template(self) -> TemplateSpec:
        numbers = sorted({int(n) for n in _TEMPLATE_PLACEHOLDER.findall(self.body)})
        if numbers != list(range(1, len(numbers) + 1)):
            raise pack_rule_error(
                "body", _("Number the template's placeholders from 1 up, without gaps.")
            )
        if len(numbers) != len(self.params):
            raise pack_rule_error(
                "params",
                _("The body has %(placeholders)d placeholders but %(params)d params fill them.")
                % {"placeholders": len(numbers), "params": len(self.params)},
            )
        for index, dotted in enumerate(self.params):
            if dotted.split(".")[0] not in TEMPLATE_PARAM_ROOTS:
                raise pack_rule_error(
                    f"params[{index}]",
                    _("%(field)s cannot be read; start it with one of %(roots)s.")
                    % {"field": dotted, "roots": ", ".join(TEMPLATE_PARAM_ROOTS)},
                )
        return self


class QuickReplySpec(PackModel):
    """A canned text the agent inserts with "#shortcut" (Kommo's predeterminados)."""

    shortcut: Annotated[
        str, StringConstraints(pattern=r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$", max_length=40)
    ]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]
    language: Language | None = None

    @model_validator(mode="after")
    def _check_body(self) -> QuickReplySpec:
        _check_text_placeholders(self.body, "body")
        return self


class EmailTemplateSpec(PackModel):
    """An e-mail (subject and body) in one language, sent by a ``send_email`` action."""

    name: Annotated[
        str, StringConstraints(pattern=r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$", max_length=120)
    ]
    language: Language | None = None
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

    @model_validator(mode="after")
    def _check_texts(self) -> EmailTemplateSpec:
        _check_text_placeholders(self.subject, "subject")
        _check_text_placeholders(self.body, "body")
        return self


class BotMessageSpec(PackModel):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1024)]
    buttons: Annotated[list[ButtonTitle], Field(max_length=3)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_text(self) -> BotMessageSpec:
        _check_text_placeholders(self.text, "text")
        return self


BotName = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^/\S.{0,38}$", max_length=40)
]


class BotSpec(PackModel):
    """A named bot (Kommo's "/En cober"): session messages, its template twin, effects."""

    name: BotName
    title: ShortName
    description: Text = ""
    messages: Annotated[list[BotMessageSpec], Field(min_length=1, max_length=5)]
    # The approved template sent instead when the 24-hour window is closed.
    template: TemplateName | None = None
    # Sending it counts as the greeting that offer stages require.
    is_greeting: bool = False
    # A stage (by name) of the lead's pipeline the lead moves to once the bot is sent.
    move_to: ShortName | None = None
    # Tab fields set on the lead once the bot is sent.
    set_fields: dict[str, str | int | bool] = Field(default_factory=dict)


def bot_lookup_key(name: str) -> str:
    """How bot names are compared: no "/", no accents, any case, spaces collapsed."""
    import unicodedata

    text = name.strip().lstrip("/").strip()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.casefold().split())


# --- automations -------------------------------------------------------------------------


class TriggerSpec(PackModel):
    """When an automation runs (``on:``)."""

    event: Literal["stage_entered", "lead_won", "lead_lost", "customer_replied"]
    stage: ShortName | None = None  # stage_entered
    reason: ShortName | None = None  # lead_lost (None: any reason)
    # customer_replied: "offer_stage" only when the lead sits in a stage that sends an
    # offer; "any" on every reply.
    when: Literal["offer_stage", "any"] | None = None

    @model_validator(mode="after")
    def _check_trigger(self) -> TriggerSpec:
        if self.event == "stage_entered" and self.stage is None:
            raise pack_rule_error("stage", _("stage_entered needs the stage: it applies to."))
        if self.event != "stage_entered" and self.stage is not None:
            raise pack_rule_error("stage", _("Only stage_entered takes a stage; remove it."))
        if self.event != "lead_lost" and self.reason is not None:
            raise pack_rule_error("reason", _("Only lead_lost takes a reason; remove it."))
        if self.event != "customer_replied" and self.when is not None:
            raise pack_rule_error("when", _("Only customer_replied takes when; remove it."))
        return self


class SendBotAction(PackModel):
    action: Literal["send_bot"]
    bot: BotName


class SendTemplateAction(PackModel):
    action: Literal["send_template"]
    template: TemplateName


class SendEmailAction(PackModel):
    """An e-mail to the lead's address (its customer's, or the tab field ``email``)."""

    action: Literal["send_email"]
    # An e-mail template of the organization (sent in the customer's language when it
    # has that version), or an inline subject and body.
    template: Annotated[str, StringConstraints(max_length=120)] | None = None
    subject: ShortName | None = None
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] | None = None

    @model_validator(mode="after")
    def _check_body(self) -> SendEmailAction:
        inline = self.subject is not None or self.body is not None
        if (self.template is None) == (not inline) or (
            inline and (self.subject is None or self.body is None)
        ):
            raise pack_rule_error(
                "template",
                _("Give either an e-mail template or both a subject and a body."),
            )
        if self.body is not None:
            _check_text_placeholders(self.body, "body")
        return self


class CreateTaskAction(PackModel):
    action: Literal["create_task"]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    kind: Literal["call_customer", "send_message", "other"] = "other"
    priority: Literal["normal", "high"] = "normal"
    due_in_minutes: Annotated[StrictInt, Field(ge=0)] = 0


class SetFieldAction(PackModel):
    action: Literal["set_field"]
    key: FieldKey
    value: str | int | bool


class MoveToAction(PackModel):
    action: Literal["move_to"]
    stage: ShortName


class NotifyOwnerAction(PackModel):
    action: Literal["notify_owner"]
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class StartTimerAction(PackModel):
    """Wait, then run ``then`` (re-checking that the cause still holds)."""

    action: Literal["start_timer"]
    after_minutes: Annotated[StrictInt, Field(gt=0, le=60 * 24 * 30)]
    # A reply from the customer before it fires cancels it.
    cancel_on_reply: bool = True
    then: Annotated[list[AutomationAction], Field(min_length=1)]


AutomationAction = Annotated[
    SendBotAction
    | SendTemplateAction
    | SendEmailAction
    | CreateTaskAction
    | SetFieldAction
    | MoveToAction
    | NotifyOwnerAction
    | StartTimerAction,
    Field(discriminator="action"),
]
StartTimerAction.model_rebuild()


class AutomationSpec(PackModel):
    key: Slug
    on: TriggerSpec
    do: Annotated[list[AutomationAction], Field(min_length=1)]
    description: Text = ""

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: object) -> object:
        # YAML 1.1 reads a bare ``on:`` key as the boolean true; take it as "on".
        if isinstance(data, dict) and True in data and "on" not in data:
            data = dict(data)
            data["on"] = data.pop(True)
        return data


class FollowUpSpec(PackModel):
    """The daily follow-up (Kommo's "bot seguimiento" to yesterday's silent leads)."""

    at: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
    stage: ShortName
    bot: BotName
    max_follow_ups: Annotated[StrictInt, Field(ge=1, le=10)] = 2
    abandon_reason: ShortName

    def hour_minute(self) -> tuple[int, int]:
        hours, minutes = self.at.split(":")
        return int(hours), int(minutes)


def _walk_actions(actions: list[AutomationAction], path: str) -> list[tuple[str, AutomationAction]]:
    """Every action with its path, timers' ``then`` included."""
    found: list[tuple[str, AutomationAction]] = []
    for index, action in enumerate(actions):
        here = f"{path}[{index}]"
        found.append((here, action))
        if isinstance(action, StartTimerAction):
            found += _walk_actions(action.then, f"{here}.then")
    return found


class PipelineSpec(PackModel):
    name: ShortName
    stages: Annotated[list[StageSpec], Field(min_length=1)]
    loss_reasons: list[LossReasonSpec] = Field(default_factory=list)
    tabs: list[TabSpec] = Field(default_factory=list)
    rules: PipelineRulesSpec = Field(default_factory=PipelineRulesSpec)
    # The pipeline where a customer who writes to a channel for the first time (no open
    # lead for the phone) gets a new lead; at most one per organization.
    entry: bool = False
    automations: list[AutomationSpec] = Field(default_factory=list)
    follow_up: FollowUpSpec | None = None

    def fields(self) -> dict[str, TabFieldSpec]:
        return {field.key: field for tab in self.tabs for field in tab.fields}

    @field_validator("stages")
    @classmethod
    def _stage_names_are_unique(cls, stages: list[StageSpec]) -> list[StageSpec]:
        seen: dict[str, int] = {}
        for index, stage in enumerate(stages):
            key = stage.name.casefold()
            if key in seen:
                raise pack_rule_error(
                    f"[{index}].name",
                    _(
                        'Stage "%(name)s" is duplicated (stages[%(first)d] and '
                        "stages[%(again)d]); give every stage of a pipeline its own name."
                    )
                    % {"name": stage.name, "first": seen[key], "again": index},
                )
            seen[key] = index
        if not any(stage.kind == "open" for stage in stages):
            raise pack_rule_error(
                "", _("A pipeline needs at least one open stage for leads to work in.")
            )
        return stages

    @field_validator("loss_reasons")
    @classmethod
    def _loss_reasons_are_unique(cls, reasons: list[LossReasonSpec]) -> list[LossReasonSpec]:
        seen: set[str] = set()
        for index, reason in enumerate(reasons):
            key = reason.name.casefold()
            if key in seen:
                raise pack_rule_error(
                    f"[{index}].name",
                    _('Loss reason "%(name)s" is duplicated in this pipeline.')
                    % {"name": reason.name},
                )
            seen.add(key)
        if sum(1 for reason in reasons if reason.is_system) > 1:
            raise pack_rule_error(
                "",
                _(
                    "Only one loss reason may be the system one (set when a lead is "
                    "closed automatically)."
                ),
            )
        return reasons

    @field_validator("tabs")
    @classmethod
    def _field_keys_are_unique(cls, tabs: list[TabSpec]) -> list[TabSpec]:
        seen: set[str] = set()
        for tab_index, tab in enumerate(tabs):
            for index, tab_field in enumerate(tab.fields):
                if tab_field.key in seen:
                    raise pack_rule_error(
                        f"[{tab_index}].fields[{index}].key",
                        _(
                            'Field "%(key)s" is defined twice in this pipeline; keys are '
                            "unique across its tabs."
                        )
                        % {"key": tab_field.key},
                    )
                seen.add(tab_field.key)
        return tabs

    @model_validator(mode="after")
    def _check_pipeline(self) -> PipelineSpec:
        if self.loss_reasons and not any(stage.kind == "lost" for stage in self.stages):
            raise pack_rule_error(
                "stages",
                _("A pipeline with loss reasons needs a lost stage to put lost leads in."),
            )
        stages = {stage.name.casefold(): stage for stage in self.stages}
        for path, name in self.rules.stage_references():
            stage = stages.get(name.casefold())
            if stage is None or stage.kind != "open":
                raise pack_rule_error(
                    f"rules.{path}",
                    _('"%(name)s" is not an open stage of this pipeline.') % {"name": name},
                )
        fields = self.fields()
        for rule, keys in RULE_FIELDS.items():
            if getattr(self.rules, rule) is None:
                continue
            missing = [key for key in keys if key not in fields]
            if missing:
                raise pack_rule_error(
                    f"rules.{rule}",
                    _("This rule reads the tab fields %(keys)s; add them to the tabs.")
                    % {"keys": ", ".join(missing)},
                )
        self._check_store_intake(stages)
        self._check_tabs_asked()
        self._check_automations(stages)
        carrier = fields.get("current_carrier")
        if self.rules.carrier_offer and carrier is not None and carrier.choices:
            values = {choice.value for choice in carrier.choices}
            for key in self.rules.carrier_offer.by_carrier:
                if key not in values:
                    raise pack_rule_error(
                        f"rules.carrier_offer.by_carrier.{key}",
                        _('"%(key)s" is not a choice of the current_carrier field.') % {"key": key},
                    )
        return self

    def _check_store_intake(self, stages: dict[str, StageSpec]) -> None:
        if self.rules.store_intake is None:
            return
        stage = stages.get(self.rules.store_intake.stage.casefold())
        if stage is None or stage.kind != "open" or not stage.is_system:
            raise pack_rule_error(
                "rules.store_intake.stage",
                _(
                    '"%(name)s" is not a system open stage of this pipeline; the store '
                    "intake needs one (is_system: true)."
                )
                % {"name": self.rules.store_intake.stage},
            )

    def _check_tabs_asked(self) -> None:
        tabs = {tab.name.casefold() for tab in self.tabs}
        for index, stage in enumerate(self.stages):
            if stage.asks_tab is not None and stage.asks_tab.casefold() not in tabs:
                raise pack_rule_error(
                    f"stages[{index}].asks_tab",
                    _('"%(name)s" is not a tab of this pipeline.') % {"name": stage.asks_tab},
                )

    def _check_automations(self, stages: dict[str, StageSpec]) -> None:
        reasons = {reason.name.casefold() for reason in self.loss_reasons}
        fields = self.fields()
        keys: set[str] = set()

        def open_stage(name: str, at: str) -> None:
            stage = stages.get(name.casefold())
            if stage is None or stage.kind != "open":
                raise pack_rule_error(
                    at, _('"%(name)s" is not an open stage of this pipeline.') % {"name": name}
                )

        for index, automation in enumerate(self.automations):
            base = f"automations[{index}]"
            if automation.key in keys:
                raise pack_rule_error(
                    f"{base}.key",
                    _('Automation key "%(key)s" is used twice in this pipeline.')
                    % {"key": automation.key},
                )
            keys.add(automation.key)
            trigger = automation.on
            if trigger.stage is not None and trigger.stage.casefold() not in stages:
                raise pack_rule_error(
                    f"{base}.on.stage",
                    _('"%(name)s" is not a stage of this pipeline.') % {"name": trigger.stage},
                )
            if trigger.reason is not None and trigger.reason.casefold() not in reasons:
                raise pack_rule_error(
                    f"{base}.on.reason",
                    _('"%(name)s" is not a loss reason of this pipeline.')
                    % {"name": trigger.reason},
                )
            for path, action in _walk_actions(automation.do, f"{base}.do"):
                if isinstance(action, MoveToAction):
                    open_stage(action.stage, f"{path}.stage")
                elif isinstance(action, SetFieldAction) and action.key not in fields:
                    raise pack_rule_error(
                        f"{path}.key",
                        _('"%(key)s" is not a tab field of this pipeline.') % {"key": action.key},
                    )
        if self.follow_up is not None:
            open_stage(self.follow_up.stage, "follow_up.stage")
            if self.follow_up.abandon_reason.casefold() not in reasons:
                raise pack_rule_error(
                    "follow_up.abandon_reason",
                    _('"%(name)s" is not a loss reason of this pipeline.')
                    % {"name": self.follow_up.abandon_reason},
                )


class OrganizationSpec(PackModel):
    slug: Slug
    name: Name
    kind: Literal["operator", "reseller"]
    country: CountryCode
    currency: CurrencyCode
    time_zone: TimeZoneName
    languages: Annotated[list[Language], Field(min_length=1)]
    default_language: Language
    branding: Branding
    # A reseller lists the slugs of the operators it works for: an organization of the
    # same pack, or an operator already loaded from another pack (checked when loading).
    operators: list[Slug] = Field(default_factory=list)
    # ``holidays`` subdivision code (e.g. "C" for Cochabamba) for business-day counts.
    holidays_subdivision: Annotated[str, StringConstraints(max_length=40)] | None = None
    # Id of the address protocol agents must follow (e.g. "bo-anexo1").
    address_format: Slug | None = None
    plans: list[PlanSpec] = Field(default_factory=list)
    pipelines: list[PipelineSpec] = Field(default_factory=list)
    templates: list[TemplateSpec] = Field(default_factory=list)
    quick_replies: list[QuickReplySpec] = Field(default_factory=list)
    email_templates: list[EmailTemplateSpec] = Field(default_factory=list)
    bots: list[BotSpec] = Field(default_factory=list)
    business_calendars: BusinessCalendarList = Field(default_factory=list)
    tickets: TicketsSpec | None = None
    playbooks: list[PlaybookSpec] = Field(default_factory=list)
    visits: VisitsSpec | None = None
    nps: NpsSpec | None = None
    notes: Text = ""

    @field_validator("languages")
    @classmethod
    def _languages_are_unique(cls, languages: list[str]) -> list[str]:
        for index, language in enumerate(languages):
            if language in languages[:index]:
                raise pack_rule_error(
                    f"[{index}]",
                    _("Language %(language)s is listed twice.") % {"language": language},
                )
        return languages

    @field_validator("plans")
    @classmethod
    def _plan_codes_are_unique(cls, plans: list[PlanSpec]) -> list[PlanSpec]:
        seen: set[str] = set()
        for index, plan in enumerate(plans):
            if plan.code in seen:
                raise pack_rule_error(
                    f"[{index}].code",
                    _('Plan code "%(code)s" is used twice in this organization.')
                    % {"code": plan.code},
                )
            seen.add(plan.code)
        return plans

    @field_validator("pipelines")
    @classmethod
    def _pipeline_names_are_unique(cls, pipelines: list[PipelineSpec]) -> list[PipelineSpec]:
        seen: set[str] = set()
        for index, pipeline in enumerate(pipelines):
            key = pipeline.name.casefold()
            if key in seen:
                raise pack_rule_error(
                    f"[{index}].name",
                    _('Pipeline "%(name)s" is defined twice.') % {"name": pipeline.name},
                )
            seen.add(key)
        entries = [index for index, pipeline in enumerate(pipelines) if pipeline.entry]
        if len(entries) > 1:
            raise pack_rule_error(
                f"[{entries[1]}].entry",
                _(
                    "Only one pipeline can be the entry pipeline of new conversations; "
                    "remove entry from all but one."
                ),
            )
        return pipelines

    @model_validator(mode="after")
    def _check_organization(self) -> OrganizationSpec:
        if self.default_language not in self.languages:
            raise pack_rule_error(
                "default_language",
                _("The default language %(language)s must be one of languages.")
                % {"language": self.default_language},
            )
        if self.kind == "reseller" and not self.operators:
            raise pack_rule_error(
                "operators",
                _("A reseller must list at least one operator it works for."),
            )
        if self.kind == "operator" and self.operators:
            raise pack_rule_error(
                "operators",
                _(
                    "An operator does not work for other operators; remove operators or "
                    "make this organization a reseller."
                ),
            )
        if self.holidays_subdivision is not None:
            import holidays

            subdivisions = holidays.list_supported_countries().get(self.country, [])
            if self.holidays_subdivision not in subdivisions:
                raise pack_rule_error(
                    "holidays_subdivision",
                    _("%(subdivision)s is not a holidays subdivision of %(country)s.")
                    % {"subdivision": self.holidays_subdivision, "country": self.country},
                )
        for plan in self.plans:
            if plan.currency is None:
                plan.currency = self.currency
        self._check_messages()
        return self

    def _check_messages(self) -> None:
        """Unique names, and every bot/template/stage/field a bot or automation names."""
        templates: dict[tuple[str, str], TemplateSpec] = {}
        for index, template in enumerate(self.templates):
            if template.language is None:
                template.language = self.default_language
            elif template.language not in self.languages:
                raise pack_rule_error(
                    f"templates[{index}].language",
                    _("The language %(language)s is not one of the organization's languages.")
                    % {"language": template.language},
                )
            key = (template.name, template.language)
            if key in templates:
                raise pack_rule_error(
                    f"templates[{index}].name",
                    _('Template "%(name)s" (%(language)s) is defined twice.')
                    % {"name": template.name, "language": template.language},
                )
            templates[key] = template
        shortcuts: set[tuple[str, str]] = set()
        for index, reply in enumerate(self.quick_replies):
            if reply.language is None:
                reply.language = self.default_language
            if (reply.shortcut, reply.language) in shortcuts:
                raise pack_rule_error(
                    f"quick_replies[{index}].shortcut",
                    _('Quick reply "#%(shortcut)s" is defined twice.')
                    % {"shortcut": reply.shortcut},
                )
            shortcuts.add((reply.shortcut, reply.language))
        template_names = {name for name, language in templates if language == self.default_language}
        email_templates: set[tuple[str, str]] = set()
        for index, email in enumerate(self.email_templates):
            if email.language is None:
                email.language = self.default_language
            elif email.language not in self.languages:
                raise pack_rule_error(
                    f"email_templates[{index}].language",
                    _("The language %(language)s is not one of the organization's languages.")
                    % {"language": email.language},
                )
            if (email.name, email.language) in email_templates:
                raise pack_rule_error(
                    f"email_templates[{index}].name",
                    _('E-mail template "%(name)s" (%(language)s) is defined twice.')
                    % {"name": email.name, "language": email.language},
                )
            email_templates.add((email.name, email.language))
        email_names = {
            name for name, language in email_templates if language == self.default_language
        }
        open_stages = {
            stage.name.casefold()
            for pipeline in self.pipelines
            for stage in pipeline.stages
            if stage.kind == "open"
        }
        fields = {key for pipeline in self.pipelines for key in pipeline.fields()}
        bots: set[str] = set()
        for index, bot in enumerate(self.bots):
            bot_key = bot_lookup_key(bot.name)
            if bot_key in bots:
                raise pack_rule_error(
                    f"bots[{index}].name",
                    _('Bot "%(name)s" is defined twice (names ignore case and accents).')
                    % {"name": bot.name},
                )
            bots.add(bot_key)
            if bot.template is not None and bot.template not in template_names:
                raise pack_rule_error(
                    f"bots[{index}].template",
                    _('"%(name)s" is not a template of this organization in %(language)s.')
                    % {"name": bot.template, "language": self.default_language},
                )
            if bot.move_to is not None and bot.move_to.casefold() not in open_stages:
                raise pack_rule_error(
                    f"bots[{index}].move_to",
                    _('"%(name)s" is not an open stage of any pipeline of this organization.')
                    % {"name": bot.move_to},
                )
            for field_key in bot.set_fields:
                if field_key not in fields:
                    raise pack_rule_error(
                        f"bots[{index}].set_fields.{field_key}",
                        _('"%(key)s" is not a tab field of any pipeline of this organization.')
                        % {"key": field_key},
                    )
        for p_index, pipeline in enumerate(self.pipelines):
            base = f"pipelines[{p_index}]"
            for a_index, automation in enumerate(pipeline.automations):
                for path, action in _walk_actions(
                    automation.do, f"{base}.automations[{a_index}].do"
                ):
                    if isinstance(action, SendBotAction) and bot_lookup_key(action.bot) not in bots:
                        raise pack_rule_error(
                            f"{path}.bot",
                            _('"%(name)s" is not a bot of this organization.')
                            % {"name": action.bot},
                        )
                    if (
                        isinstance(action, SendEmailAction)
                        and action.template is not None
                        and action.template not in email_names
                    ):
                        raise pack_rule_error(
                            f"{path}.template",
                            _(
                                '"%(name)s" is not an e-mail template of this organization in '
                                "%(language)s."
                            )
                            % {"name": action.template, "language": self.default_language},
                        )
                    if (
                        isinstance(action, SendTemplateAction)
                        and action.template not in template_names
                    ):
                        raise pack_rule_error(
                            f"{path}.template",
                            _('"%(name)s" is not a template of this organization.')
                            % {"name": action.template},
                        )
            if pipeline.follow_up is not None and (
                bot_lookup_key(pipeline.follow_up.bot) not in bots
            ):
                raise pack_rule_error(
                    f"{base}.follow_up.bot",
                    _('"%(name)s" is not a bot of this organization.')
                    % {"name": pipeline.follow_up.bot},
                )


class Pack(PackModel):
    name: Slug
    version: Version
    title: Name
    description: Text = ""
    organizations: Annotated[list[OrganizationSpec], Field(min_length=1)]
    notes: Text = ""

    @model_validator(mode="after")
    def _check_organizations(self) -> Pack:
        index_of: dict[str, int] = {}
        for index, organization in enumerate(self.organizations):
            if organization.slug in index_of:
                raise pack_rule_error(
                    f"organizations[{index}].slug",
                    _('Organization slug "%(slug)s" is used twice in this pack.')
                    % {"slug": organization.slug},
                )
            index_of[organization.slug] = index
        for index, organization in enumerate(self.organizations):
            for position, slug in enumerate(organization.operators):
                target = index_of.get(slug)
                if target is not None and self.organizations[target].kind != "operator":
                    raise pack_rule_error(
                        f"organizations[{index}].operators[{position}]",
                        _('"%(slug)s" is a reseller, not an operator.') % {"slug": slug},
                    )
        return self

    def organization(self, slug: str) -> OrganizationSpec:
        return next(org for org in self.organizations if org.slug == slug)

    def external_operator_slugs(self) -> dict[str, str]:
        """Operator slugs referenced but not declared here -> the path that names them."""
        declared = {organization.slug for organization in self.organizations}
        external: dict[str, str] = {}
        for index, organization in enumerate(self.organizations):
            for position, slug in enumerate(organization.operators):
                if slug not in declared and slug not in external:
                    external[slug] = f"organizations[{index}].operators[{position}]"
        return external

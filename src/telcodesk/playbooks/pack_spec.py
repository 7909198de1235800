"""The playbooks section of an operator pack: ``PlaybookSpec`` and its parts.

A playbook is a list of steps. A step has a script (what the agent says, with
``{variables}``), guidance (what the agent does), checklist items, typed questions
whose answers may fill a named field of another app (``field: ticket.since_when``),
actions (names from the action registry, see playbooks.actions) and ``next`` rules
(see playbooks.flow). Everything a pack names is checked here, and a mistake is a
``pack_rule`` error whose ``at`` is the path below the playbook
(``steps[3].questions[1].field``), so the loader reports the exact YAML path.

The action and field registries are filled by the apps' ``AppConfig.ready``; a
stored definition (already checked when its pack loaded) is read back with
``playbook_spec_load``, which does not check them again (an app removed later must
not make old runs unreadable).

The format, with a full example, is documented in docs/playbooks.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from pydantic import (
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from telcodesk.core.validation import pydantic_error_message
from telcodesk.packs.spec_base import (
    ChoiceSpec,
    Name,
    PackModel,
    ShortName,
    Slug,
    Text,
    Version,
    pack_rule_error,
)
from telcodesk.playbooks.actions import playbook_action, registered_playbook_actions
from telcodesk.playbooks.fields import registered_playbook_fields
from telcodesk.playbooks.flow import never_ending_steps, unreachable_steps
from telcodesk.playbooks.script import BUILTIN_VARIABLES, text_variables

# Validation context key: a stored definition, checked when its pack loaded.
TRUSTED = "playbooks_trusted"

Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=48)]
FieldRef = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$", max_length=97)
]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
ConditionScalar = StrictBool | StrictInt | StrictFloat | StrictStr
ConditionValue = ConditionScalar | Annotated[list[ConditionScalar], Field(min_length=1)]
QuestionType = Literal["text", "choice", "yes_no", "number", "date"]
ActionTrigger = Literal["manual", "entered", "completed"]


class VariableSpec(PackModel):
    """A variable the playbook's texts use besides the built-in ones."""

    key: Key
    label: ShortName | None = None
    # Shown when nothing else gives a value (the caller, an action).
    default: Text = ""


class ChecklistItemSpec(PackModel):
    key: Key
    text: LongText
    required: bool = True


class QuestionSpec(PackModel):
    key: Key
    text: LongText
    type: QuestionType
    choices: list[ChoiceSpec] | None = None
    required: bool = True
    # The field of another app the answer fills: "<namespace>.<name>" (ticket.since_when).
    field: FieldRef | None = None
    # number only: bounds (inclusive) and whether decimals are allowed.
    min: StrictInt | StrictFloat | None = None
    max: StrictInt | StrictFloat | None = None
    integer: bool = True
    help: Text = ""

    @model_validator(mode="after")
    def _check_question(self) -> QuestionSpec:
        if self.type == "choice":
            if not self.choices:
                raise pack_rule_error("choices", _("A choice question needs its list of choices."))
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
                "choices", _("Only a question of type choice has choices; remove them.")
            )
        if self.type != "number":
            # Compared with the defaults, not model_fields_set: a stored definition
            # (model_dump) holds every field.
            given = {"min": self.min is not None, "max": self.max is not None}
            given["integer"] = self.integer is not True
            for name in ("min", "max", "integer"):
                if given[name]:
                    raise pack_rule_error(
                        name,
                        _("Only a question of type number has %(name)s; remove it.")
                        % {"name": name},
                    )
        elif self.min is not None and self.max is not None and self.min > self.max:
            raise pack_rule_error("max", _("max must not be smaller than min."))
        return self


class ActionSpec(PackModel):
    """An action of a step: ``{action: create_ticket, when: completed}`` or just its name."""

    action: Key
    # Its key in the step (for skip reasons and the API); default: the action's name.
    key: Key | None = None
    label: ShortName | None = None
    # manual: a button the agent presses; entered/completed: runs by itself when the
    # step is entered / completed.
    when: ActionTrigger = "manual"
    # Only for manual actions: the step cannot be completed until it ran successfully,
    # unless the agent gives a reason for skipping it.
    required: bool = False
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _name_only(cls, data: object) -> object:
        return {"action": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _check_action(self) -> ActionSpec:
        if self.key is None:
            self.key = self.action
        if self.required and self.when != "manual":
            raise pack_rule_error(
                "required",
                _(
                    "Only a manual action can be required (the agent presses it); "
                    "remove required or make it manual."
                ),
            )
        return self


class NextRuleSpec(PackModel):
    """``{when: {problem_kind: administrative}, goto: administrative_route}``."""

    when: dict[Key, ConditionValue] | None = None
    goto: Key | None = None
    end: bool = False

    @model_validator(mode="after")
    def _check_rule(self) -> NextRuleSpec:
        if (self.goto is None) == (not self.end):
            raise pack_rule_error(
                "goto", _("A next rule says either goto: a step, or end: true; give one of them.")
            )
        if self.when is not None and not self.when:
            raise pack_rule_error(
                "when",
                _(
                    "when needs at least one condition; leave it out for a rule that "
                    "always applies."
                ),
            )
        return self


class StepSpec(PackModel):
    key: Key
    title: ShortName
    # What the agent says, with {variables}.
    script: Text = ""
    # What the agent does (not read to the customer).
    guidance: Text = ""
    checklist: list[ChecklistItemSpec] = Field(default_factory=list)
    questions: list[QuestionSpec] = Field(default_factory=list)
    actions: list[ActionSpec] = Field(default_factory=list)
    next: list[NextRuleSpec] = Field(default_factory=list)
    # The run ends after this step unless a next rule sends it elsewhere.
    end: bool = False

    @model_validator(mode="after")
    def _check_step(self) -> StepSpec:
        seen: set[str] = set()
        keyed: list[tuple[str, list[str]]] = [
            ("checklist", [item.key for item in self.checklist]),
            ("questions", [question.key for question in self.questions]),
            ("actions", [action.key or action.action for action in self.actions]),
        ]
        for kind, keys in keyed:
            for index, key in enumerate(keys):
                if key in seen:
                    raise pack_rule_error(
                        f"{kind}[{index}].key",
                        _(
                            'Key "%(key)s" is used twice in this step; items, questions '
                            "and actions of a step need different keys."
                        )
                        % {"key": key},
                    )
                seen.add(key)
        for index, rule in enumerate(self.next):
            if rule.when is None and index != len(self.next) - 1:
                raise pack_rule_error(
                    f"next[{index + 1}]",
                    _(
                        "This rule can never apply: the rule before it has no when and "
                        "always applies. Move the rule without when to the end."
                    ),
                )
            if rule.when is None and self.end:
                raise pack_rule_error(
                    f"next[{index}]",
                    _(
                        "A step with end: true cannot also have a rule that always applies; "
                        "remove one of them."
                    ),
                )
        return self

    def item_label(self, key: str) -> str:
        """How an item, question or action of this step reads (its text or button label)."""
        for item in self.checklist:
            if item.key == key:
                return item.text
        for question in self.questions:
            if question.key == key:
                return question.text
        for action in self.actions:
            if (action.key or action.action) == key:
                registered = playbook_action(action.action)
                return str(action.label or (registered.label if registered else action.action))
        return key

    def requirement_keys(self) -> list[str]:
        return [
            *(item.key for item in self.checklist if item.required),
            *(question.key for question in self.questions if question.required),
            *(action.key or "" for action in self.actions if action.required),
        ]


def _is_trusted(info: ValidationInfo) -> bool:
    return isinstance(info.context, Mapping) and bool(info.context.get(TRUSTED))


class PlaybookSpec(PackModel):
    key: Slug
    name: Name
    version: Version
    description: Text = ""
    # For the people who maintain the pack: where it comes from, what was reconciled.
    notes: Text = ""
    variables: list[VariableSpec] = Field(default_factory=list)
    steps: Annotated[list[StepSpec], Field(min_length=1)]

    # --- reading -------------------------------------------------------------------

    def step_keys(self) -> list[str]:
        return [step.key for step in self.steps]

    def step(self, key: str) -> StepSpec:
        return next(step for step in self.steps if step.key == key)

    def questions(self) -> dict[str, QuestionSpec]:
        return {question.key: question for step in self.steps for question in step.questions}

    def variable_names(self) -> list[str]:
        names = list(BUILTIN_VARIABLES)
        names += [variable.key for variable in self.variables if variable.key not in names]
        return names

    def field_values(self, namespace: str, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Answers filling fields of ``namespace``: field name -> value."""
        prefix = f"{namespace}."
        return {
            question.field.removeprefix(prefix): answers[key]
            for key, question in self.questions().items()
            if question.field and question.field.startswith(prefix) and key in answers
        }

    # --- checks ----------------------------------------------------------------------

    @model_validator(mode="after")
    def _check_playbook(self, info: ValidationInfo) -> PlaybookSpec:
        trusted = _is_trusted(info)
        self._check_unique_keys()
        self._check_texts()
        facts = self._check_actions(trusted)
        if not trusted:
            self._check_fields()
        self._check_next(facts, trusted)
        self._check_graph()
        return self

    def _check_unique_keys(self) -> None:
        steps: set[str] = set()
        questions: dict[str, str] = {}
        for s_index, step in enumerate(self.steps):
            if step.key in steps:
                raise pack_rule_error(
                    f"steps[{s_index}].key",
                    _('Step key "%(key)s" is used twice in this playbook.') % {"key": step.key},
                )
            steps.add(step.key)
            for q_index, question in enumerate(step.questions):
                if question.key in questions:
                    raise pack_rule_error(
                        f"steps[{s_index}].questions[{q_index}].key",
                        _(
                            'Question key "%(key)s" is already used in step "%(step)s"; '
                            "question keys are unique in a playbook (next rules read them)."
                        )
                        % {"key": question.key, "step": questions[question.key]},
                    )
                questions[question.key] = step.key
        variables: set[str] = set()
        for index, variable in enumerate(self.variables):
            if variable.key in variables:
                raise pack_rule_error(
                    f"variables[{index}].key",
                    _('Variable "%(key)s" is declared twice.') % {"key": variable.key},
                )
            variables.add(variable.key)

    def _check_texts(self) -> None:
        known = self.variable_names()
        for s_index, step in enumerate(self.steps):
            base = f"steps[{s_index}]"
            texts = [(f"{base}.script", step.script), (f"{base}.guidance", step.guidance)]
            texts += [(f"{base}.checklist[{i}].text", c.text) for i, c in enumerate(step.checklist)]
            texts += [(f"{base}.questions[{i}].text", q.text) for i, q in enumerate(step.questions)]
            texts += [(f"{base}.questions[{i}].help", q.help) for i, q in enumerate(step.questions)]
            for path, text in texts:
                unknown = [name for name in text_variables(text) if name not in known]
                if unknown:
                    raise pack_rule_error(
                        path,
                        _(
                            'Unknown variable "%(name)s"; use one of %(known)s, or declare '
                            "it under variables."
                        )
                        % {"name": unknown[0], "known": ", ".join(known)},
                    )

    def _check_actions(self, trusted: bool) -> set[str]:
        """Every action is registered and its params valid; returns the facts they report."""
        registry = registered_playbook_actions()
        facts: set[str] = set()
        for s_index, step in enumerate(self.steps):
            for a_index, spec in enumerate(step.actions):
                base = f"steps[{s_index}].actions[{a_index}]"
                registered = registry.get(spec.action)
                if registered is None:
                    if trusted:
                        continue
                    raise pack_rule_error(
                        f"{base}.action",
                        _('"%(name)s" is not a playbook action; the actions are: %(names)s.')
                        % {
                            "name": spec.action,
                            "names": ", ".join(sorted(registry)) or _("(none registered)"),
                        },
                    )
                facts |= registered.facts
                if trusted:
                    continue
                if registered.params is None:
                    if spec.params:
                        raise pack_rule_error(
                            f"{base}.params",
                            _("The action %(name)s takes no params; remove them.")
                            % {"name": spec.action},
                        )
                    continue
                try:
                    params = registered.params.model_validate(spec.params)
                except ValidationError as error:
                    first = error.errors(include_url=False)[0]
                    where = ".".join(str(part) for part in first["loc"])
                    raise pack_rule_error(
                        f"{base}.params" + (f".{where}" if where else ""),
                        pydantic_error_message(first, keep_unknown=True),
                    ) from None
                spec.params = params.model_dump(mode="json")
        return facts

    def _check_fields(self) -> None:
        namespaces = registered_playbook_fields()
        for s_index, step in enumerate(self.steps):
            for q_index, question in enumerate(step.questions):
                if question.field is None:
                    continue
                path = f"steps[{s_index}].questions[{q_index}].field"
                namespace, name = question.field.split(".", 1)
                registered = namespaces.get(namespace)
                if registered is None:
                    raise pack_rule_error(
                        path,
                        _(
                            '"%(namespace)s" has no fields a question can fill; use one of: '
                            "%(names)s."
                        )
                        % {
                            "namespace": namespace,
                            "names": ", ".join(sorted(namespaces)) or _("(none registered)"),
                        },
                    )
                if name not in registered.fields:
                    raise pack_rule_error(
                        path,
                        _('"%(field)s" is not a field of %(namespace)s; the fields are: %(names)s.')
                        % {
                            "field": name,
                            "namespace": namespace,
                            "names": ", ".join(sorted(registered.fields)),
                        },
                    )

    def _check_next(self, facts: set[str], trusted: bool) -> None:
        keys = self.step_keys()
        questions = self.questions()
        for s_index, step in enumerate(self.steps):
            for q_index, question in enumerate(step.questions):
                if question.key in facts:
                    raise pack_rule_error(
                        f"steps[{s_index}].questions[{q_index}].key",
                        _(
                            '"%(key)s" is also a fact an action of this playbook reports; '
                            "give the question another key."
                        )
                        % {"key": question.key},
                    )
            for r_index, rule in enumerate(step.next):
                base = f"steps[{s_index}].next[{r_index}]"
                if rule.goto is not None and rule.goto not in keys:
                    raise pack_rule_error(
                        f"{base}.goto",
                        _('"%(key)s" is not a step of this playbook; the steps are: %(keys)s.')
                        % {"key": rule.goto, "keys": ", ".join(keys)},
                    )
                for name, expected in (rule.when or {}).items():
                    asked = questions.get(name)
                    if asked is None:
                        if name in facts or trusted:
                            continue
                        raise pack_rule_error(
                            f"{base}.when.{name}",
                            _(
                                '"%(key)s" is neither a question of this playbook nor a fact '
                                "its actions report."
                            )
                            % {"key": name},
                        )
                    _check_condition_value(asked, expected, f"{base}.when.{name}")

    def _check_graph(self) -> None:
        unreachable = unreachable_steps(self)
        if unreachable:
            index = unreachable[0]
            raise pack_rule_error(
                f"steps[{index}].key",
                _(
                    'No path from the first step reaches "%(key)s": point a next rule at it '
                    "or remove it."
                )
                % {"key": self.steps[index].key},
            )
        stuck = never_ending_steps(self)
        if stuck:
            # A loop is made by goto rules (falling through only goes forward): point at
            # the first stuck step that has some.
            index = next((i for i in stuck if self.steps[i].next), stuck[0])
            raise pack_rule_error(
                f"steps[{index}].next",
                _(
                    "From these steps the run can never end, their next rules loop back "
                    "for ever: %(keys)s. Add a rule or a step that leads to an end."
                )
                % {"keys": ", ".join(self.steps[i].key for i in stuck)},
            )


def _check_condition_value(question: QuestionSpec, expected: Any, path: str) -> None:
    options = expected if isinstance(expected, list) else [expected]
    for option in options:
        if question.type == "yes_no":
            fits = isinstance(option, bool)
            hint = _("true or false")
        elif question.type == "number":
            fits = isinstance(option, (int, float)) and not isinstance(option, bool)
            hint = _("a number")
        elif question.type == "choice":
            values = [choice.value for choice in question.choices or []]
            fits = isinstance(option, str) and option in values
            hint = _("one of %(values)s") % {"values": ", ".join(values)}
        else:
            fits = isinstance(option, str)
            hint = _("text")
        if not fits:
            raise pack_rule_error(
                path,
                _('"%(key)s" is a %(type)s question: compare it with %(hint)s.')
                % {"key": question.key, "type": question.type, "hint": hint},
            )


def playbook_spec_load(definition: Mapping[str, Any]) -> PlaybookSpec:
    """A stored definition back as a PlaybookSpec (registries are not checked again)."""
    return PlaybookSpec.model_validate(dict(definition), context={TRUSTED: True})

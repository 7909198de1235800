"""Read, check and load operator packs.

``pack_parse`` turns YAML into a validated ``Pack`` or raises ``PackInvalid`` whose
``details`` map the YAML path of each bad field to its messages. ``pack_load`` writes a
pack in one transaction: organizations by slug, their plans by code, and the whole
validated pack in ``LoadedPack``. Only rows whose values differ are saved, so loading
the same pack twice changes nothing.

Other apps add their own tables for parts of a pack (pipelines, templates...) with
``register_pack_applier``: each applier runs inside the same transaction, after the
organizations and plans, and reports what it did in a ``Tally``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError

from telcodesk.accounts.models import Organization
from telcodesk.core.errors import DomainError, ErrorCode, NotFound, ValidationFailed
from telcodesk.core.validation import pydantic_error_message
from telcodesk.customers.models import Plan
from telcodesk.packs.models import LoadedPack
from telcodesk.packs.schema import OrganizationSpec, Pack, PlanSpec, version_key

PACKS_DIR = Path(__file__).resolve().parent
_NAME_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PATH_PART_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")

Outcome = Literal["created", "updated", "unchanged"]


class PackInvalid(ValidationFailed):
    """A pack that cannot be loaded; ``details`` maps YAML paths to messages."""

    code = ErrorCode.INVALID_PACK

    def __init__(self, problems: Mapping[str, list[str]], *, source: str) -> None:
        lines = "\n".join(
            f"  {path}: {message}" for path, messages in problems.items() for message in messages
        )
        super().__init__(
            _("The pack %(source)s is not valid; fix these fields and try again:\n%(problems)s")
            % {"source": source, "problems": lines},
            details=dict(problems),
        )
        self.source = source


class PackRefused(DomainError):
    """A valid pack that would overwrite something it should not (e.g. a newer version)."""

    code = ErrorCode.CONFLICT
    status = 409


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    title: str
    loaded_version: str | None
    # Why the bundled file does not parse, if it does not.
    problem: str | None = None


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass
class PackLoadResult:
    name: str
    version: str
    previous_version: str | None
    organizations: Tally = field(default_factory=Tally)
    plans: Tally = field(default_factory=Tally)
    # Plans missing from this version, now inactive (also counted in plans.updated).
    deactivated: int = 0
    # What each registered applier did, by the applier's name (e.g. "pipelines").
    applied: dict[str, Tally] = field(default_factory=dict)

    def _tallies(self) -> list[Tally]:
        return [self.organizations, self.plans, *self.applied.values()]

    @property
    def created(self) -> int:
        return sum(tally.created for tally in self._tallies())

    @property
    def updated(self) -> int:
        return sum(tally.updated for tally in self._tallies())

    @property
    def unchanged(self) -> int:
        return sum(tally.unchanged for tally in self._tallies())

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


# --- appliers ---------------------------------------------------------------------------

# An applier writes one part of a pack into its app's tables: called with the validated
# pack and its organizations by slug (already saved), inside the load's transaction.
# It must be idempotent (a second load of the same pack changes nothing) and return
# what it did.
PackApplier = Callable[[Pack, Mapping[str, Organization]], Tally]

_APPLIERS: dict[str, PackApplier] = {}


def register_pack_applier(name: str, applier: PackApplier) -> None:
    """Run ``applier`` on every pack load, after organizations and plans.

    Registering the same name again replaces the applier (``AppConfig.ready`` may run
    more than once, e.g. in tests); appliers run in the order they were first registered.
    """
    _APPLIERS[name] = applier


def registered_pack_appliers() -> dict[str, PackApplier]:
    return dict(_APPLIERS)


# --- reading ----------------------------------------------------------------------------


class _StrictYamlLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping (YAML keeps the last)."""


def _construct_mapping(loader: _StrictYamlLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictYamlLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def pack_path(name: str) -> Path:
    """The bundled file of pack ``name``; NotFound if there is none."""
    path = PACKS_DIR / f"{name}.yaml"
    if not _NAME_RE.match(name) or not path.is_file():
        raise NotFound(
            _("There is no bundled pack %(name)s. Bundled packs: %(names)s.")
            % {"name": name, "names": ", ".join(_bundled_names())}
        )
    return path


def _bundled_names() -> list[str]:
    return sorted(path.stem for path in PACKS_DIR.glob("*.yaml"))


def _loc_to_path(loc: Iterable[str | int]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def _join_path(base: str, relative: str) -> str:
    if not relative:
        return base
    if relative.startswith("[") or not base:
        return base + relative
    return f"{base}.{relative}"


def _line_of(root: yaml.Node | None, path: str) -> int | None:
    """1-based line of the deepest YAML node along ``path`` (for humans; best effort)."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for key, index in _PATH_PART_RE.findall(path):
        child: yaml.Node | None = None
        if key and isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if child is None:  # an unknown field: point at its key
                child = next((k for k, _v in node.value if getattr(k, "value", None) == key), None)
        elif index and isinstance(node, yaml.SequenceNode) and int(index) < len(node.value):
            child = node.value[int(index)]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _problems_from(error: ValidationError, root: yaml.Node | None) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for item in error.errors(include_url=False):
        path = _loc_to_path(item["loc"])
        context = item.get("ctx") or {}
        if item["type"] == "pack_rule":
            path = _join_path(path, str(context.get("at", "")))
        path = path or "(pack)"
        message = pydantic_error_message(item, keep_unknown=True)
        line = _line_of(root, path)
        if line is not None:
            message = _("line %(line)d: %(message)s") % {"line": line, "message": message}
        problems.setdefault(path, []).append(message)
    return problems


def pack_parse(source: str | Path) -> Pack:
    """Validate a pack: ``source`` is YAML text, or a ``Path`` to a YAML file."""
    if isinstance(source, Path):
        label = source.name
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as error:
            raise NotFound(
                _("Cannot read %(path)s: %(error)s") % {"path": source, "error": error.strerror}
            ) from error
    else:
        label, text = _("(text)"), source
    try:
        data = yaml.load(text, Loader=_StrictYamlLoader)  # noqa: S506 - a SafeLoader subclass
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        where = (
            _("line %(line)d, column %(column)d")
            % {"line": mark.line + 1, "column": mark.column + 1}
            if mark is not None
            else _("somewhere")
        )
        raise PackInvalid(
            {"(yaml)": [_("%(where)s: %(problem)s") % {"where": where, "problem": problem}]},
            source=label,
        ) from error
    if not isinstance(data, dict):
        raise PackInvalid(
            {"(pack)": [_("A pack is a YAML mapping that starts with name: and version:.")]},
            source=label,
        )
    try:
        return Pack.model_validate(data)
    except ValidationError as error:
        raise PackInvalid(_problems_from(error, root), source=label) from error


def pack_checksum(pack: Pack) -> str:
    canonical = json.dumps(
        pack.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def available_packs() -> list[PackInfo]:
    """The bundled packs, with the version each has in the database (None: not loaded)."""
    loaded = dict(LoadedPack.objects.values_list("name", "version"))
    infos: list[PackInfo] = []
    for name in _bundled_names():
        try:
            pack = pack_parse(PACKS_DIR / f"{name}.yaml")
        except PackInvalid as error:
            infos.append(PackInfo(name, "", "", loaded.get(name), problem=error.message))
            continue
        infos.append(PackInfo(name, pack.version, pack.title, loaded.get(name)))
    return infos


def _resolve(name_or_path: str | Path) -> tuple[Path, str | None]:
    """The file to read, and the pack name it must declare (for a bundled name)."""
    if isinstance(name_or_path, Path):
        return name_or_path, None
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        return Path(name_or_path), None
    return pack_path(name_or_path), name_or_path


# --- loading ----------------------------------------------------------------------------


def _upsert(
    model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any]
) -> tuple[Any, Outcome]:
    """Create, or save only the fields whose values differ (``updated_at`` stays put if none)."""
    instance = model._default_manager.filter(**lookup).first()
    if instance is None:
        return model._default_manager.create(**lookup, **values), "created"
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if not changed:
        return instance, "unchanged"
    for name in changed:
        setattr(instance, name, values[name])
    instance.save(update_fields=[*changed, "updated_at"])
    return instance, "updated"


def _organization_values(spec: OrganizationSpec, pack: Pack) -> dict[str, Any]:
    return {
        "name": spec.name,
        "kind": spec.kind,
        "country": spec.country,
        "currency": spec.currency,
        "time_zone": spec.time_zone,
        "languages": list(spec.languages),
        "default_language": spec.default_language,
        "brand_name": spec.branding.name,
        "brand_color": spec.branding.color,
        "brand_logo_text": spec.branding.logo_text,
        "pack_name": pack.name,
        "pack_version": pack.version,
    }


def _plan_values(spec: PlanSpec, organization: OrganizationSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "service_type": spec.service_type.value,
        "technology": spec.technology.value if spec.technology else "",
        "download_mbps": spec.download_mbps,
        "upload_mbps": spec.upload_mbps,
        "monthly_price": spec.monthly_price,
        "currency": spec.currency or organization.currency,
        "components": list(spec.components),
        "description": spec.description,
        "is_active": True,
    }


def _check_references(pack: Pack, label: str) -> None:
    """Operators named but not declared must already exist as operators."""
    external = pack.external_operator_slugs()
    if not external:
        return
    known = set(
        Organization.objects.filter(slug__in=external, kind=Organization.Kind.OPERATOR).values_list(
            "slug", flat=True
        )
    )
    problems = {
        path: [
            _(
                "%(slug)s is neither an operator of this pack nor a loaded operator; "
                "declare it here or load its pack first."
            )
            % {"slug": slug}
        ]
        for slug, path in external.items()
        if slug not in known
    }
    if problems:
        raise PackInvalid(problems, source=label)


def _check_ownership(pack: Pack) -> None:
    """An organization loaded by another pack is not taken over silently."""
    owners = dict(
        Organization.objects.filter(
            slug__in=[organization.slug for organization in pack.organizations]
        )
        .exclude(pack_name__in=["", pack.name])
        .values_list("slug", "pack_name")
    )
    if owners:
        slug, owner = next(iter(owners.items()))
        raise PackRefused(
            _(
                "Organization %(slug)s belongs to pack %(owner)s; rename the slug in "
                "%(pack)s or move the organization into one pack."
            )
            % {"slug": slug, "owner": owner, "pack": pack.name}
        )


def _check_version(pack: Pack, loaded: LoadedPack | None, checksum: str, force: bool) -> None:
    if loaded is None or force:
        return
    if version_key(pack.version) < version_key(loaded.version):
        raise PackRefused(
            _(
                "Pack %(name)s %(version)s is older than the loaded %(loaded)s; "
                "use --force to go back to it."
            )
            % {"name": pack.name, "version": pack.version, "loaded": loaded.version}
        )
    if pack.version == loaded.version and checksum != loaded.checksum:
        raise PackRefused(
            _(
                "Pack %(name)s %(version)s is already loaded with different content; "
                "raise its version (or use --force)."
            )
            % {"name": pack.name, "version": pack.version}
        )


def pack_load(name_or_path: str | Path, *, force: bool = False) -> PackLoadResult:
    """Load a bundled pack by name, or a pack file by path, in one transaction.

    Idempotent: organizations are matched by slug and plans by (organization, code);
    only changed rows are saved. Plans a newer version drops become inactive, never
    deleted (subscriptions point at them). Registered appliers
    (``register_pack_applier``) then write their parts of the pack in the same
    transaction. An older version, or the same version with other content, is
    refused unless ``force``. Nothing is written if anything is refused.
    """
    path, expected_name = _resolve(name_or_path)
    pack = pack_parse(path)
    if expected_name is not None and pack.name != expected_name:
        raise PackInvalid(
            {
                "name": [
                    _("The file %(file)s must declare name: %(name)s.")
                    % {"file": path.name, "name": expected_name}
                ]
            },
            source=path.name,
        )
    checksum = pack_checksum(pack)
    with transaction.atomic():
        loaded = LoadedPack.objects.select_for_update().filter(name=pack.name).first()
        _check_version(pack, loaded, checksum, force)
        _check_references(pack, path.name)
        _check_ownership(pack)
        result = PackLoadResult(
            name=pack.name,
            version=pack.version,
            previous_version=loaded.version if loaded else None,
        )
        organizations: dict[str, Organization] = {}
        outcomes: dict[str, Outcome] = {}
        for spec in pack.organizations:
            organizations[spec.slug], outcomes[spec.slug] = _upsert(
                Organization, {"slug": spec.slug}, _organization_values(spec, pack)
            )
        for spec in pack.organizations:
            organization = organizations[spec.slug]
            operator_ids = set(
                Organization.objects.filter(slug__in=spec.operators).values_list("pk", flat=True)
            )
            current = set(organization.operators.values_list("pk", flat=True))
            if current != operator_ids:
                organization.operators.set(operator_ids)
                if outcomes[spec.slug] == "unchanged":
                    organization.save(update_fields=["updated_at"])
                    outcomes[spec.slug] = "updated"
            result.organizations.add(outcomes[spec.slug])
            result.deactivated += _plans_sync(spec, organization, result.plans)
        for applier_name, applier in _APPLIERS.items():
            result.applied[applier_name] = applier(pack, organizations)
        _loaded_pack_save(pack, loaded, checksum)
    return result


def _plans_sync(spec: OrganizationSpec, organization: Organization, tally: Tally) -> int:
    """Upsert the organization's plans; deactivate the ones the pack no longer lists."""
    for plan_spec in spec.plans:
        _plan, outcome = _upsert(
            Plan,
            {"organization": organization, "code": plan_spec.code},
            _plan_values(plan_spec, spec),
        )
        tally.add(outcome)
    dropped = Plan.objects.filter(organization=organization, is_active=True).exclude(
        code__in=[plan_spec.code for plan_spec in spec.plans]
    )
    count = 0
    for plan in dropped:
        plan.is_active = False
        plan.save(update_fields=["is_active", "updated_at"])
        tally.add("updated")
        count += 1
    return count


def _loaded_pack_save(pack: Pack, loaded: LoadedPack | None, checksum: str) -> None:
    values = {
        "version": pack.version,
        "title": pack.title,
        "data": pack.model_dump(mode="json"),
        "checksum": checksum,
    }
    if loaded is None:
        LoadedPack.objects.create(name=pack.name, loaded_at=timezone.now(), **values)
        return
    if loaded.version == pack.version and loaded.checksum == checksum:
        return
    for name, value in values.items():
        setattr(loaded, name, value)
    loaded.loaded_at = timezone.now()
    loaded.save()

"""Importing coverage files: street-number ranges from CSV, polygons from GeoJSON.

Both imports read and check the whole file first; a file with any bad row (or
feature) changes nothing and the error lists every bad line with what to fix. A good
file is written in one transaction. Importing a file again (same ``source_file``
name) replaces what that file brought: its areas are updated in place, their ranges
or polygons replaced, and areas no longer in the file removed. Formats:
docs/coverage.md.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.accounts.models import Organization
from telcodesk.core.errors import ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.coverage.geometry import InvalidGeometry, geometry_bbox, geometry_normalize
from telcodesk.coverage.models import CoverageArea, CoveragePolygon, Parity, StreetRange
from telcodesk.coverage.streets import locality_key, street_key

IMPORT_PERMISSION = "org.manage"
CSV_REQUIRED = ("city", "street", "from", "to")
CSV_COLUMNS = ("city", "zone", "street", "from", "to", "parity", "technology")
DEFAULT_TECHNOLOGY = "fiber"
MAX_NUMBER = 999_999
_TECHNOLOGY = re.compile(r"^[a-z0-9_-]{1,32}$")
_PARITY_WORDS = {
    "": Parity.ALL,
    "all": Parity.ALL,
    "both": Parity.ALL,
    "todos": Parity.ALL,
    "todas": Parity.ALL,
    "ambos": Parity.ALL,
    "even": Parity.EVEN,
    "par": Parity.EVEN,
    "pares": Parity.EVEN,
    "odd": Parity.ODD,
    "impar": Parity.ODD,
    "impares": Parity.ODD,
}


@dataclass(frozen=True)
class CoverageImportResult:
    source_file: str
    areas: int
    ranges: int = 0
    polygons: int = 0
    areas_removed: int = 0


@dataclass(frozen=True)
class _AreaKey:
    city: str
    zone: str
    name: str
    technology: str


def _check_actor(actor: Actor) -> Organization:
    actor.require(IMPORT_PERMISSION)
    organization = actor.organization
    if organization.kind != Organization.Kind.OPERATOR:
        raise ValidationFailed(
            _(
                "Coverage belongs to the operator whose network it describes; import it in "
                "the operator's organization, not in %(organization)s."
            )
            % {"organization": organization.name}
        )
    return organization


def _source_name(source_file: str) -> str:
    name = PurePath(source_file.strip()).name[:255]
    if not name:
        message = _("Name the file being imported (its name identifies it on re-import).")
        raise ValidationFailed(message, details={"source_file": [message]})
    return name


def _listing(problems: dict[str, list[str]]) -> str:
    return " ".join(f"{where}: {' '.join(messages)}" for where, messages in problems.items())


# --- CSV ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RangeRow:
    line: int
    area: _AreaKey
    street: str
    key: str
    number_from: int
    number_to: int
    parity: str


def _number(value: str) -> int | None:
    value = value.strip()
    if not value.isdigit() or int(value) > MAX_NUMBER:
        return None
    return int(value)


def _csv_row(line: int, row: dict[str, str]) -> tuple[_RangeRow | None, list[str]]:
    problems: list[str] = []
    city = row.get("city", "").strip()
    zone = row.get("zone", "").strip()
    street = row.get("street", "").strip()
    if not city:
        problems.append(_("write the city (e.g. CABA)."))
    key = street_key(street)
    if not key:
        problems.append(_("write the street name (e.g. Av. Rivadavia)."))
    number_from = _number(row.get("from", ""))
    number_to = _number(row.get("to", ""))
    if number_from is None:
        problems.append(_("from must be a house number from 0 to %(max)d.") % {"max": MAX_NUMBER})
    if number_to is None:
        problems.append(_("to must be a house number from 0 to %(max)d.") % {"max": MAX_NUMBER})
    if number_from is not None and number_to is not None and number_from > number_to:
        problems.append(
            _("from (%(from)d) is greater than to (%(to)d); swap them.")
            % {"from": number_from, "to": number_to}
        )
    parity = _PARITY_WORDS.get(row.get("parity", "").strip().casefold())
    if parity is None:
        problems.append(
            _("parity is %(value)s; write all, even or odd.") % {"value": row.get("parity")}
        )
    technology = row.get("technology", "").strip().casefold() or DEFAULT_TECHNOLOGY
    if not _TECHNOLOGY.match(technology):
        problems.append(
            _("technology must be one short word such as fiber or hfc, not %(value)s.")
            % {"value": row.get("technology")}
        )
    if problems:
        return None, problems
    assert number_from is not None and number_to is not None and parity is not None
    area = _AreaKey(city=city, zone=zone, name=zone or city, technology=technology)
    return (
        _RangeRow(
            line=line,
            area=area,
            street=street,
            key=key,
            number_from=number_from,
            number_to=number_to,
            parity=str(parity),
        ),
        [],
    )


def _csv_rows(content: str) -> list[_RangeRow]:
    lines = content.lstrip("\ufeff").splitlines()
    header_at = next(
        (
            index
            for index, text in enumerate(lines)
            if text.strip() and not text.lstrip().startswith("#")
        ),
        None,
    )
    if header_at is None:
        message = _("The file is empty: write a header line (%(columns)s) and one row per range.")
        raise ValidationFailed(
            message % {"columns": ", ".join(CSV_COLUMNS)}, details={"file": [message]}
        )
    header_line = lines[header_at]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    problems: dict[str, list[str]] = {}
    rows: list[_RangeRow] = []
    columns: list[str] = []
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells) or cells[0].lstrip().startswith("#"):
            continue
        if not columns:
            columns = [cell.strip().casefold() for cell in cells]
            unknown = [column for column in columns if column not in CSV_COLUMNS]
            missing = [column for column in CSV_REQUIRED if column not in columns]
            if unknown or missing:
                message = _(
                    "The header must name the columns %(columns)s (zone, parity and "
                    "technology are optional); unknown: %(unknown)s; missing: %(missing)s."
                ) % {
                    "columns": ", ".join(CSV_COLUMNS),
                    "unknown": ", ".join(unknown) or "-",
                    "missing": ", ".join(missing) or "-",
                }
                raise ValidationFailed(message, details={f"line {line}": [message]})
            continue
        if len(cells) != len(columns):
            problems[f"line {line}"] = [
                _("the row has %(found)d columns and the header %(expected)d.")
                % {"found": len(cells), "expected": len(columns)}
            ]
            continue
        row, row_problems = _csv_row(line, dict(zip(columns, cells, strict=True)))
        if row_problems:
            problems[f"line {line}"] = row_problems
        elif row is not None:
            rows.append(row)
    if problems:
        raise ValidationFailed(
            _("Nothing was imported; fix these lines and import the file again. %(problems)s")
            % {"problems": _listing(problems)},
            details=problems,
        )
    if not rows:
        message = _("The file has a header but no ranges: add one row per street range.")
        raise ValidationFailed(message, details={"file": [message]})
    return rows


def _replace(
    *,
    organization: Organization,
    source: str,
    keys: list[_AreaKey],
    at: datetime,
) -> tuple[dict[_AreaKey, CoverageArea], int]:
    """The file's areas for ``keys`` (kept or created), after removing the others."""
    existing = {
        _AreaKey(area.city, area.zone, area.name, area.technology): area
        for area in CoverageArea.objects.select_for_update().filter(
            organization=organization, source_file=source
        )
    }
    gone = [area.pk for key, area in existing.items() if key not in keys]
    removed = CoverageArea.objects.filter(pk__in=gone).delete()[1].get(CoverageArea._meta.label, 0)
    areas: dict[_AreaKey, CoverageArea] = {}
    for key in keys:
        area = existing.get(key)
        if area is None:
            area = CoverageArea.objects.create(
                organization=organization,
                source_file=source,
                city=key.city,
                zone=key.zone,
                name=key.name,
                technology=key.technology,
                imported_at=at,
            )
        else:
            area.imported_at = at
            area.is_active = True
            area.save(update_fields=["imported_at", "is_active", "updated_at"])
        areas[key] = area
    return areas, removed


def coverage_import_csv(
    *, actor: Actor, content: str, source_file: str, now: datetime | None = None
) -> CoverageImportResult:
    """Import the street ranges of a CSV file into the actor's operator organization."""
    organization = _check_actor(actor)
    source = _source_name(source_file)
    rows = _csv_rows(content)
    keys = list(dict.fromkeys(row.area for row in rows))
    with transaction.atomic():
        areas, removed = _replace(
            organization=organization, source=source, keys=keys, at=now or timezone.now()
        )
        StreetRange.objects.filter(area__in=list(areas.values())).delete()
        StreetRange.objects.bulk_create(
            [
                StreetRange(
                    organization=organization,
                    area=areas[row.area],
                    city=row.area.city,
                    city_key=locality_key(row.area.city),
                    zone=row.area.zone,
                    zone_key=locality_key(row.area.zone),
                    street=row.street,
                    street_key=row.key,
                    number_from=row.number_from,
                    number_to=row.number_to,
                    parity=row.parity,
                    line=row.line,
                )
                for row in rows
            ]
        )
    return CoverageImportResult(
        source_file=source, areas=len(areas), ranges=len(rows), areas_removed=removed
    )


# --- GeoJSON ------------------------------------------------------------------------------


def _text_property(properties: dict[str, Any], name: str) -> str:
    value = properties.get(name)
    return str(value).strip()[:120] if isinstance(value, str | int | float) else ""


def _features(content: str) -> list[tuple[_AreaKey, dict[str, Any]]]:
    try:
        document = json.loads(content)
    except ValueError as error:
        message = _("The file is not valid JSON (%(error)s); export it again as GeoJSON.") % {
            "error": error
        }
        raise ValidationFailed(message, details={"file": [message]}) from error
    if (
        not isinstance(document, dict)
        or document.get("type") != "FeatureCollection"
        or not isinstance(document.get("features"), list)
        or not document["features"]
    ):
        message = _("The file must be a GeoJSON FeatureCollection with at least one feature.")
        raise ValidationFailed(message, details={"file": [message]})
    problems: dict[str, list[str]] = {}
    result: list[tuple[_AreaKey, dict[str, Any]]] = []
    for number, feature in enumerate(document["features"], start=1):
        where = f"feature {number}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems[where] = [_("each item of features must be a Feature object.")]
            continue
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            properties = {}
        zone = _text_property(properties, "zone")
        city = _text_property(properties, "city")
        name = _text_property(properties, "name") or zone
        technology = _text_property(properties, "technology").casefold() or DEFAULT_TECHNOLOGY
        feature_problems: list[str] = []
        if not name:
            feature_problems.append(_("give the feature a name (or zone) property."))
        if not _TECHNOLOGY.match(technology):
            feature_problems.append(_("technology must be one short word such as fiber or hfc."))
        try:
            geometry = geometry_normalize(feature.get("geometry"))
        except InvalidGeometry as error:
            feature_problems.append(_("%(problem)s.") % {"problem": error})
            geometry = {}
        if feature_problems:
            problems[where] = feature_problems
            continue
        result.append((_AreaKey(city=city, zone=zone, name=name, technology=technology), geometry))
    if problems:
        raise ValidationFailed(
            _("Nothing was imported; fix these features and import the file again. %(problems)s")
            % {"problems": _listing(problems)},
            details=problems,
        )
    return result


def coverage_import_geojson(
    *, actor: Actor, content: str, source_file: str, now: datetime | None = None
) -> CoverageImportResult:
    """Import the polygons of a GeoJSON FeatureCollection (properties name/zone/city)."""
    organization = _check_actor(actor)
    source = _source_name(source_file)
    features = _features(content)
    keys = list(dict.fromkeys(key for key, _geometry in features))
    with transaction.atomic():
        areas, removed = _replace(
            organization=organization, source=source, keys=keys, at=now or timezone.now()
        )
        CoveragePolygon.objects.filter(area__in=list(areas.values())).delete()
        polygons = []
        for key, geometry in features:
            box = geometry_bbox(geometry)
            polygons.append(
                CoveragePolygon(
                    organization=organization,
                    area=areas[key],
                    geometry=geometry,
                    min_lon=box.min_lon,
                    min_lat=box.min_lat,
                    max_lon=box.max_lon,
                    max_lat=box.max_lat,
                )
            )
        CoveragePolygon.objects.bulk_create(polygons)
    return CoverageImportResult(
        source_file=source, areas=len(areas), polygons=len(polygons), areas_removed=removed
    )

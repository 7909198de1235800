"""``telcodesk coverage_import``: load an operator's coverage from CSV or GeoJSON files.

    telcodesk coverage_import --organization claro-ar --csv ranges.csv
    telcodesk coverage_import --organization claro-ar --geojson areas.geojson

A file with a bad row changes nothing: every bad line (or feature) is printed with
what to fix, and the command exits with status 1. Importing the same file again
replaces what it brought. Formats: docs/coverage.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from telcodesk.accounts.models import Organization
from telcodesk.accounts.roles import Role
from telcodesk.core.errors import DomainError
from telcodesk.core.tenancy import Actor
from telcodesk.coverage.imports import (
    CoverageImportResult,
    coverage_import_csv,
    coverage_import_geojson,
)


class Command(BaseCommand):
    help = "Import coverage areas of an operator: street ranges (CSV) or polygons (GeoJSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", required=True, help="slug of the operator")
        parser.add_argument("--csv", dest="csv_file", default="", help="street ranges (CSV)")
        parser.add_argument("--geojson", dest="geojson_file", default="", help="polygons")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["organization"]
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(
                _("No organization with slug %(slug)s. Known organizations: %(known)s.")
                % {
                    "slug": slug,
                    "known": ", ".join(
                        Organization.objects.order_by("slug").values_list("slug", flat=True)
                    )
                    or "-",
                }
            )
        files = [
            (kind, path)
            for kind, path in (("csv", options["csv_file"]), ("geojson", options["geojson_file"]))
            if path
        ]
        if not files:
            raise CommandError(_("Give a file to import: --csv FILE and/or --geojson FILE."))
        actor = Actor(organization=organization, role=Role.ADMIN, label="coverage_import")
        failed = False
        for kind, path in files:
            failed |= not self._import(actor, kind, Path(path))
        if failed:
            raise SystemExit(1)

    def _import(self, actor: Actor, kind: str, path: Path) -> bool:
        try:
            content = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            self.stderr.write(
                _("%(file)s could not be read (%(error)s); save it as UTF-8 text.")
                % {"file": path, "error": error}
            )
            return False
        importer = coverage_import_csv if kind == "csv" else coverage_import_geojson
        try:
            result = importer(actor=actor, content=content, source_file=path.name)
        except DomainError as error:
            self.stderr.write(_("%(file)s: nothing was imported.") % {"file": path})
            if error.details:
                for where, messages in error.details.items():
                    self.stderr.write(f"  {where}: {' '.join(str(m) for m in messages)}")
            else:
                self.stderr.write(f"  {error.message}")
            return False
        self.stdout.write(self._summary(path, result))
        return True

    @staticmethod
    def _summary(path: Path, result: CoverageImportResult) -> str:
        return _(
            "%(file)s: %(areas)d areas, %(ranges)d street ranges, %(polygons)d polygons "
            "(%(removed)d areas no longer in the file removed)."
        ) % {
            "file": path,
            "areas": result.areas,
            "ranges": result.ranges,
            "polygons": result.polygons,
            "removed": result.areas_removed,
        }

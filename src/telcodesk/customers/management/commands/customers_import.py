"""``telcodesk customers_import``: load an operator's customers from a CSV file.

    telcodesk customers_import customers.csv --org comteco --dry-run
    telcodesk customers_import customers.csv --org comteco --as maria

Prints one line per refused or skipped row, then the totals, in the language of the
``--as`` user (else the organization's default language). Exits with status 1 when a
row was refused. The file format is in docs/import.md.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from telcodesk.accounts.models import Membership, Organization
from telcodesk.accounts.roles import Role
from telcodesk.core.errors import DomainError
from telcodesk.core.tenancy import Actor
from telcodesk.customers.imports import ImportReport, customers_import_csv


def _organization(slug: str) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        known = ", ".join(Organization.objects.order_by("slug").values_list("slug", flat=True))
        raise CommandError(
            _("No organization with slug %(slug)s. Known organizations: %(known)s.")
            % {"slug": slug, "known": known or "-"}
        )
    return organization


def _actor(organization: Organization, username: str) -> Actor:
    if not username:
        # The operator's own administrator at the command line.
        return Actor(organization=organization, role=Role.ADMIN, label="import")
    membership = (
        Membership.objects.select_related("user")
        .filter(organization=organization, user__username=username, user__is_active=True)
        .first()
    )
    if membership is None:
        raise CommandError(
            _("%(username)s is not an active member of %(organization)s: choose one who is.")
            % {"username": username, "organization": organization.slug}
        )
    return Actor(organization=organization, role=membership.role, user=membership.user)


class Command(BaseCommand):
    help = "Import customers, and optionally their services, from a CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV file (UTF-8, comma or semicolon separated)")
        parser.add_argument("--org", required=True, help="slug of the organization")
        parser.add_argument(
            "--as",
            dest="username",
            default="",
            help="import as this member of the organization (with their role); "
            "default: an administrator labelled 'import'",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check every row and report, then roll everything back",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = _organization(options["org"])
        actor = _actor(organization, options["username"])
        language = (actor.user.language if actor.user else "") or organization.default_language
        with translation.override(language):
            report = self._import(actor, options["file"], dry_run=options["dry_run"])
            self._print(report)
            if report.failed:
                raise CommandError(
                    _(
                        "Rows refused: %(failed)d. Fix them and import the file again; rows "
                        "already imported are then skipped if they have a document or a "
                        "billing system id."
                    )
                    % {"failed": report.failed},
                    returncode=1,
                )

    def _import(self, actor: Actor, path: str, *, dry_run: bool) -> ImportReport:
        try:
            # utf-8 (not utf-8-sig): the import itself drops a byte order mark.
            with open(path, encoding="utf-8", newline="") as stream:
                return customers_import_csv(actor=actor, stream=stream, dry_run=dry_run)
        except OSError as error:
            raise CommandError(
                _("Cannot read %(file)s: %(reason)s.")
                % {"file": path, "reason": error.strerror or error}
            ) from None
        except DomainError as error:
            raise CommandError(error.message) from None

    def _print(self, report: ImportReport) -> None:
        for problem in report.problems:
            params = {
                "line": problem.line,
                "field": problem.field or "-",
                "message": " ".join(problem.messages),
            }
            if problem.skipped:
                text = _("Line %(line)d, %(field)s (skipped): %(message)s") % params
            else:
                text = _("Line %(line)d, %(field)s: %(message)s") % params
            self.stdout.write(text)
        totals = {"created": report.created, "skipped": report.skipped, "failed": report.failed}
        if report.dry_run:
            self.stdout.write(
                _(
                    "Dry run, nothing was saved. Would be created: %(created)d. Skipped: "
                    "%(skipped)d. Refused: %(failed)d."
                )
                % totals
            )
        else:
            self.stdout.write(
                _("Created: %(created)d. Skipped: %(skipped)d. Refused: %(failed)d.") % totals
            )

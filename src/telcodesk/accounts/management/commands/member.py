"""``telcodesk member``: add people to an organization and list them.

telcodesk member add --org comteco --username maria --role supervisor [--team Ventas]
telcodesk member list --org comteco
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from telcodesk.accounts.models import Membership, Organization
from telcodesk.accounts.roles import PERSON_ROLES
from telcodesk.accounts.services import member_add
from telcodesk.core.errors import ValidationFailed


class Command(BaseCommand):
    help = "Add a person to an organization with a role, or list its members."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="create or update a membership")
        add.add_argument("--org", required=True, help="organization slug")
        add.add_argument("--username", required=True)
        add.add_argument("--role", required=True, choices=PERSON_ROLES)
        add.add_argument("--team", default="")
        add.add_argument("--first-name", default="")
        add.add_argument("--last-name", default="")
        add.add_argument("--email", default="")
        add.add_argument("--language", default="", choices=["", "es", "pt-br", "en"])
        add.add_argument(
            "--password",
            default=None,
            help="omit to generate one for a new user (printed once)",
        )
        listing = actions.add_parser("list", help="the organization's members")
        listing.add_argument("--org", required=True)

    def _organization(self, slug: str) -> Organization:
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            known = ", ".join(Organization.objects.values_list("slug", flat=True)) or "-"
            raise CommandError(f"No organization {slug!r}. Known: {known}.")
        return organization

    def handle(self, *args: Any, **options: Any) -> None:
        organization = self._organization(options["org"])
        if options["action"] == "list":
            rows = Membership.objects.filter(organization=organization).select_related(
                "user", "team"
            )
            for membership in rows.order_by("user__username"):
                team = membership.team.name if membership.team else "-"
                self.stdout.write(f"{membership.user.username:30} {membership.role:12} {team}")
            return
        try:
            membership, generated = member_add(
                organization=organization,
                username=options["username"],
                role=options["role"],
                password=options["password"],
                first_name=options["first_name"],
                last_name=options["last_name"],
                email=options["email"],
                team_name=options["team"],
                language=options["language"],
            )
        except ValidationFailed as exc:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in exc.details.items()
            )
            raise CommandError(f"{exc.message} {problems}") from None
        self.stdout.write(
            f"{membership.user.username} is {membership.role} in {organization.slug}."
        )
        if generated:
            self.stdout.write(f"Password (shown once): {generated}")

"""``telcodesk apikey``: create, list and revoke an organization's API keys.

    telcodesk apikey create --org comteco --name "billing sync" --role back_office
    telcodesk apikey list --org comteco
    telcodesk apikey revoke AbCd1234

The secret is printed once, at creation; only its SHA-256 is stored. Give it to the
client as ``Authorization: Bearer tdk_...`` (or ``X-API-Key: tdk_...``).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from telcodesk.accounts.models import ApiKey, Organization
from telcodesk.accounts.roles import Role
from telcodesk.accounts.services import api_key_create, api_key_revoke
from telcodesk.core.errors import NotFound
from telcodesk.core.tenancy import Actor


def _organization(slug: str) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        known = ", ".join(Organization.objects.values_list("slug", flat=True)[:20]) or "none"
        raise CommandError(f"No organization with slug {slug!r} (known: {known}).")
    return organization


class Command(BaseCommand):
    help = "Create, list or revoke API keys of an organization."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a key and print its secret once")
        create.add_argument("--org", required=True, help="organization slug")
        create.add_argument("--name", required=True, help="what the key is for")
        create.add_argument("--role", default=Role.AGENT, choices=Role.values)
        listing = actions.add_parser("list", help="list the keys of an organization")
        listing.add_argument("--org", required=True, help="organization slug")
        revoke = actions.add_parser("revoke", help="revoke a key by its prefix")
        revoke.add_argument(
            "prefix",
            help="the 8 characters after tdk_ (shown by list); write tdk_PREFIX when it "
            "starts with '-'",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(org=options["org"], name=options["name"], role=options["role"])
        elif action == "list":
            self._list(org=options["org"])
        else:
            self._revoke(prefix=options["prefix"])

    def _create(self, *, org: str, name: str, role: str) -> None:
        name = " ".join(name.split())
        if not name or len(name) > ApiKey._meta.get_field("name").max_length:  # type: ignore[operator]
            raise CommandError("--name must be 1 to 120 characters.")
        organization = _organization(org)
        # The command line is the operator's own administrator at work.
        actor = Actor(organization=organization, role=Role.ADMIN, label="cli")
        key, secret = api_key_create(actor=actor, name=name, role=role)
        self.stderr.write(
            f"API key {key.prefix} ({name}, role {role}) created for {organization.slug}. "
            "This is the only time the secret is shown; store it now:"
        )
        self.stdout.write(secret)

    def _list(self, *, org: str) -> None:
        organization = _organization(org)
        keys = ApiKey.objects.filter(organization=organization).order_by("created_at", "id")
        for key in keys:
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            self.stdout.write(f"{key.prefix}\t{key.role}\t{state}\tlast used {used}\t{key.name}")
        if not keys:
            self.stderr.write(f"{organization.slug} has no API keys.")

    def _revoke(self, *, prefix: str) -> None:
        try:
            key = api_key_revoke(prefix=prefix)
        except NotFound as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"API key {key.prefix} revoked.")

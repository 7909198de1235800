"""``telcodesk demo``: a working telcodesk with every operator and realistic customers.

Migrates, loads every bundled operator pack, generates customers for each operator
organization (skipping those that already have customers, unless ``--reset``), hands
part of the operators' portfolios to their resellers, creates one user per role in
every organization and prints the logins. ``--serve`` then starts the web server.
Running it again changes nothing that is already there.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from telcodesk.accounts.models import Membership, Organization, Team, User
from telcodesk.accounts.roles import PERSON_ROLES
from telcodesk.core.errors import DomainError
from telcodesk.coverage.demo import coverage_demo_load
from telcodesk.customers.demo_data import COUNTRIES, assign_to_reseller, generate_customers
from telcodesk.customers.models import Customer
from telcodesk.packs.loader import available_packs, pack_load

DEMO_PASSWORD = "telcodesk-demo"  # noqa: S105 - documented demo password
DEMO_SEED = 2024
DEMO_TEAM = "Demo"
# Which share of its operators' customers each reseller works, and of which services.
# Bluecom calls COMTECO's fixed-line-only customers to sell them internet and TV.
RESELLER_PORTFOLIOS: dict[str, tuple[float, str | None]] = {"bluecom": (0.5, "fixed_line")}
DEFAULT_PORTFOLIO: tuple[float, str | None] = (0.25, None)


def demo_username(organization: Organization, role: str) -> str:
    return f"{organization.slug}-{role.replace('_', '-')}"


class Command(BaseCommand):
    help = "Set up a demo: migrate, load all operator packs, demo customers and logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers",
            type=int,
            default=5000,
            help="customers to generate, split across the operators (default 5000)",
        )
        parser.add_argument("--seed", type=int, default=DEMO_SEED)
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete the operators' customers first and generate them again",
        )
        parser.add_argument("--serve", action="store_true", help="start the server afterwards")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        total: int = options["customers"]
        if total < 0:
            self.stderr.write("--customers must be 0 or more")
            raise SystemExit(2)
        self.stdout.write("Migrating the database...")
        call_command("migrate", interactive=False, verbosity=0)
        self._load_packs()
        self.stdout.write(f"  claro-ar: {coverage_demo_load()} demo coverage ranges and polygons")
        operators = list(
            Organization.objects.filter(
                kind=Organization.Kind.OPERATOR, country__in=list(COUNTRIES)
            ).order_by("slug")
        )
        self._generate(operators, total, seed=options["seed"], reset=options["reset"])
        self._assign(seed=options["seed"])
        logins = self._users()
        self._leads(seed=options["seed"])
        self._sandbox_channels(host=options["host"], port=options["port"])
        self._print_logins(logins, host=options["host"], port=options["port"])
        if options["serve"]:
            call_command("serve", host=options["host"], port=options["port"])

    def _load_packs(self) -> None:
        for info in available_packs():
            if info.problem:
                self.stderr.write(f"  pack {info.name} skipped: {info.problem}")
                continue
            try:
                result = pack_load(info.name)
            except DomainError as error:
                self.stderr.write(f"  pack {info.name} not loaded: {error}")
                continue
            state = "loaded" if result.changed else "already loaded"
            self.stdout.write(f"  pack {info.name} {result.version}: {state}")

    def _generate(
        self, operators: list[Organization], total: int, *, seed: int, reset: bool
    ) -> None:
        if not operators:
            return
        share, extra = divmod(total, len(operators))
        for position, operator in enumerate(operators):
            count = share + (1 if position < extra else 0)
            existing = Customer.objects.filter(organization=operator)
            if existing.exists():
                if not reset:
                    self.stdout.write(
                        f"  {operator.slug}: {existing.count()} customers already, skipped "
                        "(--reset to generate again)"
                    )
                    continue
                with transaction.atomic():
                    existing.delete()
            if count == 0:
                continue
            started = time.monotonic()

            def report(done: int, slug: str = operator.slug, goal: int = count) -> None:
                if goal >= 20_000:
                    self.stdout.write(f"    {slug}: {done}/{goal}")

            generate_customers(
                organization=operator,
                count=count,
                seed=seed,
                batch_size=5000,
                progress=report,
            )
            elapsed = time.monotonic() - started
            self.stdout.write(f"  {operator.slug}: {count} customers in {elapsed:.1f} s")

    def _assign(self, *, seed: int) -> None:
        for reseller in Organization.objects.filter(kind=Organization.Kind.RESELLER):
            fraction, service_type = RESELLER_PORTFOLIOS.get(reseller.slug, DEFAULT_PORTFOLIO)
            for operator in reseller.operators.all():
                created = assign_to_reseller(
                    operator=operator,
                    reseller=reseller,
                    fraction=fraction,
                    seed=seed,
                    only_service_type=service_type,
                )
                if created:
                    self.stdout.write(
                        f"  {reseller.slug}: {created} customers of {operator.slug} assigned"
                    )

    def _leads(self, *, seed: int, per_organization: int = 120) -> None:
        """Sample leads in every organization whose pack has pipelines (once)."""
        from telcodesk.pipelines.demo import demo_leads_generate
        from telcodesk.pipelines.models import Lead, Pipeline

        org_ids = Pipeline.objects.values_list("organization_id", flat=True).distinct()
        for organization in Organization.objects.filter(pk__in=org_ids).order_by("slug"):
            if Lead.objects.filter(organization=organization).exists():
                continue
            created = demo_leads_generate(
                organization=organization, count=per_organization, seed=seed
            )
            self.stdout.write(f"  {organization.slug}: {created} sample leads")

    def _sandbox_channels(self, *, host: str, port: int) -> None:
        """A WhatsApp channel per organization, wired to the local sandbox (idempotent).

        The real WhatsApp Cloud client talks to the sandbox over HTTP; the phone
        simulator plays the customer.
        """
        import secrets

        from django.conf import settings

        from telcodesk.messaging.models import Channel

        if not settings.SANDBOX_ENABLED:
            return
        base = f"http://{host}:{port}/messaging/sandbox/graph"
        for index, organization in enumerate(Organization.objects.order_by("slug"), start=1):
            channel, created = Channel.objects.get_or_create(
                organization=organization,
                phone_number_id=f"sandbox-{organization.slug}",
                defaults={
                    "name": f"WhatsApp {organization.display_name} (sandbox)",
                    "display_phone": f"+1 555 010 {index:04d}",
                    "app_secret": secrets.token_hex(16),
                    "access_token": "sandbox-" + secrets.token_hex(16),
                    "api_base_url": base,
                },
            )
            if not created and channel.api_base_url != base:
                # The demo served on another host or port than the last time: follow it.
                channel.api_base_url = base
                channel.save(update_fields=["api_base_url", "updated_at"])
            if created:
                self.stdout.write(
                    f"  {organization.slug}: WhatsApp sandbox channel; phone simulator at "
                    f"http://{host}:{port}/messaging/sandbox/phone/{channel.pk}/"
                )
            # The sandbox has no template review: the pack's templates are approved here
            # (a real account gets Meta's verdict by webhook).
            from telcodesk.messaging.pack_sync import pack_templates_mark_approved_for_sandbox

            pack_templates_mark_approved_for_sandbox(organization)
        from telcodesk.mailsandbox.demo import mail_sandbox_channels

        mail_sandbox_channels(host=host, port=port, write=self.stdout.write)
        from telcodesk.messaging.sms_demo import sms_sandbox_channels

        sms_sandbox_channels(host=host, port=port, write=self.stdout.write)
        from telcodesk.network.demo.serve import demo_network_for_demo

        demo_network_for_demo(self.stdout.write)

    def _users(self) -> list[tuple[str, str, str, str]]:
        logins: list[tuple[str, str, str, str]] = []
        for organization in Organization.objects.order_by("kind", "slug"):
            team, _created = Team.objects.get_or_create(organization=organization, name=DEMO_TEAM)
            for role in PERSON_ROLES:
                username = demo_username(organization, role)
                user = User.objects.filter(username=username).first()
                if user is None:
                    user = User(
                        username=username,
                        first_name=str(role.label),
                        last_name=organization.display_name,
                        language=organization.default_language,
                        time_zone=organization.time_zone,
                        active_organization=organization,
                    )
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                Membership.objects.get_or_create(
                    user=user, organization=organization, defaults={"role": role, "team": team}
                )
                logins.append((username, organization.name, str(role.label), user.language))
        return logins

    def _print_logins(
        self, logins: list[tuple[str, str, str, str]], *, host: str, port: int
    ) -> None:
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        width = max(len(row[0]) for row in logins) if logins else 10
        org_width = max(len(row[1]) for row in logins) if logins else 10
        self.stdout.write(f"  {'username':<{width}}  {'organization':<{org_width}}  role")
        for username, organization, role, language in logins:
            self.stdout.write(
                f"  {username:<{width}}  {organization:<{org_width}}  {role} ({language})"
            )
        self.stdout.write("")
        self.stdout.write(f"Open http://{host}:{port}/ and sign in with one of them.")

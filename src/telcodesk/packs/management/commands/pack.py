"""``telcodesk pack load|list|check``: operator packs from the command line."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from telcodesk.core.errors import DomainError
from telcodesk.packs.loader import (
    PackLoadResult,
    available_packs,
    pack_load,
    pack_parse,
)


class Command(BaseCommand):
    help = "Load, list and check operator packs (src/telcodesk/packs/<name>.yaml)."
    # Like loaddata: reading and loading packs does not depend on URLs or templates.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = actions.add_parser("load", help="Load a bundled pack by name, or a pack file.")
        load.add_argument("packs", nargs="*", metavar="NAME_OR_PATH")
        load.add_argument("--all", action="store_true", help="Load every bundled pack.")
        load.add_argument(
            "--force", action="store_true", help="Load even an older or re-edited version."
        )
        actions.add_parser("list", help="Bundled packs and the version loaded of each.")
        check = actions.add_parser("check", help="Validate a pack file without loading it.")
        check.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "check":  # needs no database
            self._check(Path(options["file"]))
            return
        try:
            if action == "list":
                self._list()
            else:
                self._load(options["packs"], load_all=options["all"], force=options["force"])
        except DatabaseError as exc:
            if "packs_loadedpack" not in str(exc) and "accounts_organization" not in str(exc):
                raise
            raise CommandError(
                _("The database is not set up yet: run `telcodesk migrate` first.")
            ) from None

    def _list(self) -> None:
        infos = available_packs()
        width = max((len(info.name) for info in infos), default=4)
        self.stdout.write(f"{'NAME':<{width}}  {'VERSION':<8}  {'LOADED':<8}  TITLE")
        for info in infos:
            loaded = info.loaded_version or "-"
            if info.problem:
                self.stdout.write(f"{info.name:<{width}}  {'?':<8}  {loaded:<8}  {info.problem}")
            else:
                self.stdout.write(
                    f"{info.name:<{width}}  {info.version:<8}  {loaded:<8}  {info.title}"
                )

    def _check(self, path: Path) -> None:
        try:
            pack = pack_parse(path)
        except DomainError as error:  # PackInvalid's message lists every bad path
            raise CommandError(error.message, returncode=1) from error
        self.stdout.write(f"OK {pack.name} {pack.version}")

    def _load(self, packs: list[str], *, load_all: bool, force: bool) -> None:
        if load_all:
            if packs:
                raise CommandError(_("Give pack names or --all, not both."), returncode=2)
            packs = [info.name for info in available_packs()]
        if not packs:
            raise CommandError(_("Name a pack to load, or use --all."), returncode=2)
        try:
            # All or nothing: with several packs, one refusal loads none of them.
            with transaction.atomic():
                results = [pack_load(pack, force=force) for pack in packs]
        except DomainError as error:
            raise CommandError(error.message, returncode=1) from error
        for result in results:
            self.stdout.write(self._describe(result))

    @staticmethod
    def _describe(result: PackLoadResult) -> str:
        if not result.changed:
            return _("%(name)s %(version)s: already loaded, nothing changed") % {
                "name": result.name,
                "version": result.version,
            }
        return _(
            "Loaded %(name)s %(version)s: %(created)d created, %(updated)d updated, "
            "%(unchanged)d unchanged, %(deactivated)d plans deactivated"
        ) % {
            "name": result.name,
            "version": result.version,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "deactivated": result.deactivated,
        }

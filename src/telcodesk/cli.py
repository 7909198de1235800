"""The ``telcodesk`` command.

``telcodesk <django command> ...`` runs any management command (``migrate``, ``pack``,
``demo``, ``serve``, ``openapi``, ...); ``telcodesk manage ...`` is the same, spelled
out; ``telcodesk worker`` and ``telcodesk beat`` run Celery against
TELCODESK_BROKER_URL.
"""

from __future__ import annotations

import os
import sys


def _celery(args: list[str]) -> None:
    from django.conf import settings

    if not settings.BROKER_URL:
        sys.stderr.write(
            "TELCODESK_BROKER_URL is not set: tasks already run in-process.\n"
            "Set it (e.g. redis://127.0.0.1:6379/0) to run a separate worker or beat.\n"
        )
        raise SystemExit(2)
    from telcodesk.celery import app

    app.start(args)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telcodesk.settings")
    import django

    django.setup()
    command = argv[1] if len(argv) > 1 else "help"
    if command == "worker":
        _celery(["worker", "--loglevel=INFO", *argv[2:]])
        return
    if command == "beat":
        _celery(["beat", "--loglevel=INFO", *argv[2:]])
        return
    if command == "manage":
        argv = [argv[0], *argv[2:]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(["telcodesk", *argv[1:]])


if __name__ == "__main__":
    main()

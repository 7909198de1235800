"""``telcodesk serve``: the web server for the embedded mode and the demo.

A threaded WSGI server from Django itself (no reloader, no extra dependency); static
files come from WhiteNoise with finders, so no collectstatic is needed. Behind a real
load balancer, run the WSGI application (``telcodesk.wsgi``) under any WSGI server.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.core.servers.basehttp import WSGIServer, get_internal_wsgi_application, run


class Command(BaseCommand):
    help = "Serve telcodesk over HTTP (threaded, for the embedded mode and the demo)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on")

    def handle(self, *args: Any, **options: Any) -> None:
        host: str = options["host"]
        port: int = options["port"]
        shown = f"[{host}]" if ":" in host else host
        self.stdout.write(f"telcodesk at http://{shown}:{port}/ (Ctrl+C to stop)")
        self.stdout.flush()
        application = get_internal_wsgi_application()
        ticker = None
        if not settings.BROKER_URL:
            # Embedded mode: no beat, no workers; due timers are fired by a thread here.
            from telcodesk.automation.ticker import start_embedded_ticker

            ticker = start_embedded_ticker()
        from telcodesk.mailsandbox.smtp import start_mail_sandbox_for_serve

        mail_sandbox = start_mail_sandbox_for_serve(self.stdout.write)  # None when disabled
        from telcodesk.network.demo.serve import start_demo_olt_for_serve

        demo_olt = start_demo_olt_for_serve(self.stdout.write)  # None when disabled
        try:
            run(host, port, application, ipv6=":" in host, threading=True, server_cls=WSGIServer)
        except KeyboardInterrupt:
            self.stdout.write("stopped")
        finally:
            if ticker is not None:
                ticker.stop()
            if mail_sandbox is not None:
                mail_sandbox.stop()
            if demo_olt is not None:
                demo_olt.stop()

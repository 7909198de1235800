"""The Celery application.

With TELCODESK_BROKER_URL unset, tasks run eagerly in-process (after commit, since
every caller enqueues with transaction.on_commit). With a broker, ``telcodesk worker``
and ``telcodesk beat`` run the same task functions.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telcodesk.settings")

app = Celery("telcodesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

"""Client side of tests/app/celery.test.ts, run by Debian's /usr/bin/python3 from app/backend.

Sends one task per queue through the app's own Celery config (fin.celery), waits
for each result, runs kombu's unacked-restore transaction once (the WATCH path
that needs the tenant prefix under a Redis ACL), and prints one JSON object.
"""
import json
import os
import sys

sys.path.insert(0, os.getcwd())  # run with cwd=app/backend: import the app from there
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fin.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from fin.celery import app  # noqa: E402

out = {
    "broker_transport_options": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "result_backend_transport_options": settings.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS,
    "task_keyprefix": app.backend.task_keyprefix.decode(),
    "results": {},
}
sent = {q: app.send_task("fin.tasks.%s" % q) for q in settings.STOCK_QUEUES}
for queue, result in sent.items():
    out["results"][queue] = result.get(timeout=float(sys.argv[1]) if len(sys.argv) > 1 else 10)

with app.connection_for_write() as conn:
    conn.default_channel.qos.restore_by_tag("no-such-delivery-tag")
out["restore_by_tag"] = "ok"

print(json.dumps(out))

"""Celery app `fin.celery` (worker: `celery -A fin.celery worker -Q ...`).

Configuration comes from Django settings (CELERY_* names). A worker bootstep
keeps a heartbeat file fresh for the Kubernetes liveness probe.
"""
import logging
import os
from pathlib import Path

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fin.settings")

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_SECONDS = 5.0



def _prefix_watch_keys():
    """Make kombu prefix WATCH keys with global_keyprefix (kombu < 5.3).

    kombu 5.2 prefixes the unacked bookkeeping keys in HSET/HGET/ZADD/... but
    not in the WATCH of its restore transaction, so the optimistic lock
    watched a key nobody writes (or, without the unacked_* options, one
    outside the tenant's `~PREFIX*` ACL: NOPERM). kombu 5.3 has exactly this
    entry (kombu PR #1572); on it this is a no-op.
    """
    try:
        from kombu.transport.redis import GlobalKeyPrefixMixin
    except ImportError:  # pragma: no cover - kombu without global_keyprefix
        return
    GlobalKeyPrefixMixin.PREFIXED_COMPLEX_COMMANDS.setdefault(
        "WATCH", {"args_start": 0, "args_end": None}
    )


_prefix_watch_keys()

app = Celery("fin", include=["fin.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")


class HeartbeatFile(bootsteps.StartStopStep):
    """Touch CELERY_HEARTBEAT_FILE every few seconds while the worker runs.

    The chart's liveness probe fails when the file is missing or stale. The
    file is removed when the worker stops.
    """

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        from django.conf import settings

        self.path = Path(settings.CELERY_HEARTBEAT_FILE)
        self.tref = None

    def start(self, worker):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.beat()
        self.tref = worker.timer.call_repeatedly(HEARTBEAT_INTERVAL_SECONDS, self.beat)
        log.info("heartbeat file %s (every %ss)", self.path, HEARTBEAT_INTERVAL_SECONDS)

    def beat(self):
        try:
            self.path.touch()
        except OSError as exc:  # never kill the worker over the heartbeat
            log.warning("heartbeat: cannot touch %s: %s", self.path, exc)

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    shutdown = stop


app.steps["worker"].add(HeartbeatFile)

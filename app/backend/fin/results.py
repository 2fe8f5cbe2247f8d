"""Redis result backend that honours `global_keyprefix` on every Celery version.

Celery >= 5.3 prepends result_backend_transport_options["global_keyprefix"]
to the result keys (and so to the pub/sub channels, which are named after the
keys) by itself; Celery 5.2 ignores the option. This subclass applies it when
the base class does not, with the same naming rule as current Celery (a "_" is
added unless the prefix already ends in one of ":_-."), so a tenant's result
keys are `client-a:celery-task-meta-<id>` either way.

It also does not subscribe to a task's result channel when the task is sent
(Celery's on_task_call). The API sends tasks and never waits for them: that
subscription only grew a set of channels in every gunicorn worker and, with
Redis down, retried for ~20 s inside the request. AsyncResult.get() still
subscribes when it starts waiting, then reads the stored result once, so a
result published in between is not missed.
"""
from celery.backends.base import BaseKeyValueStoreBackend
from celery.backends.redis import RedisBackend

_NATIVE = hasattr(BaseKeyValueStoreBackend, "_add_global_keyprefix")


def _separated(prefix):
    return prefix if prefix[-1] in ":_-." else prefix + "_"


class PrefixedRedisBackend(RedisBackend):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if _NATIVE:
            return
        options = self.app.conf.get("result_backend_transport_options") or {}
        prefix = options.get("global_keyprefix")
        if prefix:
            head = self.key_t(_separated(prefix))
            self.task_keyprefix = head + self.task_keyprefix
            self.group_keyprefix = head + self.group_keyprefix
            self.chord_keyprefix = head + self.chord_keyprefix

    def on_task_call(self, producer, task_id):
        """Subscribe lazily, in AsyncResult.get(), not on every send."""

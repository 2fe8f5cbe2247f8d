"""Tiny Celery app for tests/security/redis-isolation.test.ts.

One process of this module == one tenant; everything tenant specific comes
from the environment, the way the real app gets it from its Secret/ConfigMap:

  STOCK_TENANT             tenant name, e.g. "client-a" (= Redis ACL user)
  STOCK_BROKER_URL         redis://client-a:<pwd>@127.0.0.1:<port>/0
  STOCK_TRANSPORT_OPTIONS  JSON of the kombu broker transport options, as
                           computed by kombuTransportOptions() in
                           components/redis/acl.ts ({} = seed behaviour)

Result keys: Celery 5.2's Redis result backend has no key-prefix option, so
PrefixedRedisBackend puts "celery-task-meta-*" keys (and the pub/sub channels
of the same name) under the same prefix as kombu's global_keyprefix.

Usage:
  python3 -m celery -A celery_tenant_tasks worker ...   (a worker)
  python3 celery_tenant_tasks.py send <count> <q1,q2> <timeout_s>
  python3 celery_tenant_tasks.py ping <timeout_s>
  python3 celery_tenant_tasks.py restore <queue>
"""

import json
import os
import sys

from celery import Celery
from celery.backends.redis import RedisBackend

TENANT = os.environ["STOCK_TENANT"]
BROKER_URL = os.environ["STOCK_BROKER_URL"]
TRANSPORT_OPTIONS = json.loads(os.environ.get("STOCK_TRANSPORT_OPTIONS", "{}"))
PREFIX = TRANSPORT_OPTIONS.get("global_keyprefix", "")


class PrefixedRedisBackend(RedisBackend):
    """Redis result backend whose keys and channels start with PREFIX."""

    task_keyprefix = PREFIX + "celery-task-meta-"
    group_keyprefix = PREFIX + "celery-taskset-meta-"
    chord_keyprefix = PREFIX + "chord-unlock-"


app = Celery(
    "celery_tenant_tasks",
    broker=BROKER_URL,
    # "<module>:<class>+<url>" makes Celery use the subclass for this URL.
    backend="celery_tenant_tasks:PrefixedRedisBackend+" + BROKER_URL,
)
app.conf.update(
    broker_transport_options=TRANSPORT_OPTIONS,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_default_queue="price",
    result_expires=600,
    worker_hijack_root_logger=False,
    broker_connection_max_retries=1,
)


@app.task(name="stock.whoami", bind=True)
def whoami(self, sent_by, seq):
    """Report who ran the task, so the test can spot any crossover."""
    return {
        "sent_by": sent_by,
        "seq": seq,
        "worker_tenant": TENANT,
        "hostname": self.request.hostname,
        "queue": (self.request.delivery_info or {}).get("routing_key"),
    }


def send(count, queues, timeout):
    """Send `count` tasks round-robin over `queues`; wait for all results."""
    pending = [
        whoami.apply_async(args=(TENANT, i), queue=queues[i % len(queues)])
        for i in range(count)
    ]
    return [r.get(timeout=timeout, propagate=True) for r in pending]


def ping(timeout):
    """Broadcast a control ping (pidbox) and return the hostnames that answer."""
    replies = app.control.ping(timeout=timeout)
    return sorted(name for reply in replies for name in reply)


def restore(queue):
    """Exercise kombu's unacked-message restore path under the ACL.

    Puts 3 messages on `queue`, takes 2 without acking them (they go to the
    unacked hash), then runs both restore paths a worker uses (visibility
    timeout restore and restore-on-close). Reports errors and how many
    messages are back on the queue.
    """
    from kombu import Connection

    options = dict(TRANSPORT_OPTIONS, visibility_timeout=0)
    report = {}
    with Connection(BROKER_URL, transport_options=options) as conn:
        q = conn.SimpleQueue(queue)
        for i in range(3):
            q.put({"i": i})
        q.get(timeout=5)
        q.get(timeout=5)
        qos = q.channel.qos
        for name, fn in (("restore_visible", lambda: qos.restore_visible(num=10)),
                         ("restore_unacked", qos.restore_unacked)):
            try:
                fn()
                report[name] = "ok"
            except Exception as exc:  # reported to the test, not hidden
                report[name] = "%s: %s" % (type(exc).__name__, exc)
        # Not q.qsize(): its passive queue_declare sends EXISTS, which kombu
        # 5.2.4 does not prefix (NOPERM under the ACL). _size() uses LLEN.
        report["queue_len_after"] = q.channel._size(queue)
        q.clear()
        q.close()
    return report


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "send":
        print(json.dumps(send(int(sys.argv[2]), sys.argv[3].split(","), float(sys.argv[4]))))
    elif len(sys.argv) == 3 and sys.argv[1] == "ping":
        print(json.dumps(ping(float(sys.argv[2]))))
    elif len(sys.argv) == 3 and sys.argv[1] == "restore":
        print(json.dumps(restore(sys.argv[2])))
    else:
        sys.exit(__doc__)

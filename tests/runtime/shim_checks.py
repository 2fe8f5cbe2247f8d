"""Checks of runtime/python run by tests/runtime/shim.test.ts, each in a fresh interpreter that loaded
the shim through sitecustomize (PYTHONPATH) and so sees kombu exactly as an app would.

  python3 shim_checks.py restore <broker_url>      unacked restore (WATCH) and passive declare (EXISTS)
  python3 shim_checks.py app-prefix <broker_url>   the app's own global_keyprefix is replaced
  python3 shim_checks.py layout <broker_url>       a kombu without the known layout opens no channel
  python3 shim_checks.py results <broker_url>      a Redis result backend: store, read, wait (pub/sub)

Each prints one JSON line with what happened; the test decides.
"""

import json
import sys

from kombu import Connection


def describe(exc):
    return "%s: %s" % (type(exc).__name__, exc)


def restore(url):
    report = {}
    with Connection(url, transport_options={"visibility_timeout": 0}) as conn:
        q = conn.SimpleQueue("price")
        for i in range(3):
            q.put({"i": i})
        q.get(timeout=5)
        q.get(timeout=5)  # two unacked messages now sit in the unacked hash
        qos = q.channel.qos
        for name, fn in (("restore_visible", lambda: qos.restore_visible(num=10)),
                         ("restore_unacked", qos.restore_unacked)):
            try:
                fn()
                report[name] = "ok"
            except Exception as exc:
                report[name] = describe(exc)
        try:
            report["qsize"] = q.qsize()  # queue_declare(passive=True): EXISTS, then LLEN
        except Exception as exc:
            report["qsize"] = describe(exc)
        q.clear()
        q.close()
    return report


def app_prefix(url):
    with Connection(url, transport_options={"global_keyprefix": "not-the-tenant:"}) as conn:
        q = conn.SimpleQueue("news")
        q.put({"hello": "world"})
        got = q.get(timeout=5)
        got.ack()
        q.close()
        return {"payload": got.payload, "channel_prefix": q.channel.global_keyprefix}


def layout(url):
    import kombu.transport.redis as redis_transport
    import stock_redis_prefix

    del redis_transport.GlobalKeyPrefixMixin.PREFIXED_COMPLEX_COMMANDS
    applied = stock_redis_prefix.apply(redis_transport, "client-a:")
    try:
        with Connection(url) as conn:
            conn.SimpleQueue("price").put({"i": 0})
        return {"applied": applied, "opened": True}
    except Exception as exc:
        return {"applied": applied, "opened": False, "error": describe(exc)}


def results(url):
    import threading

    from celery import Celery

    app = Celery("shim_checks", broker=url, backend=url)
    backend = app.backend
    report = {"task_key": backend.get_key_for_task("t-1")}
    if isinstance(report["task_key"], bytes):
        report["task_key"] = report["task_key"].decode()
    waiting = app.AsyncResult("t-1")
    # Store once the waiter has subscribed to the result channel (AsyncResult.get() on Redis).
    timer = threading.Timer(0.5, lambda: backend.store_result("t-1", {"x": 1}, "SUCCESS"))
    timer.start()
    try:
        report["waited"] = waiting.get(timeout=10)
    except Exception as exc:
        report["waited"] = describe(exc)
    timer.join()
    report["meta_status"] = backend.get_task_meta("t-1")["status"]
    backend.forget("t-1")
    return report


if __name__ == "__main__":
    checks = {"restore": restore, "app-prefix": app_prefix, "layout": layout, "results": results}
    if len(sys.argv) != 3 or sys.argv[1] not in checks:
        sys.exit(__doc__)
    print(json.dumps(checks[sys.argv[1]](sys.argv[2])))

"""One task per default queue; each is routed (task_routes) to its own queue.

Each returns what a test can check: the queue it belongs to, the queue it was
actually delivered through, and the tenant whose worker ran it.
"""
from celery import shared_task
from django.conf import settings


def _done(task, queue):
    delivery = task.request.delivery_info or {}
    return {
        "queue": queue,
        "delivered_via": delivery.get("routing_key"),
        "tenant": settings.TENANT,
        "prefix": settings.REDIS_KEY_PREFIX,
    }


@shared_task(bind=True, name="fin.tasks.summary")
def summary(self):
    return _done(self, "summary")


@shared_task(bind=True, name="fin.tasks.stock")
def stock(self):
    return _done(self, "stock")


@shared_task(bind=True, name="fin.tasks.statement")
def statement(self):
    return _done(self, "statement")


@shared_task(bind=True, name="fin.tasks.price")
def price(self):
    return _done(self, "price")


@shared_task(bind=True, name="fin.tasks.news")
def news(self):
    return _done(self, "news")

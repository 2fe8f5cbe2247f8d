"""The stock API under /api/v1/ (plain Django JSON views)."""
from celery.result import AsyncResult
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError
from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import __version__
from .celery import app as celery_app

BROKER_ERRORS = (OperationalError, RedisError, OSError)


@require_GET
def index(request):
    return JsonResponse(
        {
            "service": "stock-backend",
            "tenant": settings.TENANT,
            "deploy_type": settings.DEPLOY_TYPE,
            "version": __version__,
        }
    )


@csrf_exempt  # token-less JSON API: no cookies, no sessions
@require_POST
def send_task(request, queue):
    if queue not in settings.STOCK_QUEUES:
        return JsonResponse(
            {"error": "unknown queue", "queues": list(settings.STOCK_QUEUES)}, status=404
        )
    name = "fin.tasks.%s" % queue
    try:
        with celery_app.producer_or_acquire() as producer:
            # Fail fast (503) when Redis is down: kombu's default channel
            # would otherwise retry for several seconds inside the request.
            producer.connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0.5, interval_max=0.5, timeout=2
            )
            result = celery_app.send_task(name, producer=producer)
    except BROKER_ERRORS:
        return _broker_down()
    return JsonResponse({"id": result.id, "task": name, "queue": queue}, status=202)


@require_GET
def task_status(request, task_id):
    result = AsyncResult(str(task_id), app=celery_app)
    try:
        state = result.state
        value = result.result
    except BROKER_ERRORS:
        return _broker_down()
    body = {"id": str(task_id), "state": state}
    if state == "SUCCESS":
        body["result"] = value
    elif state == "FAILURE":
        body["error"] = value.__class__.__name__
    return JsonResponse(body)


def _broker_down():
    return JsonResponse({"error": "task broker unavailable"}, status=503)


def not_found(request, exception=None):
    return JsonResponse({"error": "not found"}, status=404)


def server_error(request):
    return JsonResponse({"error": "server error"}, status=500)

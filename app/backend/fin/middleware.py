"""Kubernetes probes, answered before host validation.

kubelet sends probes to the pod IP, which is not in ALLOWED_HOSTS; so these two
paths are answered here, before SecurityMiddleware/CommonMiddleware ever call
request.get_host(). Every other request still obeys ALLOWED_HOSTS.
"""
import logging

from django.db import connection
from django.http import JsonResponse

log = logging.getLogger(__name__)

HEALTHZ = "/healthz"
READYZ = "/readyz"


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


class ProbeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path == HEALTHZ:
            # Liveness: the process answers. No database, no broker.
            return _no_store(JsonResponse({"status": "ok"}))
        if path == READYZ:
            # Readiness: the database answers.
            try:
                connection.ensure_connection()
            except Exception as exc:  # any driver error means "not ready"
                log.warning("readyz: database unavailable: %s", exc.__class__.__name__)
                return _no_store(
                    JsonResponse({"status": "unavailable", "database": "down"}, status=503)
                )
            return _no_store(JsonResponse({"status": "ok", "database": "up"}))
        return self.get_response(request)

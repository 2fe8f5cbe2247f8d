"""WSGI entry point: `gunicorn fin.wsgi`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fin.settings")

application = get_wsgi_application()

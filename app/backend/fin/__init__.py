"""The `fin` Django project: the stock backend API and its Celery app.

Importing the Celery app here makes sure `@shared_task` binds to it whenever
Django starts (gunicorn, manage.py) and not only in the worker.
"""
__version__ = "0.1.0"

try:  # PyMySQL stands in for mysqlclient (pure Python: no compiler in the image)
    import pymysql

    pymysql.install_as_MySQLdb()
except ImportError:  # pragma: no cover - mysqlclient or SQLite only
    pass

from .celery import app as celery_app  # noqa: E402

__all__ = ("celery_app", "__version__")

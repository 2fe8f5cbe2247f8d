"""Django settings for `fin`, driven entirely by the env (docs/app-contract.md).

ConfigMap (non-secret): DJANGO_DEBUG, MYSQL_DATABASE, DEPLOY_TYPE, DJANGO_DB_HOST,
  DJANGO_DB_PORT, DJANGO_ALLOWED_HOSTS, DJANGO_REDIS_KEY_PREFIX, DJANGO_REDIS_PORT
Secret: DJANGO_DB_USER, DJANGO_DB_PWD, DJANGO_REDIS_HOST, DJANGO_SECRET_KEY
Optional, not from the tenant env: DJANGO_SQLITE_PATH, DJANGO_STATIC_ROOT,
  CELERY_HEARTBEAT_FILE
"""
from pathlib import Path

from . import env

BASE_DIR = Path(__file__).resolve().parent.parent

DEPLOY_TYPE = env.deploy_type()
DEBUG = env.flag("DJANGO_DEBUG")
SECRET_KEY = env.required("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.host_list("DJANGO_ALLOWED_HOSTS")

# --- tenant's Redis namespace (shared Redis, one key prefix per tenant) ---
REDIS_KEY_PREFIX = env.optional("DJANGO_REDIS_KEY_PREFIX", "")
TENANT = REDIS_KEY_PREFIX.rstrip(":") or None

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "fin",
]

MIDDLEWARE = [
    # Probes first: they must answer whatever the Host header (kubelet uses the
    # pod IP), so they run before anything that calls request.get_host().
    "fin.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",  # ALLOWED_HOSTS is enforced here
    # After host validation, so only the probes answer an unknown Host.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "fin.urls"
WSGI_APPLICATION = "fin.wsgi.application"
TEMPLATES = []

# --- database: MySQL (dev/prod), SQLite (test) ---
if DEPLOY_TYPE == "test":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.optional("DJANGO_SQLITE_PATH", "/tmp/stock.sqlite3"),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "NAME": env.required("MYSQL_DATABASE"),
            "USER": env.required("DJANGO_DB_USER"),
            "PASSWORD": env.required("DJANGO_DB_PWD"),
            "HOST": env.required("DJANGO_DB_HOST"),
            "PORT": env.port("DJANGO_DB_PORT", 3306),
            "OPTIONS": {"charset": "utf8mb4", "connect_timeout": 5},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery (read by fin.celery with namespace="CELERY") ---
REDIS_PORT = env.port("DJANGO_REDIS_PORT", 6379)
CELERY_BROKER_URL = env.redis_url(env.required("DJANGO_REDIS_HOST"), REDIS_PORT, 0)
CELERY_RESULT_BACKEND = "fin.results:PrefixedRedisBackend+" + CELERY_BROKER_URL
# One task per default queue; the worker command is `-Q summary,stock,statement,price,news`.
STOCK_QUEUES = ("summary", "stock", "statement", "price", "news")
CELERY_TASK_ROUTES = {"fin.tasks.%s" % q: {"queue": q} for q in STOCK_QUEUES}
CELERY_TASK_DEFAULT_QUEUE = "summary"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 5  # result backend: fail fast on an unreachable Redis
CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {}
if REDIS_KEY_PREFIX:
    # Every broker key and pub/sub channel gets the tenant prefix
    # (components/redis/acl.ts kombuTransportOptions() computes the same dict).
    # The three unacked_* keys are named explicitly: kombu 5.2 prefixes them in
    # HSET/ZADD/... but not in the WATCH of its restore transaction, which then
    # touches an unprefixed key (NOPERM for a tenant ACL user). fin.celery
    # also adds WATCH to kombu's prefixed commands (as kombu 5.3 does), so the
    # WATCH and the data agree; the stored names read PREFIX + PREFIX + "unacked".
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "global_keyprefix": REDIS_KEY_PREFIX,
        "unacked_key": REDIS_KEY_PREFIX + "unacked",
        "unacked_index_key": REDIS_KEY_PREFIX + "unacked_index",
        "unacked_mutex_key": REDIS_KEY_PREFIX + "unacked_mutex",
    }
    # Honoured natively by Celery >= 5.3; fin.results applies it on older ones.
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": REDIS_KEY_PREFIX}
CELERY_HEARTBEAT_FILE = env.optional("CELERY_HEARTBEAT_FILE", "/tmp/celery/worker_heartbeat")

# --- static files: collected at image build time, served by whitenoise ---
STATIC_URL = "/api/static/"
STATIC_ROOT = env.optional("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles"))

# --- hardening (the API sets no cookies; TLS ends at the ingress) ---
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
USE_TZ = True
TIME_ZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

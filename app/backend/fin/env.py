"""Reading the deployment env (see docs/app-contract.md for every variable).

Kept free of Django imports beyond ImproperlyConfigured so settings.py and the
Celery app read the environment the same way.
"""
import os
from urllib.parse import quote

from django.core.exceptions import ImproperlyConfigured

DEPLOY_TYPES = ("dev", "test", "prod")


def required(name):
    """Return env var `name`, or raise ImproperlyConfigured naming it."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        raise ImproperlyConfigured(
            "Missing required environment variable %s (see docs/app-contract.md)" % name
        )
    return value


def optional(name, default=""):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value


def flag(name, default=False):
    """'0'/'1' flags as in the seed: bool(int(os.environ.get(name) or 0))."""
    raw = optional(name, "1" if default else "0").strip()
    if raw not in ("0", "1"):
        raise ImproperlyConfigured("%s must be '0' or '1', got %r" % (name, raw))
    return raw == "1"


def port(name, default):
    raw = optional(name, str(default)).strip()
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ImproperlyConfigured("%s must be a TCP port number, got %r" % (name, raw))
    return int(raw)


def deploy_type():
    value = optional("DEPLOY_TYPE", "dev").strip()
    if value not in DEPLOY_TYPES:
        raise ImproperlyConfigured(
            "DEPLOY_TYPE must be one of %s, got %r" % ("/".join(DEPLOY_TYPES), value)
        )
    return value


def host_list(name):
    hosts = [h.strip() for h in required(name).split(",") if h.strip()]
    if not hosts:
        raise ImproperlyConfigured("%s must list at least one host name" % name)
    return hosts


def redis_url(redis_host, redis_port, db=0):
    """Build the seed's `redis://%s:6379/0` URL from `<user>:<password>@<host>`.

    The value is taken raw (NOT URL-encoded); user and password are
    percent-encoded here, so generated passwords may contain any character.
    The host part must not carry a port: that is DJANGO_REDIS_PORT.
    """
    creds, at, host = redis_host.rpartition("@")
    host = host.strip()
    if not host or ":" in host or "/" in host:
        raise ImproperlyConfigured(
            "DJANGO_REDIS_HOST must be <user>:<password>@<host> with a bare host name "
            "(no port, no scheme; the port is DJANGO_REDIS_PORT)"
        )
    auth = ""
    if at:
        user, _, password = creds.partition(":")
        auth = "%s:%s@" % (quote(user, safe=""), quote(password, safe=""))
    return "redis://%s%s:%d/%d" % (auth, host, redis_port, db)

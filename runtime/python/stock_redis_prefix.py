"""stock-deploy runtime: put every Redis key and channel of kombu under the tenant's prefix.

Loaded by this directory's sitecustomize.py in every Python process of a tenant's backend pods
(API, Celery workers, beat, migrations, the `celery inspect ping` probe). It needs no change to the
application: it acts on kombu's Redis transport itself, so an app that builds its broker URL by hand
and sets no key prefix (the real stock app) still lands under `<tenant>:`.

What it does, once `kombu.transport.redis` is imported (nothing is imported early):
  * every kombu Redis channel uses the tenant prefix as `global_keyprefix`, whatever the app's
    transport options say (a different value set by the app is replaced, and logged);
  * WATCH and EXISTS are prefixed too (kombu 5.2 leaves WATCH out, every kombu up to 5.6 leaves
    EXISTS out), so the unacked-restore transaction and passive queue declares stay inside it.
And once `celery.backends.redis` is imported: a Redis result backend's result, group and chord keys
(and so its result channels) start with the prefix too.

Fail closed: the tenant's Redis ACL user may only use keys and channels under its prefix, so a
process that does not prefix gets NOPERM, never another tenant's queue. This module never lets a
channel run unprefixed when a prefix was asked for: a malformed prefix or a kombu whose layout is
not the one checked here makes every Redis channel refuse to open (StockRedisPrefixError, naming
the cause). Without STOCK_REDIS_KEY_PREFIX nothing is changed and one line says so.

Checked with kombu 5.2.4 (Debian 12) under tests/runtime/, and the layout against kombu's sources
5.3.0 to 5.6.2 (docs/app-contract.md). Python 3.6 or later, standard library only.
"""

import importlib.abc
import importlib.util
import os
import re
import sys

PREFIX_ENV = "STOCK_REDIS_KEY_PREFIX"
TARGET_MODULE = "kombu.transport.redis"
RESULT_BACKEND_MODULE = "celery.backends.redis"

# The key prefixes of Celery's key-value result backends (results, groups, chords; their pub/sub
# channels are the result keys themselves).
_RESULT_KEYPREFIXES = ("task_keyprefix", "group_keyprefix", "chord_keyprefix")

# The shape of a tenant prefix (components/redis/acl.ts): a DNS-1123 label and ":".
_PREFIX_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?:$")

# Commands kombu sends with key arguments that its own prefixing may miss: every argument is a key.
_EXTRA_PREFIXED_COMMANDS = ("WATCH", "EXISTS")

# What the patch relies on in kombu.transport.redis (present from kombu 5.2.0 to at least 5.6.2).
_REQUIRED_LAYOUT = (
    "Channel", "GlobalKeyPrefixMixin", "PrefixedStrictRedis", "PrefixedRedisPubSub",
)


class StockRedisPrefixError(RuntimeError):
    """The tenant prefix was asked for but cannot be applied: no Redis channel may open."""


def log(message):
    """One line on stderr (the container log); logging is not configured this early."""
    sys.stderr.write("stock-runtime[%d]: %s\n" % (os.getpid(), message))
    sys.stderr.flush()


def requested_prefix(environ=None):
    """The prefix from the environment: None when unset, else the raw value (validated later)."""
    return (os.environ if environ is None else environ).get(PREFIX_ENV)


def layout_problem(module):
    """Why this kombu cannot be patched safely, or None when its layout is the known one."""
    missing = [name for name in _REQUIRED_LAYOUT if not hasattr(module, name)]
    if missing:
        return "kombu.transport.redis has no %s" % ", ".join(missing)
    channel, mixin = module.Channel, module.GlobalKeyPrefixMixin
    if "global_keyprefix" not in getattr(channel, "from_transport_options", ()):
        return "kombu's Redis Channel does not take the global_keyprefix transport option"
    if not callable(getattr(channel, "_get_client", None)):
        return "kombu's Redis Channel has no _get_client()"
    simple = getattr(mixin, "PREFIXED_SIMPLE_COMMANDS", None)
    complex_ = getattr(mixin, "PREFIXED_COMPLEX_COMMANDS", None)
    if not isinstance(simple, list) or not isinstance(complex_, dict):
        return "kombu's GlobalKeyPrefixMixin has no PREFIXED_SIMPLE_COMMANDS list / PREFIXED_COMPLEX_COMMANDS dict"
    if not callable(getattr(mixin, "_prefix_args", None)):
        return "kombu's GlobalKeyPrefixMixin has no _prefix_args()"
    return None


def _kombu_version():
    kombu = sys.modules.get("kombu")
    return getattr(kombu, "__version__", "unknown")


def _refuse_channels(module, reason):
    """Make every Redis channel of this process fail at creation with `reason`."""
    message = ("cannot put kombu's Redis keys under the tenant prefix (%s), so no Redis channel is "
               "opened; the tenant's Redis ACL refuses unprefixed keys anyway. Fix: %s"
               % (reason, "see docs/app-contract.md, 'Tenant Redis prefix (runtime shim)'"))
    channel = getattr(module, "Channel", None)
    if channel is not None:
        def refuse(self, *args, **kwargs):
            raise StockRedisPrefixError(message)
        channel.__init__ = refuse
    log("ERROR " + message)


def apply(module, prefix):
    """Patch an imported kombu.transport.redis so that every channel uses `prefix`."""
    if not _PREFIX_RE.match(prefix):
        _refuse_channels(module, "%s=%r is not a tenant prefix such as 'client-a:'" % (PREFIX_ENV, prefix))
        return False
    problem = layout_problem(module)
    if problem is not None:
        _refuse_channels(module, "kombu %s: %s" % (_kombu_version(), problem))
        return False

    mixin = module.GlobalKeyPrefixMixin
    commands = dict(mixin.PREFIXED_COMPLEX_COMMANDS)
    added = [c for c in _EXTRA_PREFIXED_COMMANDS if c not in commands and c not in mixin.PREFIXED_SIMPLE_COMMANDS]
    for command in added:
        commands[command] = {"args_start": 0, "args_end": None}
    mixin.PREFIXED_COMPLEX_COMMANDS = commands

    channel = module.Channel
    original_get_client = channel._get_client

    def _get_client(self):
        # Channel.__init__ has just copied the transport options onto the channel and asks for its
        # client class here, before the first command: the one point every Redis command follows.
        own = self.global_keyprefix
        if own and own != prefix:
            log("WARNING the app's global_keyprefix %r is replaced by the tenant prefix %r" % (own, prefix))
        self.global_keyprefix = prefix
        return original_get_client(self)

    _get_client.stock_tenant_prefix = prefix
    channel._get_client = _get_client
    log("Redis keys and channels of kombu %s are put under %r (%s); also prefixed: %s"
        % (_kombu_version(), prefix, PREFIX_ENV, ", ".join(added) or "nothing (kombu prefixes them)"))
    return True


def apply_result_backend(module, prefix):
    """Patch an imported celery.backends.redis so that a Redis result backend's keys use `prefix`."""
    backend = getattr(module, "RedisBackend", None)
    problem = None
    if not _PREFIX_RE.match(prefix):
        problem = "%s=%r is not a tenant prefix such as 'client-a:'" % (PREFIX_ENV, prefix)
    elif backend is None or not all(isinstance(getattr(backend, a, None), (str, bytes)) for a in _RESULT_KEYPREFIXES):
        problem = "celery.backends.redis.RedisBackend has no %s" % "/".join(_RESULT_KEYPREFIXES)
    if problem is not None:
        message = ("cannot put the Redis result backend's keys under the tenant prefix (%s), so it is not "
                   "created. Fix: see docs/app-contract.md, 'Tenant Redis prefix (runtime shim)'" % problem)
        if backend is not None:
            def refuse(self, *args, **kwargs):
                raise StockRedisPrefixError(message)
            backend.__init__ = refuse
        log("ERROR " + message)
        return False

    original_init = backend.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        # Celery >= 5.3 may already have put the app's result_backend_transport_options prefix in
        # front; ours goes before whatever the instance ended up with.
        for attr in _RESULT_KEYPREFIXES:
            value = getattr(self, attr)
            ours = self.key_t(prefix) if hasattr(self, "key_t") else prefix
            if not value.startswith(ours):
                setattr(self, attr, ours + value)

    backend.__init__ = __init__
    log("Redis result backend keys and channels are put under %r (%s)" % (prefix, PREFIX_ENV))
    return True


class _PatchingLoader(importlib.abc.Loader):
    """Runs the real loader, then the patch, so the module is never seen unpatched."""

    def __init__(self, loader, patch):
        self._loader = loader
        self._patch = patch

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._patch(module)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """Finds the modules to patch through the other finders and wraps their loaders."""

    def __init__(self, patches):
        self._patches = patches

    def find_spec(self, fullname, path, target=None):
        if fullname not in self._patches:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _PatchingLoader(spec.loader, self._patches[fullname])
                else:
                    log("ERROR %s is loaded by %r, which cannot be hooked: it is not patched, so its Redis "
                        "keys are not prefixed (NOPERM)" % (fullname, spec.loader))
                return spec
        return None


def install(environ=None):
    """Called by sitecustomize: arrange for the patches to run when kombu's Redis transport and
    Celery's Redis result backend load. Idempotent."""
    if any(isinstance(f, _PostImportFinder) for f in sys.meta_path):
        return
    prefix = requested_prefix(environ)
    if prefix is None:
        def notice(module):
            log("%s is not set: kombu's Redis keys stay as the app sets them (an app that does not "
                "prefix them itself gets NOPERM from the tenant's Redis user)" % PREFIX_ENV)
        patches = {TARGET_MODULE: notice}
    else:
        patches = {
            TARGET_MODULE: lambda module: apply(module, prefix),
            RESULT_BACKEND_MODULE: lambda module: apply_result_backend(module, prefix),
        }
    pending = {}
    for name, patch in patches.items():
        if name in sys.modules:  # imported before us (an unusual start-up): patch now
            patch(sys.modules[name])
        else:
            pending[name] = patch
    if pending:
        sys.meta_path.insert(0, _PostImportFinder(pending))

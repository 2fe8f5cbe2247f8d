"""stock-deploy runtime, loaded by Python's `site` at start-up because this directory is on PYTHONPATH.

The pods mount this directory (ConfigMap stock-python-runtime) at /opt/stock-runtime/python and set
PYTHONPATH to it, the way the OpenTelemetry Operator injects Python auto-instrumentation. It
installs stock_redis_prefix (the tenant's Redis key prefix, see that module), then chain-loads the
image's own sitecustomize, if there is one further down sys.path, which this file shadows.
`site` swallows exceptions raised here, so nothing below may be relied on to raise: failures are
reported on stderr and stock_redis_prefix fails closed on its own.
"""

import importlib.machinery
import importlib.util
import os
import sys

import stock_redis_prefix

# A ConfigMap volume shows each file as a symlink (sitecustomize.py -> ..data/sitecustomize.py):
# compare resolved file paths, never directories, or this file would find and chain itself.
_SELF = os.path.realpath(__file__)

stock_redis_prefix.install()


def _chain_image_sitecustomize():
    """Run the next `sitecustomize` on sys.path (the image's), as `site` would have."""
    for entry in sys.path:
        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", [entry or os.curdir])
        if spec is None or spec.loader is None or spec.origin is None:
            continue
        if os.path.realpath(spec.origin) == _SELF:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules["_stock_chained_sitecustomize"] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # as `site` does: report and go on
            stock_redis_prefix.log("WARNING the image's sitecustomize (%s) failed: %s: %s"
                                   % (spec.origin, type(exc).__name__, exc))
        return


_chain_image_sitecustomize()

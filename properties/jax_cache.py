"""``--jax-cache``: one JAX compilation cache shared by every process of a run.

A jitted implementation compiles one XLA program per shape, and compiling takes most of the
suite's time (see docs/suite-stats.md). Under ``pytest -n`` every worker compiles the shapes of
the tests it runs, and the self-test and the sharding test start further pytest and Python
processes that compile the same programs again. With ``--jax-cache=run`` (the default) the
first process that runs creates a fresh folder, points JAX's persistent compilation cache at it
(``jax_compilation_cache_dir``, through the environment, which workers and subprocesses
inherit) and deletes it at the end: a program compiled once in the run is loaded from disk by
every other process, and no run ever reuses an earlier run's programs. ``--jax-cache=DIR``
keeps the cache in DIR across runs (faster re-runs; the numbers in docs/suite-stats.md are
never taken that way), ``--jax-cache=off`` compiles everything in every process. With ``run``
or DIR, a cache configured already (``JAX_COMPILATION_CACHE_DIR`` set: the user's own, or the
run's in a worker or subprocess) is left alone.

A cached program is the one XLA compiled for the same computation, shapes, devices and
compiler options (they are all in the key), so no result depends on the cache; a hit is not a
backend compile, so the suite's compile counts (``count_compiles``, ``--anchor-stats``) count
fewer compiles, never more.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import pytest

# JAX reads these when it is imported; every program is worth caching for the other processes.
JAX_ENV = {
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
}


def add_option(group) -> None:
    group.addoption(
        "--jax-cache",
        default=os.environ.get("ANCHOR_JAX_CACHE", "run"),
        metavar="run|off|DIR",
        help="JAX compilation cache: 'run' (default) shares compiled programs between the "
        "run's processes (xdist workers, subprocesses) in a temporary folder deleted at the "
        "end; 'off' compiles in every process; DIR keeps them there across runs "
        "(env: ANCHOR_JAX_CACHE)",
    )


def configure(config: pytest.Config) -> None:
    """Point JAX's persistent compilation cache at the run's folder (see the module doc)."""
    choice = config.getoption("jax_cache", "run") or "off"
    jax = sys.modules.get("jax")  # imported already: it read the environment then
    if choice == "off":
        os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)
        if jax is not None:
            jax.config.update("jax_compilation_cache_dir", None)
        return
    # Set already: the user's own cache, or the run's, inherited by a worker or subprocess.
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return
    if choice == "run":
        path = tempfile.mkdtemp(prefix="anchor-jax-cache-")
        config.add_cleanup(lambda: _remove(path))
    else:
        path = os.path.abspath(os.path.expanduser(choice))
        os.makedirs(path, exist_ok=True)
    os.environ["JAX_COMPILATION_CACHE_DIR"] = path
    for key, value in JAX_ENV.items():
        os.environ.setdefault(key, value)
    if jax is not None:
        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update(
            "jax_persistent_cache_min_compile_time_secs",
            float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]),
        )
        jax.config.update(
            "jax_persistent_cache_min_entry_size_bytes",
            int(os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"]),
        )


def _remove(path: str) -> None:
    if os.environ.get("JAX_COMPILATION_CACHE_DIR") == path:
        del os.environ["JAX_COMPILATION_CACHE_DIR"]
    shutil.rmtree(path, ignore_errors=True)

"""What the contender modules share (:mod:`benchmarks.contenders`): the ``Prepared`` call and
``Unavailable``, the module under the ``jaximpl`` name, and the helpers that put arrays on a JAX
device, compile ahead of time or on the first call, and import the reference and torch."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import numpy as np


class Unavailable(Exception):
    """The contender cannot run this operation on this machine (the reason is the message)."""


@dataclass
class Prepared:
    call: Callable[[], Any]
    compile_s: float | None = None
    compile_method: str | None = None
    device: str = "cpu"
    notes: dict = field(default_factory=dict)
    cold: bool = False  # time one call, no warm-up: it clears the JAX caches itself


def jaximpl_module():
    name = os.environ.get("BENCH_JAXIMPL", "jaximpl")
    try:
        return importlib.import_module(name)
    except ImportError as e:  # pragma: no cover - depends on the checkout
        raise Unavailable(f"cannot import {name}: {e}") from None


def _need(module, attr: str):
    fn = getattr(module, attr, None)
    if fn is None:
        raise Unavailable(f"{module.__name__} has no {attr} (yet)")
    return fn


# ---------------------------------------------------------------- JAX helpers


def _jax():
    import jax

    return jax


def _device_put(*arrays):
    jax = _jax()
    out = [jax.device_put(np.asarray(a)) for a in arrays]
    jax.block_until_ready(out)
    return out


def _jax_device() -> str:
    jax = _jax()
    d = jax.devices()[0]
    return f"{d.platform}:{getattr(d, 'device_kind', '')}"


def _aot(fn, *args, options: dict | None = None) -> Prepared:
    """Compile ``fn`` for ``args`` ahead of time (with XLA compiler ``options``); time the
    compile; warm the executable."""
    jax = _jax()
    t0 = perf_counter()
    compiled = jax.jit(fn, compiler_options=options).lower(*args).compile()
    compile_s = perf_counter() - t0

    def call():
        return jax.block_until_ready(compiled(*args))

    call()  # warm: first run allocates
    return Prepared(call, compile_s, "lower+compile", _jax_device())


def _first_call(fn) -> Prepared:
    """Warm a function that compiles on its first call; compile = first call - second call."""
    t0 = perf_counter()
    fn()
    first = perf_counter() - t0
    t0 = perf_counter()
    fn()
    second = perf_counter() - t0
    return Prepared(fn, max(first - second, 0.0), "first call - second call", _jax_device())


def _block(fn):
    jax = _jax()

    def call():
        return jax.block_until_ready(fn())

    return call


def _jaximpl_options() -> dict | None:
    """``jaximpl.COMPILER_OPTIONS`` on CPU (None where the module has none, or off CPU)."""
    if _jax().default_backend() != "cpu":
        return None
    return getattr(jaximpl_module(), "COMPILER_OPTIONS", None)


# ----------------------------------------------------- NumPy reference, torch


def _reference():
    try:
        return importlib.import_module("reference")
    except ImportError as e:  # pragma: no cover
        raise Unavailable(f"cannot import reference: {e}") from None


def _f64(*arrays):
    return [np.asarray(a, np.float64) for a in arrays]


def _torch(cuda: bool):
    try:
        import torch
        import torchvision
    except ImportError as e:  # pragma: no cover
        raise Unavailable(f"torchvision not installed: {e}") from None
    if cuda and not torch.cuda.is_available():
        raise Unavailable("no CUDA device visible to torch")
    return torch, torchvision

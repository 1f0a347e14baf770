"""How the NMS and detection entry points are jitted: XLA:CPU options at the top level only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import jax

from ._validate import is_concrete

# XLA:CPU compiles for 256-bit vectors unless told otherwise, also on CPUs with AVX-512;
# 512 makes the NMS and detection faster, outputs bit-identical (paired A/B in commit bbcb75e).
# A hint: CPUs with narrower vectors and other backends ignore it.
COMPILER_OPTIONS = {"xla_cpu_prefer_vector_width": 512}


class CpuJit:
    """``fun`` jitted twice: with :data:`COMPILER_OPTIONS` (``with_options``) and plainly.

    Calling it runs ``with_options`` on CPU when every positional argument is
    concrete, ``plain`` otherwise: JAX takes compiler options on a top-level
    ``jit`` only, so inside a caller's trace (``jit``, ``vmap``, ...) the plain
    one runs and the caller's ``jit`` compiles it with its own options; other
    backends have no use for the XLA:CPU options. ``instances`` lists every
    ``CpuJit`` made (the tests read their compile caches).
    """

    instances: ClassVar[list[CpuJit]] = []

    def __init__(self, fun: Callable, **jit_kwargs: Any):
        self.with_options = jax.jit(fun, compiler_options=COMPILER_OPTIONS, **jit_kwargs)
        self.plain = jax.jit(fun, **jit_kwargs)
        CpuJit.instances.append(self)

    def __call__(self, *args: Any, **static: Any) -> Any:
        if jax.default_backend() == "cpu" and all(is_concrete(a) for a in args):
            return self.with_options(*args, **static)
        return self.plain(*args, **static)

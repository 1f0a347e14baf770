"""Adapters: real libraries as implementations under test (``--impl=torchvision``, ...).

Each module maps what its library provides onto the contract's names and nothing else; a
function the library does not have is "not provided" (its tests skip). It declares:

- ``LIBRARY``: the distribution whose version the conformance table prints;
- ``CONVENTIONS``: the library's conventions (a preset of :mod:`properties.conventions`, where
  every value has its citation: documentation or source);
- ``repro(function, args)``: a snippet that calls the library itself, not the adapter, with
  the arguments as the library receives them (in its box format), and prints its answer.

An adapter translates calls and formats only: argument order, tensor types, the library's own
format names, a padded result cut to its count. It never repairs what the library computes:
a wrong answer reaches the suite as the library gave it. Where a library's function covers
only some arguments of the contract's (an ``eps`` it does not have), the call raises
:class:`NotProvided` and the test skips.

Adapters do not check their arguments the contract's way (CONTRACT.md §6 is this project's
API, not a convention): ``CHECKS_ARGUMENTS = False`` makes the plugin skip the bad-input tests
for them. The libraries are the ``conformance`` extra: ``pip install -e ".[conformance]"``.
"""

from __future__ import annotations

import importlib.metadata
import os
from typing import Any

import numpy as np

from ..asserts import literal


class NotProvided(Exception):
    """The library has no equivalent for this call's arguments; the calling test skips."""


def keras_on_jax(adapter: str) -> Any:
    """Import Keras on the JAX backend (set unless the user chose one) and return the module;
    an ``ImportError`` naming ``adapter`` when Keras was already imported with another."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    if keras.backend.backend() != "jax":
        raise ImportError(
            f"the {adapter} adapter runs Keras on JAX, but Keras was imported with the "
            f"{keras.backend.backend()!r} backend (set KERAS_BACKEND=jax)"
        )
    return keras


def version(distribution: str) -> str:
    """The installed version of ``distribution``, or "not installed"."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def snippet(imports: list[str], args: dict[str, Any], call: str, before: str = "") -> str:
    """Python source: the imports, one assignment per argument, ``before``, then
    ``print(call)``."""
    lines = ["import numpy as np", *imports]
    for key, value in args.items():
        lines.append(f"{key} = {literal(np.asarray(value) if isinstance(value, list) else value)}")
    lines += [before] if before else []
    lines.append(f"print({call})")
    return "\n".join(lines)

"""Strategies built once per set of arguments, not once per draw.

A strategy made inside a ``@st.composite`` body is a new object on every draw, and Hypothesis
validates each new strategy before its first draw (checks its arguments, works out whether it
can be empty): for a small ``sampled_from`` that costs more than the draw itself. The strategy
modules draw from these instead. The choices they make are the same, and so are the examples
a seed gives (the labels that guide Hypothesis's mutations depend on the options, not on the
object).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable

from hypothesis import strategies as st

# Arguments in use are few (size buckets, kinds, flags), so the caches stay small. Typed:
# 0 and 0.0 (or True and 1) are equal keys, but not the same options.
_MAX = 4096


@functools.lru_cache(maxsize=_MAX, typed=True)
def once(factory: Callable[..., st.SearchStrategy], *args: Hashable, **kwargs: Hashable):
    """``factory(*args, **kwargs)``, one object per distinct arguments."""
    return factory(*args, **kwargs)


@functools.lru_cache(maxsize=_MAX, typed=True)
def sampled(*options: Hashable) -> st.SearchStrategy:
    """``st.sampled_from(options)``, one object per distinct options."""
    return st.sampled_from(options)


@functools.lru_cache(maxsize=_MAX, typed=True)
def permutations(n: int) -> st.SearchStrategy:
    """``st.permutations(range(n))``, one object per ``n``."""
    return st.permutations(range(n))

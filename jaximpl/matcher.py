"""``Matcher``: two thresholds and low-quality matches on a ``(G, A)`` matrix (CONTRACT.md §3.4).

Calling a matcher validates a concrete matrix and runs one jitted core (thresholds as array
arguments, ``allow_low_quality_matches`` static): time and memory O(G A), no host round
trip, and ``jax.jit``/``jax.vmap`` of ``matcher(q)`` work.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from functools import partial
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from . import _validate as v

BELOW_LOW_THRESHOLD = -1
BETWEEN_THRESHOLDS = -2


@partial(jax.jit, static_argnums=(3,))
def _match(q: jax.Array, high: jax.Array, low: jax.Array, low_quality: bool) -> jax.Array:
    """``(G, A) -> (A,)`` int32 matches (no checks; NaN counts as -inf)."""
    num_gt, num_anchors = q.shape
    if num_gt == 0 or num_anchors == 0:
        return jnp.full((num_anchors,), BELOW_LOW_THRESHOLD, jnp.int32)
    q = jnp.where(jnp.isnan(q), -jnp.inf, q)
    best = jnp.argmax(q, axis=0).astype(jnp.int32)  # the first maximum: lowest index on ties
    quality = jnp.max(q, axis=0)
    matches = jnp.where(
        quality >= high,
        best,
        jnp.where(quality >= low, BETWEEN_THRESHOLDS, BELOW_LOW_THRESHOLD),
    ).astype(jnp.int32)
    if low_quality:
        gt_best = jnp.max(q, axis=1, keepdims=True)  # (G, 1)
        # Exact equality finds every tie; a row of -inf (all NaN) has no best anchor.
        tied = jnp.any((q == gt_best) & (gt_best > -jnp.inf), axis=0)
        matches = jnp.where(tied, best, matches)
    return matches


def _threshold(x: Any, name: str) -> float:
    number = numbers.Real | np.ndarray | np.generic | jax.Array
    if isinstance(x, bool) or not isinstance(x, number) or not v.is_concrete(x):
        raise ValueError(f"{name}: must be a finite number, got {x!r}")
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: must be a finite number, got {x!r}") from None
    if arr.ndim != 0 or not math.isfinite(float(arr)):
        raise ValueError(f"{name}: must be a finite number, got {x!r}")
    return float(arr)


def _round_up(t: float, dtype) -> jax.Array:
    """The smallest ``dtype`` number ``>= t``: for ``q`` of that dtype, ``q >= t`` exactly when
    ``q >= _round_up(t)``, so the decisions are those of comparing with the double ``t``."""
    t_d = np.asarray(t, dtype)
    if float(t_d) < t:
        t_d = np.nextafter(t_d, np.asarray(np.inf, dtype))
    return jnp.asarray(t_d, dtype)


@dataclasses.dataclass(frozen=True)
class Matcher:
    """``Matcher(high_threshold, low_threshold, allow_low_quality_matches=False)``.

    Finite thresholds with ``low_threshold <= high_threshold`` (Python numbers, checked
    here). ``matcher(match_quality_matrix)`` maps a ``(G, A)`` matrix to ``(A,)`` int32
    matches: the best ground truth (lowest index on ties) when its quality is
    ``>= high_threshold``, -2 between the thresholds, -1 below ``low_threshold``; with
    ``allow_low_quality_matches``, every anchor whose quality equals (exactly) some ground
    truth's best takes its own best ground truth. ``G = 0`` gives all -1. Frozen and
    hashable, so a matcher can be a static argument of ``jax.jit``.
    """

    high_threshold: float
    low_threshold: float
    allow_low_quality_matches: bool = False

    BELOW_LOW_THRESHOLD: ClassVar[int] = BELOW_LOW_THRESHOLD
    BETWEEN_THRESHOLDS: ClassVar[int] = BETWEEN_THRESHOLDS

    def __post_init__(self) -> None:
        checked = {k: _threshold(getattr(self, k), k) for k in ("high_threshold", "low_threshold")}
        if checked["low_threshold"] > checked["high_threshold"]:
            raise ValueError(
                f"low_threshold: must be <= high_threshold ({checked['high_threshold']}), "
                f"got {checked['low_threshold']}"
            )
        flag = self.allow_low_quality_matches
        if not isinstance(flag, bool | np.bool_):
            raise ValueError(f"allow_low_quality_matches: must be a bool, got {flag!r}")
        checked["allow_low_quality_matches"] = bool(flag)
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def __call__(self, match_quality_matrix: Any) -> jax.Array:
        """``(G, A)`` qualities, ground truths by rows -> ``(A,)`` int32 matches.

        The thresholds are compared as the doubles they are (a float32 quality of
        ``float32(0.7) < 0.7`` is below a threshold of 0.7), so the decisions are exact for
        any threshold. Raises ``ValueError`` for a matrix that is not 2-D and (concrete input) for
        non-finite values. Jitted, a NaN quality is ignored (as ``-inf``): an anchor whose
        qualities are all NaN is background (-1), and a ground truth whose qualities are
        all NaN has no low-quality match.
        """
        q = v.as_array(match_quality_matrix, "match_quality_matrix", ndim=2)
        v.check_finite(q, "match_quality_matrix")
        high = _round_up(self.high_threshold, q.dtype)
        low = _round_up(self.low_threshold, q.dtype)
        return _match(q, high, low, self.allow_low_quality_matches)

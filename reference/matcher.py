"""``Matcher``: torchvision's two-threshold matcher with low-quality matches (CONTRACT.md §3.4).

Faster R-CNN's and RetinaNet's assignment (``torchvision/models/detection/_utils.py``): on a
``(G, A)`` quality matrix (usually IoU, ground truths by rows), each anchor takes its best
ground truth if that is good enough, is ignored (-2) between the thresholds, and is
background (-1) below. With low-quality matches, every anchor that reaches some ground
truth's best quality (ties included, found by exact equality) takes its own best ground
truth even when that is below the thresholds.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _validate as v

BELOW_LOW_THRESHOLD = -1
BETWEEN_THRESHOLDS = -2


def _number(x, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real | np.ndarray | np.generic):
        raise ValueError(f"{name}: must be a finite number, got {x!r}")
    arr = v.as_array(x, name)
    if arr.ndim != 0 or not np.isfinite(arr):
        raise ValueError(f"{name}: must be a finite number, got {x!r}")
    return float(arr)


class Matcher:
    """``Matcher(high_threshold, low_threshold, allow_low_quality_matches=False)``.

    Thresholds are finite numbers with ``low_threshold <= high_threshold`` (qualities need
    not be IoUs, so they are not limited to ``[0, 1]``). Call it on a ``(G, A)`` matrix.
    """

    BELOW_LOW_THRESHOLD = BELOW_LOW_THRESHOLD
    BETWEEN_THRESHOLDS = BETWEEN_THRESHOLDS

    def __init__(
        self, high_threshold: float, low_threshold: float, allow_low_quality_matches: bool = False
    ) -> None:
        high = _number(high_threshold, "high_threshold")
        low = _number(low_threshold, "low_threshold")
        if low > high:
            raise ValueError(f"low_threshold: must be <= high_threshold ({high}), got {low}")
        if not isinstance(allow_low_quality_matches, bool | np.bool_):
            raise ValueError(
                f"allow_low_quality_matches: must be a bool, got {allow_low_quality_matches!r}"
            )
        self.high_threshold = high
        self.low_threshold = low
        self.allow_low_quality_matches = bool(allow_low_quality_matches)

    def __repr__(self) -> str:
        return (
            f"Matcher({self.high_threshold}, {self.low_threshold}, "
            f"allow_low_quality_matches={self.allow_low_quality_matches})"
        )

    def __call__(self, match_quality_matrix) -> np.ndarray:
        """``(G, A)`` qualities (ground truths by rows) -> ``(A,)`` int64 matches.

        For anchor ``a`` with best quality ``q = max_g Q[g, a]`` and ``best[a]`` the first
        ground truth reaching it (the lowest index on ties):

        - ``best[a]`` if ``q >= high_threshold``;
        - ``BETWEEN_THRESHOLDS`` (-2) if ``low_threshold <= q < high_threshold``;
        - ``BELOW_LOW_THRESHOLD`` (-1) if ``q < low_threshold``;
        - with ``allow_low_quality_matches``, then: for every ground truth ``g`` with
          best quality ``m_g = max_a Q[g, a]``, every anchor with ``Q[g, a] == m_g``
          (exact equality: all ties) gets ``best[a]``, its own best ground truth, which
          need not be ``g``.

        ``G = 0`` gives all -1; ``A = 0`` an empty result. Raises ``ValueError`` for a
        matrix that is not 2-D or holds non-finite values.
        """
        q = v.as_array(match_quality_matrix, "match_quality_matrix", ndim=2)
        v.check_finite(q, "match_quality_matrix")
        num_gt, num_anchors = q.shape
        if num_gt == 0:
            return np.full(num_anchors, BELOW_LOW_THRESHOLD, dtype=np.int64)
        best = np.argmax(q, axis=0)  # the first maximum: the lowest ground truth on ties
        quality = q[best, np.arange(num_anchors)]
        matches = best.astype(np.int64)
        matches[quality < self.high_threshold] = BETWEEN_THRESHOLDS
        matches[quality < self.low_threshold] = BELOW_LOW_THRESHOLD
        if self.allow_low_quality_matches and num_anchors > 0:
            # Every (g, a) where a reaches g's best quality, compared exactly.
            at_gt_max = q == q.max(axis=1, keepdims=True)
            tied_anchors = at_gt_max.any(axis=0)
            matches[tied_anchors] = best[tied_anchors]
        return matches

"""Matcher finds low-quality ties within a tolerance instead of by exact equality.

Bug: ``isclose(Q, row max)`` (a relative tolerance of 1e-5) makes every anchor within
rounding of a ground truth's best quality a tie, so how many anchors get a low-quality
match depends on the tolerance rather than on the matrix. The contract finds ties by exact
equality (CONTRACT.md §3.4): given the same matrix every implementation matches the same
anchors. PITFALLS.md, "Beyond the chapter" (detectron2 found the ties with ``==`` and a 1e-7
rounding changed the count, facebookresearch/detectron2 #3750: the tolerance moves the
problem, it does not remove it).
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_matcher.py::test_matcher_low_quality_matches_exactly_the_ties",
]

BUG = Edit(
    "matcher.py",
    "at_gt_max = q == q.max(axis=1, keepdims=True)",
    "at_gt_max = np.isclose(q, q.max(axis=1, keepdims=True), rtol=1e-5, atol=0)",
)
globals().update(implementation(__name__, BUG))

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

import numpy as np

import reference
from reference import *  # noqa: F403 -- every other function is the reference's

CAUGHT_BY: list[str] = [
    "test_matcher.py::test_matcher_low_quality_matches_exactly_the_ties",
]


class Matcher(reference.Matcher):
    def __call__(self, match_quality_matrix):
        exact = super().__call__(match_quality_matrix)
        q = np.asarray(match_quality_matrix, dtype=np.float64)
        if not (self.allow_low_quality_matches and q.size):
            return exact
        near = np.isclose(q, q.max(axis=1, keepdims=True), rtol=1e-5, atol=0).any(axis=0)
        return np.where(near, q.argmax(axis=0), exact)  # BUG: near ties count as ties

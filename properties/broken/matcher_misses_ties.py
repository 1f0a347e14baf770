"""Matcher gives a low-quality match only to the first anchor at each ground truth's best.

Bug: ``argmax`` over each ground truth's row finds one best anchor; the anchors tied with it
stay unmatched. torchvision's ``set_low_quality_matches_`` takes every tie (``torch.where(Q ==
row max)``, "including ties"), and so does the contract (CONTRACT.md §3.4). Ties are common:
identical anchors at several scales or positions have the same IoU with a ground truth.
PITFALLS.md, "Matching" and "Beyond the chapter".
"""

from __future__ import annotations

import numpy as np

import reference
from reference import *  # noqa: F403 -- every other function is the reference's


class Matcher(reference.Matcher):
    def __call__(self, match_quality_matrix):
        matches = reference.Matcher(
            self.high_threshold, self.low_threshold, allow_low_quality_matches=False
        )(match_quality_matrix)
        q = np.asarray(match_quality_matrix, dtype=np.float64)
        if self.allow_low_quality_matches and q.shape[0] and q.shape[1]:
            first = np.unique(q.argmax(axis=1))  # BUG: one anchor per ground truth
            matches[first] = q.argmax(axis=0)[first]
        return matches


CAUGHT_BY: list[str] = [
    "test_matcher.py::test_matcher_matches_reference",
    "test_matcher.py::test_matcher_low_quality_matches_exactly_the_ties",
]

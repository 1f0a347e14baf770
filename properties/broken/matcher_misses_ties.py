"""Matcher gives a low-quality match only to the first anchor at each ground truth's best.

Bug: ``argmax`` over each ground truth's row finds one best anchor; the anchors tied with it
stay unmatched. torchvision's ``set_low_quality_matches_`` takes every tie (``torch.where(Q ==
row max)``, "including ties"), and so does the contract (CONTRACT.md §3.4). Ties are common:
identical anchors at several scales or positions have the same IoU with a ground truth.
PITFALLS.md, "Matching" and "Beyond the chapter".
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_matcher.py::test_matcher_matches_reference",
    "test_matcher.py::test_matcher_low_quality_matches_exactly_the_ties",
]

BUG = Edit(
    "matcher.py",
    "at_gt_max = q == q.max(axis=1, keepdims=True)",
    "at_gt_max = np.arange(num_anchors) == q.argmax(axis=1)[:, None]",
)
globals().update(implementation(__name__, BUG))

"""nms assumes its input is already sorted by descending score.

Bug: the boxes are visited in index order; the scores are never looked at.
PITFALLS.md, NMS: some jittable NMS (the mlperf/scenic tiled NMS documents "the
boxes are sorted by scores") are silently wrong on unsorted input.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_nms.py::test_nms_unsorted_input",
    "test_nms.py::test_nms_kept_list_in_descending_score_order",
    "test_nms.py::test_nms_matches_reference_on_lattice",
]

BUG = Edit(
    "nms.py",
    "order = sorted(range(len(scores)), key=lambda i: -scores[i])",
    "order = range(len(scores))",
)
globals().update(implementation(__name__, BUG))

"""nms visits equal scores from the highest index down (``argsort(s)[::-1]``).

Bug: ``np.argsort(scores)[::-1]``, the "flip(argsort)" idiom, reverses a
stable ascending sort, so among equal scores the *higher* index goes first.
PITFALLS.md, NMS: flip(argsort) puts the higher index first; d2l's MXNet edition
sorts with ``scores.argsort()[::-1]``. The contract pins "lower index".
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_nms.py::test_nms_score_ties_go_to_lower_index",
    "test_nms.py::test_nms_single_score_keeps_lowest_index_of_identical_boxes",
    "test_nms.py::test_nms_matches_reference_on_lattice",
]

BUG = Edit(
    "nms.py",
    "order = sorted(range(len(scores)), key=lambda i: -scores[i])",
    'order = np.argsort(scores, kind="stable")[::-1]',
)
globals().update(implementation(__name__, BUG))

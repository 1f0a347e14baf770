"""assign_anchor_to_bbox's step a gives a tied anchor its *last* best ground truth.

Bug: when an anchor's IoU ties between several ground truths, it takes the
highest-indexed one (a loop over ground truths that overwrites on ``>=``).
PITFALLS.md, Matching: two ground truths sharing one best anchor, "last wins" in
old d2l code (discussion t/1603, fixed in d2l-en PR #1630).
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_assign.py::test_assign_ties_go_to_lowest_index",
    "test_assign.py::test_assign_at_threshold_is_assigned",
]

BUG = Edit(
    "matching.py",
    "best_gt = int(np.argmax(jaccard[a]))",
    "best_gt = num_gt - 1 - int(np.argmax(jaccard[a][::-1]))",
)
globals().update(implementation(__name__, BUG))

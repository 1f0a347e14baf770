"""assign_anchor_to_bbox stops the greedy step once the best remaining IoU is 0.

Bug: a ground truth that overlaps no anchor never gets one, although the
contract runs every one of the min(A, G) rounds even at IoU 0. PITFALLS.md,
Matching: mmdetection #8289 shows this opposite choice (``gt_max_assign_all``
with ``min_pos_iou``).
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_assign.py::test_assign_greedy_runs_at_zero_iou",
    "test_assign.py::test_assign_every_ground_truth_owns_an_anchor",
]

BUG = Edit(
    "matching.py",
    "assigned[a] = g\n",
    "if remaining[a, g] <= 0:\n            break\n        assigned[a] = g\n",
)
globals().update(implementation(__name__, BUG))

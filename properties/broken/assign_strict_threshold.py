"""assign_anchor_to_bbox's step a uses ``>`` where the contract says ``>=``.

Bug: an anchor whose best IoU is exactly ``iou_threshold`` stays unassigned
(unless the greedy step takes it). Thresholds are ``>=`` in d2l and in
torchvision's ``Matcher`` (``high_threshold``), ``>`` in other matchers; a port
that mixes them changes the decision exactly at the threshold, which lattice
inputs hit.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_assign.py::test_assign_at_threshold_is_assigned",
    "test_assign.py::test_assign_matches_reference_on_lattice",
]

BUG = Edit("matching.py", "best_gt] >= iou_threshold", "best_gt] > iou_threshold")
globals().update(implementation(__name__, BUG))

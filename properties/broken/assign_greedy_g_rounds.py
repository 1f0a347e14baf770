"""assign_anchor_to_bbox runs G greedy rounds, as d2l does, instead of min(A, G).

Bug: with fewer anchors than ground truths, after A rounds every entry of the
matrix has been discarded (d2l sets it to -1, the reference to -inf), and each
extra round's argmax lands on entry (0, 0): anchor 0 is re-assigned to ground
truth 0, overriding its real match. This is the chapter's own code (a
deliberate departure, CONTRACT.md §8).
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_assign.py::test_assign_greedy_runs_min_a_g_rounds",
    "test_assign.py::test_assign_every_ground_truth_owns_an_anchor",
]

BUG = Edit("matching.py", "for _ in range(min(num_anchors, num_gt)):", "for _ in range(num_gt):")
globals().update(implementation(__name__, BUG))

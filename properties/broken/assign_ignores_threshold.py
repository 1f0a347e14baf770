"""assign_anchor_to_bbox ignores its ``iou_threshold`` argument and uses 0.5.

Bug: step a compares with a hard-coded 0.5, whatever threshold the caller
passes. PITFALLS.md, Matching: d2l once ignored ``iou_threshold`` entirely
(d2l-ai/d2l-en PR #1915, "the function was earlier not using the argument
iou_threshold internally").
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_assign.py::test_assign_at_threshold_is_assigned",
    "test_assign.py::test_assign_matches_reference_on_lattice",
]

BUG = Edit("matching.py", ">= iou_threshold:", ">= 0.5:")
globals().update(implementation(__name__, BUG))

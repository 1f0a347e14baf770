"""nms suppresses at ``IoU >= threshold`` instead of ``IoU > threshold``.

Bug: a box whose IoU with a kept box is exactly the threshold is suppressed,
and at threshold 0 so is every box that merely touches a kept one. PITFALLS.md,
NMS: torchvision's CPU kernel had ``>=`` until pytorch/vision PR #1556; TF's
and the mlperf/scenic tiled JAX NMS suppress at ``>=``; tensorflow #34268.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_nms.py::test_nms_iou_exactly_at_threshold_is_kept",
    "test_nms.py::test_nms_touching_boxes_kept_at_threshold_zero",
    "test_nms.py::test_nms_matches_reference_on_lattice",
]

BUG = Edit("nms.py", "[0] > iou_threshold", "[0] >= iou_threshold")
globals().update(implementation(__name__, BUG))

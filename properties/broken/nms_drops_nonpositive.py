"""nms loses every box whose coordinates are all <= 0.

Bug: suppressed boxes are marked by zeroing their coordinates, and the kept
set is read back as "boxes with any coordinate > 0"; a real box lying
entirely at or left of / above the origin (such as ``(-1, -1, 0, 0)`` or the
point ``(0, 0, 0, 0)``) vanishes with the suppressed ones. PITFALLS.md, NMS:
tiled NMS implementations (mlperf, scenic's ``jnp.any(selected_boxes > 0)``)
do exactly this.
"""

from __future__ import annotations

import numpy as np

from properties.broken._mutate import Swap, implementation
from reference.boxes import iou

CAUGHT_BY: list[str] = [
    "test_nms.py::test_nms_nonpositive_boxes_are_like_any_other",
    "test_nms.py::test_nms_matches_reference_on_lattice",
]


def zeroing_nms(boxes, scores, iou_threshold):
    """NMS that zeroes suppressed boxes and keeps the boxes with a coordinate > 0."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    work = boxes.copy()
    selected: list[int] = []
    for i in order:
        if not (work[i] > 0).any():  # BUG: "alive" means some coordinate > 0
            continue
        selected.append(i)
        hit = iou(boxes[i : i + 1], boxes)[0] > iou_threshold
        hit[i] = False
        work[hit] = 0.0  # a suppressed box becomes the zero "dot"
    return np.asarray(selected, dtype=np.int64)


globals().update(implementation(__name__, Swap("nms.py", "greedy_nms", zeroing_nms)))
